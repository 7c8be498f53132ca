"""The benchmarks' own tools: /proc parsing, Markdown tables, the blocks of docs/benchmarks.md, the
profiles' kinds of work, results.json read back into curves; and one benchmark's measurement end to end,
small."""

from __future__ import annotations

import os
from pathlib import Path

from bench import _doc
from bench.__main__ import _curve
from bench._proc import _stat_cpu, cpu, run_queue_wait, thread_cpu
from bench._report import Ratio, Section, table, verdict
from bench._servers import fake_upstream, layer_digest
from bench.blob_reader import READERS, measure
from bench.profile_cold import kind, split_samples
from bench.profile_manifest import kind as manifest_kind


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


def test_a_processs_run_queue_wait_is_read() -> None:
    assert run_queue_wait(os.getpid()) >= 0.0


def test_the_manifest_profile_sorts_samples_by_line() -> None:
    assert manifest_kind("t", ["Runner.run (asyncio/runners.py:118)"], "") == "event loop"
    assert manifest_kind("t", ["CorkedTransport._release (serving/_corked.py:112)"], "  self.transport.write(x)") == (
        "socket write"
    )
    assert manifest_kind("t", ["HttpToolsProtocol.on_url (uvicorn/protocols/http/httptools_impl.py:239)"], "") == (
        "HTTP parsing"
    )
    assert manifest_kind("t", ["endpoint (oci_wire/paths.py:36)"], "") == "validation"
    assert manifest_kind("t", ["BoundedMemo.get (proxy_under_test/_memo.py:32)"], "") == "manifest lookup"
    assert manifest_kind("t", ["Headers.__init__ (starlette/datastructures.py:538)"], "") == "Starlette Request"
    assert manifest_kind("t", ["RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:421)"], "") == (
        "ASGI task and cycle"
    )


def test_each_threads_cpu_is_split_in_the_shares_of_its_samples(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "thread (0x10): MainThread;a (x.py:1);b (x.py:2) 3\n"
        "thread (0x10): MainThread;a (x.py:1);c (x.py:3) 1\n"
        "thread (0x20): worker;d (x.py:4) 5\n"
    )

    def classify(thread: str, frames: list[str], line: str) -> str:
        return frames[-1].split()[0]

    found = split_samples(raw, tmp_path, {0x10: 2.0, 0x20: 1.0, 0x30: 0.5}, classify, ("b", "c", "d", "rest"))
    # thread 0x30 was never sampled: its CPU goes under the last kind
    assert found == {"b": 1.5, "c": 0.5, "d": 1.0, "rest": 0.5}


def test_the_blob_reader_benchmark_reads_a_blob_whole_with_each_reader(tmp_path: Path) -> None:
    with fake_upstream(tmp_path, [("bench/blob", 4 << 20)]) as upstream:
        digest = layer_digest(upstream.url, "bench/blob")
        rounds: list[int] = []
        readings = measure(upstream.url, "bench/blob", digest, 2, lambda: rounds.append(1))
    assert sorted(r.reader for r in readings) == sorted(READERS * 2) and len(rounds) == 4
    assert all(r.cpu_per_gib > 0 and r.rate > 0 for r in readings)
