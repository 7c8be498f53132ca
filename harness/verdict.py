"""The verdict of a case, decided in one place from the checks it recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reports.model import Observation, Verdict

NO_CHECK = "the case recorded no check: nothing was judged"


@dataclass(frozen=True)
class Check:
    """One observation judged against what the profile expects. `step` names a check that is not the rule's
    own observation (e.g. "warming the cache"), so that a report can say where a case went wrong."""

    observation: Observation
    expected: str
    accepted: bool
    step: str = ""

    @property
    def message(self) -> str:
        text = f"expected {self.expected}; observed {self.observation.label}: {self.observation.detail}"
        return f"{self.step}: {text}" if self.step else text


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    message: str
    decisive: Check | None  # the check the verdict rests on (None: skipped, or nothing was checked)


class CheckMissed(Exception):
    """Raised by a case when a check does not hold: the case stops there, the verdict is decided from it."""


def decide(checks: Sequence[Check], *, gating: bool, skipped: str | None = None, error: str | None = None) -> Outcome:
    """A missed check fails the case (or is a deviation, for a rule that does not gate); a case that did not
    get to judge anything is an error, never a pass."""
    if skipped is not None:
        return Outcome(Verdict.SKIP, skipped, None)
    missed = next((check for check in checks if not check.accepted), None)
    if missed is not None:
        return Outcome(Verdict.FAIL if gating else Verdict.DEVIATION, missed.message, missed)
    last = checks[-1] if checks else None
    if error is not None:
        return Outcome(Verdict.ERROR, error, last)
    if last is None:
        return Outcome(Verdict.ERROR, NO_CHECK, None)
    return Outcome(Verdict.PASS, "", last)
