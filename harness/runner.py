"""Running the scenario suites programmatically: pytest in this process, results gathered, reports written."""

from __future__ import annotations

import os
import platform
import shlex
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import FrameType

import pytest
from rich.console import Console

import scenarios
from harness.live import LiveProgress
from harness.plugin import read_result, read_target
from reports import compare, load, write_all
from reports.console import changes_table, summary_table, written
from reports.model import CaseResult, Results, RunInfo

_INI = Path(scenarios.__file__).parent / "pytest.ini"


@dataclass(frozen=True)
class RunOptions:
    target: str = "reference"
    profile: str = "documented"
    strict: bool = False
    keyword: str | None = None
    workers: int = 1
    defects: tuple[str, ...] = ()
    in_process: bool = False
    proxy_url: str | None = None
    path_template: str = "{repository}"
    upstream_url: str | None = None
    upstream_control_url: str | None = None
    control_token: str | None = None
    upstream_timeout: float | None = None
    extra_pytest_args: tuple[str, ...] = field(default_factory=tuple)

    def pytest_args(self) -> list[str]:
        argv = [
            str(_INI.parent),
            "-c",
            str(_INI),
            "--rootdir",
            str(_INI.parent),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:terminal",
            "--pt-target",
            self.target,
            "--pt-profile",
            self.profile,
            "--pt-path-template",
            self.path_template,
        ]
        if self.workers > 1:
            argv += ["-n", str(self.workers)]
        if self.keyword:
            argv += ["-k", self.keyword]
        if self.strict:
            argv.append("--pt-strict")
        if self.in_process:
            argv.append("--pt-in-process")
        for defect in self.defects:
            argv += ["--pt-defect", defect]
        for flag, value in (
            ("--pt-proxy-url", self.proxy_url),
            ("--pt-upstream-url", self.upstream_url),
            ("--pt-upstream-control-url", self.upstream_control_url),
            ("--pt-control-token", self.control_token),
            ("--pt-upstream-timeout", self.upstream_timeout),
        ):
            if value is not None:
                argv += [flag, str(value)]
        return [*argv, *self.extra_pytest_args]


class RunFailed(Exception):
    """The suites could not run at all (usage or environment); the message says why."""


def run_suites(options: RunOptions, console: Console) -> Results:
    """Run every selected scenario with live progress; the results, whatever the verdicts."""
    collector = _Collector()
    live = LiveProgress(console)
    started = _now()
    with live, _terminate_as_interrupt():
        code = pytest.main(options.pytest_args(), plugins=[collector, live])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR) or (code == 2 and not collector.results):
        raise RunFailed(live.exit_message or f"the scenarios could not run (pytest exit {int(code)})")
    info = _run_info(options, started)
    info = replace(
        info,
        target_version=collector.target.get("version"),
        target_url=options.proxy_url or collector.target.get("url"),
    )
    return Results(run=info, cases=collector.results)


def report(results: Results, report_dir: Path, console: Console) -> dict[str, Path]:
    paths = write_all(results, report_dir)
    console.print(summary_table(results))
    console.print(written(paths))
    return paths


def changed_since(baseline: Path, results: Results, console: Console) -> int:
    """How many observations changed since the baseline run (added or removed cases do not count)."""
    changes = compare(load(baseline), results)
    if changes:
        console.print(changes_table(changes))
    changed = sum(1 for change in changes if change.changed)
    console.print(
        f"{changed} observation(s) changed since {baseline}" if changed else f"no observation changed since {baseline}"
    )
    return changed


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM ends a run as Ctrl-C does: teardown runs, so no proxy or upstream outlives it."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Collector:
    def __init__(self) -> None:
        self.results: list[CaseResult] = []
        self.target: dict[str, str | None] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = read_result(report)
        if result is not None:
            self.results.append(result)
            self.target = read_target(report) or self.target


def _run_info(options: RunOptions, started: str) -> RunInfo:
    argv = ["pullthrough", *sys.argv[1:]] if os.path.basename(sys.argv[0]) == "pullthrough" else []
    return RunInfo(
        target=options.target,
        profile=options.profile,
        strict=options.strict,
        pullthrough_version=version("pullthrough"),
        started_at=started,
        finished_at=_now(),
        host=socket.gethostname(),
        target_url=options.proxy_url,
        defects=list(options.defects),
        python=platform.python_version(),
        command=shlex.join(argv),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
