"""Benchmark: wall time of whole `pullthrough run`s, as a user starts them, and how many cases each ran.

    python bench/run_wall.py [--repeat N] [--targets reference distribution nginx]

Each run is a fresh `pullthrough run --target T` subprocess (default workers: one per core, at most 4),
reports written to a temp dir; the median of N runs per target is printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._servers import machine, pullthrough


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per target (default 3)")
    parser.add_argument("--targets", nargs="+", default=["reference", "distribution", "nginx"])
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    for target in args.targets:
        walls, cases = [], 0
        for _ in range(args.repeat):
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
                    print(f"{target}: no results (exit {done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
                    return 1
                cases = len(json.loads(results.read_text())["cases"])
        rows.append((target, statistics.median(walls), min(walls), max(walls), cases))
    print(f"# pullthrough run, {args.repeat} runs per target, default workers; {machine(load_before)}")
    print("| target | median wall s | min | max | cases |")
    print("|---|---|---|---|---|")
    for target, median, low, high, cases in rows:
        print(f"| {target} | {median:.1f} | {low:.1f} | {high:.1f} | {cases} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
