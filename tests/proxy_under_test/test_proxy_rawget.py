"""The lean blob GET: framing (Content-Length, chunked, close), pieces of at most PIECE bytes, a slow
upstream's bytes handed on before the body ends, the socket paused while the consumer lags, cut and
stalled bodies, redirects without the credentials, and the upstream's authentication."""

from __future__ import annotations

import asyncio
import base64
import random
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from http_checks import sha256
from proxy_checks import Rig

from proxy_under_test._rawget import PIECE, RawResponse, get_blob
from proxy_under_test._routes import Target
from proxy_under_test._upstream import Upstream, UpstreamFailure

DIGEST = "sha256:" + "d" * 64
# the request's head -> what to send, piece by piece; an Event in the list: wait until it is set
Answer = Callable[[bytes], list[bytes | asyncio.Event]]
Consume = Callable[[RawResponse], Awaitable[bytes]]


async def _read_all(response: RawResponse) -> bytes:
    return b"".join([piece async for piece in response.body()])


def _blob_only(pieces: list[bytes | asyncio.Event]) -> Answer:
    """`pieces` for the blob's GET; the probe for the upstream's authentication gets an empty 200."""

    def answer(request: bytes) -> list[bytes | asyncio.Event]:
        return pieces if b"/blobs/" in request else [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]

    return answer


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def exchange(
    answer: Answer, *, hold: bool = False, user: str | None = None, consume: Consume = _read_all
) -> tuple[bytes, list[bytes]]:
    """Serve one scripted answer per connection on loopback; GET the blob; (its body, the request heads)."""
    heads: list[bytes] = []

    async def run() -> bytes:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                for piece in answer(head):
                    if isinstance(piece, asyncio.Event):
                        await piece.wait()
                        continue
                    writer.write(piece)
                    await writer.drain()
                if hold:  # a stalled upstream: keep the connection until the proxy gives up on it
                    await reader.read()
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        upstream = Upstream(timeout=0.5, user=user, password="pw" if user else None)
        target = Target("team/app", f"http://127.0.0.1:{port}", "team/app")
        try:
            response = await upstream.bounded(get_blob(upstream, target, DIGEST))
            assert response.status == 200, response.status
            try:
                return await consume(response)
            finally:
                response.close()
        finally:
            await upstream.aclose()
            server.close()

    return asyncio.run(run()), heads


def test_content_length_body() -> None:
    body, heads = exchange(lambda _: [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", b"lo"])
    assert body == b"hello"
    assert heads[0].startswith(b"GET /v2/ HTTP/1.1\r\n")  # the probe for the upstream's authentication
    assert heads[1].startswith(f"GET /v2/team/app/blobs/{DIGEST} HTTP/1.1\r\n".encode())


def test_chunked_body() -> None:
    pieces = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n", b"2;x=y\r\nlo\r\n0\r\nT: 1\r\n\r\n"]
    assert exchange(lambda _: pieces)[0] == b"hello"


def test_close_delimited_body() -> None:
    assert exchange(lambda _: [b"HTTP/1.0 200 OK\r\n\r\nhello"])[0] == b"hello"


def test_a_big_body_arrives_whole_in_pieces_of_at_most_a_mib() -> None:
    data = random.Random(3).randbytes(3 * PIECE + 12345)
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode()
    sizes: list[int] = []

    async def consume(response: RawResponse) -> bytes:
        pieces = [piece async for piece in response.body()]
        sizes.extend(len(piece) for piece in pieces)
        return b"".join(pieces)

    body, _ = exchange(lambda _: [head + data[:100], *_split(data[100:], 70_001)], consume=consume)
    assert body == data
    assert max(sizes) <= PIECE and len(sizes) >= 4


def test_chunked_framing_split_anywhere() -> None:
    """Many chunks, their size lines and CRLFs cut across reads, and extensions: the body comes out whole."""
    data = random.Random(4).randbytes(2 * PIECE + 777)
    framed = b"".join(
        f"{len(part):x}{';ext=1' if n % 3 == 0 else ''}\r\n".encode() + part + b"\r\n"
        for n, part in enumerate(_split(data, 40_000))
    )
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + b"0\r\nX-T: 1\r\n\r\n"
    assert exchange(lambda _: _split(wire, 9_973))[0] == data
    small = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in _split(data[:3000], 700))
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + small + b"0\r\n\r\n"
    assert exchange(lambda _: _split(wire, 1))[0] == data[:3000]  # framing byte by byte


def test_a_slow_upstreams_bytes_are_handed_on_before_the_body_ends() -> None:
    """The upstream sends 100 bytes, then waits for the consumer to have them: it must not wait for a full piece."""
    released = asyncio.Event()

    async def consume(response: RawResponse) -> bytes:
        pieces = response.body()
        async with asyncio.timeout(5):
            first = await anext(pieces)
        released.set()
        return first + b"".join([piece async for piece in pieces])

    head = b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n"
    body, _ = exchange(_blob_only([head + b"a" * 100, released, b"b" * 100]), consume=consume)
    assert body == b"a" * 100 + b"b" * 100


def test_the_socket_pauses_while_the_consumer_lags() -> None:
    """Unread pieces stay a few: the rest waits in the kernel and the upstream (memory is O(piece))."""
    data = random.Random(5).randbytes(12 * PIECE)
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode()
    queued: list[int] = []

    async def consume(response: RawResponse) -> bytes:
        pieces = response.body()
        first = await anext(pieces)
        receiver = response._receiver
        async with asyncio.timeout(10):
            while not receiver._paused:
                await asyncio.sleep(0.01)  # polling the receiver's state, with a deadline
        queued.append(len(receiver._pieces))
        return first + b"".join([piece async for piece in pieces])

    body, _ = exchange(_blob_only([head, *_split(data, PIECE)]), consume=consume)
    assert body == data
    assert queued[0] <= 4


@pytest.mark.parametrize(
    "pieces",
    [
        [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"],
    ],
)
def test_a_cut_body_is_a_reset(pieces: list[bytes]) -> None:
    with pytest.raises(UpstreamFailure) as raised:
        exchange(lambda _: pieces)
    assert raised.value.kind == "reset"


def test_a_stalled_body_times_out() -> None:
    with pytest.raises(UpstreamFailure) as raised:
        exchange(lambda _: [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"], hold=True)
    assert raised.value.kind == "timeout"


def test_basic_auth_after_the_challenge() -> None:
    expected = b"Authorization: Basic " + base64.b64encode(b"alice:pw")

    def answer(head: bytes) -> list[bytes]:
        if expected in head:
            return [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
        return [b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="r"\r\nContent-Length: 0\r\n\r\n']

    body, heads = exchange(answer, user="alice")
    assert body == b"ok" and len(heads) == 2


def test_redirects_drop_the_credentials_for_another_origin(tmp_path: Path) -> None:
    """Through the whole proxy: the registry sends the blob's GET to a CDN (another port)."""
    with Rig(tmp_path, auth="basic", users={"alice": "secret"}) as rig, Rig(tmp_path / "cdn") as cdn:
        image = cdn.upstream.add_image("team/app", "v1", layers=[300_000])
        blob = image.blobs[-1]
        cdn_url = f"{cdn.upstream.url}/v2/team/app/blobs/{blob}"
        redirecting = _Redirector(cdn_url)
        proxy = rig.proxy(upstream=redirecting.url, upstream_user="alice", upstream_password="secret")
        with redirecting:
            got = rig.client(proxy).get(f"/v2/team/app/blobs/{blob}")
        assert got.status_code == 200 and sha256(got.content) == blob
        assert [e.auth for e in cdn.upstream_requests("GET", "blob")] == ["none"]
        assert b"Authorization: Basic" in redirecting.heads[-1]


class _Redirector:
    """A registry front that answers 401 Basic without credentials and 307 to `location` with them."""

    def __init__(self, location: str) -> None:
        self.heads: list[bytes] = []
        self._location = location
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> _Redirector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self._sock.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(65536)
                self.heads.append(head)
                if b"Authorization: Basic" in head:
                    answer = f"307 Temporary Redirect\r\nLocation: {self._location}"
                else:
                    answer = '401 Unauthorized\r\nWWW-Authenticate: Basic realm="r"'
                conn.sendall(f"HTTP/1.1 {answer}\r\nContent-Length: 0\r\n\r\n".encode())
