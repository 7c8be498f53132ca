"""Running the scenario suites programmatically: pytest in this process, results gathered."""

from __future__ import annotations

import os
import platform
import shlex
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from rich.console import Console

from harness.live import LiveProgress
from harness.plugin import read_result, read_target
from harness.rules import RULES
from harness.spec import RunSpec
from harness.targets import target_class
from reports.model import CaseResult, Results, RuleInfo, RunInfo


def _suites() -> Path:
    """Where the scenario suites are installed (found, not imported: the harness does not depend on them)."""
    found = find_spec("scenarios")
    if found is None or not found.submodule_search_locations:
        raise RunFailed("the scenario suites (package `scenarios`) are not installed: pip install pullthrough")
    return Path(next(iter(found.submodule_search_locations)))


def pytest_args(spec: RunSpec) -> list[str]:
    suites = _suites()
    ini = suites / "pytest.ini"
    return [
        str(suites),
        "-c",
        str(ini),
        "--rootdir",
        str(suites),
        # Only the plugins a run uses: autoloading every installed one (schemathesis, hypothesis, ...) cost each
        # process a second of imports.
        "--disable-plugin-autoload",
        "-p",
        "xdist.plugin",
        "-p",
        "harness.plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        *spec.pytest_args(),
    ]


class RunFailed(Exception):
    """The suites could not run at all (usage or environment); the message says why."""


def run_suites(spec: RunSpec, console: Console) -> Results:
    """Run every selected scenario with live progress; the results, whatever the verdicts."""
    collector = _Collector()
    live = LiveProgress(console)
    started = _now()
    with live, _terminate_as_interrupt():
        code = pytest.main(pytest_args(spec), plugins=[collector, live])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR) or (code == 2 and not collector.results):
        raise RunFailed(live.exit_message or f"the scenarios could not run (pytest exit {int(code)})")
    info = _run_info(spec, started)
    info = replace(
        info,
        target_version=collector.target.get("version"),
        target_url=spec.proxy_url or collector.target.get("url"),
        options={str(k): str(v) for k, v in (collector.target.get("options") or {}).items()},
    )
    return Results(run=info, cases=collector.results, rules=_catalogue({case.rule for case in collector.results}))


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
        self.target: dict[str, Any] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = read_result(report)
        if result is not None:
            self.results.append(result)
            self.target = read_target(report) or self.target


def _run_info(spec: RunSpec, started: str) -> RunInfo:
    argv = ["pullthrough", *sys.argv[1:]] if os.path.basename(sys.argv[0]) == "pullthrough" else []
    return RunInfo(
        target=spec.target,
        profile=spec.profile,
        strict=spec.strict,
        pullthrough_version=version("pullthrough"),
        started_at=started,
        finished_at=_now(),
        host=socket.gethostname(),
        target_url=spec.proxy_url,
        defects=list(spec.defects),
        variants=list(spec.variants),
        settle=spec.settle or target_class(spec.target).default_settle,
        python=platform.python_version(),
        command=shlex.join(argv),
    )


def _catalogue(rule_ids: set[str]) -> dict[str, RuleInfo]:
    return {
        rule.id: RuleInfo(rule.level, rule.situation, rule.expected, rule.source, rule.anchor)
        for rule in RULES.values()
        if rule.id in rule_ids
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
