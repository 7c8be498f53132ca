"""A run, described once: `RunSpec`, built from `pullthrough run`'s arguments or the pytest plugin's options.

`OPTIONS` is the one table of a run's settings; the command line (`--target`) and pytest (`--pt-target`) are
both made from it, and `RunSpec.pytest_args` turns a spec back into the pytest options the runner hands over.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from harness.profiles import PROFILES
from harness.settle import Settle, SettleError

OptionType = Literal["str", "int", "float", "flag", "list"]


class SpecError(ValueError):
    """A run that cannot be described: the message is one line that says what to change."""


@dataclass(frozen=True)
class Option:
    name: str  # the RunSpec field
    help: str
    type: OptionType = "str"
    flag: str = ""  # `pullthrough run`'s flag; default --<name with dashes>
    choices: Callable[[], Sequence[str]] | None = None
    metavar: str | None = None
    run_only: bool = False  # pytest has its own (-k, -n)

    @property
    def run_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def pytest_flag(self) -> str:
        return "--pt-" + self.name.replace("_", "-")


def _targets() -> Sequence[str]:
    from harness.targets import TARGETS

    return list(TARGETS)


OPTIONS: tuple[Option, ...] = (
    Option("target", "the proxy to check", choices=_targets),
    Option("profile", "the expectation set to judge against", choices=lambda: PROFILES),
    Option("strict", "recommended rules gate too", type="flag"),
    Option("keyword", "only scenarios matching EXPR (rule IDs work)", flag="-k", metavar="EXPR", run_only=True),
    Option("workers", "parallel workers (a number, or auto)", flag="-n", run_only=True),
    Option("defects", "reference target: a deliberate defect (repeatable)", type="list", flag="--defect"),
    Option("variants", "reference target: a benign variant (repeatable)", type="list", flag="--variant"),
    Option("in_process", "reference target: run it in a thread", type="flag"),
    Option("settle", "how to wait for the target to cache: probe, quiet[:SECONDS], delay:SECONDS, none", metavar="HOW"),
    Option("proxy_url", "external target: the proxy's URL", metavar="URL"),
    Option("path_template", "external target: the proxy's path of a repository", metavar="TEMPLATE"),
    Option("upstream_url", "use a fake upstream you run (pullthrough upstream)", metavar="URL"),
    Option("upstream_control_url", "its control API", metavar="URL"),
    Option("control_token", "its control token"),
    Option(
        "upstream_user",
        "external target: the user your proxy logs in to the upstream as (password: $PULLTHROUGH_UPSTREAM_PASSWORD)",
        metavar="USER",
    ),
    Option("upstream_timeout", "the target's upstream timeout, in seconds", type="float", metavar="SECONDS"),
    Option(
        "peer_binary",
        "distribution and zot targets: the program to run (distribution: Debian's docker-registry by default)",
        metavar="PATH",
    ),
    Option("nginx_manifest_cache", "nginx target: how long tags stay cached (rpardini's default: 0s)", metavar="TIME"),
    Option("harbor_url", "harbor target: the running Harbor's URL", metavar="URL"),
    Option("harbor_user", "harbor target: an administrator (password: $PULLTHROUGH_HARBOR_PASSWORD)", metavar="USER"),
    Option(
        "harbor_options",
        "harbor target: a proxy-cache project option, e.g. proxy_cache_local_on_not_found=true (repeatable)",
        type="list",
        flag="--harbor-option",
        metavar="NAME=VALUE",
    ),
    Option(
        "upstream_host",
        "the address the fake upstream listens on (one per worker), which the target must reach; default 127.0.0.1",
        metavar="HOST",
    ),
    Option("seed", "seed for names and content", type="int"),
)


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides what a run checks and how; validated once, here, and handed down."""

    target: str = "reference"
    profile: str = "documented"
    strict: bool = False
    keyword: str | None = None
    workers: int = 1
    defects: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    in_process: bool = False
    settle: str | None = None
    proxy_url: str | None = None
    path_template: str = "{repository}"
    upstream_url: str | None = None
    upstream_control_url: str | None = None
    control_token: str | None = None
    upstream_user: str | None = None
    upstream_timeout: float | None = None
    peer_binary: str | None = None
    nginx_manifest_cache: str | None = None
    harbor_url: str | None = None
    harbor_user: str = "admin"
    harbor_options: tuple[str, ...] = ()
    upstream_host: str = "127.0.0.1"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise SpecError(f"unknown profile {self.profile!r}; one of: {', '.join(PROFILES)}")
        if self.workers < 1:
            raise SpecError("-n takes a positive number or auto")
        if self.upstream_timeout is not None and not self.upstream_timeout > 0:
            raise SpecError("--upstream-timeout takes a positive number of seconds")
        if self.settle is not None:
            try:
                Settle.parse(self.settle)
            except SettleError as error:
                raise SpecError(str(error)) from None
        if self.upstream_url and not self.upstream_control_url:
            raise SpecError("--upstream-url needs --upstream-control-url (the fake upstream's control API)")
        from harness.targets import TargetError, target_class

        try:
            target_class(self.target).check(self)
        except TargetError as error:
            raise SpecError(str(error)) from None

    @classmethod
    def from_values(cls, value: Callable[[str], Any]) -> RunSpec:
        """From a lookup of option values by field name (argparse or pytest), unset ones left at their default."""
        given: dict[str, Any] = {}
        for option in OPTIONS:
            found = value(option.name)
            if found is None or found == [] or found is False:
                continue
            given[option.name] = tuple(found) if option.type == "list" else found
        return cls(**given)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunSpec:
        """From `pullthrough run`'s arguments; `-n auto` is the cores, at most 4."""
        workers = args.workers
        if workers == "auto":
            workers = max(1, min(4, os.cpu_count() or 1))
        elif isinstance(workers, str):
            if not workers.isdecimal() or not workers.isascii():
                raise SpecError("-n takes a positive number or auto")
            workers = int(workers)
        return cls.from_values(lambda name: workers if name == "workers" else getattr(args, name, None))

    def pytest_args(self) -> list[str]:
        """The pytest options that describe this spec to the plugin (in every worker)."""
        argv: list[str] = []
        defaults = {spec_field.name: spec_field.default for spec_field in fields(RunSpec)}
        for option in OPTIONS:
            value = getattr(self, option.name)
            if option.run_only or value == defaults[option.name]:
                continue
            if option.type == "flag":
                argv.append(option.pytest_flag)
            elif option.type == "list":
                for item in value:
                    argv += [option.pytest_flag, str(item)]
            else:
                argv += [option.pytest_flag, str(value)]
        if self.workers > 1:
            argv += ["-n", str(self.workers)]
        if self.keyword:
            argv += ["-k", self.keyword]
        return argv


def add_run_arguments(parser: argparse.ArgumentParser, *, leave_out: Sequence[str] = ()) -> None:
    """`pullthrough run`'s flags for every option (workers parsed as text: a number or auto), but `leave_out`'s."""
    for option in OPTIONS:
        if option.name not in leave_out:
            parser.add_argument(option.run_flag, dest=option.name, **_argparse_kwargs(option, run=True))


def add_pytest_options(group: Any) -> None:
    """The plugin's `--pt-*` options (pytest's own -k and -n are not repeated)."""
    for option in OPTIONS:
        if not option.run_only:
            group.addoption(option.pytest_flag, dest="pt_" + option.name, **_argparse_kwargs(option, run=False))


def _argparse_kwargs(option: Option, *, run: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"help": option.help}
    if option.type == "flag":
        kwargs["action"] = "store_true"
        return kwargs
    if option.type == "list":
        kwargs["action"] = "append"
        kwargs["default"] = []
    elif option.type in ("int", "float"):
        kwargs["type"] = int if option.type == "int" else float
    if option.metavar:
        kwargs["metavar"] = option.metavar
    if option.choices is not None and run:
        choices = list(option.choices())
        kwargs["help"] = f"{option.help}: {', '.join(choices)}"
        kwargs["metavar"] = option.metavar or option.name.upper()
    return kwargs
