from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from reports_factory import HOSTILE, SECRETS, make_results, suite_results

from reports.html import render_report
from reports.looks import LOOKS
from reports.model import CaseResult, Results, Verdict
from reports.outline import outline
from reports.transcript import reproduce


class _Page(HTMLParser):
    """Every element with its attributes, and the text inside <style> and <script>."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self._in = tag if tag in ("style", "script") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and (cls is None or cls in a.get("class", "").split())]


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(suite_results())


def test_nothing_can_reach_the_network(page: str) -> None:
    parsed = _Page(page)
    for tag, attributes in parsed.elements:
        assert "src" not in attributes, tag
        for name in ("href", "action", "formaction", "poster", "background"):
            value = attributes.get(name)
            assert value is None or value.startswith(("#", "data:")), (tag, name, value)
    assert [a.get("rel") for a in parsed.find("link")] == ["icon"]
    css = "".join(parsed.styles)
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert not re.search(r"fetch\(|XMLHttpRequest|import\(|\.src\s*=", "".join(parsed.scripts))
    policy = [a["content"] for a in parsed.find("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert policy and "default-src 'none'" in policy[0]


def test_every_case_is_there_with_its_details(page: str) -> None:
    results = suite_results()
    parsed = _Page(page)
    cases = parsed.find("details", "case")
    assert len(cases) == len(results.cases)
    assert len(parsed.find("a", "tile")) == len(results.cases)
    for case, element in zip(_in_page_order(results), cases, strict=True):
        assert f"v-{case.verdict.value}" in element["class"]
        assert ("open" in element) == (case.verdict in (Verdict.FAIL, Verdict.ERROR, Verdict.DEVIATION))
    text = html.unescape(page)
    for case in results.cases:
        assert case.id in text
        assert case.expected in text


def test_the_meter_counts_every_verdict(page: str) -> None:
    results = suite_results()
    meter = _Page(page).find("div", "meter")[0]["aria-label"]
    counts = results.counts()
    for verdict in Verdict:
        assert f"{counts[verdict]} {verdict.value}" in meter
    assert f"{LOOKS[Verdict.FAIL].symbol} {counts[Verdict.FAIL]}" in page


def test_curl_and_transcripts_for_a_failing_case(page: str) -> None:
    results = suite_results()
    failing = next(c for c in results.cases if c.verdict is Verdict.FAIL and c.transcripts.upstream and c.message)
    text = html.unescape(page)
    command = reproduce(failing)
    assert command is not None and command.startswith("curl ")
    assert escape(command) in page
    section = text[text.index(f'id="c-{failing.id.replace("[", "-").rstrip("]")}"') :]
    section = section[: section.index("</details>")]
    assert failing.message in section
    assert failing.transcripts.upstream[0].path in section
    assert failing.transcripts.client[0].method in section
    assert "Client ↔ proxy" in section and "Proxy ↔ upstream" in section


def test_hostile_strings_are_escaped(page: str) -> None:
    assert HOSTILE not in page
    assert escape(HOSTILE) in page
    assert "<b>bold</b>" not in page
    assert page.count("<script") == 1
    assert "\x1b" not in page and "\x00" not in page
    assert "\\x00\\x1b[31m" in page  # control characters are shown, escaped
    parsed = _Page(page)
    assert not [attrs for _, attrs in parsed.elements if any(name.startswith("on") for name in attrs)]


def test_no_planted_credential_survives(page: str) -> None:
    assert [secret for secret in SECRETS if secret in page] == []


def test_an_empty_run_renders() -> None:
    empty = make_results(size=0, hostile=False)
    page = render_report(empty)
    assert "no cases ran" in page


def _in_page_order(results: Results) -> list[CaseResult]:
    return [case for family in outline(results.cases) for case in family.cases]
