"""`pullthrough run`: check a proxy against every rule, with live progress, a final table and reports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.commands import UsageError
from harness.spec import RunSpec, SpecError, add_run_arguments

if TYPE_CHECKING:
    from rich.console import Console

    from reports.model import Results


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="check a proxy against every rule and write reports",
        description="Start the fake upstream and a target proxy, run every scenario, write the reports. "
        "Exit 0 when every gating rule holds, 1 when one fails (or, with --baseline, an observation changed), "
        "2 on a usage or environment error.",
    )
    add_run_arguments(parser)
    parser.add_argument("--baseline", metavar="FILE", help="results.json of an earlier run: gate on changes only")
    parser.add_argument("--report-dir", default="pullthrough-report", help="where reports go")
    parser.set_defaults(handler=_run, workers="auto")


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness.runner import RunFailed, run_suites

    try:
        spec = RunSpec.from_args(args)
    except SpecError as error:
        raise UsageError(str(error)) from None
    if args.baseline and not Path(args.baseline).is_file():
        raise UsageError(f"--baseline {args.baseline}: no such file")
    _preflight(spec)
    console = Console(stderr=True)
    try:
        results = run_suites(spec, console)
    except RunFailed as error:
        raise UsageError(str(error)) from None
    if not results.cases:
        raise UsageError(f"no scenario matches -k {spec.keyword!r}" if spec.keyword else "no scenario ran")
    _report(results, Path(args.report_dir), console)
    if args.baseline:
        return 1 if _changed_since(Path(args.baseline), results, console) else 0
    return 1 if results.gating_failed else 0


def _preflight(spec: RunSpec) -> None:
    """Before any worker starts: the target can run here, and what the user runs answers."""
    from harness.targets import TargetError, target_class

    try:
        target_class(spec.target).preflight(spec)
    except TargetError as error:
        raise UsageError(f"--target {spec.target}: {error}") from None
    if spec.upstream_url and spec.upstream_control_url:
        _check_remote(spec)


def _check_remote(spec: RunSpec) -> None:
    import httpx

    from fake_upstream import ControlError, RemoteUpstream

    assert spec.upstream_url and spec.upstream_control_url
    remote = RemoteUpstream(spec.upstream_url, spec.upstream_control_url, spec.control_token, timeout=5)
    try:
        remote.check()
    except ControlError as error:
        raise UsageError(str(error)) from None
    finally:
        remote.close()
    if spec.proxy_url:
        try:
            httpx.get(spec.proxy_url.rstrip("/") + "/v2/", timeout=5)
        except httpx.HTTPError as error:
            raise UsageError(f"the proxy at {spec.proxy_url} is unreachable: {error}") from None


def _report(results: Results, report_dir: Path, console: Console) -> None:
    from reports import write_all
    from reports.console import summary_table, written

    try:
        paths = write_all(results, report_dir)
    except OSError as error:
        raise UsageError(f"cannot write the reports to {report_dir}: {error.strerror}") from None
    console.print(summary_table(results))
    console.print(written(paths))


def _changed_since(baseline: Path, results: Results, console: Console) -> int:
    """How many observations changed since the baseline run (added or removed cases do not count)."""
    from reports import InvalidResults, compare, load
    from reports.console import changes_table

    try:
        changes = compare(load(baseline), results)
    except (InvalidResults, OSError) as error:
        raise UsageError(f"--baseline {baseline}: {error}") from None
    if changes:
        console.print(changes_table(changes))
    changed = sum(1 for change in changes if change.changed)
    console.print(
        f"{changed} observation(s) changed since {baseline}" if changed else f"no observation changed since {baseline}"
    )
    return changed
