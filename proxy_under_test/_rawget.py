"""A lean HTTP/1.1 GET for blob bodies, on a plain asyncio protocol.

Everything else goes through the pooled httpx client; blob bodies do not, because httpx (h11 and
anyio underneath) costs about 1.2 s of CPU per GiB received here while an asyncio protocol costs
0.1 s, and on a 2-core machine that CPU is what the client's stream is waiting for. One connection
per blob (`Connection: close`), the upstream's authentication (from Upstream), redirects (to a CDN:
without the credentials), Content-Length, chunked or close-delimited bodies, and every wait bounded.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from proxy_under_test._routes import Target
from proxy_under_test._upstream import Upstream, UpstreamFailure, address, auth_failure

_HIGH = 4 << 20  # bytes buffered before the socket stops being read
_LOW = 1 << 20
_MAX_HEAD = 64 << 10
_REDIRECTS = 5


class _Cut(Exception):
    """The connection ended before the body did."""


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    _stream: _Stream = field(repr=False)
    _timeout: float = field(repr=False)

    async def body(self) -> AsyncIterator[bytes]:
        """The body's bytes, whatever the framing; raises UpstreamFailure if it is cut or stalls."""
        try:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                async for chunk in self._chunked():
                    yield chunk
            elif "content-length" in self.headers:
                left = int(self.headers["content-length"])
                while left > 0:
                    chunk = await self._stream.read(self._timeout)
                    if not chunk:
                        raise _Cut(f"the body ended {left} bytes short")
                    chunk = chunk[:left]
                    left -= len(chunk)
                    yield chunk
            else:
                while chunk := await self._stream.read(self._timeout):
                    yield chunk
        except TimeoutError:
            raise UpstreamFailure("timeout", f"upstream sent nothing for {self._timeout:g} s") from None
        except (_Cut, OSError, ValueError) as error:
            raise UpstreamFailure("reset", f"upstream cut the body short ({error})") from None

    async def read_all(self, limit: int = 1 << 16) -> bytes:
        """A small body (an error's), at most `limit` bytes."""
        data = b""
        async for chunk in self.body():
            data += chunk
            if len(data) >= limit:
                break
        return data[:limit]

    def close(self) -> None:
        self._stream.close()

    async def _chunked(self) -> AsyncIterator[bytes]:
        stream = self._stream
        while True:
            line = await stream.read_line(self._timeout)
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await stream.read_line(self._timeout):  # trailers, up to the blank line
                    pass
                return
            while size > 0:
                chunk = await stream.read(self._timeout, size)
                if not chunk:
                    raise _Cut("in a chunk")
                size -= len(chunk)
                yield chunk
            await stream.read_line(self._timeout)


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
    stream = _Stream()
    await loop.create_connection(
        lambda: stream, url.host, port, ssl=context, server_hostname=url.host if secure else None
    )
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    if ":" in url.host:
        host = f"[{url.host}]" if url.port is None else f"[{url.host}]:{url.port}"
    lines = [f"GET {url.raw_path.decode('ascii')} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    lines += ["User-Agent: pullthrough-proxy", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    try:
        stream.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = await stream.read_head(timeout)
    except BaseException:
        stream.close()
        raise
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {status_line[:80]!r}")
    fields: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return RawResponse(int(rest.split(" ", 1)[0]), fields, stream, timeout)


class _Stream(asyncio.Protocol):
    """The socket's bytes, buffered a little; reading pauses the socket when the reader falls behind."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._done = False
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > _HIGH and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._done = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._done = True
        self._error = exc
        self._wake()

    def write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    async def read(self, timeout: float, limit: int | None = None) -> bytes:
        """The next bytes (at most `limit`), or b"" at the end of the stream."""
        while not self._chunks:
            if self._done:
                if self._error is not None:
                    raise self._error
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            async with asyncio.timeout(timeout):
                await self._waiter
        chunk = self._chunks.popleft()
        if limit is not None and len(chunk) > limit:
            self._chunks.appendleft(chunk[limit:])
            chunk = chunk[:limit]
        self._size -= len(chunk)
        if self._paused and self._size < _LOW and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return chunk

    async def read_line(self, timeout: float) -> bytes:
        return await self._read_until(b"\r\n", timeout, "a chunk header")

    async def read_head(self, timeout: float) -> bytes:
        return await self._read_until(b"\r\n\r\n", timeout, "the answer's headers")

    async def _read_until(self, separator: bytes, timeout: float, what: str) -> bytes:
        """Bytes up to `separator` (not included); what follows it stays unread."""
        data = b""
        while separator not in data:
            chunk = await self.read(timeout)
            if not chunk:
                raise _Cut(f"in {what}")
            data += chunk
            if len(data) > _MAX_HEAD and separator not in data:
                raise ValueError(f"{what} too long")
        data, _, rest = data.partition(separator)
        self._unread(rest)
        return data

    def _unread(self, data: bytes) -> None:
        if data:
            self._chunks.appendleft(data)
            self._size += len(data)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
