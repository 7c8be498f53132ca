"""Bodies on the wire: cached blob files in big chunks, cold fetches that fail visibly, small whole answers.

Starlette's FileResponse reads 64 KiB at a time, which caps a cached blob at a fifth of what the
socket takes; these read 2 MiB per system call (measured best here: 4.5 GB/s, where 1 MiB gives
2.6 and 4 or 8 MiB only add memory), the next chunk while the previous one is sent.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from starlette.types import Receive, Scope, Send

from proxy_under_test._context import Context
from proxy_under_test._errors import API_VERSION
from proxy_under_test._fetch import BlobFetch

CHUNK = 2 << 20
Headers = list[tuple[bytes, bytes]]


class Connection:
    """What a body needs of its client's connection: whether it is gone, and how to cut it."""

    def __init__(self, is_closing: Callable[[], bool], abort: Callable[[], None]) -> None:
        self.is_closing = is_closing
        self.abort = abort


def blob_headers(digest: str | None, length: int | None, extra: Headers | None = None) -> Headers:
    headers: Headers = [(b"content-type", b"application/octet-stream"), API_VERSION]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if digest is not None:
        headers += [(b"docker-content-digest", digest.encode()), (b"etag", f'"{digest}"'.encode())]
    return headers + (extra or [])


class WholeBody:
    """A small answer held whole (a manifest), its header lines written out once: per request this costs a
    fraction of a Starlette Response, whose headers are built and then edited."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def drop(self, name: bytes) -> None:
        self.headers = [(key, value) for key, value in self.headers if key != name]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class HeadersOnly:
    def __init__(self, status: int, headers: Headers) -> None:
        self.status = status
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class FileBody:
    """Bytes [start, end) of an open file; closes the descriptor when done."""

    def __init__(
        self, context: Context, fd: int, start: int, end: int, status: int, headers: Headers, connection: Connection
    ) -> None:
        self.context = context
        self.fd = fd
        self.start = start
        self.end = end
        self.status = status
        self.headers = headers
        self.connection = connection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
            offset, end = self.start, self.end
            ahead = self._read(offset, end)
            while ahead is not None:
                data = await ahead
                offset += len(data)
                if not data:  # the file shrank under us: never complete a short body
                    self.connection.abort()
                    await _wait_disconnect(receive)
                    return
                ahead = self._read(offset, end)
                await send({"type": "http.response.body", "body": data, "more_body": ahead is not None})
                if self.connection.is_closing():
                    if ahead is not None:
                        await ahead
                    return
            if self.start == self.end:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            os.close(self.fd)

    def _read(self, offset: int, end: int) -> Awaitable[bytes] | None:
        if offset >= end:
            return None
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self.context.executor, os.pread, self.fd, min(CHUNK, end - offset), offset)


class FetchBody:
    """A cold blob as its fetch receives it. The last byte goes out only once the digest has verified
    (`hold_last`), and a body that cannot end whole and verified ends visibly cut (or, with the
    `stall-after-headers` defect, silent until the client leaves)."""

    def __init__(
        self,
        context: Context,
        fetch: BlobFetch,
        fd: int,
        headers: Headers,
        length: int | None,
        connection: Connection,
        *,
        hold_last: bool = True,
        stall: bool = False,
    ) -> None:
        self.context = context
        self.fetch = fetch
        self.fd = fd
        self.headers = headers
        self.length = length  # what our Content-Length said, if anything
        self.connection = connection
        self.hold_last = hold_last  # False: the `forward-upstream-length` defect streams straight through
        self.stall = stall

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fetch, length = self.fetch, self.length
        follower = fetch.follow()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            offset = 0
            while True:
                changed = fetch.changed
                failed = fetch.state == "failed"
                if failed and self.hold_last:
                    return await self._cut(receive)
                done = fetch.complete
                received = fetch.received
                limit = self._limit(received, done)
                if offset < limit:
                    data = await self._read(offset, limit)
                    offset += len(data)
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                    follower.offset = offset
                    fetch.advanced()
                    if self.connection.is_closing():
                        return
                elif done and offset == received and length in (None, offset):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                elif failed and offset == length:  # the upstream's framing ended: so does ours, right or not
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                elif done or failed:  # more or fewer bytes than declared (a cut body taken as complete)
                    return await self._cut(receive)
                else:
                    await changed.wait()
        finally:
            fetch.unfollow(follower)
            os.close(self.fd)

    def _limit(self, received: int, done: bool) -> int:
        """How far to send now: what arrived once it verified (or with `forward-upstream-length`), else
        all but the last byte: of our Content-Length when we declared one (so whole pieces go out as they
        are), else of what has arrived. Never more than our Content-Length."""
        length = self.length
        if done or not self.hold_last:
            limit = received
        elif length is not None:
            limit = min(received, length - 1)
        else:
            limit = received - 1
        return limit if length is None else min(limit, length)

    async def _cut(self, receive: Receive) -> None:
        if not self.stall:
            self.connection.abort()
        await _wait_disconnect(receive)

    async def _read(self, offset: int, limit: int) -> bytes | memoryview:
        spool = self.fetch.spool
        assert spool is not None
        data = spool.piece(offset, limit)
        if data is not None:
            return data
        size = min(CHUNK, min(limit, spool.written) - offset)  # behind the window: it is in the file
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.context.executor, os.pread, self.fd, size, offset)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
