"""The lean blob GET: framing (Content-Length, chunked, close), cut and stalled bodies, redirects without
the credentials, and the upstream's authentication."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from http_checks import sha256
from proxy_checks import Rig

from proxy_under_test._rawget import get_blob
from proxy_under_test._routes import Target
from proxy_under_test._upstream import Upstream, UpstreamFailure

DIGEST = "sha256:" + "d" * 64
Answer = Callable[[bytes], list[bytes]]  # the request's head -> what to send, piece by piece


def exchange(answer: Answer, *, hold: bool = False, user: str | None = None) -> tuple[bytes, list[bytes]]:
    """Serve one scripted answer per connection on loopback; GET the blob; (its body, the request heads)."""
    heads: list[bytes] = []

    async def run() -> bytes:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                for piece in answer(head):
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
            data = b"".join([chunk async for chunk in response.body()])
            response.close()
            return data
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
