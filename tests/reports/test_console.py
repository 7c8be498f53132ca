from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reports_factory import few_results, suite_results, with_labels
from rich.console import Console, RenderableType

from reports.console import changes_table, summary_table, written
from reports.diff import compare
from reports.looks import ORDER
from reports.model import Verdict
from reports.outline import outline


def _text(renderable: RenderableType, width: int = 200) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_summary_has_a_row_per_family_and_the_totals() -> None:
    results = suite_results()
    text = _text(summary_table(results))
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.startswith("│")}
    for family in outline(results.cases):
        numbers = [int(cell) for cell in rows[family.family].split("│")[2:-1]]
        assert numbers == [family.counts[v] for v in ORDER] + [len(family.cases)]
    totals = [int(cell) for cell in rows["all"].split("│")[2:-1]]
    assert totals == [results.counts()[v] for v in ORDER] + [len(results.cases)]
    assert text.rstrip().splitlines()[-1].startswith("✗ FAIL")


def test_summary_lists_the_failing_cases_verbatim_brackets_and_all() -> None:
    results = suite_results()
    text = _text(summary_table(results, limit=1000))
    failing = [case for case in results.cases if case.verdict is Verdict.FAIL]
    assert failing and all(case.id in text for case in failing)  # `[...]` is not eaten as rich markup
    passing = next(case for case in results.cases if case.verdict is Verdict.PASS)
    assert passing.id not in text
    short = _text(summary_table(results, limit=3))
    assert "more in the reports" in short


def test_a_clean_run_says_so() -> None:
    clean = few_results()
    clean = replace(clean, cases=[replace(c, verdict=Verdict.PASS) for c in clean.cases])
    text = _text(summary_table(clean))
    assert "needs attention" not in text
    assert text.rstrip().splitlines()[-1] == f"✓ PASS: every rule holds ({len(clean.cases)} cases)"


def test_written_lists_each_path() -> None:
    paths = {"html": Path("out/report.html"), "junit": Path("out/[x]/junit.xml")}
    text = _text(written(paths))
    assert "out/report.html" in text and "out/[x]/junit.xml" in text
    assert "xml" in _text(written([Path("a/junit.xml")]))


def test_changes_table() -> None:
    old = few_results()
    case = old.cases[4]
    new = with_labels(replace(old, cases=old.cases[:-1]), {case.id: "hang"})
    text = _text(changes_table(compare(old, new)))
    assert "1 observation(s) changed" in text
    assert case.id in text and "hang" in text
    assert old.cases[-1].id in text and "not in the new run" in text
    assert _text(changes_table([])).strip() == "no observation changed"
