"""Every report format from `Results`, by name, and the set a run writes into its report directory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from reports import redact
from reports.formats import FILE_NAMES
from reports.html import render_comparison, render_report
from reports.junit import render_junit
from reports.markdown import render_comparison_markdown, render_markdown
from reports.model import Results


def render_json(results: Results, *, redacted: bool = False) -> str:
    return (results if redacted else redact.results(results)).to_json() + "\n"


class _Renderer(Protocol):
    def __call__(self, results: Results, *, redacted: bool = False) -> str: ...


_RENDERERS: dict[str, _Renderer] = {
    "html": render_report,
    "md": render_markdown,
    "junit": render_junit,
    "json": render_json,
}
_COMPARERS: dict[str, Callable[[Sequence[Results]], str]] = {
    "html": render_comparison,
    "md": render_comparison_markdown,
}


def render(results: Results, fmt: str, *, redacted: bool = False) -> str:
    """One run in a text format: html, md, junit or json. `redacted`: the caller ran `redact.results` already."""
    return _RENDERERS[fmt](results, redacted=redacted)


def render_many(runs: Sequence[Results], fmt: str) -> str:
    """Several runs side by side: html or md."""
    return _COMPARERS[fmt](runs)


def write_all(results: Results, report_dir: str | Path) -> dict[str, Path]:
    """results.json, report.html, summary.md and junit.xml into `report_dir` (created); their paths by format."""
    directory = Path(report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    clean = redact.results(results)  # once for all four
    paths = {}
    for fmt, name in FILE_NAMES.items():
        path = directory / name
        write_text(path, render(clean, fmt, redacted=True))
        paths[fmt] = path
    return paths


def write_text(path: Path, text: str) -> None:
    """Written beside and renamed into place, so a reader never sees half a report."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
