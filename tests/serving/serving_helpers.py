"""A Listener with a small application, served from a thread, for the serving layer's tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from serving import Limits, Listener, ServerThread


@dataclass
class Seen:
    """What the application saw: one entry per request, and the requests whose client left mid-body."""

    requests: list[tuple[str, str, int]] = field(default_factory=list)
    disconnected: list[str] = field(default_factory=list)


def echo_app(seen: Seen, *, delay: float = 0.0) -> ASGIApp:
    """Answers 200 with the size of the body it read; `?sleep` waits `delay` before reading it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["query_string"] == b"sleep":
            await asyncio.sleep(delay)
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                seen.disconnected.append(scope["path"])
                return
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        seen.requests.append((scope["method"], scope["path"], size))
        body = str(size).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    return app


class Served:
    """`with Served(app, limits) as served:` a Listener on an ephemeral loopback port until the block ends."""

    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits
        self.listener: Listener | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread = ServerThread("serving-test")

    @property
    def port(self) -> int:
        assert self.listener is not None
        return self.listener.port

    async def _serve(self, on_ready: Callable[[], None]) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self.listener = Listener(self.app, "127.0.0.1", 0, server_header="test", limits=self.limits)
        await self.listener.start()
        on_ready()
        await self._stopped.wait()
        await self.listener.close()
        await self.listener.drain(0)

    def call(self, coroutine: Callable[[], object]) -> None:
        """Run `coroutine()` on the server's loop and wait for it."""
        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(coroutine(), self.loop).result(timeout=10)  # type: ignore[arg-type]

    def __enter__(self) -> Served:
        self._thread.start(self._serve)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.loop is not None and self._stopped is not None
        self.loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join()

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


def read_all(sock: socket.socket) -> tuple[bytes, str]:
    """Everything the server sends until it closes: the bytes, and how it ended ("close", "reset", "timeout")."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        except TimeoutError:
            return data, "timeout"
        if not chunk:
            return data, "close"
        data += chunk


def get(path: str = "/", headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n{headers}\r\n".encode()
