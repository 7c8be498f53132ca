"""The registry's port, whose connection-level behaviour switches at run time, without restarting.

Outages act below HTTP, on the sockets: `refused` leaves the port bound but not listening (the
kernel answers SYN with RST), `reset` accepts and resets each connection at its first bytes,
`blackhole` accepts and never answers. In `none`, each connection gets the shared HTTP protocol
directly, so serving costs nothing extra.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Literal, cast, get_args

from starlette.types import ASGIApp

from serving import Connections, Limits, Listener, reset_transport

Outage = Literal["none", "refused", "reset", "blackhole"]
OUTAGES: tuple[str, ...] = get_args(Outage)
OutageObserver = Callable[[str, bytes, tuple[str, int]], None]
SERVER_HEADER = "pullthrough"
# uvicorn's warnings ("Invalid HTTP request received." for a TLS hello, say) and app errors go here:
# silent unless the application configures logging (the CLI does).
LOGGER = logging.getLogger("fake_upstream.http")


class OutageListener:
    """`on_outage(mode, first_bytes, peer)` is told of each connection that sends bytes into a `reset` or
    `blackhole` outage, so that the journal can show what the outage swallowed."""

    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        connections: Connections,
        limits: Limits,
        on_outage: OutageObserver,
    ) -> None:
        self.mode: Outage = "none"
        self._on_outage = on_outage
        self._held: set[asyncio.Transport] = set()
        self._listener = Listener(
            app,
            host,
            port,
            server_header=SERVER_HEADER,
            limits=limits,
            logger=LOGGER,
            intercept=self._intercept,
            connections=connections,
        )

    @property
    def port(self) -> int:
        return self._listener.port

    async def start(self) -> None:
        await self._listener.start()

    async def stop(self) -> None:
        await self._listener.close()
        for transport in self._held:
            transport.abort()
        # Requests still running (a slow body to a client that left) end here, not when the loop closes.
        await self._listener.drain(0)

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
        self._listener.connections.close_all(reset=mode == "reset")
        if mode == "refused":
            await self._listener.pause()
        elif previous == "refused":
            await self._listener.resume()

    def _intercept(self) -> asyncio.Protocol | None:
        if self.mode == "reset":
            return _ResetOnData(self._observer("reset"))
        if self.mode == "blackhole":
            return _Blackhole(self._held, self._observer("blackhole"))
        return None

    def _observer(self, mode: str) -> Callable[[bytes, tuple[str, int]], None]:
        def observe(data: bytes, peer: tuple[str, int]) -> None:
            self._on_outage(mode, data, peer)

        return observe


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
        reset_transport(self._transport)


class _Blackhole(_FirstBytes):
    def __init__(self, held: set[asyncio.Transport], observe: Callable[[bytes, tuple[str, int]], None]) -> None:
        super().__init__(observe)
        self._held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._held.add(self._transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._held.discard(self._transport)
