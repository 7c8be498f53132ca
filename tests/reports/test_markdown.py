from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt
from reports_factory import HOSTILE, SECRETS, few_results, make_results, suite_results, with_labels

from reports.looks import LOOKS, ORDER
from reports.markdown import LIMIT, escape, render_comparison_markdown, render_markdown
from reports.model import Verdict
from reports.outline import outline


class _Tables(HTMLParser):
    """The tables of rendered Markdown, as rows of cell texts; and any element that is not table/text markup."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _render(markdown: str) -> _Tables:
    # GitHub-flavoured: tables on, raw HTML passed through (as GitHub does for <code>).
    return _Tables(MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown))


def test_family_counts_parse_back() -> None:
    results = suite_results()
    tables = _render(render_markdown(results)).tables
    header, *rows = tables[0]
    assert header[1:] == [f"{LOOKS[verdict].emoji} {verdict.value}" for verdict in ORDER]
    families = outline(results.cases)
    assert [row[0] for row in rows] == [family.family for family in families]
    for row, family in zip(rows, families, strict=True):
        assert [int(n) for n in row[1:]] == [family.counts[v] for v in ORDER]


def test_problems_are_listed_up_to_the_limit() -> None:
    results = suite_results()
    problems = [case for case in results.cases if case.verdict in (Verdict.FAIL, Verdict.ERROR, Verdict.DEVIATION)]
    markdown = render_markdown(results, limit=5)
    listed = _render(markdown).tables[1][1:]
    assert len(listed) == 5
    assert f"… and {len(problems) - 5} more" in markdown
    full = _render(render_markdown(results, limit=1000)).tables[1][1:]
    assert sorted(row[1] for row in full) == sorted(case.id for case in problems)
    observed = {row[1]: row[2] for row in full}
    assert all(observed[case.id] == case.label for case in problems)


def test_a_run_of_failures_still_fits_a_pull_request_comment() -> None:
    failing = make_results(fail_rate=0.95)
    markdown = render_markdown(failing)
    assert len(_render(markdown).tables[1]) == LIMIT + 1
    assert len(markdown) < 65536


def test_hostile_strings_stay_text_and_credentials_stay_out() -> None:
    markdown = render_markdown(few_results(), limit=1000)
    rendered = _render(markdown)
    assert rendered.tags <= {"h3", "h4", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code"}
    assert any(HOSTILE in cell for table in rendered.tables for row in table for cell in row)
    assert [secret for secret in SECRETS if secret in markdown] == []


def test_escape_survives_markdown() -> None:
    text = "a|b *c* _d_ `e` <f> [g](h) \\ & ~~i~~"
    html = MarkdownIt("commonmark").render(escape(text))
    assert _Tables(html).tags == {"p"}
    assert "a|b *c* _d_ `e` &lt;f&gt; [g](h) \\ &amp; ~~i~~" in html


def test_comparison_lists_the_cases_that_differ() -> None:
    old = make_results(seed=3, size=30, hostile=False)
    new = with_labels(old, {old.cases[2].id: "not-found(404 NAME_UNKNOWN)", old.cases[7].id: "hang"})
    tables = _render(render_comparison_markdown([old, new])).tables
    assert len(tables[0]) == 3  # header and one row per run
    differing = tables[1][1:]
    assert [row[0] for row in differing] == [old.cases[2].id, old.cases[7].id]
    assert differing[0][2].endswith("not-found(404 NAME_UNKNOWN)")
