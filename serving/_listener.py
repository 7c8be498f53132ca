"""A listening port that serves an ASGI application over HTTP/1.1, and can stop listening without letting go.

`intercept` lets a server answer a connection with another protocol instead of HTTP (the fake upstream's
`reset` and `blackhole` outages); `pause()` stops listening while keeping the port bound, so the kernel
refuses connections until `resume()` (its `refused` outage).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from starlette.types import ASGIApp

from serving._connections import Connections
from serving._limits import Limits
from serving._uvicorn import HttpProtocols

_BACKLOG = 2048


class Listener:
    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        server_header: str,
        limits: Limits | None = None,
        logger: logging.Logger | None = None,
        intercept: Callable[[], asyncio.Protocol | None] | None = None,
        connections: Connections | None = None,
    ) -> None:
        """`connections` may be made first, for an application that needs them before its listener exists."""
        self.host = host
        self.port = port
        self.connections = connections if connections is not None else Connections()
        self._http = HttpProtocols(
            app, server_header=server_header, limits=limits or Limits(), connections=self.connections, logger=logger
        )
        self._intercept = intercept
        self._server: asyncio.AbstractServer | None = None
        self._idle_socket: socket.socket | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Bind and listen; `port` 0 picks a free port, known from here on."""
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        await self._serve(sock)

    async def pause(self) -> None:
        """Stop listening but keep the port: connections are refused (RST to SYN) until `resume()`."""
        if self._server is None:
            return
        self._close_server()
        self._idle_socket = bind(self.host, self.port, listen=False)

    async def resume(self) -> None:
        if self._idle_socket is None:
            return
        sock, self._idle_socket = self._idle_socket, None
        sock.listen(_BACKLOG)
        await self._serve(sock)

    async def close(self) -> None:
        """Stop accepting, and cut every connection (their requests then end on their own)."""
        self._close_server()
        if self._idle_socket is not None:
            self._idle_socket.close()
            self._idle_socket = None
        self.connections.abort_all()

    async def drain(self, grace: float) -> None:
        """Wait `grace` seconds for the requests still running to end, then cancel the rest."""
        tasks = [task for task in self._http.tasks if not task.done()]
        if not tasks:
            return
        late = tasks
        if grace > 0:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            late = list(pending)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, sock=sock, backlog=_BACKLOG)

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _protocol(self) -> asyncio.Protocol:
        if self._intercept is not None:
            other = self._intercept()
            if other is not None:
                return other
        return self._http()


def bind(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A non-blocking TCP socket bound to host:port; an error names the address (a server may have two)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        if listen:
            sock.listen(_BACKLOG)
    except OSError as error:
        sock.close()
        raise OSError(error.errno, f"{error.strerror} ({host}:{port})") from None
    sock.setblocking(False)
    return sock
