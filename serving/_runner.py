"""Run a server's `serve(on_ready)` coroutine in a thread of its own, on an event loop of its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any

Serve = Callable[[Callable[[], None]], Coroutine[Any, Any, None]]


class ServerThread:
    """`start(serve)` returns once `serve` calls its `on_ready`, or raises what `serve` raised before that.

    Stopping is the server's business (it ends `serve`); `join()` then waits for the thread.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._thread: threading.Thread | None = None

    def start(self, serve: Serve, timeout: float = 30.0) -> None:
        ready: Future[None] = Future()

        def on_ready() -> None:
            if not ready.done():
                ready.set_result(None)

        def run() -> None:
            loop = new_loop()
            try:
                loop.run_until_complete(serve(on_ready))
            except BaseException as error:  # noqa: BLE001 - handed to the starting thread
                if not ready.done():
                    ready.set_exception(error)
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        ready.result(timeout=timeout)

    def join(self, timeout: float = 30.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is there (uvicorn[standard] brings it), asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
