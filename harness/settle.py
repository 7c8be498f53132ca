"""Settling: waiting until what a case just pulled is really cached, before the upstream is taken away.

A proxy may cache in the background (distribution fetches a blob a second time; Harbor stores a manifest 20 s
after the pull). Strategies, for `--settle`:
- `probe`: the target's own probe (its storage, its API); the default for the built-in targets;
- `quiet[:SECONDS]`: the case's repository has seen no upstream request for a quiet period (default 1 s),
  none is still running, learned from the fake upstream's journal; the default for `external`;
- `delay:SECONDS`: a fixed wait;
- `none`: carry on at once.
A settle that runs out is reported on the case, never turned into a pass or a fail by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from harness.poll import Timeout, wait_until

Mode = Literal["probe", "quiet", "delay", "none"]
QUIET_PERIOD = 1.0
DEADLINE = 30.0


class SettleError(ValueError):
    """A settle strategy that cannot be parsed; the message is one line."""


@dataclass(frozen=True)
class Settle:
    mode: Mode
    seconds: float | None = None  # the quiet period, or the delay
    deadline: float = DEADLINE

    @classmethod
    def parse(cls, text: str) -> Settle:
        """`probe`, `quiet`, `quiet:0.5`, `delay:3`, `none`."""
        mode, _, value = text.partition(":")
        if mode not in ("probe", "quiet", "delay", "none"):
            raise SettleError(f"--settle {text!r}: one of probe, quiet[:SECONDS], delay:SECONDS, none")
        if mode in ("probe", "none"):
            if value:
                raise SettleError(f"--settle {mode} takes no value")
            return cls(mode)  # type: ignore[arg-type]
        if mode == "delay" and not value:
            raise SettleError("--settle delay needs seconds, e.g. delay:5")
        seconds = _seconds(value, text) if value else QUIET_PERIOD
        return cls(mode, seconds, max(DEADLINE, seconds * 4))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.mode if self.seconds is None else f"{self.mode}:{self.seconds:g}"


@dataclass(frozen=True)
class Settled:
    """How a settle ended: `complete` False means it ran out, and `detail` says what was still going on."""

    strategy: str
    complete: bool
    waited: float
    detail: str = ""

    @property
    def note(self) -> str:
        return f"settle ({self.strategy}) ran out after {self.waited:.1f}s: {self.detail}"


class Activity(Protocol):
    """What the fake upstream says of one repository (fake_upstream's `activity`)."""

    @property
    def idle(self) -> float | None: ...

    @property
    def in_flight(self) -> int: ...


def quiet(
    activity: Callable[[str], Activity], repositories: Sequence[str], *, period: float, deadline: float
) -> Settled:
    """Until none of `repositories` has a request running and each has been idle for `period`."""
    started = time.monotonic()
    busy: list[str] = []

    def calm() -> bool:
        busy[:] = []
        for repository in repositories:
            seen = activity(repository)
            if seen.in_flight or (seen.idle is not None and seen.idle < period):
                busy.append(f"{repository}: {seen.in_flight} in flight, idle {seen.idle or 0:.1f}s")
        return not busy

    try:
        wait_until(calm, timeout=deadline, what="a quiet upstream", interval=min(0.05, period / 4))
    except Timeout:
        return Settled(f"quiet:{period:g}", False, time.monotonic() - started, "; ".join(busy))
    return Settled(f"quiet:{period:g}", True, time.monotonic() - started)


def delay(seconds: float) -> Settled:
    """A fixed wait the user asked for (an Event nobody sets: interruptible, unlike a bare sleep)."""
    threading.Event().wait(seconds)
    return Settled(f"delay:{seconds:g}", True, seconds)


def _seconds(value: str, text: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise SettleError(f"--settle {text!r}: {value!r} is not a number of seconds") from None
    if not 0 < seconds <= 3600:
        raise SettleError(f"--settle {text!r}: seconds must be more than 0 and at most 3600")
    return seconds
