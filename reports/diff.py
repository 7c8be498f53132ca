"""What changed between two runs: the cases whose observation label differs, and cases added or removed.

Observations, not verdicts, are compared: a Harbor upgrade that turns `served-cached` into
`not-found` shows as exactly that, whatever profile either run was judged against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reports.model import CaseResult, Results, Verdict
from reports.outline import family_key

Kind = Literal["changed", "added", "removed"]


@dataclass(frozen=True)
class Change:
    id: str
    rule: str
    family: str
    kind: Kind
    old: str | None  # observation label in the old run (None: the case was not in it)
    new: str | None
    old_verdict: Verdict | None
    new_verdict: Verdict | None

    @property
    def changed(self) -> bool:
        """The proxy's behaviour changed (as opposed to the set of cases run)."""
        return self.kind == "changed"

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.id}: added ({self.new})"
        if self.kind == "removed":
            return f"{self.id}: removed (was {self.old})"
        return f"{self.id}: {self.old} -> {self.new}"


def compare(old: Results, new: Results) -> list[Change]:
    """Every difference between the runs, families in RULES.md order, cases in the order the runs had them.

    Only `changed` entries are behaviour changes; added and removed ones come from running a
    different selection (`-k`) or another version of the suite.
    """
    before = {case.id: case for case in old.cases}
    after = {case.id: case for case in new.cases}
    ids = [*before, *(case_id for case_id in after if case_id not in before)]
    changes = []
    for case_id in ids:
        was, now = before.get(case_id), after.get(case_id)
        if was is not None and now is not None:
            if was.label != now.label:
                changes.append(_change(case_id, "changed", was, now))
        elif was is not None:
            changes.append(_change(case_id, "removed", was, None))
        elif now is not None:
            changes.append(_change(case_id, "added", None, now))
    order = {case_id: n for n, case_id in enumerate(ids)}
    return sorted(changes, key=lambda change: (family_key(change.family), order[change.id]))


def _change(case_id: str, kind: Kind, was: CaseResult | None, now: CaseResult | None) -> Change:
    some = now or was
    assert some is not None
    return Change(
        id=case_id,
        rule=some.rule,
        family=some.family,
        kind=kind,
        old=was.label if was else None,
        new=now.label if now else None,
        old_verdict=was.verdict if was else None,
        new_verdict=now.verdict if now else None,
    )
