"""`pullthrough report` and `pullthrough diff`: reports from results files, and what changed between two."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.commands import UsageError
from reports.formats import COMPARISON_FORMATS, FORMATS, SUFFIXES

if TYPE_CHECKING:
    from reports.model import Results


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="render results.json as HTML, Markdown, JUnit, JSON or Allure results; several side by side",
        description="Render one results file, or compare several (targets or versions) side by side, rule by rule. "
        "Without -o the report goes to stdout (Allure results to ./allure-results).",
    )
    report.add_argument("results", nargs="+", metavar="RESULTS.json", help="results.json of a run (several: compare)")
    report.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the -o suffix (.html .md .xml .json), else html; several runs: html or md",
    )
    report.add_argument("-o", "--output", metavar="OUT", help="file to write (a directory for allure)")
    report.set_defaults(handler=_report)

    diff = commands.add_parser(
        "diff",
        help="the cases whose observation changed between two runs",
        description="List the cases whose observation changed between two runs (and cases added or removed). "
        "Exit 1 when an observation changed, 0 when none did, 2 when a file cannot be read.",
    )
    diff.add_argument("old", metavar="OLD.json")
    diff.add_argument("new", metavar="NEW.json")
    diff.set_defaults(handler=_diff)


def _report(args: argparse.Namespace) -> int:
    from reports.allure_results import write_allure
    from reports.writers import render, render_many, write_text

    fmt = args.format or SUFFIXES.get(Path(args.output).suffix.lower() if args.output else "", "html")
    if len(args.results) > 1 and fmt not in COMPARISON_FORMATS:
        raise UsageError(f"--format {fmt} takes one results file; several are compared as html or md")
    runs = _load(args.results)
    output = Path(args.output or "allure-results") if fmt == "allure" or args.output not in (None, "-") else None
    text = None if fmt == "allure" else render_many(runs, fmt) if len(runs) > 1 else render(runs[0], fmt)
    try:
        if text is None:
            write_allure(runs[0], output or "allure-results")
        elif output is None:
            sys.stdout.write(text)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            write_text(output, text)
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror or error}") from None
    return 0


def _diff(args: argparse.Namespace) -> int:
    from rich.console import Console

    from reports.console import changes_table
    from reports.diff import compare

    old, new = _load([args.old, args.new])
    changes = compare(old, new)
    console = Console()
    console.print(changes_table(changes))
    added = sum(1 for change in changes if change.kind == "added")
    removed = sum(1 for change in changes if change.kind == "removed")
    if added or removed:
        console.print(f"{added} case(s) added and {removed} removed (a different selection, not a behaviour change)")
    return 1 if any(change.changed for change in changes) else 0


def _load(paths: list[str]) -> list[Results]:
    from reports.validate import InvalidResults, load

    try:
        return [load(path) for path in paths]
    except InvalidResults as error:
        raise UsageError(str(error)) from None
