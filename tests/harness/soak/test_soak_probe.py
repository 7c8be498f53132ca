"""A process's memory and descriptors, from /proc, its children included."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from harness.soak import probe


def test_a_process_and_its_children_are_read() -> None:
    alone = probe.read(os.getpid())
    assert alone is not None and alone.rss > 0 and alone.peak >= alone.rss and alone.fds > 0 and alone.cpu > 0
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert child.pid in probe.descendants(os.getpid())
        both = probe.read(os.getpid())
        assert both is not None and both.processes >= 2 and both.rss > alone.rss
    finally:
        child.communicate(b"")
    assert probe.read(child.pid) is None  # gone


def test_what_was_left_open_is_said_by_what_it_is() -> None:
    """A listening socket and a connection to it, opened after the first reading, are named with their ports."""
    before = probe.read(os.getpid())
    assert before is not None
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()) as client:
        port, local = server.getsockname()[1], client.getsockname()[1]
        after = probe.read(os.getpid())
        assert after is not None
        leftover = after.leftover(before)
    assert f"tcp :{port} LISTEN" in leftover
    assert f"tcp :{local}->:{port} ESTABLISHED" in leftover
    assert before.leftover(before) == []
