"""The faults and outages a soak cycles through, drawn from the seed in RULES.md's vocabulary.

Each cycle is healthy, or breaks some repositories with one fault (the others stay healthy, so that an
error on them is one no rule calls for), or takes the whole registry port down (`refused`). The same seed
gives the same list of cycles; `Cycle.arm` puts one on a fake upstream and returns how to take it off.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fake_upstream import Upstream

# name -> (the fake upstream's fault, how its options are drawn). "refused" is the port outage.
_STATUS = ("404", "429", "500", "502", "503", "504")
_Options = Callable[[random.Random], dict[str, Any]]


def _none(rng: random.Random) -> dict[str, Any]:
    return {}


def _cut(how: str) -> _Options:
    return lambda rng: {"how": how, "after_bytes": rng.choice([0, 1, 100, 4096, 65536])}


FAULTS: dict[str, tuple[str, _Options]] = {
    **{status: (status, _none) for status in _STATUS},
    "token-fail": ("token-fail", lambda rng: {"status": rng.choice([401, 500, 503])}),
    "reset": ("reset", _none),
    "blackhole": ("blackhole", _none),
    "truncate": ("truncate", _cut("close")),
    "truncate-reset": ("truncate", _cut("reset")),
    "truncate-stall": ("truncate", _cut("stall")),
    "corrupt": ("corrupt", lambda rng: {"after_bytes": rng.choice([0, 10, 1000, 40000])}),
    "wrong-length": ("wrong-length", lambda rng: {"delta": rng.choice([-100, -1, 1, 100])}),
    "slow": ("slow", lambda rng: {"rate": rng.choice([256 << 10, 1 << 20, 4 << 20])}),
    "head-ok-get-fail": ("head-ok-get-fail", lambda rng: {"status": rng.choice([404, 500, 503])}),
}
OUTAGES = ("refused",)
VOCABULARY: tuple[str, ...] = (*FAULTS, *OUTAGES)
NEEDS_LOGIN = frozenset({"token-fail"})  # only where the target logs in to the upstream
# What a fault matches: the repository's API (never its token requests, which `token-fail` is for).
_KINDS = ("registry", "manifest", "blob")
_BODY = frozenset({"truncate", "corrupt", "wrong-length", "slow"})


class ScheduleError(ValueError):
    """A vocabulary that cannot be scheduled; the message says what to change."""


@dataclass(frozen=True)
class Cycle:
    """One cycle: `name` (a fault, "refused", or "healthy"), on `repositories` (empty: the whole port)."""

    name: str
    repositories: tuple[str, ...] = ()
    fault: str | None = None
    kind: str = "registry"
    options: dict[str, Any] = field(default_factory=dict)
    fraction: float | None = None

    @property
    def whole_port(self) -> bool:
        return self.name in OUTAGES

    def describe(self) -> str:
        if self.name == "healthy" or self.whole_port:
            return self.name
        share = f" on {self.fraction:.0%} of requests" if self.fraction else ""
        options = "".join(f" {key}={value}" for key, value in sorted(self.options.items()))
        return f"{self.name} ({self.kind}{options}{share}) on {len(self.repositories)} repositories"

    def arm(self, upstream: Upstream) -> Callable[[], None]:
        """Put the cycle on the upstream; call what it returns to take it off again."""
        from fake_upstream import Match  # here: `pullthrough --help` lists the vocabulary without loading a server

        if self.whole_port:
            upstream.set_outage(self.name)
            return lambda: upstream.set_outage("none")
        if self.fault is None:
            return lambda: None
        ids = [
            upstream.add_fault(
                self.fault,
                Match(kind=self.kind, repository=repository),  # type: ignore[arg-type]
                fraction=self.fraction,
                seed=number,
                **self.options,
            )
            for number, repository in enumerate(self.repositories)
        ]

        def disarm() -> None:
            for fault_id in ids:
                upstream.clear_faults(fault_id)

        return disarm

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "describe": self.describe(), "repositories": list(self.repositories)}


def parse_vocabulary(text: str, *, login: bool) -> tuple[str, ...]:
    """`all`, `none`, or names separated by commas; `token-fail` only where the target logs in."""
    if text == "none":
        return ()
    names = [name for name in VOCABULARY if login or name not in NEEDS_LOGIN] if text == "all" else text.split(",")
    unknown = [name for name in names if name not in VOCABULARY]
    if unknown:
        raise ScheduleError(f"unknown fault {unknown[0]!r}; one of: {', '.join(VOCABULARY)}, or all, or none")
    if not login and NEEDS_LOGIN & set(names):
        raise ScheduleError("token-fail needs a target that logs in to the upstream")
    return tuple(dict.fromkeys(names))


def make_schedule(
    *, seed: int, cycles: int, repositories: Sequence[str], vocabulary: Sequence[str], healthy: float = 0.25
) -> list[Cycle]:
    """`cycles` cycles: a `healthy` share without fault, the rest each a fault drawn from `vocabulary`."""
    rng = random.Random(f"pullthrough-soak:{seed}:schedule")
    schedule = []
    for _ in range(cycles):
        if not vocabulary or rng.random() < healthy:
            schedule.append(Cycle("healthy"))
            continue
        name = rng.choice(list(vocabulary))
        if name in OUTAGES:
            schedule.append(Cycle(name))
            continue
        fault, options = FAULTS[name]
        # A third of the repositories, at least one, and never all of them while there are two.
        count = max(1, min(len(repositories) - 1, round(len(repositories) / 3))) if len(repositories) > 1 else 1
        chosen = tuple(sorted(rng.sample(list(repositories), count)))
        # Body faults mostly on blobs: a broken manifest ends the pull before any blob is asked for.
        kind = rng.choice(("blob", "blob", "registry")) if fault in _BODY else rng.choice(_KINDS)
        if fault == "token-fail":
            kind = "token"
        fraction = rng.choice([None, 0.5])
        schedule.append(Cycle(name, chosen, fault, kind, options(rng), fraction))
    return schedule
