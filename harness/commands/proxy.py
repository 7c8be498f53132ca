"""`pullthrough proxy`: the reference pull-through proxy as a standalone server."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
from pathlib import Path
from typing import Any

import uvloop
from rich.console import Console

from harness.commands import UsageError

DEFAULT_PORT = 5002  # 5001 is the fake upstream's control port
PASSWORD_ENV = "PULLTHROUGH_UPSTREAM_PASSWORD"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "proxy",
        help="run the reference pull-through proxy",
        description="Run the reference pull-through proxy: the documented rules, done right. "
        f"The upstream password comes from ${PASSWORD_ENV} or --upstream-password-file (neither shows in "
        "the process list), or --upstream-password (which does).",
    )
    parser.add_argument("--upstream", metavar="URL", help="mirror mode: /v2/<repo> is this registry's <repo>")
    parser.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="project mode (repeatable): /v2/<NAME>/<repo> is URL's <repo>",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    parser.add_argument("--cache-dir", metavar="DIR", help="where the cache lives (default: the user's cache dir)")
    parser.add_argument("--upstream-user", metavar="U", help="user the proxy logs in to the upstream as")
    parser.add_argument(
        "--upstream-password-file",
        metavar="FILE",
        help=f"read its password from FILE's first line (or set ${PASSWORD_ENV}; both keep it out of the process list)",
    )
    parser.add_argument(
        "--upstream-password", metavar="P", help="its password on the command line: visible to every user in `ps`"
    )
    parser.add_argument(
        "--upstream-timeout", type=float, default=5.0, metavar="SECONDS", help="bound on each upstream wait (default 5)"
    )
    parser.add_argument(
        "--manifest-memory",
        type=int,
        default=32,
        metavar="MIB",
        help="manifests kept in memory, in MiB (default 32); the others are read from the cache on disk",
    )
    parser.add_argument(
        "--on-upstream-not-found",
        choices=["serve-cached", "not-found", "not-found-and-evict"],
        default="serve-cached",
        help="a cached tag the upstream no longer has: serve it (default), answer 404, or 404 and forget it",
    )
    parser.add_argument(
        "--defect", action="append", default=[], metavar="NAME", help="turn on a deliberate defect (repeatable)"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="turn on a benign variant, a behaviour the rules accept (repeatable)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from proxy_under_test import CacheLocked, ProxyConfig, ReferenceProxy

    try:
        config = ProxyConfig(
            upstream=args.upstream,
            projects=_projects(args.project),
            cache_dir=Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
            host=args.host,
            port=args.port,
            upstream_user=args.upstream_user,
            upstream_password=_password(args),
            upstream_timeout=args.upstream_timeout,
            on_upstream_not_found=args.on_upstream_not_found,
            manifest_memory=args.manifest_memory << 20,
            defects=frozenset(args.defect),
            variants=frozenset(args.variant),
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    proxy = ReferenceProxy(config)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve(proxy))
    except CacheLocked as error:
        raise UsageError(f"{error}; pass another --cache-dir") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {config.port} on {config.host} is taken; pass --port (0 picks a free one)"
            ) from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"cannot listen on {config.host}: no such local address") from None
        raise UsageError(f"cannot start: {error.strerror or error}") from None
    return 0


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pullthrough" / "proxy"


def _projects(values: list[str]) -> dict[str, str]:

    projects = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url:
            raise UsageError(f"--project takes NAME=URL, not {value!r}")
        if name in projects:
            raise UsageError(f"project {name!r} is given twice")
        projects[name] = url
    return projects


def _password(args: argparse.Namespace) -> str | None:
    if args.upstream_password is not None and args.upstream_password_file is not None:
        raise UsageError("give --upstream-password or --upstream-password-file, not both")
    if args.upstream_password is not None:
        return str(args.upstream_password)
    if args.upstream_password_file is not None:
        try:
            lines = Path(args.upstream_password_file).read_text().splitlines()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
            raise UsageError(f"cannot read --upstream-password-file {args.upstream_password_file}: {reason}") from None
        if not lines or not lines[0]:
            raise UsageError(
                f"--upstream-password-file {args.upstream_password_file} has no password on its first line"
            )
        return lines[0]
    if args.upstream_user is not None:
        return os.environ.get(PASSWORD_ENV)
    return None


async def _serve(proxy: Any) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, proxy.stop)

    def banner() -> None:
        config = proxy.config
        mapping = [f"/v2/<repo> -> {config.upstream}"] if config.upstream else []
        mapping += [f"/v2/{name}/<repo> -> {url}" for name, url in config.projects.items()]
        console = Console(stderr=True)
        console.print(f"[bold]reference proxy[/] {proxy.url}  cache {config.cache_dir}", highlight=False)
        console.print("; ".join(mapping), highlight=False)
        if config.defects:
            console.print(f"[red]deliberate defects on:[/] {', '.join(sorted(config.defects))}", highlight=False)
        if config.variants:
            console.print(f"benign variants on: {', '.join(sorted(config.variants))}", highlight=False)

    await proxy.serve(banner)
