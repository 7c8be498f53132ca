"""Every benchmark, side by side with its peers, in one run; the tables go into docs/benchmarks.md and the
pictures into docs/bench/.

    python -m bench                 # everything (30 to 45 minutes on a shared 2-core machine)
    python -m bench --quick         # smaller sizes and fewer rounds
    python -m bench --only proxy-blob proxy-manifest
    python -m bench --allure /tmp/allure3/node_modules/.bin/allure    # the reports' peer too

Each benchmark fills its own block of docs/benchmarks.md (`<!-- bench:KEY -->`), with the exact command,
the machine, the versions and the load before and after; the text around the blocks is written by hand.
docs/bench/results.json keeps every benchmark's ratios and curves, so that a partial run (--only) redraws
the summary and the pictures with the others' last figures. Wall-clock figures taken while the machine is
busy mean little: look at the load printed before each benchmark, and at the CPU-seconds columns.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bench import _doc, _plot
from bench._machine import describe
from bench._proc import load
from bench._report import Curve, Ratio, Section, table, verdict
from bench._servers import require

RESULTS = _plot.FIGURES / "results.json"
Runner = Callable[[bool, argparse.Namespace], Section]


def _upstream_blob(quick: bool, args: argparse.Namespace) -> Section:
    from bench import upstream_blob

    return upstream_blob.run(quick)


def _proxy_blob(quick: bool, args: argparse.Namespace) -> Section:
    from bench import proxy_blob

    return proxy_blob.run(quick)


def _proxy_manifest(quick: bool, args: argparse.Namespace) -> Section:
    from bench import proxy_manifest

    return proxy_manifest.run(quick)


def _proxy_coalesce(quick: bool, args: argparse.Namespace) -> Section:
    from bench import proxy_coalesce

    return proxy_coalesce.run(quick)


def _cold_profile(quick: bool, args: argparse.Namespace) -> Section:
    from bench import profile_cold

    return profile_cold.run(quick)


def _manifest_profile(quick: bool, args: argparse.Namespace) -> Section:
    from bench import profile_manifest

    return profile_manifest.run(quick)


def _blob_reader(quick: bool, args: argparse.Namespace) -> Section:
    from bench import blob_reader

    return blob_reader.run(quick)


def _scaling(quick: bool, args: argparse.Namespace) -> Section:
    from bench import scaling

    return scaling.run(quick)


def _reports(quick: bool, args: argparse.Namespace) -> Section:
    from bench import reports_size

    return reports_size.run(quick, args.allure)


def _run_wall(quick: bool, args: argparse.Namespace) -> Section:
    from bench import run_wall

    return run_wall.run(quick)


# key: (what it needs installed, how to run it)
BENCHMARKS: dict[str, tuple[tuple[str, ...], Runner]] = {
    "upstream-blob": (("curl", "docker-registry"), _upstream_blob),
    "proxy-blob": (("curl", "docker-registry"), _proxy_blob),
    "proxy-manifest": (("wrk", "docker-registry", "nginx"), _proxy_manifest),
    "cold-profile": (("py-spy",), _cold_profile),
    "manifest-profile": (("wrk", "py-spy"), _manifest_profile),
    "proxy-coalesce": (("docker-registry",), _proxy_coalesce),
    "blob-reader": ((), _blob_reader),
    "scaling": (("wrk", "docker-registry"), _scaling),
    "reports": ((), _reports),
    "run-wall": (("docker-registry", "nginx"), _run_wall),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="KEY", help=", ".join(BENCHMARKS))
    parser.add_argument("--allure", help="the npm allure 3 binary: the reports benchmark measures it too")
    parser.add_argument("--no-write", action="store_true", help="print the tables; leave docs/ alone")
    args = parser.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    missing = require(*sorted({tool for key in chosen for tool in BENCHMARKS[key][0]}))
    if missing:
        print(missing, file=sys.stderr)
        return 2
    machine = describe()
    print(f"# {machine}", flush=True)
    command = (
        "python -m bench" + (" --quick" if args.quick else "") + (f" --only {' '.join(args.only)}" if args.only else "")
    )
    started, load_before = time.strftime("%Y-%m-%d %H:%M"), load()
    sections = []
    for key in chosen:
        print(f"## {key}: 1-min load {load():.2f}", flush=True)
        section = BENCHMARKS[key][1](args.quick, args)
        sections.append(section)
        print(section.markdown + "\n", flush=True)
    if args.no_write:
        return 0
    stored = _merge(sections, started)
    summary = _summary(stored, command, load_before, load())
    print(summary.markdown)
    appended = _doc.write([summary, *sections], f"Measured {started} on {machine}")
    for key in appended:
        print(f"docs/benchmarks.md had no block {key}: appended at the end", file=sys.stderr)
    if _plot.available():
        ratios = [Ratio(**ratio) for entry in stored.values() for ratio in entry["ratios"]]
        curves = [_curve(curve) for entry in stored.values() for curve in entry["curves"]]
        for path in _plot.draw(ratios, curves):
            print(f"drew {path.relative_to(_doc.DOC.parents[1])}")
    else:
        print("matplotlib is missing (pip install -e '.[bench]'): the pictures were not redrawn", file=sys.stderr)
    return 0


def _curve(fields: dict[str, Any]) -> Curve:
    """A curve as JSON keeps it (points as lists) back as a Curve."""
    series = {name: [(float(x), float(y)) for x, y in points] for name, points in fields["series"].items()}
    return Curve(**{**fields, "series": series})


def _merge(sections: list[Section], started: str) -> dict[str, dict[str, Any]]:
    """docs/bench/results.json with these sections' ratios and curves in place of their last ones."""
    stored: dict[str, dict[str, Any]] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for section in sections:
        stored[section.key] = {
            "title": section.title,
            "command": section.command,
            "measured": started,
            "load": [round(section.load_before, 2), round(section.load_after, 2)],
            "ratios": [asdict(ratio) for ratio in section.ratios],
            "curves": [asdict(curve) for curve in section.curves],
        }
    ordered = {key: stored[key] for key in BENCHMARKS if key in stored}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(ordered, indent=1) + "\n")
    return ordered


def _summary(stored: dict[str, dict[str, Any]], command: str, before: float, after: float) -> Section:
    rows = []
    for entry in stored.values():
        for fields in entry["ratios"]:
            ratio = Ratio(**fields)
            rows.append([ratio.label, ratio.peer, f"{ratio.value:.2f}", verdict(ratio), str(entry["measured"])])
    section = Section("summary", "Summary", command, load_before=before, load_after=after)
    section.markdown = "\n".join(
        [
            table(["measure", "peer", "ours / peer's", "target", "measured"], rows, "llrll"),
            "",
            "![every ratio, ours against the peer's](bench/ratios.svg)",
        ]
    )
    return section


if __name__ == "__main__":
    raise SystemExit(main())
