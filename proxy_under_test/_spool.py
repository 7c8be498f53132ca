"""A spool: bytes that arrive in order, hashed and written to a file by worker threads, the recent ones
also kept in memory so that readers send them without reading them back.

The event loop only joins the upstream's small reads into batches and hands each to two threads, one
hashing and one writing, each working through its batches in order without waiting for the loop
(hashlib and os.pwrite release the GIL). Every byte received is in the window or in the file: a batch
leaves the window only once it is written, and the window is bounded, so a 1 GiB blob costs a few MiB
of memory however many readers follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future

BATCH = 1 << 20
WINDOW = 8 << 20
QUEUED = 8  # batches handed to the threads and not yet written, before the upstream's reader waits
FLUSH_AFTER = 0.05  # seconds: a slow upstream's bytes still reach readers and the file promptly


class Spool:
    def __init__(
        self,
        fd: int,
        hasher: hashlib._Hash,
        hashing: Executor,
        writing: Executor,
        on_change: Callable[[], None],
    ) -> None:
        self.fd = fd
        self.hasher = hasher
        self.received = 0
        self.written = 0
        self.error: BaseException | None = None
        self._hashing = hashing
        self._writing = writing
        self._on_change = on_change
        self._window: deque[tuple[int, bytes]] = deque()
        self._window_size = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._loop = asyncio.get_running_loop()
        self._flushed = self._loop.time()
        self._inflight: deque[tuple[Future[None], Future[None]]] = deque()

    async def feed(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= BATCH or self._loop.time() - self._flushed > FLUSH_AFTER:
            await self._flush()

    async def close(self) -> None:
        """Everything fed is hashed and written; raises the OSError of a failed write."""
        try:
            if self._pending:
                await self._flush()
            while self._inflight:
                await self._settle_oldest()
        finally:
            await self.abandon()
        if self.error is not None:
            raise self.error

    async def abandon(self) -> None:
        """Drop what has not started; wait for what has, so no thread uses the descriptor after this."""
        for hashed, written in self._inflight:
            hashed.cancel()
            written.cancel()
        for futures in list(self._inflight):
            for future in futures:
                if not future.cancelled():
                    with contextlib.suppress(OSError):
                        await asyncio.shield(asyncio.wrap_future(future))
        self._inflight.clear()

    def piece(self, offset: int, limit: int) -> bytes | None:
        """Bytes [offset, limit) or fewer, from memory; None if they have left the window (read the file)."""
        for start, data in self._window:
            if start <= offset < start + len(data):
                end = min(len(data), limit - start)
                return data if offset == start and end == len(data) else data[offset - start : end]
        return None

    async def _flush(self) -> None:
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._pending_size, self._flushed = [], 0, self._loop.time()
        offset = self.received
        self._window.append((offset, data))
        self._window_size += len(data)
        self.received += len(data)
        self._on_change()
        hashed = self._hashing.submit(self.hasher.update, data)
        written = self._writing.submit(_write_all, self.fd, data, offset)
        end = offset + len(data)
        written.add_done_callback(lambda done: self._loop.call_soon_threadsafe(self._wrote, done, end))
        self._inflight.append((hashed, written))
        if len(self._inflight) > QUEUED:
            await self._settle_oldest()

    async def _settle_oldest(self) -> None:
        for future in self._inflight[0]:
            try:
                await asyncio.wrap_future(future)
            except OSError as error:
                self.error = self.error or error
        self._inflight.popleft()

    def _wrote(self, future: Future[None], end: int) -> None:
        """A batch is in the file (the writing thread finishes them in order)."""
        if future.cancelled() or self.error is not None:
            return
        if future.exception() is not None:
            self.error = future.exception()
            return
        self.written = end
        window = self._window
        while window and self._window_size > WINDOW and window[0][0] + len(window[0][1]) <= end:
            self._window_size -= len(window.popleft()[1])
        self._on_change()


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
