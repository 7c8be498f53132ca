"""The HTML reports in a real browser: Debian's Chromium, headless, from file://, with no network."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_peer
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright
from reports_factory import few_results, make_results, suite_results

from reports.comparison import compare_runs
from reports.html import render_comparison, render_report
from reports.model import Verdict

_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = need_peer("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _Offline:
    """A page that may load exactly one file:// document; it records everything else it tries."""

    def __init__(self, browser: Browser, document: Path) -> None:
        self.document = document.as_uri()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.blocked: list[str] = []
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.context.route(re.compile(r"^(?!file:)"), self._block)
        self.page: Page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.goto(self.document, wait_until="load")

    def _block(self, route: Route) -> None:
        self.blocked.append(route.request.url)
        route.abort()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def check_offline(self) -> None:
        assert self.blocked == []
        assert self.requests == [self.document]
        assert self.problems == []

    def close(self) -> None:
        self.context.close()


def test_report_opens_offline_and_shows_the_matrix_and_a_failure(browser: Browser, tmp_path: Path) -> None:
    document = tmp_path / "report.html"
    results = suite_results()
    document.write_text(render_report(results), encoding="utf-8")
    view = _Offline(browser, document)
    try:
        page = view.page
        assert page.locator("table.matrix").is_visible()
        tiles = page.locator("a.tile")
        assert tiles.count() == len(results.cases)
        assert page.locator("#outcome").inner_text().strip().startswith("✗ FAIL")

        failing = page.locator("details.case.v-fail").first
        assert failing.locator(".body").is_visible()  # failures are open from the start
        assert failing.locator("pre.curl").inner_text().startswith("curl -sS")
        assert failing.locator("dl.facts").inner_text().count("expected") == 1

        # A failing square in the matrix leads to its case.
        target = page.locator("a.tile.v-fail").first
        anchor = target.get_attribute("href")
        assert anchor is not None
        target.click()
        assert page.evaluate("location.hash") == anchor
        case = page.locator(f"details[id='{anchor[1:]}']")
        box, height = case.bounding_box(), page.viewport_size["height"]  # type: ignore[index]
        assert box is not None and 0 <= box["y"] < height

        shot = tmp_path / "report.png"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000

        # The filter hides passing cases; printing shows every case's details.
        passing = page.locator("details.case.v-pass").first
        assert passing.is_visible() and not passing.locator(".body").is_visible()
        page.locator("#only-problems").check()
        assert passing.is_hidden() and failing.is_visible()
        page.locator("#only-problems").uncheck()
        page.emulate_media(media="print")
        assert passing.locator(".body").is_visible()
        assert not page.locator(".filters").first.is_visible()
        view.check_offline()
    finally:
        view.close()


def test_hostile_strings_stay_text_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    document = tmp_path / "hostile.html"
    document.write_text(render_report(few_results()), encoding="utf-8")
    view = _Offline(browser, document)
    try:
        hostile = view.page.locator("details.case.v-fail").filter(has_text="alert(").first
        assert '<script>alert("x")</script>' in hostile.locator("summary").inner_text()
        assert view.page.evaluate("document.scripts.length") == 1
        view.check_offline()
    finally:
        view.close()


def test_comparison_opens_offline_and_filters_to_differences(browser: Browser, tmp_path: Path) -> None:
    runs = [make_results(seed=seed, target=target) for seed, target in ((5, "reference"), (6, "distribution"))]
    document = tmp_path / "matrix.html"
    document.write_text(render_comparison(runs), encoding="utf-8")
    view = _Offline(browser, document)
    try:
        page = view.page
        assert page.locator("table.compare").is_visible()
        headers = page.locator("table.compare thead th").all_inner_texts()
        assert headers[1:] == [compare_runs(runs).name(i) for i in range(len(runs))]
        rows = page.locator("table.compare tr.case")
        assert rows.count() == len(runs[0].cases)
        same = page.locator("table.compare tr.case:not(.differs)").first
        assert same.is_visible()
        page.locator("#only-differences").check()
        assert same.is_hidden()
        assert page.locator("table.compare tr.case.differs").first.is_visible()
        fails = page.locator("table.compare td.cell.v-fail").count()
        assert fails >= sum(run.counts()[Verdict.FAIL] for run in runs)
        shot = tmp_path / "matrix.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
        view.check_offline()
    finally:
        view.close()


@pytest.mark.parametrize(
    ("head", "caught"),
    [("", "blocked"), ("<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">", "problems")],
)
def test_the_offline_check_catches_a_fetch(browser: Browser, tmp_path: Path, head: str, caught: str) -> None:
    """The check above can fail: a page that fetches is caught, by the route or by the policy's console error."""
    document = tmp_path / "fetches.html"
    document.write_text(
        f"<!doctype html><html><head>{head}</head><body><img src='http://127.0.0.1:9/x.png'></body></html>"
    )
    view = _Offline(browser, document)
    try:
        assert getattr(view, caught)
        with pytest.raises(AssertionError):
            view.check_offline()
    finally:
        view.close()
