"""ServerThread: a server's coroutine in a thread and loop of its own; start returns once it serves."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from serving import ServerThread, new_loop


def test_start_returns_once_ready_and_join_waits_for_the_end() -> None:
    events: list[str] = []
    release = threading.Event()

    async def serve(on_ready: Callable[[], None]) -> None:
        events.append(f"serving in {threading.current_thread().name}")
        on_ready()
        await asyncio.get_running_loop().run_in_executor(None, release.wait)
        events.append("stopped")

    runner = ServerThread("test-server")
    runner.start(serve)
    assert events == ["serving in test-server"]
    release.set()
    runner.join()
    assert events[-1] == "stopped"


def test_an_error_before_ready_is_raised_by_start() -> None:
    async def serve(on_ready: Callable[[], None]) -> None:
        raise OSError(98, "Address already in use (127.0.0.1:5000)")

    with pytest.raises(OSError, match="127.0.0.1:5000"):
        ServerThread("failing").start(serve)


def test_the_loop_is_uvloop_when_installed() -> None:
    loop = new_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
