"""Pictures for docs/benchmarks.md (matplotlib, SVG): every ratio against its peer, and each scaling curve.

matplotlib is a bench-only dependency (`pip install -e '.[bench]'`); without it the run still writes the
tables and says that the pictures were not redrawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bench._report import Curve, Ratio

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "bench"
_MET, _MISSED, _NONE = "#1b7837", "#c2410c", "#6b7280"  # green, orange, grey: told apart by text too


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw(ratios: Sequence[Ratio], curves: Sequence[Curve], directory: Path = FIGURES) -> list[Path]:
    """Write ratios.svg and one SVG per curve into `directory`; the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "pullthrough", "svg.fonttype": "none", "font.size": 10})
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if ratios:
        written.append(_ratios(plt, ratios, directory / "ratios.svg"))
    for curve in curves:
        written.append(_curve(plt, curve, directory / f"{curve.key}.svg"))
    return written


def _ratios(plt: ModuleType, ratios: Sequence[Ratio], path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(ratios) + 1.2))
    labels = [f"{ratio.label} (vs {ratio.peer})" for ratio in ratios][::-1]
    values = [ratio.value for ratio in ratios][::-1]
    colours = [_NONE if r.met is None else _MET if r.met else _MISSED for r in ratios][::-1]
    bars = axes.barh(labels, values, color=colours)
    axes.set_xscale("log")
    axes.axvline(1.0, color="black", linewidth=1)
    for bar, ratio in zip(bars, ratios[::-1], strict=True):
        mark = "" if ratio.met is None else (" ✓" if ratio.met else f" ✗ (target {ratio.target:.1f})")
        axes.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {ratio.value:.2f}x{mark}", va="center")
    axes.set_xlabel("ours / peer's (log scale; right of the line: ours is better)")
    axes.set_xlim(min(0.1, min(values) / 2), max(10.0, max(values) * 4))
    figure.tight_layout()
    figure.savefig(path, metadata={"Date": None})
    plt.close(figure)
    return path


def _curve(plt: ModuleType, curve: Curve, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(6, 3.6))
    for name, points in curve.series.items():
        xs, ys = zip(*points, strict=True)
        axes.plot(xs, ys, marker="o", label=name)
    if curve.log_x:
        axes.set_xscale("log")
    axes.set_ylim(bottom=0)
    axes.set_title(curve.title)
    axes.set_xlabel(curve.x_label)
    axes.set_ylabel(curve.y_label)
    axes.grid(True, alpha=0.3)
    if len(curve.series) > 1:
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, metadata={"Date": None})
    plt.close(figure)
    return path
