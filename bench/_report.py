"""What a benchmark hands back: its Markdown for docs/benchmarks.md, and the ratios and curves to plot."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench._proc import load


@dataclass(frozen=True)
class Ratio:
    """One measure side by side: ours / the peer's, where more is better (invert times before)."""

    label: str
    ours: float
    theirs: float
    peer: str
    target: float | None = None  # the ratio to reach, if the design names one

    @property
    def value(self) -> float:
        return self.ours / self.theirs

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.value >= self.target


@dataclass(frozen=True)
class Curve:
    """How one cost grows with one size: a line per series, (x, y) points."""

    key: str  # file name of its picture, e.g. "scaling-manifests"
    title: str
    x_label: str
    y_label: str
    series: dict[str, list[tuple[float, float]]]
    log_x: bool = False


@dataclass
class Section:
    key: str  # the block of docs/benchmarks.md it fills: <!-- bench:KEY --> ... <!-- /bench:KEY -->
    title: str
    command: str
    markdown: str = ""
    ratios: list[Ratio] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0


class Timer:
    """The load average around a benchmark: `with Timer() as t: ...; t.before, t.after`."""

    def __enter__(self) -> Timer:
        self.before = load()
        self.after = self.before
        return self

    def __exit__(self, *exc: object) -> None:
        self.after = load()


def table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A Markdown table; `align` has one letter per column, l or r (default: first left, the rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(ratio: Ratio) -> str:
    if ratio.target is None:
        return ""
    return f">= {ratio.target:.1f} " + ("✓" if ratio.met else "✗")


def series(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    """Per-round figures, in the order measured."""
    return " ".join(f"{value / scale:.{digits}f}" for value in values)


def gbs(rate: float) -> str:
    return f"{rate / 1e9:.2f} GB/s"


def rate_row(ratio: Ratio) -> list[object]:
    """A table row for a ratio of rates in bytes per second: label, ours, theirs, ratio, verdict."""
    return [ratio.label, gbs(ratio.ours), gbs(ratio.theirs), f"{ratio.value:.2f}", verdict(ratio)]
