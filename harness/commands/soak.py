"""`pullthrough soak`: many clients pull through a target while the fake upstream cycles through faults."""

from __future__ import annotations

import argparse
import json
import shlex
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.commands import UsageError
from harness.soak.schedule import VOCABULARY
from harness.spec import RunSpec, SpecError, add_run_arguments

if TYPE_CHECKING:
    from harness.soak.soak import SoakSettings

# `pullthrough run`'s options that a soak has no use for: it judges invariants, not rules.
_NOT_FOR_SOAK = ("profile", "strict", "keyword", "workers", "settle")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "soak",
        help="many clients pull through a proxy while the upstream cycles through faults",
        description="Start the fake upstream and a target proxy (as `pullthrough run` does), make images upstream, "
        "and let Locust's clients pull them through the proxy, verifying every byte, while the upstream cycles "
        "through faults and outages drawn from the seed. Stops after --pulls pulls or --duration seconds. "
        "Exit 0 when every invariant holds (no wrong bytes as a success, no cleanly short 200, no corrupt cache "
        "entry, no error that no fault explains, the proxy's descriptors back to their start), 1 when one breaks, "
        "2 on a usage or environment error.",
    )
    add_run_arguments(parser, leave_out=_NOT_FOR_SOAK)
    parser.add_argument("--users", type=int, default=10, metavar="N", help="concurrent clients (default 10)")
    parser.add_argument("--pulls", type=int, default=1000, metavar="N", help="stop after N pulls (default 1000)")
    parser.add_argument("--duration", type=float, default=60.0, metavar="SECONDS", help="stop after this long (60)")
    parser.add_argument("--cycle", type=float, default=2.0, metavar="SECONDS", help="how long each fault lasts (2)")
    parser.add_argument(
        "--faults",
        default="all",
        metavar="LIST",
        help="the faults to cycle through, separated by commas, or all, or none (default all): "
        + ", ".join(VOCABULARY)
        + " (token-fail where the target logs in; refused takes the whole port down)",
    )
    parser.add_argument(
        "--healthy", type=float, default=0.25, metavar="SHARE", help="share of cycles without a fault (0.25)"
    )
    parser.add_argument("--images", type=int, metavar="N", help="images made upstream (default: one per 25 pulls)")
    parser.add_argument(
        "--processes", type=int, default=0, metavar="N", help="Locust master and N workers on this machine"
    )
    parser.add_argument(
        "--expect-workers",
        type=int,
        default=0,
        metavar="N",
        help="Locust master waiting for N workers started elsewhere (the soak prints their command: "
        "locust -f LOCUSTFILE --worker --master-host H --master-port P, with this package installed)",
    )
    parser.add_argument(
        "--master-host", default="127.0.0.1", metavar="ADDRESS", help="where that master listens (127.0.0.1)"
    )
    parser.add_argument(
        "--master-port",
        type=int,
        default=5557,
        metavar="PORT",
        help="that master's port, with --expect-workers (5557, Locust's; --processes takes a free one)",
    )
    parser.add_argument("--max-rss", type=float, metavar="MIB", help="fail when the proxy's peak RSS is over this")
    parser.add_argument(
        "--json", default="pullthrough-soak.json", metavar="FILE", help="the summary (default pullthrough-soak.json)"
    )
    parser.set_defaults(handler=_soak, workers="1")


def _soak(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness.soak.schedule import ScheduleError, parse_vocabulary
    from harness.soak.soak import SoakError, run_soak
    from harness.targets import TargetError, target_class

    if find_spec("locust") is None:
        raise UsageError("the soak runs on Locust: pip install 'pullthrough[soak]' (or pip install locust)")
    settings = _settings(args)
    try:
        spec = RunSpec.from_args(args)
        parse_vocabulary(args.faults, login=True)  # names checked now; token-fail against the target later
        target_class(spec.target).preflight(spec)
    except (SpecError, ScheduleError, TargetError) as error:
        raise UsageError(str(error)) from None

    def vocabulary(login: bool) -> tuple[str, ...]:
        try:
            return parse_vocabulary(args.faults, login=login)
        except ScheduleError as error:
            raise UsageError(f"--target {spec.target}: {error}") from None

    console = Console(stderr=True, highlight=False)
    try:
        summary = run_soak(
            spec,
            settings,
            vocabulary,
            command=_command(spec, settings, args.faults),
            report=lambda line: console.print(line, markup=False, style="dim"),
        )
    except (SoakError, TargetError) as error:
        raise UsageError(str(error)) from None
    try:
        Path(args.json).write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    except OSError as error:
        raise UsageError(f"cannot write {args.json}: {error.strerror}") from None
    console.print(summary.table())
    console.print(f"summary: {args.json}", markup=False, style="dim")
    return 1 if summary.broken else 0


def _settings(args: argparse.Namespace) -> SoakSettings:
    from harness.soak.soak import SoakSettings

    checks = (
        (args.users >= 1, "--users takes a positive number"),
        (args.pulls >= 1, "--pulls takes a positive number"),
        (args.duration > 0, "--duration takes a positive number of seconds"),
        (args.cycle > 0, "--cycle takes a positive number of seconds"),
        (0.0 <= args.healthy <= 1.0, "--healthy takes a share from 0 to 1"),
        (args.images is None or args.images >= 1, "--images takes a positive number"),
        (args.processes >= 0 and args.expect_workers >= 0, "--processes and --expect-workers take a number >= 0"),
        (not (args.processes and args.expect_workers), "--processes and --expect-workers do not go together"),
        (args.max_rss is None or args.max_rss > 0, "--max-rss takes a positive number of MiB"),
        (0 < args.master_port < 65536, "--master-port takes a port number"),
    )
    for holds, message in checks:
        if not holds:
            raise UsageError(message)
    workers = args.processes or args.expect_workers
    if workers and args.users % workers:
        raise UsageError(f"--users must be a multiple of the {workers} Locust workers (each gets as many clients)")
    return SoakSettings(
        users=args.users,
        pulls=args.pulls,
        duration=args.duration,
        cycle=args.cycle,
        healthy=args.healthy,
        images=args.images,
        processes=args.processes,
        expect_workers=args.expect_workers,
        master_host=args.master_host,
        master_port=args.master_port if args.expect_workers else 0,
        max_rss_mib=args.max_rss,
    )


def _command(spec: RunSpec, settings: SoakSettings, faults: str) -> str:
    """The command that repeats this soak (the same seed: the same images, pulls and faults)."""
    argv = ["pullthrough", "soak", "--target", spec.target, "--seed", str(spec.seed)]
    argv += ["--users", str(settings.users), "--pulls", str(settings.pulls), "--duration", f"{settings.duration:g}"]
    argv += ["--cycle", f"{settings.cycle:g}", "--faults", faults, "--healthy", f"{settings.healthy:g}"]
    if settings.images:
        argv += ["--images", str(settings.images)]
    if settings.processes:
        argv += ["--processes", str(settings.processes)]
    if settings.expect_workers:
        argv += ["--expect-workers", str(settings.expect_workers), "--master-host", settings.master_host]
        argv += ["--master-port", str(settings.master_port)]
    if settings.max_rss_mib is not None:
        argv += ["--max-rss", f"{settings.max_rss_mib:g}"]
    if spec.proxy_url:
        argv += ["--proxy-url", spec.proxy_url]
    return shlex.join(argv)
