"""The listening socket: uvicorn's httptools protocol, plus a registry of connections by peer.

The registry is what lets a response cut its own connection (an RST before the complete body) when a
cold blob fails to verify, and notice a client that has gone away.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, cast

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

Peer = tuple[str, int]
_LINGER_RST = struct.pack("ii", 1, 0)


class _Protocol(HttpToolsProtocol):
    def __init__(self, registry: dict[Peer, asyncio.Transport], **options: Any) -> None:
        super().__init__(**options)
        self._registry = registry
        self._peer: Peer | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.client is not None:
            self._peer = (self.client[0], self.client[1])
            self._registry[self._peer] = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self._peer is not None and self._registry.get(self._peer) is self.transport:
            del self._registry[self._peer]
        super().connection_lost(exc)


class Listener:
    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            date_header=False,
            log_config=None,
            access_log=False,
            http="httptools",
            timeout_keep_alive=30,
        )
        self._config.load()
        self._state = ServerState()
        self._state.default_headers = [(b"server", b"pullthrough-proxy")]
        self._server: asyncio.AbstractServer | None = None
        self._connections: dict[Peer, asyncio.Transport] = {}

    async def start(self) -> None:
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, sock=sock, backlog=2048)

    async def close(self) -> None:
        """Stop accepting, and cut every connection (their requests then end on their own)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._connections.values()):
            transport.abort()

    async def drain(self, grace: float) -> None:
        """Wait `grace` seconds for requests in flight to end, then cancel the rest."""
        tasks = [task for task in self._state.tasks if not task.done()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def is_closing(self, peer: Any) -> bool:
        transport = self._connections.get(_peer(peer))
        return transport is None or transport.is_closing()

    def abort(self, peer: Any) -> None:
        """Cut the connection with an RST, so the client cannot mistake what it got for a whole body."""
        transport = self._connections.get(_peer(peer))
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
        transport.abort()

    def _protocol(self) -> asyncio.Protocol:
        return _Protocol(self._connections, config=self._config, server_state=self._state, app_state={})


def _peer(peer: Any) -> Peer:
    return cast(Peer, (peer[0], peer[1])) if peer else ("", 0)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock
