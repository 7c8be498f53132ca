"""Several runs side by side, case by case: the published behaviour report of several targets or versions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from reports.looks import worst
from reports.model import CaseResult, Results, Verdict
from reports.outline import family_key


@dataclass(frozen=True)
class Row:
    """One case id across the runs; a cell is None where that run did not have the case."""

    id: str
    rule: str
    family: str
    level: str
    expected: str
    cells: tuple[CaseResult | None, ...]

    @property
    def differs(self) -> bool:
        """The runs observed different things (or not all of them ran the case)."""
        return len({cell.label if cell else None for cell in self.cells}) > 1


@dataclass(frozen=True)
class RuleRows:
    rule: str
    level: str
    title: str
    rows: tuple[Row, ...]

    def verdict(self, run: int) -> Verdict | None:
        return worst([cell.verdict for row in self.rows if (cell := row.cells[run]) is not None])

    def counts(self, run: int) -> Counter[Verdict]:
        return Counter(cell.verdict for row in self.rows if (cell := row.cells[run]) is not None)


@dataclass(frozen=True)
class FamilyRows:
    family: str
    rules: tuple[RuleRows, ...]


@dataclass(frozen=True)
class Comparison:
    runs: tuple[Results, ...]
    families: tuple[FamilyRows, ...]

    @property
    def rows(self) -> tuple[Row, ...]:
        return tuple(row for family in self.families for rule in family.rules for row in rule.rows)

    @property
    def differing(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.differs)

    def name(self, run: int) -> str:
        """A column heading: target and version, and the profile when the runs do not share one."""
        info = self.runs[run].run
        name = f"{info.target} {info.target_version}" if info.target_version else info.target
        if len({results.run.profile for results in self.runs}) > 1:
            name += f" ({info.profile})"
        if info.defects:
            name += " +" + ",".join(info.defects)
        return name


def compare_runs(runs: Sequence[Results]) -> Comparison:
    """Rows in the order of the first run that has them; families in RULES.md order."""
    if not runs:
        raise ValueError("a comparison needs at least one run")
    index = [{case.id: case for case in results.cases} for results in runs]
    firsts: dict[str, CaseResult] = {}
    for results in runs:
        for case in results.cases:
            firsts.setdefault(case.id, case)
    by_rule: dict[str, list[Row]] = {}
    for case_id, first in firsts.items():
        cells = tuple(cases.get(case_id) for cases in index)
        row = Row(case_id, first.rule, first.family, first.level, first.expected, cells)
        by_rule.setdefault(first.rule, []).append(row)
    families: dict[str, list[RuleRows]] = {}
    for rule, rows in by_rule.items():
        first = firsts[rows[0].id]
        families.setdefault(first.family, []).append(RuleRows(rule, first.level, first.title, tuple(rows)))
    ordered = sorted(families, key=family_key)
    return Comparison(tuple(runs), tuple(FamilyRows(name, tuple(families[name])) for name in ordered))
