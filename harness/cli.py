"""The `pullthrough` command: one subcommand per job, each in harness.commands or reports.cli."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from harness.commands import proxy, run, upstream
from reports import cli as report_cli

USAGE_ERROR = 2


class UsageError(Exception):
    """A bad command line or an unusable environment: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pullthrough", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in (run, upstream, proxy):
        module.register(commands)
    report_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UsageError as error:
        print(f"pullthrough {args.command}: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run as `python -m harness.cli`: go through the importable module, so its exception classes are the ones
    # the subcommands raise.
    from harness.cli import main as _main

    raise SystemExit(_main())
