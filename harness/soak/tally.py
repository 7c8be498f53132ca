"""What the clients saw, counted: outcomes by observation, the broken successes, and every error with its time.

A tally is plain data so that Locust workers can send theirs to the master (as a delta, `drain`) and the
master can add them up (`merge`); the soak reads the final one from a file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.soak.pulling import BROKEN, Step

ERROR_RECORDS = 200_000  # about 20 MB at most; past it errors are still counted, not timed
EXAMPLES = 20


@dataclass
class Tally:
    pulls: int = 0  # pulls finished, whatever their outcome
    whole: int = 0  # pulls that got every piece, verified
    requests: int = 0
    done_users: int = 0  # clients that made all their pulls
    outcomes: Counter[str] = field(default_factory=Counter)  # observation label -> count
    kinds: Counter[str] = field(default_factory=Counter)  # observation kind -> count
    broken: list[dict[str, Any]] = field(default_factory=list)  # examples of wrong or short successes
    errors: list[list[Any]] = field(default_factory=list)  # [repository, started, ended, label]
    untimed_errors: int = 0

    def add_step(self, step: Step) -> None:
        observation = step.observation
        self.requests += 1
        self.outcomes[observation.label] += 1
        self.kinds[str(observation.kind)] += 1
        if observation.kind in BROKEN and len(self.broken) < EXAMPLES:
            self.broken.append({"request": step.name, "repository": step.repository, "detail": observation.detail})
        if not step.ok:
            if len(self.errors) < ERROR_RECORDS:
                self.errors.append([step.repository, round(step.started, 3), round(step.ended, 3), observation.label])
            else:
                self.untimed_errors += 1

    def add_pull(self, whole: bool) -> None:
        self.pulls += 1
        self.whole += int(whole)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pulls": self.pulls,
            "whole": self.whole,
            "requests": self.requests,
            "done_users": self.done_users,
            "outcomes": dict(self.outcomes),
            "kinds": dict(self.kinds),
            "broken": self.broken,
            "errors": self.errors,
            "untimed_errors": self.untimed_errors,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        tally = cls()
        tally.merge(data)
        return tally

    def merge(self, data: dict[str, Any]) -> None:
        """Add another tally's counts (a worker's delta) to this one."""
        self.pulls += int(data["pulls"])
        self.whole += int(data["whole"])
        self.requests += int(data["requests"])
        self.done_users += int(data["done_users"])
        self.outcomes.update(data["outcomes"])
        self.kinds.update(data["kinds"])
        self.broken.extend(data["broken"][: max(0, EXAMPLES - len(self.broken))])
        room = max(0, ERROR_RECORDS - len(self.errors))
        self.errors.extend(data["errors"][:room])
        self.untimed_errors += int(data["untimed_errors"]) + max(0, len(data["errors"]) - room)

    def drain(self) -> dict[str, Any]:
        """This tally as data, and zero again: what a worker sends with each report."""
        data = self.to_dict()
        vars(self).update(vars(Tally()))
        return data

    def count(self, *kinds: str) -> int:
        return sum(self.kinds.get(kind, 0) for kind in kinds)
