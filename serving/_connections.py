"""The open connections of a listener, by client address: what lets a request break its own connection.

A response that cannot be completed correctly must end visibly (an RST, or a close before its declared
length), and a fault injector needs to reset, close or stall a connection at a chosen byte: both reach
the transport under the request through here.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
import termios
from typing import Any

Peer = tuple[str, int]
_LINGER_RST = struct.pack("ii", 1, 0)


class Connections:
    def __init__(self) -> None:
        self._open: dict[Peer, asyncio.Transport] = {}

    def add(self, peer: Peer, transport: asyncio.Transport) -> None:
        self._open[peer] = transport

    def discard(self, peer: Peer, transport: asyncio.Transport) -> None:
        if self._open.get(peer) is transport:
            del self._open[peer]

    def __len__(self) -> int:
        return len(self._open)

    def reset(self, peer: Any) -> None:
        """Cut the connection with an RST: no client can mistake what it got for a whole answer."""
        transport = self._open.get(as_peer(peer))
        if transport is not None:
            reset_transport(transport)

    def close(self, peer: Any) -> None:
        """Close the connection in an orderly way (a FIN once what was written has been sent)."""
        transport = self._open.get(as_peer(peer))
        if transport is not None:
            transport.close()

    def is_closing(self, peer: Any) -> bool:
        transport = self._open.get(as_peer(peer))
        return transport is None or transport.is_closing()

    async def flush(self, peer: Any, timeout: float = 1.0) -> None:
        """Wait, up to `timeout`, until what was written has reached the client: an RST discards what is
        still queued, so a reset after some bytes must wait for them."""
        transport = self._open.get(as_peer(peer))
        if transport is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (transport.get_write_buffer_size() or _queued(transport)) and not transport.is_closing():
            if loop.time() >= deadline:
                return
            await asyncio.sleep(0.002)

    def abort_all(self) -> None:
        for transport in list(self._open.values()):
            transport.abort()

    def close_all(self, *, reset: bool = False) -> None:
        for transport in list(self._open.values()):
            reset_transport(transport) if reset else transport.close()


def as_peer(peer: Any) -> Peer:
    """A client address as the ASGI scope gives it (a list or a tuple), as a key."""
    return (str(peer[0]), int(peer[1])) if peer else ("", 0)


def reset_transport(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    transport.abort()  # type: ignore[attr-defined]  # uvloop's transports are not asyncio.Transport subclasses


def _queued(transport: asyncio.BaseTransport) -> int:
    """Bytes in the kernel's send queue that the client has not acknowledged yet."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return 0
    answer = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return int(struct.unpack("i", answer)[0])
