"""HTML reports: one self-contained file (inline CSS, no fetches) for a run, or for several side by side."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import jinja2
from markupsafe import Markup

from reports import redact
from reports.comparison import compare_runs
from reports.looks import LOOKS, ORDER, PROBLEMS
from reports.model import Results, Verdict
from reports.outcome import outcome
from reports.outline import anchors, outline
from reports.transcript import exchange_text, observation_facts, reproduce, visible


def render_report(results: Results, *, redacted: bool = False) -> str:
    """The report of one run: summary meter, matrix of families x cells, then every case in full."""
    results = results if redacted else redact.results(results)
    families = outline(results.cases)
    return (
        _environment()
        .get_template("report.html")
        .render(
            run=results.run,
            outcome=outcome(results),
            counts=results.counts(),
            total=max(len(results.cases), 1),
            seconds=results.seconds,
            families=families,
            problems=[case for family in families for case in family.cases if case.verdict in PROBLEMS],
            anchors=anchors(case.id for case in results.cases),
            family_anchors=anchors((family.family for family in families), prefix="f-"),
            rule_anchors=anchors((rule.rule for family in families for rule in family.rules), prefix="r-"),
            catalogue=results.rules,
            attention=PROBLEMS,
            facts=observation_facts,
            reproduce=reproduce,
            exchange_text=exchange_text,
            **_common(),
        )
    )


def render_comparison(runs: Sequence[Results]) -> str:
    """Runs side by side, rule by rule: rows are cases, columns are runs, cells the observation and verdict."""
    comparison = compare_runs([redact.results(results) for results in runs])
    columns = range(len(comparison.runs))
    return (
        _environment()
        .get_template("comparison.html")
        .render(
            comparison=comparison,
            runs=comparison.runs,
            columns=columns,
            rows=comparison.rows,
            differing=comparison.differing,
            outcomes=[outcome(results) for results in comparison.runs],
            counts=[results.counts() for results in comparison.runs],
            totals=[max(len(results.cases), 1) for results in comparison.runs],
            pass_verdict=Verdict.PASS,
            **_common(),
        )
    )


def _common() -> dict[str, Any]:
    return {"looks": LOOKS, "ordered": [LOOKS[verdict] for verdict in ORDER], "generator_version": _version()}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_visible,
    )


def _visible(value: Any) -> Any:
    # Markup is HTML the templates made (macros); everything else is run data, shown without control characters.
    return visible(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _version() -> str:
    try:
        return version("pullthrough")
    except PackageNotFoundError:
        return "unknown"
