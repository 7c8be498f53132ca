"""When each repository was disturbed, and which client errors a disturbance explains.

An error no rule calls for is one on a repository that nothing disturbed while the request ran: no fault armed
on it, no outage of the whole port. A disturbance explains errors from its start until `grace` after its end
(T: a request the proxy started upstream under the fault may end that late).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Disturbance:
    name: str
    started: float  # wall clock, as the clients record their requests
    ended: float
    repositories: tuple[str, ...]  # empty: every repository (the whole port)

    def covers(self, repository: str, started: float, ended: float, grace: float) -> bool:
        if self.repositories and repository not in self.repositories:
            return False
        return started <= self.ended + grace and ended >= self.started


def unexplained(errors: Iterable[Sequence[Any]], timeline: Sequence[Disturbance], grace: float) -> list[list[Any]]:
    """The errors (`[repository, started, ended, label]`) that no disturbance of `timeline` explains."""
    return [
        list(error)
        for error in errors
        if not any(d.covers(str(error[0]), float(error[1]), float(error[2]), grace) for d in timeline)
    ]
