"""A spool: bytes that arrive in order, hashed and written to a file by worker threads, the recent ones
also kept in memory so that readers send them without reading them back (and without waiting for the
disk: the file is written with O_DIRECT where it can be, see DirectWriter).

The event loop hands each piece it is fed (the blob reader gathers them up to 1 MiB) to two threads, one
hashing and one writing, each working through its pieces in order without waiting for the loop (hashlib
and os.pwrite release the GIL). Every byte received is in the window or in the file: a piece leaves the
window only once it is written, and the window is bounded, so a 1 GiB blob costs a few MiB of memory
however many readers follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mmap
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future

BATCH = 1 << 20  # the DirectWriter's staging buffer; pieces of any size are welcome
WINDOW = 8 << 20
QUEUED = 8  # pieces handed to the threads and not yet written, before the upstream's reader waits


class Spool:
    def __init__(
        self,
        fd: int,
        path: str,
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
        self._loop = asyncio.get_running_loop()
        self._inflight: deque[tuple[Future[None], Future[int]]] = deque()
        self._writer = DirectWriter(path, fd)

    async def feed(self, piece: bytes) -> None:
        """Take the next bytes; waits while QUEUED pieces are still being hashed or written."""
        offset = self.received
        self._window.append((offset, piece))
        self._window_size += len(piece)
        self.received += len(piece)
        self._on_change()
        hashed = self._hashing.submit(self.hasher.update, piece)
        written = self._writing.submit(self._writer.write, piece)
        written.add_done_callback(lambda done: self._loop.call_soon_threadsafe(self._wrote, done))
        self._inflight.append((hashed, written))
        if len(self._inflight) > QUEUED:
            await self._settle_oldest()

    async def close(self) -> None:
        """Everything fed is hashed and written; raises the OSError of a failed write."""
        try:
            while self._inflight:
                await self._settle_oldest()
            if self.error is None:
                finished: Future[int] = self._writing.submit(self._writer.finish)
                self.written = await asyncio.wrap_future(finished)
                self._on_change()
        finally:
            await self.abandon()
            # Nothing changes any more; and the callback (a fetch's method) would keep a cycle, and with
            # it the window's megabytes, alive until the garbage collector happens to run.
            self._on_change = _unchanged
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
        self._writer.close()

    def piece(self, offset: int, limit: int) -> bytes | memoryview | None:
        """Bytes [offset, limit) or fewer, from memory (not copied); None if they have left the window."""
        for start, data in self._window:
            if start <= offset < start + len(data):
                end = min(len(data), limit - start)
                return data if offset == start and end == len(data) else memoryview(data)[offset - start : end]
        return None

    async def _settle_oldest(self) -> None:
        hashed, written = self._inflight[0]
        for waiting in (asyncio.wrap_future(hashed), asyncio.wrap_future(written)):
            try:
                await waiting
            except OSError as error:
                self.error = self.error or error
        self._inflight.popleft()

    def _wrote(self, future: Future[int]) -> None:
        """A batch is in the file (the writing thread finishes them in order)."""
        if future.cancelled() or self.error is not None:
            return
        if future.exception() is not None:
            self.error = future.exception()
            return
        end = future.result()
        self.written = end
        window = self._window
        while window and self._window_size > WINDOW and window[0][0] + len(window[0][1]) <= end:
            self._window_size -= len(window.popleft()[1])
        self._on_change()


def _unchanged() -> None:
    pass


def _write_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


class DirectWriter:
    """Writes in order through O_DIRECT, in 4 KiB-aligned pieces from a page-aligned staging buffer.

    Here (a VM whose memory the host backs lazily) page cache the guest has not used for a while
    costs about 2.5 s per GiB to fill; O_DIRECT skips the page cache (2.7 GB/s). The unaligned tail
    goes through the ordinary descriptor at the end. Without O_DIRECT (tmpfs), writes are ordinary.
    """

    _ALIGN = 4096

    def __init__(self, path: str, fd: int) -> None:
        self.fd = fd
        self.offset = 0
        self._carry = 0
        try:
            self._direct: int | None = os.open(path, os.O_WRONLY | os.O_DIRECT)
        except OSError:
            self._direct = None
        self._buffer = mmap.mmap(-1, BATCH + 2 * self._ALIGN)

    def write(self, data: bytes) -> int:
        """Bytes of the file written so far (the last unaligned few wait for `finish`)."""
        return _without_views(self._write, data)

    def finish(self) -> int:
        return _without_views(self._finish)

    def _write(self, data: bytes) -> int:
        if self._direct is None:
            _write_all(self.fd, data, self.offset)
            self.offset += len(data)
            return self.offset
        view, source = memoryview(self._buffer), memoryview(data)
        while source:
            room = len(view) - self._carry
            piece, source = source[:room], source[room:]
            view[self._carry : self._carry + len(piece)] = piece
            filled = self._carry + len(piece)
            aligned = filled - filled % self._ALIGN
            if aligned:
                _write_all(self._direct, view[:aligned], self.offset)
                self.offset += aligned
                view[: filled - aligned] = view[aligned:filled]
            self._carry = filled - aligned
        return self.offset

    def _finish(self) -> int:
        if self._carry:
            _write_all(self.fd, memoryview(self._buffer)[: self._carry], self.offset)
            self.offset += self._carry
            self._carry = 0
        self.close()
        return self.offset

    def close(self) -> None:
        if self._direct is not None:
            os.close(self._direct)
            self._direct = None
        if not self._buffer.closed:
            self._buffer.close()


def _without_views(function: Callable[..., int], *args: bytes) -> int:
    """Call `function`; a failed write (a full disk) comes back as a new OSError without the traceback,
    whose frames would keep memoryviews of the staging buffer alive and the buffer impossible to close."""
    failure = None
    try:
        return function(*args)
    except OSError as error:
        failure = OSError(error.errno, error.strerror)
    raise failure
