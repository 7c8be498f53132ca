"""Report generation time and size: one run of every scenario, and a comparison of three runs.

    python -m bench.reports_size                         # makes three real runs first (pullthrough run)
    python -m bench.reports_size a.json b.json c.json    # real results files (the first is the single run)
    python -m bench.reports_size --allure node_modules/.bin/allure   # also Allure 3's single file, as a ratio

Targets: each report written in under 2 s, HTML under 5 MB. Times are the best of --repeat runs;
"CLI" rows are the whole `pullthrough report` process (interpreter start, imports, read, validate, write).
The runs it makes: `--target distribution` (the single run: the most transcripts), the reference proxy,
and the reference with the delete-on-404 defect (`--quick`: one reference run, three times).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench._report import Ratio, Section, Timer, table
from bench._servers import pullthrough
from reports.allure_results import write_allure
from reports.html import render_comparison
from reports.markdown import render_comparison_markdown
from reports.model import Results
from reports.validate import load
from reports.writers import write_all

_TIME_TARGET = 2.0
_SIZE_TARGET = 5 * 1024 * 1024


@dataclass(frozen=True)
class Row:
    what: str
    seconds: float | None
    size: int


def run(quick: bool = False, allure: str | None = None, results: Sequence[str] = (), repeat: int = 5) -> Section:
    command = "python -m bench.reports_size" + (" --quick" if quick else "") + (f" --allure {allure}" if allure else "")
    section = Section("reports", "Reports", command + "".join(f" {path}" for path in results))
    rows: list[Row] = []
    with Timer() as timer, tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as temp:
        work = Path(temp)
        runs, source = _runs(list(results), work, quick)
        files = []
        for n, results_ in enumerate(runs):
            files.append(work / f"run{n}.json")
            results_.write(files[-1])

        seconds = _best(repeat, lambda: write_all(runs[0], work / "single"))
        paths = write_all(runs[0], work / "single")
        rows.append(
            Row("one run: `write_all` (the 4 files `pullthrough run` writes, in process)", seconds, _total(paths))
        )
        rows += [Row(f"&nbsp;&nbsp;{path.name}", None, path.stat().st_size) for path in paths.values()]
        single = _cli("one run: `pullthrough report R.json -o report.html`", [str(files[0]), "-o", "r.html"], work)
        rows.append(single)
        comparison = render_comparison(runs)
        rows.append(
            Row(
                "three runs: comparison HTML (in process)",
                _best(repeat, lambda: render_comparison(runs)),
                len(comparison.encode()),
            )
        )
        markdown = render_comparison_markdown(runs)
        rows.append(
            Row(
                "three runs: comparison Markdown (in process)",
                _best(repeat, lambda: render_comparison_markdown(runs)),
                len(markdown.encode()),
            )
        )
        rows.append(
            _cli("three runs: `pullthrough report a b c -o matrix.html`", [*map(str, files[:3]), "-o", "m.html"], work)
        )
        peer = _allure(allure, runs[0], work, repeat) if allure else None
    section.load_before, section.load_after = timer.before, timer.after
    _describe(section, source, runs, rows, single, peer)
    return section


def _total(paths: dict[str, Path]) -> int:
    return sum(path.stat().st_size for path in paths.values())


# The runs this benchmark makes: (what, `pullthrough run` options).
RUNS: tuple[tuple[str, list[str]], ...] = (
    ("distribution", ["--target", "distribution"]),
    ("reference", []),
    ("reference, delete-on-404", ["--defect", "delete-on-404"]),
)


def _runs(paths: list[str], work: Path, quick: bool) -> tuple[list[Results], str]:
    if not paths:
        made = []
        for n, (_, options) in enumerate(RUNS[1:2] if quick else RUNS):
            directory = work / f"made{n}"
            command = [*pullthrough(), "run", *options, "--report-dir", str(directory)]
            subprocess.run(command, check=False, capture_output=True, timeout=900)  # exit 1: a rule failed, as meant
            made.append(str(directory / "results.json"))
        paths = made
        source = "runs made by `pullthrough run` " + ", ".join(what for what, _ in (RUNS[1:2] if quick else RUNS))
    else:
        source = "results files " + ", ".join(paths)
    runs = [load(path) for path in paths]
    while len(runs) < 3:
        runs.append(runs[-1])
    return runs, source


def _best(repeat: int, job: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - started)
    return best


def _cli(what: str, argv: list[str], work: Path) -> Row:
    command = [*pullthrough(), "report", *argv]
    seconds = _best(3, lambda: subprocess.run(command, check=True, cwd=work, timeout=120))
    return Row(what, seconds, (work / argv[-1]).stat().st_size)


def _allure(binary: str, run: Results, work: Path, repeat: int) -> Row:
    results = work / "allure-results"
    write_allure(run, results)
    out = work / "allure-report"

    def generate() -> None:
        shutil.rmtree(out, ignore_errors=True)
        command = [binary, "awesome", str(results), "--single-file", "-o", str(out)]
        subprocess.run(command, check=True, timeout=300, capture_output=True)

    return Row(
        "one run: `allure awesome --single-file` (Allure 3, peer)",
        _best(min(repeat, 3), generate),
        (out / "index.html").stat().st_size,
    )


def _describe(
    section: Section, source: str, runs: list[Results], rows: list[Row], single: Row, peer: Row | None
) -> None:
    entries = sum(len(c.transcripts.client) + len(c.transcripts.upstream) for c in runs[0].cases)
    table_rows = []
    for row in [*rows, *([peer] if peer else [])]:
        seconds = "" if row.seconds is None else f"{row.seconds:.3f}" + (" ✗" if row.seconds > _TIME_TARGET else "")
        big = " ✗" if row.what.endswith(("HTML (in process)", "html`")) and row.size > _SIZE_TARGET else ""
        table_rows.append([row.what, seconds, f"{row.size / 1024:,.0f} KiB{big}"])
    lines = [
        f"{source}; the single run: {len(runs[0].cases)} cases, {entries} transcript entries. Targets: under "
        "2 s each, HTML under 5 MB (✗ marks a miss). Times: the best of 5 (in process) or 3 (commands).",
        "",
        table(["what", "seconds", "size"], table_rows),
    ]
    if peer and peer.seconds and single.seconds:
        section.ratios = [
            Ratio("report of one run, seconds (peer's / ours)", 1 / single.seconds, 1 / peer.seconds, "Allure 3"),
            Ratio("report of one run, HTML size (peer's / ours)", 1 / single.size, 1 / peer.size, "Allure 3"),
        ]
        lines += [
            "",
            f"Ours / Allure 3 for the same run: time {single.seconds / peer.seconds:.2f}x, "
            f"HTML size {single.size / peer.size:.2f}x.",
        ]
    section.markdown = "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="*", help="results.json files (default: make three runs)")
    parser.add_argument("--quick", action="store_true", help="make one reference run, not three runs")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--allure", help="the npm allure 3 binary, to render the same run as a single file")
    args = parser.parse_args()
    print(run(args.quick, args.allure, args.results, args.repeat).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
