"""Benchmark: wall time of whole `pullthrough run`s, as a user starts them, and how many cases each ran.

    python -m bench.run_wall [--quick] [--targets reference distribution nginx]

Each run is a fresh `pullthrough run --target T` subprocess (default workers: one per core, at most 4),
reports written to a temp dir; the median of N runs per target is printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench._report import Section, Timer, table
from bench._servers import pullthrough

TARGETS = ("reference", "distribution", "nginx")


def run(quick: bool = False, targets: tuple[str, ...] = TARGETS) -> Section:
    repeat = 1 if quick else 3
    section = Section("run-wall", "Harness: whole runs", "python -m bench.run_wall" + (" --quick" if quick else ""))
    rows = []
    with Timer() as timer:
        for target in targets:
            walls, cases = [], 0
            for _ in range(repeat):
                with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp:
                    started = time.monotonic()
                    done = subprocess.run(
                        [*pullthrough(), "run", "--target", target, "--report-dir", tmp],
                        capture_output=True,
                        text=True,
                        timeout=900,
                    )
                    walls.append(time.monotonic() - started)
                    results = Path(tmp) / "results.json"
                    if not results.exists():
                        raise RuntimeError(f"{target}: no results (exit {done.returncode}):\n{done.stderr[-2000:]}")
                    cases = len(json.loads(results.read_text())["cases"])
            rows.append((target, statistics.median(walls), min(walls), max(walls), cases))
    section.load_before, section.load_after = timer.before, timer.after
    cells = [
        [target, f"{median:.1f} s", f"{low:.1f} s", f"{high:.1f} s", cases, "<= 60 s " + ("✓" if median <= 60 else "✗")]
        if target == "reference"
        else [target, f"{median:.1f} s", f"{low:.1f} s", f"{high:.1f} s", cases, ""]
        for target, median, low, high, cases in rows
    ]
    section.markdown = "\n".join(
        [
            f"Whole `pullthrough run --target T` subprocesses (default workers), reports to a temp dir, {repeat} "
            "run(s) per target.",
            "",
            table(["target", "median wall", "min", "max", "cases", "target"], cells),
        ]
    )
    return section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run per target")
    parser.add_argument("--targets", nargs="+", default=list(TARGETS))
    args = parser.parse_args()
    print(run(args.quick, tuple(args.targets)).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
