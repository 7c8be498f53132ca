"""Markdown summaries for a pull-request comment or `$GITHUB_STEP_SUMMARY` (GitHub-flavoured tables).

Compact by design: counts by family and the cases that need attention, at most `limit` rows (a PR
comment holds 65,536 characters); the HTML report has the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reports import redact
from reports.comparison import compare_runs
from reports.looks import LOOKS, ORDER, PROBLEMS
from reports.model import Results
from reports.outcome import outcome
from reports.outline import outline
from reports.transcript import visible

LIMIT = 50
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def render_markdown(results: Results, *, limit: int = LIMIT, redacted: bool = False) -> str:
    results = results if redacted else redact.results(results)
    result = outcome(results)
    run = results.run
    version = f" {run.target_version}" if run.target_version else ""
    seconds = results.seconds
    lines = [
        f"### {LOOKS[result.verdict].emoji} pullthrough: {escape(run.target + version)}",
        "",
        f"**{escape(result.text)}**",
        "",
        _counts(results),
        "",
        f"profile {code(run.profile)}{' (strict)' if run.strict else ''}"
        + (f", defects {', '.join(code(d) for d in run.defects)}" if run.defects else "")
        + f", started {escape(run.started_at)}"
        + (f", {seconds:.1f} s" if seconds is not None else "")
        + f", pullthrough {escape(run.pullthrough_version)}",
        "",
        "| family | " + " | ".join(f"{LOOKS[v].emoji} {v.value}" for v in ORDER) + " |",
        "|---|" + "---:|" * len(ORDER),
    ]
    for family in outline(results.cases):
        counts = family.counts
        lines.append(f"| {escape(family.family)} | " + " | ".join(str(counts[v]) for v in ORDER) + " |")
    problems = [case for case in results.cases if case.verdict in PROBLEMS]
    problems.sort(key=lambda case: ORDER.index(case.verdict))
    if problems:
        lines += [
            "",
            f"#### Needs attention ({len(problems)})",
            "",
            "| | case | observed | expected |",
            "|---|---|---|---|",
        ]
        for case in problems[:limit]:
            lines.append(
                f"| {LOOKS[case.verdict].emoji} {case.verdict.value} | {code(case.id)} | {code(case.label)} "
                f"| {escape(case.expected)} |"
            )
        if len(problems) > limit:
            lines += ["", f"… and {len(problems) - limit} more: see the HTML report."]
    return "\n".join(lines) + "\n"


def render_comparison_markdown(runs: Sequence[Results], *, limit: int = LIMIT) -> str:
    """Runs side by side: their outcomes, then the cases whose observations differ."""
    comparison = compare_runs([redact.results(results) for results in runs])
    columns = range(len(comparison.runs))
    names = [escape(comparison.name(i)) for i in columns]
    differing = comparison.differing
    lines = [
        "### pullthrough: behaviour comparison",
        "",
        f"{len(comparison.runs)} runs, {len(comparison.rows)} cases; the observations differ in **{len(differing)}**.",
        "",
        "| run | outcome | " + " | ".join(f"{LOOKS[v].emoji} {v.value}" for v in ORDER) + " |",
        "|---|---|" + "---:|" * len(ORDER),
    ]
    for i in columns:
        results = comparison.runs[i]
        result, counts = outcome(results), results.counts()
        lines.append(
            f"| {names[i]} | {LOOKS[result.verdict].emoji} {escape(result.text)} | "
            + " | ".join(str(counts[v]) for v in ORDER)
            + " |"
        )
    if differing:
        lines += ["", f"#### Observations that differ ({len(differing)})", ""]
        lines += ["| case | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for row in differing[:limit]:
            cells = [f"{LOOKS[cell.verdict].emoji} {code(cell.label)}" if cell else "not run" for cell in row.cells]
            lines.append(f"| {code(row.id)} | " + " | ".join(cells) + " |")
        if len(differing) > limit:
            lines += ["", f"… and {len(differing) - limit} more: see the HTML comparison."]
    return "\n".join(lines) + "\n"


def escape(text: str) -> str:
    """Literal text in GitHub Markdown: every character that could start markup or end a table cell escaped."""
    return _SPECIAL.sub(r"\\\1", visible(" ".join(text.split())))


def code(text: str) -> str:
    # <code> rather than backticks: a backtick in the text cannot end it, and escapes still apply inside.
    return f"<code>{escape(text)}</code>"


def _counts(results: Results) -> str:
    counts = results.counts()
    return " · ".join(f"{LOOKS[v].emoji} {counts[v]} {v.value}" for v in ORDER)
