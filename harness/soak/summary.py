"""A soak's figures and its invariants: the JSON summary, the short table, and what breaks the run (exit 1).

The invariants: no wrong bytes served as a success, no cleanly short 200, no corrupt cache entry afterwards
(targets whose storage the harness knows), no error that no disturbance explains, the proxy's descriptors
back to their start (targets the harness starts), its peak RSS within `--max-rss` when given, and at least
one pull made (a soak that pulled nothing proves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.soak.probe import MIB, Reading
from harness.soak.tally import Tally
from reports.model import Kind

SCHEMA = "pullthrough-soak/1"
EXAMPLES = 10


@dataclass(frozen=True)
class Resources:
    """The proxy's memory (MiB) and descriptors: before the load, at their highest, and after it."""

    before: Reading
    after: Reading
    peak_rss: int  # bytes: the highest of VmHWM and what was sampled
    peak_fds: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rss_mib": {
                "before": _mib(self.before.rss),
                "peak": _mib(self.peak_rss),
                "after": _mib(self.after.rss),
            },
            "fds": {"before": self.before.fds, "peak": self.peak_fds, "after": self.after.fds},
            "leftover": self.after.leftover(self.before)[:EXAMPLES],
            "processes": self.after.processes,
        }


@dataclass
class Summary:
    run: dict[str, Any]  # the command, target, seed, users, bounds, machine load
    stats: dict[str, Any]  # Locust's: requests, rps, latency percentiles
    tally: Tally
    unexplained: list[list[Any]]
    corrupt: list[str] | None  # None: the target's storage is not known
    resources: Resources | None  # None: the harness did not start the proxy
    schedule: list[dict[str, Any]]
    max_rss_mib: float | None = None
    broken: list[str] = field(default_factory=list)

    def judge(self) -> list[str]:
        """Each broken invariant, in one sentence; empty when every one holds."""
        broken = []
        if self.tally.pulls == 0:
            broken.append("no pull finished")
        for kind, words in ((Kind.WRONG_BYTES, "wrong bytes served as a success"), (Kind.SHORT, "cleanly short 200s")):
            if count := self.tally.count(kind):
                broken.append(f"{count} {words}")
        if self.corrupt:
            broken.append(f"{len(self.corrupt)} cache entries fail their digest")
        if self.unexplained:
            broken.append(f"{len(self.unexplained)} errors that no fault or outage explains")
        if self.resources is not None:
            before, after = self.resources.before.fds, self.resources.after.fds
            if after > before:
                leftover = ", ".join(self.resources.after.leftover(self.resources.before)[:3])
                what = f" ({leftover})" if leftover else ""
                broken.append(f"the proxy's descriptors did not come back: {before} before, {after} after{what}")
            if self.max_rss_mib is not None and self.resources.peak_rss > self.max_rss_mib * MIB:
                broken.append(f"the proxy's peak RSS {_mib(self.resources.peak_rss)} MiB is over {self.max_rss_mib:g}")
        self.broken = broken
        return broken

    def to_dict(self) -> dict[str, Any]:
        tally = self.tally.to_dict()
        errors = tally.pop("errors")
        return {
            "schema": SCHEMA,
            "run": self.run,
            "stats": self.stats,
            "clients": {**tally, "errors": len(errors)},
            "invariants": {
                "wrong_bytes": self.tally.count(Kind.WRONG_BYTES),
                "short": self.tally.count(Kind.SHORT),
                "corrupt_entries": len(self.corrupt) if self.corrupt is not None else None,
                "unexplained_errors": len(self.unexplained),
                "descriptors_back": (
                    self.resources.after.fds <= self.resources.before.fds if self.resources is not None else None
                ),
            },
            "unexplained_examples": self.unexplained[:EXAMPLES],
            "corrupt_examples": (self.corrupt or [])[:EXAMPLES],
            "resources": self.resources.to_dict() if self.resources is not None else None,
            "schedule": self.schedule,
            "broken": self.broken,
        }

    def table(self) -> RenderableType:
        run, stats, ms = self.run, self.stats, self.stats.get("ms", {})
        title = f"pullthrough soak: {run['target']}, {run['users']} clients, seed {run['seed']}"
        figures = Table(title=Text(title), title_justify="left", show_header=False, box=None)
        figures.add_column(style="bold")
        figures.add_column(overflow="fold")
        figures.add_row("pulls", f"{self.tally.pulls} ({self.tally.whole} whole), {stats.get('requests', 0)} requests")
        figures.add_row("rate", f"{stats.get('rps', 0)} requests/s over {stats.get('seconds', 0)} s")
        latency = ", ".join(f"{key} {ms[key]:g}" for key in ("p50", "p90", "p95", "p99", "max") if key in ms)
        figures.add_row("latency (ms)", latency)
        errors = {label: n for label, n in self.tally.outcomes.most_common() if not label.startswith("served")}
        figures.add_row("errors", ", ".join(f"{label} {n}" for label, n in errors.items()) or "none")
        figures.add_row("faults", f"{len(self.schedule)} cycles of {run['cycle']} s: {_cycles(self.schedule)}")
        figures.add_row("wrong bytes / short", f"{self.tally.count(Kind.WRONG_BYTES)} / {self.tally.count(Kind.SHORT)}")
        figures.add_row(
            "corrupt entries", "unknown (storage not known)" if self.corrupt is None else str(len(self.corrupt))
        )
        figures.add_row("unexplained errors", str(len(self.unexplained)))
        if self.resources is not None:
            r = self.resources.to_dict()
            rss, fds = r["rss_mib"], r["fds"]
            figures.add_row("proxy RSS (MiB)", f"{rss['before']} before, {rss['peak']} peak, {rss['after']} after")
            figures.add_row("proxy descriptors", f"{fds['before']} before, {fds['peak']} peak, {fds['after']} after")
        if cpu := run.get("cpu_seconds"):
            figures.add_row("CPU seconds", ", ".join(f"{who.replace('_', ' ')} {n:g}" for who, n in cpu.items()))
        verdict = (
            Text("✗ broken: " + "; ".join(self.broken), style="bold red")
            if self.broken
            else Text("✓ every invariant holds", style="bold green")
        )
        return Group(figures, verdict)


def _cycles(schedule: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for cycle in schedule:
        counts[cycle["name"]] = counts.get(cycle["name"], 0) + 1
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda item: -item[1]))


def _mib(value: int) -> float:
    return round(value / MIB, 1)
