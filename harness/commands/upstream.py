"""`pullthrough upstream`: the fake upstream as a standalone server."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.commands import UsageError

if TYPE_CHECKING:  # the registry loads only when this command runs, not with every subcommand
    from fake_upstream import FakeUpstream, UpstreamConfig

# Secrets kept out of the process list (arguments are visible to every user of the machine).
USERS_ENV = "PULLTHROUGH_UPSTREAM_USERS"
TOKEN_ENV = "PULLTHROUGH_CONTROL_TOKEN"


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
    users = parser.add_mutually_exclusive_group()
    users.add_argument(
        "--users",
        nargs="+",
        metavar="USER:PASSWORD",
        help=f"accounts for basic and token auth (shown in the process list: prefer ${USERS_ENV} or --users-file)",
    )
    users.add_argument(
        "--users-file",
        metavar="FILE",
        help=f"accounts, one USER:PASSWORD a line ('#' comments); or ${USERS_ENV}: pairs separated by whitespace",
    )
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--control-token",
        help="required as 'Authorization: Bearer' on the control API; without it only loopback clients may use it "
        f"(shown in the process list: prefer ${TOKEN_ENV} or --control-token-file)",
    )
    token.add_argument(
        "--control-token-file", metavar="FILE", help=f"the control token, read from FILE; or ${TOKEN_ENV}"
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

    overrides = {
        "host": args.host,
        "port": args.port,
        "control_port": args.control_port,
        "auth": args.auth,
        "users": _users(args),
        "control_token": _control_token(args),
        "demo": args.demo,
    }
    try:
        return load_config(args.config, **overrides) if args.config else parse_config({}, **overrides)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def _users(args: argparse.Namespace) -> dict[str, str] | None:
    """From --users, --users-file or $PULLTHROUGH_UPSTREAM_USERS (in that order); None leaves the config's."""
    if args.users:
        return _pairs(args.users, "--users")
    if args.users_file:
        lines = _read_secret(args.users_file, "--users-file").splitlines()
        return _pairs(
            [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")], "--users-file"
        )
    if os.environ.get(USERS_ENV):
        return _pairs(os.environ[USERS_ENV].split(), f"${USERS_ENV}")
    return None


def _pairs(items: list[str], source: str) -> dict[str, str]:
    pairs = [item.partition(":") for item in items]
    if not pairs or any(not name or not sep for name, sep, _ in pairs):
        raise UsageError(f"{source} takes USER:PASSWORD pairs")
    return {name: password for name, _, password in pairs}


def _control_token(args: argparse.Namespace) -> str | None:
    """From --control-token, --control-token-file or $PULLTHROUGH_CONTROL_TOKEN; None leaves the config's."""
    token: str | None = args.control_token
    if args.control_token_file:
        token = _read_secret(args.control_token_file, "--control-token-file").strip()
    elif token is None:
        token = os.environ.get(TOKEN_ENV) or None
    if token is not None and not token.strip():
        raise UsageError("the control token is empty")
    return token


def _read_secret(path: str, option: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{option} {path}: cannot read it ({getattr(error, 'strerror', None) or error})") from None


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
