"""A process's memory and descriptors, from /proc, its children included."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.soak import probe


def test_a_process_and_its_children_are_read() -> None:
    alone = probe.read(os.getpid())
    assert alone is not None and alone.rss > 0 and alone.peak >= alone.rss and alone.fds > 0
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert child.pid in probe.descendants(os.getpid())
        both = probe.read(os.getpid())
        assert both is not None and both.processes >= 2 and both.rss > alone.rss
    finally:
        child.communicate(b"")
    assert probe.read(child.pid) is None  # gone
