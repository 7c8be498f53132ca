"""A listening port whose connection-level behaviour switches at run time, without restarting.

Outages act below HTTP, on the sockets: `refused` leaves the port bound but not listening (the
kernel answers SYN with RST), `reset` accepts and resets each connection at its first bytes,
`blackhole` accepts and never answers. In `none`, each connection gets uvicorn's HTTP protocol
directly, so serving costs nothing extra.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import socket
import struct
import termios
from collections.abc import Callable
from typing import Literal, cast, get_args

import uvicorn
from starlette.types import ASGIApp
from uvicorn.server import ServerState

Outage = Literal["none", "refused", "reset", "blackhole"]
OUTAGES: tuple[str, ...] = get_args(Outage)
OutageObserver = Callable[[str, bytes, tuple[str, int]], None]
_LINGER_RST = struct.pack("ii", 1, 0)
# uvicorn's warnings ("Invalid HTTP request received." for a TLS hello, say) and app errors go here:
# silent unless the application configures logging (the CLI does).
_LOGGER = logging.getLogger("fake_upstream.http")


class GatedListener:
    """`make_app` receives the listener, so the app can reset or close its own connections.

    `on_outage(mode, first_bytes, peer)` is told of each connection that sends bytes into a
    `reset` or `blackhole` outage, so that the journal can show what the outage swallowed.
    """

    def __init__(
        self,
        make_app: Callable[[GatedListener], ASGIApp],
        host: str,
        port: int,
        *,
        on_outage: OutageObserver | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.mode: Outage = "none"
        self._on_outage = on_outage
        self._config = uvicorn.Config(
            make_app(self),
            host=host,
            port=port,
            lifespan="off",
            proxy_headers=False,
            log_config=None,
            access_log=False,
            http="httptools",
        )
        self._config.load()
        self._state = ServerState()
        self._state.default_headers = [(b"server", b"pullthrough")]
        self._server: asyncio.AbstractServer | None = None
        self._idle_socket: socket.socket | None = None
        self._connections: dict[tuple[str, int], asyncio.Transport] = {}
        self._held: set[asyncio.Transport] = set()

    async def start(self) -> None:
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._server = await asyncio.get_running_loop().create_server(self._protocol, sock=sock, backlog=1024)

    async def stop(self) -> None:
        self._close_server()
        for transport in [*self._connections.values(), *self._held]:
            transport.abort()
        if self._idle_socket is not None:
            self._idle_socket.close()
            self._idle_socket = None
        # Requests still running (a slow body to a client that left) end here, not when the loop closes.
        tasks = list(self._state.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def set_mode(self, mode: Outage) -> None:
        if mode not in OUTAGES:
            raise ValueError(f"outage must be one of {', '.join(OUTAGES)}")
        previous, self.mode = self.mode, mode
        if mode == previous:
            return
        for transport in list(self._held):
            transport.abort()
        self._held.clear()
        # Live keep-alive connections would outlive the outage; drop them as a dying server would.
        for peer in list(self._connections):
            self.reset(peer) if mode == "reset" else self.close(peer)
        if mode == "refused":
            self._close_server()
            self._idle_socket = _bind(self.host, self.port, listen=False)
        elif previous == "refused":
            sock, self._idle_socket = self._idle_socket, None
            assert sock is not None
            self._server = await asyncio.get_running_loop().create_server(self._protocol, sock=sock, backlog=1024)

    def reset(self, peer: tuple[str, int]) -> None:
        transport = self._connections.get(tuple(peer))  # type: ignore[arg-type]
        if transport is not None:
            _reset(transport)

    def close(self, peer: tuple[str, int]) -> None:
        transport = self._connections.get(tuple(peer))  # type: ignore[arg-type]
        if transport is not None:
            transport.close()

    async def flush(self, peer: tuple[str, int], timeout: float = 1.0) -> None:
        """Wait, up to `timeout`, until what was written to the connection has reached the client (an RST
        would discard bytes still queued: a reset mid-body must come after the bytes before it)."""
        transport = self._connections.get(tuple(peer))  # type: ignore[arg-type]
        if transport is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (transport.get_write_buffer_size() or _queued(transport)) and not transport.is_closing():
            if loop.time() >= deadline:
                return
            await asyncio.sleep(0.002)

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _protocol(self) -> asyncio.Protocol:
        if self.mode == "reset":
            return _ResetOnData(self._observer("reset"))
        if self.mode == "blackhole":
            return _Blackhole(self._held, self._observer("blackhole"))
        http = self._config.http_protocol_class(  # type: ignore[call-arg]
            config=self._config, server_state=self._state, app_state={}
        )
        http.logger = _LOGGER  # type: ignore[attr-defined]
        return _Tracked(http, self._connections)

    def _observer(self, mode: str) -> Callable[[bytes, tuple[str, int]], None]:
        def observe(data: bytes, peer: tuple[str, int]) -> None:
            if self._on_outage is not None:
                self._on_outage(mode, data, peer)

        return observe


class _Tracked(asyncio.Protocol):
    """uvicorn's protocol, registered by peer address so a request can break its own connection."""

    def __init__(self, inner: asyncio.Protocol, registry: dict[tuple[str, int], asyncio.Transport]) -> None:
        self._inner = inner
        self._registry = registry
        self._peer: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self._peer = (peer[0], peer[1]) if peer else None
        if self._peer is not None:
            self._registry[self._peer] = transport  # type: ignore[assignment]
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._peer is not None:
            self._registry.pop(self._peer, None)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _FirstBytes(asyncio.Protocol):
    """Reports the first bytes a connection sends (the request line and headers, usually)."""

    def __init__(self, observe: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._observe: Callable[[bytes, tuple[str, int]], None] | None = observe

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._observe is not None:
            observe, self._observe = self._observe, None
            peer = self._transport.get_extra_info("peername") or ("unknown", 0)
            observe(data, (peer[0], peer[1]))


class _ResetOnData(_FirstBytes):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        _reset(self._transport)


class _Blackhole(_FirstBytes):
    def __init__(self, held: set[asyncio.Transport], observe: Callable[[bytes, tuple[str, int]], None]) -> None:
        super().__init__(observe)
        self._held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._held.add(self._transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._held.discard(self._transport)


def _queued(transport: asyncio.BaseTransport) -> int:
    """Bytes in the kernel's send queue not yet acknowledged by the peer."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return 0
    answer = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return int(struct.unpack("i", answer)[0])


def _reset(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    cast(asyncio.Transport, transport).abort()


def _bind(host: str, port: int, *, listen: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        # Say which address: a server has two ports, and the caller wants to name the taken one.
        raise OSError(error.errno, f"{error.strerror} ({host}:{port})") from None
    if listen:
        sock.listen(1024)
    sock.setblocking(False)
    return sock
