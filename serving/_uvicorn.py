"""uvicorn's HTTP/1.1 protocol (httptools) and server state, under our limits: the one module that touches
uvicorn's private API (its protocol class, ServerState, the request cycle's flags).

tests/serving/test_uvicorn_pins.py checks every name used here, so an upgrade that moves one fails there,
loudly, rather than somewhere in a server.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from oci_wire import ErrorCode
from serving._connections import Connections, Peer
from serving._corked import CorkedTransport
from serving._errors import raw_error
from serving._limits import Limits

# After refusing a request, its client may still be sending it: read and drop that much, that long, so
# the client gets to read the refusal (closing at once would answer its bytes with an RST instead).
_LINGER_BYTES = 16 << 20
_LINGER_SECONDS = 2.0


class HttpProtocols:
    """Makes the protocol of each connection of one server: one application, one state, one set of limits."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        server_header: str,
        limits: Limits,
        connections: Connections,
        logger: logging.Logger | None = None,
    ) -> None:
        self.limits = limits
        self.connections = connections
        self.logger = logger
        self.server_header = server_header.encode()
        self.config = uvicorn.Config(
            app,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            date_header=False,
            log_config=None,
            access_log=False,
            http="httptools",
            timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]  # annotated int, used as seconds
        )
        self.config.load()
        self.state = ServerState()
        # uvicorn's own server loop would add a Date header every second; without it, only this one.
        self.state.default_headers = [(b"server", self.server_header)]

    def __call__(self) -> asyncio.Protocol:
        return _Protocol(self, config=self.config, server_state=self.state, app_state={})

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        """The requests running now (one task each)."""
        return self.state.tasks


class _Protocol(HttpToolsProtocol):
    """uvicorn's protocol, registered by client address, with a bounded and timed request head and body."""

    def __init__(self, owner: HttpProtocols, **options: Any) -> None:
        super().__init__(**options)
        self._owner = owner
        self._limits = owner.limits
        if owner.logger is not None:
            self.logger = owner.logger
        self._peer: Peer | None = None
        self._reading_head = True
        self._head_ended = False
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._lingering: int | None = None  # bytes dropped since the refusal, once refused

    # ---- connection -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        transport = CorkedTransport(transport, self.loop)  # a response's head and small body: one write
        super().connection_made(transport)
        if self.client is not None:
            self._peer = (self.client[0], self.client[1])
            self._owner.connections.add(self._peer, transport)
        self._head_timer = self.loop.call_later(self._limits.head_timeout, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        if self._peer is not None:
            self._owner.connections.discard(self._peer, self.transport)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None:
            self._lingering += len(data)
            if self._lingering > _LINGER_BYTES:
                self.transport.close()
            return
        limit = self._limits.max_head_bytes
        while data:
            if not self._reading_head:
                if self._body_timer is not None:
                    self._body_timer.cancel()
                    self._body_timer = self.loop.call_later(self._limits.body_timeout, self._body_too_slow)
                super().data_received(data)
                return
            # Feed no more of a head than the limit allows: the parser never sees an oversized one.
            room = limit - self._head_bytes
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            self._head_ended = False
            if piece:
                super().data_received(piece)
            if self.parser is None or self.transport.is_closing():
                return
            # Still in the same head, and more bytes than it may have: refused. (A head that ended inside
            # the piece, pipelined requests say, gives the next one an allowance of its own.)
            if data and self._reading_head and not self._head_ended:
                self._refuse(431, ErrorCode.SIZE_INVALID, f"the request head exceeds {limit} bytes")
                return

    # ---- parser callbacks -----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._limits.head_timeout, self._head_too_slow)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_ended = True
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        # Cancelled at once by on_message_complete when the request has no body.
        self._body_timer = self.loop.call_later(self._limits.body_timeout, self._body_too_slow)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._reading_head = True
        self._head_bytes = 0

    # ---- limits ---------------------------------------------------------------------------------

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._reading_head:
            return
        if self._answering():  # the client waits for us, not we for it
            self._head_timer = self.loop.call_later(self._limits.head_timeout, self._head_too_slow)
            return
        if self._head_bytes == 0:  # nothing asked: an idle connection, closed without a word
            self.transport.close()
            return
        timeout = self._limits.head_timeout
        self._refuse(408, ErrorCode.UNKNOWN, f"the request head did not arrive within {timeout:g} s")

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self._reading_head:
            return
        cycle = self.cycle
        if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
            # Reading is paused (the application is not taking the body yet), or the client waits for
            # `100 Continue`: its silence is ours.
            self._body_timer = self.loop.call_later(self._limits.body_timeout, self._body_too_slow)
            return
        self.logger.info("closing %s: no request body for %g s", self.client, self._limits.body_timeout)
        self.transport.close()

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _refuse(self, status: int, code: ErrorCode, message: str) -> None:
        self.logger.info("refused a request from %s: %s", self.client, message)
        if self._answering():  # a response is going out on this connection: no room for another
            self.transport.close()
            return
        self.transport.write(raw_error(status, code, message, self._owner.server_header))
        self.transport.write_eof()
        self._lingering = 0
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)
