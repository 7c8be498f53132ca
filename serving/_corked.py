"""A transport whose small writes wait for the end of the event loop's iteration and go out as one.

uvicorn writes a response's head and its body with two calls, so a small answer (a manifest, an error,
a HEAD) costs two system calls and two segments on the wire, and on loopback the receiver's work for
each is done in the sender's system call: profiled, the two writes were 44% of the proxy's CPU per
cached manifest. Here a write under SMALL bytes is held until the loop's current iteration ends (a
response written without waiting, as uvicorn does, leaves whole), and a big write takes what is held
with it in one call; nothing is held past the iteration, so no latency is added and no order changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

SMALL = 64 << 10


class CorkedTransport(asyncio.Transport):
    """Wraps a transport; everything but writing is passed through."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.transport = transport
        self._loop = loop
        self._held: list[bytes | bytearray | memoryview] = []
        self._held_size = 0

    # ---- writing --------------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(data) >= SMALL:
            if self._held:
                self._held.append(data)
                self._release()
            else:
                self.transport.write(data)
            return
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self._release)
        self._held.append(data)
        self._held_size += len(data)

    def writelines(self, pieces: Any) -> None:
        for piece in pieces:
            self.write(piece)

    def write_eof(self) -> None:
        self._release()
        self.transport.write_eof()

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def get_write_buffer_size(self) -> int:
        return self._held_size + self.transport.get_write_buffer_size()

    def close(self) -> None:
        self._release()
        self.transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._held_size = 0
        self.transport.abort()

    # ---- passed through -------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def is_reading(self) -> bool:
        return self.transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.transport.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()

    # ---- internals ------------------------------------------------------------------------------

    def _release(self) -> None:
        held = self._held
        if not held:
            return
        self._held, self._held_size = [], 0
        if self.transport.is_closing():
            return
        if len(held) == 1:
            self.transport.write(held[0])
        elif len(held[-1]) >= SMALL:
            self.transport.writelines(held)  # one system call (writev), the big piece not copied
        else:
            self.transport.write(b"".join(held))
