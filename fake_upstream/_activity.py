"""Per-repository activity: when a repository last saw a request, and how many are still running.

What a harness needs to wait for a proxy to go quiet (its background fetches included), measured on
the upstream's own clock so that no client's clock enters into it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

# Repositories remembered at most; the idle ones least recently active are forgotten first.
MAX_TRACKED = 10_000


@dataclass(frozen=True)
class Activity:
    """`last_seq`: the journal sequence of the repository's latest request (0: never);
    `idle`: seconds since one of its requests last arrived or finished (None: never);
    `in_flight`: its requests that arrived and have not finished."""

    last_seq: int = 0
    idle: float | None = None
    in_flight: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _State:
    last_seq: int
    last_event: float
    in_flight: int


class ActivityTracker:
    """Not thread-safe on its own: the journal calls it under its lock."""

    def __init__(self, limit: int = MAX_TRACKED) -> None:
        self._limit = limit
        self._states: OrderedDict[str, _State] = OrderedDict()

    def arrived(self, repository: str, seq: int, *, finished: bool = False) -> None:
        state = self._states.get(repository)
        if state is None:
            state = self._states[repository] = _State(seq, 0.0, 0)
            self._forget_idle()
        self._states.move_to_end(repository)
        state.last_seq = seq
        state.last_event = time.monotonic()
        if not finished:
            state.in_flight += 1

    def finished(self, repository: str) -> None:
        state = self._states.get(repository)
        if state is not None:
            state.in_flight = max(0, state.in_flight - 1)
            state.last_event = time.monotonic()

    def get(self, repository: str) -> Activity:
        state = self._states.get(repository)
        if state is None:
            return Activity()
        return Activity(state.last_seq, max(0.0, time.monotonic() - state.last_event), state.in_flight)

    def _forget_idle(self) -> None:
        excess = len(self._states) - self._limit
        if excess <= 0:
            return
        idle: list[str] = []
        for name, state in self._states.items():  # least recently active first
            if state.in_flight == 0:
                idle.append(name)
                if len(idle) == excess:
                    break
        for name in idle:
            del self._states[name]
