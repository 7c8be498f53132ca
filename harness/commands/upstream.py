"""`pullthrough upstream`: the fake upstream as a standalone server."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
from typing import TYPE_CHECKING, Any

from harness.commands import UsageError

if TYPE_CHECKING:  # the registry loads only when this command runs, not with every subcommand
    from fake_upstream import FakeUpstream, UpstreamConfig


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "upstream",
        help="run the fake upstream registry",
        description="Run the fake upstream: an OCI registry that fails on command, with its control API.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML file declaring images, users, auth and faults")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="registry port (default 5000)")
    parser.add_argument("--control-port", type=int, help="control API port (default 5001)")
    parser.add_argument("--auth", choices=["none", "basic", "token"], help="authentication (default none)")
    parser.add_argument("--users", nargs="+", metavar="USER:PASSWORD", help="accounts for basic and token auth")
    parser.add_argument(
        "--control-token",
        help="required as 'Authorization: Bearer' on the control API; without it only loopback clients may use it",
    )
    parser.add_argument("--demo", action="store_true", default=None, help="seed a few realistic images")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from fake_upstream import RegistryError

    config = _config(args)
    # The registry's warnings and errors (a TLS hello on the plain-HTTP port, say) go to stderr.
    logging.basicConfig(level=logging.WARNING, format="pullthrough upstream: %(message)s")
    upstream = config.build()
    try:
        config.populate(upstream)
    except RegistryError as error:
        raise UsageError(f"cannot seed the images: {error.message} ({error.code.value})") from None
    except (ValueError, KeyError) as error:
        raise UsageError(f"cannot seed the images: {error}") from None
    try:
        asyncio.run(_serve(upstream, config))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(
                f"cannot listen, the port is taken: {error.strerror}; pass --port/--control-port (0 picks a free one)"
            ) from None
        raise UsageError(f"cannot listen on {config.host}: {error.strerror}") from None
    return 0


def _config(args: argparse.Namespace) -> UpstreamConfig:
    from fake_upstream import ConfigError, load_config, parse_config

    users = None
    if args.users:
        pairs = [user.partition(":") for user in args.users]
        if any(not name or not sep for name, sep, _ in pairs):
            raise UsageError("--users takes USER:PASSWORD pairs")
        users = {name: password for name, _, password in pairs}
    overrides = {
        "host": args.host,
        "port": args.port,
        "control_port": args.control_port,
        "auth": args.auth,
        "users": users,
        "control_token": args.control_token,
        "demo": args.demo,
    }
    try:
        return load_config(args.config, **overrides) if args.config else parse_config({}, **overrides)
    except ConfigError as error:
        raise UsageError(str(error)) from None


async def _serve(upstream: FakeUpstream, config: UpstreamConfig) -> None:
    from rich.console import Console

    await upstream.open()
    # `docker stop`, systemd and CI runners send SIGTERM: stop cleanly and exit 0, as for Ctrl-C.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, upstream.stop)
    if config.outage != "none":
        await upstream.set_outage_async(config.outage)
    # One stable line with the real ports (with --port 0 they are only known now): scripts parse it.
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    console.print(f"fake upstream: registry {upstream.url} control {upstream.control_url}/_control/")
    console.print(f"auth {config.auth}; {len(upstream.faults())} fault(s) armed; Ctrl-C stops")
    await upstream.run()
