"""Rich renderables for the terminal: the final table of `pullthrough run`, the written paths, a diff.

Every piece of run data goes in as `Text`, never as markup: case ids contain brackets
(`STALE-5XX[503-tag-GET]`) that rich would otherwise read as style tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from reports.diff import Change
from reports.looks import LOOKS, ORDER, PROBLEMS
from reports.model import Results, Verdict
from reports.outcome import outcome
from reports.outline import outline

LIMIT = 30


def summary_table(results: Results, *, limit: int = LIMIT) -> RenderableType:
    """Counts per verdict by rule family, the cases that need attention, and the one-line outcome."""
    counts = results.counts()
    table = Table(title=Text(f"pullthrough: {results.run.target} ({results.run.profile})"), title_justify="left")
    table.add_column("family")
    for verdict in ORDER:
        look = LOOKS[verdict]
        table.add_column(Text(f"{look.symbol} {look.word}", style=look.rich), justify="right")
    table.add_column("cases", justify="right")
    for family in outline(results.cases):
        table.add_row(Text(family.family), *_counts(family.counts), str(len(family.cases)))
    table.add_section()
    table.add_row(Text("all", style="bold"), *_counts(counts), str(len(results.cases)))
    parts: list[RenderableType] = [table]
    problems = sorted((c for c in results.cases if c.verdict in PROBLEMS), key=lambda c: ORDER.index(c.verdict))
    if problems:
        listing = Table(title=Text(f"needs attention ({len(problems)})"), title_justify="left", box=None)
        listing.add_column("")
        listing.add_column("case", no_wrap=True)
        listing.add_column("observed", overflow="fold")
        listing.add_column("expected", overflow="fold")
        for case in problems[:limit]:
            look = LOOKS[case.verdict]
            listing.add_row(
                Text(f"{look.symbol} {look.word}", style=look.rich),
                Text(case.id),
                Text(case.label),
                Text(case.expected),
            )
        parts.append(listing)
        if len(problems) > limit:
            parts.append(Text(f"… and {len(problems) - limit} more in the reports", style="dim"))
    result = outcome(results)
    parts.append(Text(f"{LOOKS[result.verdict].symbol} {result.text}", style=LOOKS[result.verdict].rich))
    return Group(*parts)


def written(paths: Mapping[str, Path] | Iterable[Path]) -> RenderableType:
    """Where the reports went, one per line."""
    named = paths.items() if isinstance(paths, Mapping) else ((Path(path).suffix.lstrip("."), path) for path in paths)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for name, path in named:
        grid.add_row(Text(name), Text(str(path)))
    return Group(Text("reports written:", style="bold"), grid)


def changes_table(changes: list[Change]) -> RenderableType:
    """A diff between two runs: changed observations in emphasis, added and removed cases dimmed."""
    behaviour = sum(1 for change in changes if change.changed)
    if not changes:
        return Text("no observation changed", style="green")
    table = Table(title=Text(f"{behaviour} observation(s) changed"), title_justify="left")
    table.add_column("case", no_wrap=True)
    table.add_column("old", overflow="fold")
    table.add_column("new", overflow="fold")
    for change in changes:
        table.add_row(
            Text(change.id, style="bold" if change.changed else "dim"),
            _label(change.old, change.old_verdict, "not in the old run"),
            _label(change.new, change.new_verdict, "not in the new run"),
        )
    return table


def _label(label: str | None, verdict: Verdict | None, absent: str) -> Text:
    if label is None or verdict is None:
        return Text(f"— {absent}", style="dim")
    look = LOOKS[verdict]
    return Text.assemble((f"{look.symbol} ", look.rich), label)


def _counts(counts: Mapping[Verdict, int]) -> list[Text]:
    return [
        Text(str(counts.get(verdict, 0)), style=LOOKS[verdict].rich if counts.get(verdict, 0) else "dim")
        for verdict in ORDER
    ]
