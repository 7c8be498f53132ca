"""A lean HTTP/1.1 GET for blob bodies, on an asyncio buffered protocol.

Everything else goes through the pooled httpx client; blob bodies do not, for CPU: on a 2-core machine
the CPU a reader spends is what the client's stream waits for (bench/blob_reader.py measures both).
The socket is read straight into one reused 1 MiB buffer (no bytes object per read, no joining), chunked
framing is removed in place, and the body leaves as pieces of up to 1 MiB: one copy per byte in all.
One connection per blob (`Connection: close`), the upstream's authentication (from Upstream), redirects
(to a CDN: without the credentials), Content-Length, chunked or close-delimited bodies, every wait
bounded; the bytes of a slow upstream still reach the consumer every FLUSH_AFTER seconds.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from proxy_under_test._routes import Target
from proxy_under_test._upstream import Upstream, UpstreamFailure, address, auth_failure

PIECE = 1 << 20
FLUSH_AFTER = 0.05  # seconds: a partly filled piece still reaches the consumer this soon
_QUEUED = 4  # pieces waiting for the consumer before the socket stops being read
_MAX_HEAD = 64 << 10
_MAX_LINE = 4096  # a chunk-size line or a trailer
_REDIRECTS = 5


class _Cut(Exception):
    """The connection ended before the body did."""


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    _receiver: _Receiver = field(repr=False)
    _timeout: float = field(repr=False)

    async def body(self) -> AsyncIterator[bytes]:
        """The body's bytes in pieces of up to PIECE; raises UpstreamFailure if it is cut or stalls."""
        try:
            while piece := await self._receiver.piece(self._timeout):
                yield piece
        except TimeoutError:
            raise UpstreamFailure("timeout", f"upstream sent nothing for {self._timeout:g} s") from None
        except (_Cut, OSError, ValueError) as error:
            raise UpstreamFailure("reset", f"upstream cut the body short ({error})") from None

    async def read_all(self, limit: int = 1 << 16) -> bytes:
        """A small body (an error's), at most `limit` bytes."""
        data = b""
        async for piece in self.body():
            data += piece
            if len(data) >= limit:
                break
        return data[:limit]

    def close(self) -> None:
        self._receiver.close()


async def get_blob(upstream: Upstream, target: Target, digest: str) -> RawResponse:
    """The upstream's answer to GET of the blob, its body unread; authenticates and follows redirects.
    Bound it with `Upstream.bounded`: it may take a probe, a token and two requests."""
    url = f"{target.upstream}/v2/{target.repository}/blobs/{digest}"
    for renew in (False, True):
        credentials = await upstream.credentials(target, renew=renew)
        response = await _get(url, credentials, upstream.timeout, target)
        if response.status != 401 or renew:
            break
        response.close()
        upstream.challenged(target, response.headers.get("www-authenticate", ""))
    if response.status in (401, 403):
        response.close()
        raise auth_failure(target, response.status)
    return response


async def _get(url: str, credentials: dict[str, str], timeout: float, target: Target) -> RawResponse:
    origin = httpx.URL(url).copy_with(path="/", query=None)
    for _ in range(_REDIRECTS + 1):
        parsed = httpx.URL(url)
        headers = credentials if parsed.copy_with(path="/", query=None) == origin else {}
        try:
            response = await _exchange(parsed, headers, timeout)
        except TimeoutError:
            raise UpstreamFailure(
                "timeout", f"upstream {target.upstream} did not answer in time", source=address(target)
            ) from None
        except ConnectionRefusedError:
            raise UpstreamFailure(
                "refused", f"upstream {target.upstream} refused the connection", source=address(target)
            ) from None
        except (OSError, _Cut, ValueError) as error:
            raise UpstreamFailure(
                "reset", f"upstream {target.upstream} broke the connection ({error})", source=address(target)
            ) from None
        location = response.headers.get("location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        response.close()
        url = str(parsed.join(location))
    raise UpstreamFailure(
        "bad-response", f"upstream {target.upstream} redirected more than {_REDIRECTS} times", source=address(target)
    )


async def _exchange(url: httpx.URL, headers: dict[str, str], timeout: float) -> RawResponse:
    loop = asyncio.get_running_loop()
    secure = url.scheme == "https"
    port = url.port or (443 if secure else 80)
    context = httpx.create_ssl_context() if secure else None
    receiver = _Receiver()
    await loop.create_connection(
        lambda: receiver, url.host, port, ssl=context, server_hostname=url.host if secure else None
    )
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    if ":" in url.host:
        host = f"[{url.host}]" if url.port is None else f"[{url.host}]:{url.port}"
    lines = [f"GET {url.raw_path.decode('ascii')} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    lines += ["User-Agent: pullthrough-proxy", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    try:
        receiver.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, fields = await receiver.head(timeout)
    except BaseException:
        receiver.close()
        raise
    return RawResponse(status, fields, receiver, timeout)


class _Receiver(asyncio.BufferedProtocol):
    """One answer: its head, then its body gathered into `_buffer` (framing removed) and handed out as pieces.

    The socket is paused while _QUEUED pieces wait for the consumer, so memory stays a few MiB whatever
    the body's size. Errors found while receiving are kept and raised to the consumer, in order."""

    def __init__(self) -> None:
        self._buffer = bytearray(PIECE)
        self._view = memoryview(self._buffer)
        self._fill = 0  # bytes in the buffer: the head so far, then body bytes not yet handed out
        self._head: tuple[int, dict[str, str]] | None = None
        self._left: int | None = None  # Content-Length framing: body bytes still to come
        self._chunked = False
        self._chunk_left = 0
        self._expect = "size"  # chunked framing: the next line is a "size", the "crlf" after data, a "trailer"
        self._line = bytearray()  # a framing line split across reads
        self._finished = False  # the whole body has arrived
        self._error: BaseException | None = None
        self._pieces: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._paused = False
        loop = asyncio.get_running_loop()
        self._time = loop.time
        self._heard = self._handed = loop.time()  # when bytes last arrived, and when a piece last left

    # ---- the consumer's side --------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    async def head(self, timeout: float) -> tuple[int, dict[str, str]]:
        async with asyncio.timeout(timeout):
            while self._head is None:
                if self._error is not None:
                    raise self._error
                await self._wait()
        return self._head

    async def piece(self, timeout: float) -> bytes:
        """The next piece of the body; b"" once it has all arrived. Raises what ended it early, or
        TimeoutError when nothing arrived for `timeout` seconds."""
        while not self._pieces:
            if self._finished or self._error is not None:
                self._hand_out()
                if self._pieces:
                    break
                if self._error is not None:
                    raise self._error
                return b""
            now = self._time()
            if self._fill and now - self._handed >= FLUSH_AFTER:
                self._hand_out()
                break
            silent = now - self._heard
            if silent >= timeout:
                raise TimeoutError
            wait = timeout - silent if not self._fill else min(timeout - silent, FLUSH_AFTER - (now - self._handed))
            try:
                async with asyncio.timeout(wait):
                    await self._wait()
            except TimeoutError:
                continue  # flush what there is, or find the silence too long, at the top
        piece = self._pieces.popleft()
        if self._paused and not self._finished and len(self._pieces) < _QUEUED and self._transport is not None:
            self._paused = False
            self._heard = self._time()  # the silence measured is the upstream's, not this consumer's
            self._transport.resume_reading()
        return piece

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # ---- the protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view[self._fill :]

    def buffer_updated(self, nbytes: int) -> None:
        self._heard = self._time()
        start, end = self._fill, self._fill + nbytes
        try:
            if self._head is None:
                self._fill = end
                self._parse_head()
            elif not self._finished:
                self._take(start, end)
        except (ValueError, _Cut) as error:
            self._fail(error)
            return
        if self._head is None:
            return
        if self._fill == len(self._buffer) or self._finished:
            self._hand_out()
            if len(self._pieces) >= _QUEUED or self._finished:
                self._pause()
            self._wake()
        elif start == 0:  # the head, or the first bytes of a piece: the consumer times its flush from here
            self._wake()

    def eof_received(self) -> bool:
        if self._head is not None and self._left is None and not self._chunked:
            self._finished = True  # a close-delimited body ends here
        elif not self._finished:
            self._error = self._error or _Cut("in the answer's headers" if self._head is None else "in the body")
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self._finished:
            self._error = self._error or exc
        elif not self._finished:
            self.eof_received()
        self._wake()

    # ---- internals ------------------------------------------------------------------------------

    def _parse_head(self) -> None:
        end = self._buffer.find(b"\r\n\r\n", 0, self._fill)
        if end < 0:
            if self._fill > _MAX_HEAD:
                raise ValueError("the answer's headers too long")
            return
        status_line, *header_lines = self._buffer[:end].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1 answer: {status_line[:80]!r}")
        fields: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        status = int(rest.split(" ", 1)[0])
        if fields.get("transfer-encoding", "").lower() == "chunked":
            self._chunked = True
        elif "content-length" in fields:
            self._left = int(fields["content-length"])
            if self._left < 0:
                raise ValueError("a negative Content-Length")
        elif status in (204, 304):
            self._left = 0
        self._head = (status, fields)
        rest_start, rest_end = end + 4, self._fill
        self._view[: rest_end - rest_start] = self._view[rest_start:rest_end]  # body bytes to the front
        self._fill = 0
        self._take(0, rest_end - rest_start)

    def _take(self, start: int, end: int) -> None:
        """Bytes [start, end) of the buffer just arrived, and `_fill` == start: keep the body's."""
        if self._chunked:
            self._fill = self._dechunk(start, end)
        elif self._left is not None:
            kept = min(end - start, self._left)
            self._fill = start + kept
            self._left -= kept
            self._finished = self._left == 0
        else:
            self._fill = end

    def _dechunk(self, position: int, end: int) -> int:
        """Strip chunked framing from [position, end), in place; the new end of the body bytes."""
        out, buffer, view = position, self._buffer, self._view
        while position < end and not self._finished:
            if self._chunk_left:
                size = min(self._chunk_left, end - position)
                if out != position:
                    view[out : out + size] = view[position : position + size]
                out, position, self._chunk_left = out + size, position + size, self._chunk_left - size
                continue
            newline = buffer.find(b"\n", position, end)
            if newline < 0:
                self._line += view[position:end]
                if len(self._line) > _MAX_LINE:
                    raise ValueError("a chunk line too long")
                break
            self._line += view[position:newline]
            line = bytes(self._line).rstrip(b"\r")
            self._line.clear()
            position = newline + 1
            self._framing(line)
        return out

    def _framing(self, line: bytes) -> None:
        if self._expect == "size":
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size < 0:
                raise ValueError("a negative chunk size")
            self._chunk_left, self._expect = size, "crlf" if size else "trailer"
        elif self._expect == "crlf":
            if line:
                raise ValueError("a chunk longer than its size")
            self._expect = "size"
        elif not line:  # the blank line after the trailers
            self._finished = True

    def _hand_out(self) -> None:
        if self._fill and self._head is not None:
            self._pieces.append(bytes(self._view[: self._fill]))
            self._fill = 0
        self._handed = self._time()

    def _pause(self) -> None:
        if not self._paused and self._transport is not None and not self._transport.is_closing():
            self._paused = True
            self._transport.pause_reading()

    def _fail(self, error: BaseException) -> None:
        self._error = self._error or error
        if self._transport is not None:
            self._transport.abort()
        self._wake()

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
