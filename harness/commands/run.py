"""`pullthrough run`: check a proxy against every rule, with live progress, a final table and reports."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.expect import PROFILES
from harness.peers import PeerMissing, require_peer
from harness.targets import TARGETS

_PEERS = {"distribution": "docker-registry", "nginx": "nginx"}


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
    from rich.console import Console

    from harness.cli import UsageError
    from harness.runner import RunFailed, RunOptions, changed_since, report, run_suites
    from reports import InvalidResults

    _check_environment(args)
    options = RunOptions(
        target=args.target,
        profile=args.profile,
        strict=args.strict,
        keyword=args.keyword,
        workers=_workers(args.workers),
        defects=tuple(args.defect),
        in_process=args.in_process,
        proxy_url=args.proxy_url,
        path_template=args.path_template,
        upstream_url=args.upstream_url,
        upstream_control_url=args.upstream_control_url,
        control_token=args.control_token,
        upstream_timeout=args.upstream_timeout,
    )
    console = Console(stderr=True)
    try:
        results = run_suites(options, console)
    except RunFailed as error:
        raise UsageError(str(error)) from None
    if not results.cases:
        raise UsageError(f"no scenario matches -k {args.keyword!r}" if args.keyword else "no scenario ran")
    try:
        report(results, Path(args.report_dir), console)
    except OSError as error:
        raise UsageError(f"cannot write the reports to {args.report_dir}: {error.strerror}") from None
    if args.baseline:
        try:
            return 1 if changed_since(Path(args.baseline), results, console) else 0
        except (InvalidResults, OSError) as error:
            raise UsageError(f"--baseline {args.baseline}: {error}") from None
    return 1 if results.gating_failed else 0


def _check_environment(args: argparse.Namespace) -> None:
    from harness.cli import UsageError

    peer = _PEERS.get(args.target)
    if peer is not None:
        try:
            require_peer(peer)
        except PeerMissing as error:
            raise UsageError(f"--target {args.target}: {error}") from None
    if args.target == "external":
        _check_external(args)
    if args.defect and args.target != "reference":
        raise UsageError("--defect applies to --target reference only")
    if args.defect:
        from proxy_under_test import DEFECTS

        unknown = [name for name in args.defect if name not in DEFECTS]
        if unknown:
            raise UsageError(f"unknown defect {unknown[0]!r}; one of: {', '.join(sorted(DEFECTS))}")
    if args.baseline and not Path(args.baseline).is_file():
        raise UsageError(f"--baseline {args.baseline}: no such file")


def _check_external(args: argparse.Namespace) -> None:
    """Before any worker starts: the proxy and the fake upstream a user runs must answer."""
    import httpx

    from fake_upstream import ControlError, RemoteUpstream
    from harness.cli import UsageError

    if not args.proxy_url:
        raise UsageError("--target external needs --proxy-url (and --upstream-url/--upstream-control-url)")
    if not (args.upstream_url and args.upstream_control_url):
        raise UsageError(
            "--target external needs --upstream-url and --upstream-control-url: the fake upstream "
            "your proxy is pointed at (start one with `pullthrough upstream`)"
        )
    remote = RemoteUpstream(args.upstream_url, args.upstream_control_url, args.control_token, timeout=5)
    try:
        remote.check()
    except ControlError as error:
        raise UsageError(str(error)) from None
    finally:
        remote.close()
    try:
        httpx.get(args.proxy_url.rstrip("/") + "/v2/", timeout=5)
    except httpx.HTTPError as error:
        raise UsageError(f"the proxy at {args.proxy_url} is unreachable: {error}") from None


def _workers(value: str) -> int:
    from harness.cli import UsageError

    if value == "auto":
        return max(1, min(4, os.cpu_count() or 1))
    if not value.isdigit() or int(value) < 1:
        raise UsageError("-n takes a positive number or auto")
    return int(value)
