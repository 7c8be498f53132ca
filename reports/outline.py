"""Cases grouped the way every report reads: rule families, then rules, then cells."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from reports.looks import worst
from reports.model import CaseResult, Verdict

# The order of RULES.md; families it does not know yet follow, alphabetically.
FAMILY_ORDER: tuple[str, ...] = ("FRESH", "STALE", "COLD", "INTEG", "PROTO", "INDEX", "ECON", "SEC")


@dataclass(frozen=True)
class RuleGroup:
    rule: str
    family: str
    level: str
    title: str
    cases: tuple[CaseResult, ...]

    @property
    def counts(self) -> Counter[Verdict]:
        return Counter(case.verdict for case in self.cases)

    @property
    def verdict(self) -> Verdict | None:
        return worst([case.verdict for case in self.cases])


@dataclass(frozen=True)
class FamilyGroup:
    family: str
    rules: tuple[RuleGroup, ...]

    @property
    def cases(self) -> tuple[CaseResult, ...]:
        return tuple(case for rule in self.rules for case in rule.cases)

    @property
    def counts(self) -> Counter[Verdict]:
        return Counter(case.verdict for case in self.cases)


def outline(cases: Iterable[CaseResult]) -> tuple[FamilyGroup, ...]:
    """Families in RULES.md order; rules and cells in the order the run produced them."""
    by_rule: dict[str, list[CaseResult]] = {}
    for case in cases:
        by_rule.setdefault(case.rule, []).append(case)
    families: dict[str, list[RuleGroup]] = {}
    for rule, members in by_rule.items():
        first = members[0]
        group = RuleGroup(rule, first.family, first.level, first.title, tuple(members))
        families.setdefault(first.family, []).append(group)
    return tuple(FamilyGroup(name, tuple(families[name])) for name in sorted(families, key=family_key))


def family_key(family: str) -> tuple[int, str]:
    return (FAMILY_ORDER.index(family), "") if family in FAMILY_ORDER else (len(FAMILY_ORDER), family)


def anchors(ids: Iterable[str], prefix: str = "c-") -> dict[str, str]:
    """A unique, URL-safe fragment for each case id (`STALE-5XX[503-tag-GET]` -> `c-STALE-5XX-503-tag-GET`)."""
    taken: dict[str, str] = {}
    used: set[str] = set()
    for case_id in ids:
        base = prefix + (re.sub(r"[^A-Za-z0-9_.-]+", "-", case_id).strip("-") or "case")
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        taken.setdefault(case_id, anchor)
    return taken
