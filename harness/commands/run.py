"""`pullthrough run`: check a proxy against every rule, with live progress, a final table and reports."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import socket
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import scenarios
from harness.expect import PROFILES
from harness.live import LiveProgress
from harness.peers import PeerMissing, require_peer
from harness.plugin import read_result
from harness.targets import TARGETS
from reports import InvalidResults, compare, load, write_all
from reports.console import changes_table, summary_table, written
from reports.model import CaseResult, Results, RunInfo

_PEERS = {"distribution": "docker-registry", "nginx": "nginx"}
_INI = Path(scenarios.__file__).parent / "pytest.ini"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="check a proxy against every rule and write reports",
        description="Start the fake upstream and a target proxy, run every scenario, write the reports. "
        "Exit 0 when every gating rule holds, 1 when one fails (or, with --baseline, an observation changed), "
        "2 on a usage or environment error.",
    )
    parser.add_argument("--target", choices=list(TARGETS), default="reference")
    parser.add_argument("--profile", choices=PROFILES, default="documented")
    parser.add_argument("--strict", action="store_true", help="recommended rules gate too")
    parser.add_argument("--baseline", metavar="FILE", help="results.json of an earlier run: gate on changes only")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="only scenarios matching EXPR (rule IDs work)")
    parser.add_argument("--report-dir", default="pullthrough-report", help="where reports go")
    parser.add_argument("-n", dest="workers", default="auto", help="parallel workers (a number, or auto)")
    parser.add_argument("--defect", action="append", default=[], help="reference target: a deliberate defect")
    parser.add_argument("--in-process", action="store_true", help="reference target: run it in a thread")
    parser.add_argument("--proxy-url", help="external target: the proxy's URL")
    parser.add_argument("--path-template", default="{repository}", help="external target: path of a repository")
    parser.add_argument("--upstream-url", help="use a fake upstream you run (pullthrough upstream)")
    parser.add_argument("--upstream-control-url", help="its control API")
    parser.add_argument("--control-token", help="its control token")
    parser.add_argument("--upstream-timeout", type=float, help="the target's upstream timeout, in seconds")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from harness.cli import UsageError

    _check_environment(args)
    console = Console(stderr=True)
    collector = _Collector()
    live = LiveProgress(console)
    started = _now()
    with live:
        code = pytest.main(_pytest_args(args), plugins=[collector, live])
    if code == pytest.ExitCode.USAGE_ERROR or code == 2 and not collector.results:
        raise UsageError(live.exit_message or "the scenarios could not run (see above)")
    if code == pytest.ExitCode.INTERRUPTED:
        return 130
    results = Results(run=_run_info(args, started), cases=collector.results)
    paths = _write(results, Path(args.report_dir))
    console.print(summary_table(results))
    console.print(written(paths))
    if args.baseline:
        return _gate_on_baseline(console, Path(args.baseline), results)
    return 1 if results.gating_failed else 0


def _check_environment(args: argparse.Namespace) -> None:
    from harness.cli import UsageError

    peer = _PEERS.get(args.target)
    if peer is not None:
        try:
            require_peer(peer)
        except PeerMissing as error:
            raise UsageError(f"--target {args.target} needs {error}") from None
    if args.target == "external" and not args.proxy_url:
        raise UsageError("--target external needs --proxy-url (and --upstream-url/--upstream-control-url)")
    if args.defect and args.target != "reference":
        raise UsageError("--defect applies to --target reference only")
    if args.baseline and not Path(args.baseline).is_file():
        raise UsageError(f"--baseline {args.baseline}: no such file")


def _pytest_args(args: argparse.Namespace) -> list[str]:
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
        args.target,
        "--pt-profile",
        args.profile,
        "--pt-path-template",
        args.path_template,
    ]
    workers = _workers(args.workers)
    if workers > 1:
        argv += ["-n", str(workers)]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.strict:
        argv.append("--pt-strict")
    if args.in_process:
        argv.append("--pt-in-process")
    for defect in args.defect:
        argv += ["--pt-defect", defect]
    for flag, value in (
        ("--pt-proxy-url", args.proxy_url),
        ("--pt-upstream-url", args.upstream_url),
        ("--pt-upstream-control-url", args.upstream_control_url),
        ("--pt-control-token", args.control_token),
        ("--pt-upstream-timeout", args.upstream_timeout),
    ):
        if value is not None:
            argv += [flag, str(value)]
    return argv


def _workers(value: str) -> int:
    from harness.cli import UsageError

    if value == "auto":
        return max(1, min(4, os.cpu_count() or 1))
    if not value.isdigit() or int(value) < 1:
        raise UsageError("-n takes a positive number or auto")
    return int(value)


class _Collector:
    def __init__(self) -> None:
        self.results: list[CaseResult] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = read_result(report)
        if result is not None:
            self.results.append(result)


def _run_info(args: argparse.Namespace, started: str) -> RunInfo:
    argv = ["pullthrough", *sys.argv[1:]] if sys.argv and sys.argv[0].endswith("pullthrough") else ["pullthrough"]
    return RunInfo(
        target=args.target,
        profile=args.profile,
        strict=args.strict,
        pullthrough_version=version("pullthrough"),
        started_at=started,
        finished_at=_now(),
        host=socket.gethostname(),
        target_url=args.proxy_url,
        target_version=None,
        defects=list(args.defect),
        python=platform.python_version(),
        command=shlex.join(argv),
    )


def _write(results: Results, report_dir: Path) -> dict[str, Path]:
    from harness.cli import UsageError

    try:
        return write_all(results, report_dir)
    except OSError as error:
        raise UsageError(f"cannot write the reports to {report_dir}: {error.strerror}") from None


def _gate_on_baseline(console: Console, baseline: Path, results: Results) -> int:
    from harness.cli import UsageError

    try:
        old = load(baseline)
    except (InvalidResults, OSError) as error:
        raise UsageError(f"--baseline {baseline}: {error}") from None
    changes = compare(old, results)
    if changes:
        console.print(changes_table(changes))
        console.print(f"[bold]{len(changes)} observation(s) changed since {baseline}[/]")
    else:
        console.print(f"no observation changed since {baseline}")
    return 1 if changes else 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
