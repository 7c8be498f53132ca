"""The benchmarks' own tools: /proc parsing, Markdown tables, the blocks of docs/benchmarks.md, the cold
profile's kinds of work, and results.json read back into curves."""

from __future__ import annotations

import os
from pathlib import Path

from bench import _doc
from bench.__main__ import _curve
from bench._proc import _stat_cpu, cpu, thread_cpu
from bench._report import Ratio, Section, table, verdict
from bench.profile_cold import kind


def test_cpu_from_a_stat_line_whose_name_has_spaces_and_parentheses() -> None:
    tick = os.sysconf("SC_CLK_TCK")
    fields = ["S"] + ["0"] * 10 + [str(3 * tick), str(tick)] + ["0"] * 30
    used = _stat_cpu(f"42 (a (b) c) {' '.join(fields)}")
    assert (used.user, used.system, used.total) == (3.0, 1.0, 4.0)


def test_this_process_and_its_threads_are_read() -> None:
    mine = cpu(os.getpid())
    assert mine.total >= 0 and os.getpid() in thread_cpu(os.getpid())


def test_tables_and_verdicts() -> None:
    assert table(["a", "b"], [[1, 2]]).splitlines() == ["| a | b |", "|---|---:|", "| 1 | 2 |"]
    assert verdict(Ratio("x", 2.0, 1.0, "peer", 1.5)) == ">= 1.5 ✓"
    assert verdict(Ratio("x", 1.0, 1.0, "peer", 1.5)) == ">= 1.5 ✗"
    assert verdict(Ratio("x", 1.0, 1.0, "peer")) == ""


def test_blocks_are_replaced_in_place_and_missing_ones_appended(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# B\n\nPROSE1\n<!-- bench:a -->\nSTALE\n<!-- /bench:a -->\nPROSE2\n")
    first = Section("a", "A", "python -m bench", markdown="| new |")
    appended = _doc.write([first, Section("b", "Bee", "cmd", markdown="bee")], "machine", doc)
    text = doc.read_text()
    assert appended == ["b"]
    assert "STALE" not in text and text.index("PROSE1") < text.index("| new |") < text.index("PROSE2")
    assert text.rstrip().endswith("<!-- /bench:b -->") and "## Bee" in text
    _doc.write([first], "machine", doc)
    assert doc.read_text() == text  # the same figures: the same page


def test_the_cold_profile_sorts_samples_by_thread_and_line() -> None:
    assert kind("thread (1): proxy-hash_0", ["_WorkItem.run (concurrent/futures/thread.py:58)"], "") == "hash"
    assert kind("thread (2): proxy-write_0", ["_write_all (x.py:1)"], "        written = os.pwrite(fd, view)") == (
        "file write"
    )
    assert kind("thread (3): MainThread", ["_Receiver._hand_out (x.py:2)"], "    bytes(self._view[:n])") == "copy"
    assert kind("thread (3): MainThread", ["CorkedTransport._release (serving/_corked.py:9)"], "") == "socket send"
    assert kind("thread (3): MainThread", ["Runner.run (asyncio/runners.py:118)"], "") == (
        "socket receive and event loop"
    )
    assert kind("thread (3): MainThread", ["BlobFetch._keep_pace (x.py:3)"], "        if x:") == "Python"


def test_curves_come_back_from_json_as_points() -> None:
    curve = _curve(
        {"key": "k", "title": "t", "x_label": "x", "y_label": "y", "series": {"s": [[1, 2.5]]}, "log_x": True}
    )
    assert curve.series == {"s": [(1.0, 2.5)]} and curve.log_x
