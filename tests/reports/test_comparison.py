from __future__ import annotations

from dataclasses import replace

from markupsafe import escape
from reports_factory import HOSTILE, SECRETS, few_results, make_results, with_labels

from reports.comparison import compare_runs
from reports.html import render_comparison
from reports.model import Verdict


def test_rows_line_up_the_same_case_across_runs() -> None:
    old = few_results()
    changed_id = old.cases[5].id
    new = with_labels(old, {changed_id: "not-found(404 MANIFEST_UNKNOWN)"})
    comparison = compare_runs([old, new])
    assert len(comparison.rows) == len(old.cases)
    assert [row.id for row in comparison.differing] == [changed_id]
    row = comparison.differing[0]
    assert row.cells[0] is old.cases[5] and row.cells[1] is new.cases[5]


def test_a_case_missing_from_a_run_is_a_difference_and_an_empty_cell() -> None:
    old = few_results()
    new = replace(old, cases=old.cases[1:])
    comparison = compare_runs([old, new])
    missing = [row for row in comparison.rows if row.cells[1] is None]
    assert [row.id for row in missing] == [old.cases[0].id]
    assert missing[0].differs


def test_rule_rows_summarise_each_run() -> None:
    old = few_results()
    comparison = compare_runs([old, old])
    for family in comparison.families:
        for rule in family.rules:
            expected = [c.verdict for c in old.cases if c.rule == rule.rule]
            assert rule.counts(0).total() == len(expected)
            assert rule.verdict(1) == (Verdict.FAIL if Verdict.FAIL in expected else rule.verdict(0))


def test_column_names_say_what_differs() -> None:
    a = make_results(seed=1, target="harbor")
    b = replace(a, run=replace(a.run, profile="harbor-2.14-docs", target_version="v2.14.1", defects=["x"]))
    comparison = compare_runs([a, b])
    assert comparison.name(1) == "harbor v2.14.1 (harbor-2.14-docs) +x"
    assert comparison.name(0).startswith("harbor") and comparison.name(0).endswith("(documented)")


def test_comparison_html_has_a_column_per_run_escaped_and_redacted() -> None:
    runs = [make_results(seed=s, target=t, size=60) for s, t in ((1, "reference"), (2, "nginx"), (3, "harbor"))]
    page = render_comparison(runs)
    assert page.count('<td class="cell v-') + page.count('<td class="absent">') >= 3 * 60
    for run in runs:
        assert str(escape(run.run.target)) in page
    assert HOSTILE not in page and str(escape(HOSTILE)) in page
    assert [secret for secret in SECRETS if secret in page] == []
    assert "src=" not in page and 'href="http' not in page
