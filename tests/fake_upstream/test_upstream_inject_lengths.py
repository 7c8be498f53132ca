"""`wrong-length`: a 200 whose Content-Length is the true size plus `delta`, too long or too short."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from http_checks import ACCEPT, oci_error, raw_request, sha256

from fake_upstream import FakeUpstream, Fault, FaultError, Image, Match, parse_config

SIZE = 10_000


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[FakeUpstream, Image]]:
    with FakeUpstream() as upstream:
        yield upstream, upstream.add_image("team/app", "v1", layers=[SIZE], gzip=False)


@pytest.fixture
def upstream(registry: tuple[FakeUpstream, Image]) -> Iterator[FakeUpstream]:
    registry[0].clear_faults()
    yield registry[0]
    registry[0].clear_faults()


@pytest.fixture
def layer(registry: tuple[FakeUpstream, Image]) -> str:
    return f"/v2/team/app/blobs/{registry[1].platforms[0].layers[0].digest}"


def _pipelined(upstream: FakeUpstream, path: str) -> bytes:
    """A GET of `path`, then a ping, on one connection: everything the server sent until it closed."""
    host = upstream.url.removeprefix("http://")
    name, port = host.split(":")
    first = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"
    second = f"GET /v2/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((name, int(port)), timeout=5) as sock:
        sock.sendall((first + second).encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize("delta", [1, 5000])
def test_too_long_sends_every_byte_then_closes(upstream: FakeUpstream, layer: str, delta: int) -> None:
    upstream.add_fault("wrong-length", Match(kind="blob"), delta=delta)
    status, headers, body = raw_request(upstream.url, layer)  # reads until the declared length or the close
    assert status == 200 and int(headers["content-length"]) == SIZE + delta
    assert len(body) == SIZE and sha256(body) == headers["docker-content-digest"]
    with httpx.Client(base_url=upstream.url, timeout=5) as http, pytest.raises(httpx.RemoteProtocolError):
        http.get(layer)  # every client sees a transfer that ended short
    [entry, _] = upstream.journal(after=upstream.cursor() - 2)
    assert (entry.fault, entry.bytes, entry.complete) == ("wrong-length", SIZE, False)


@pytest.mark.parametrize("delta", [-1, -4000, -SIZE, -SIZE - 10])
def test_too_short_ends_cleanly_and_keeps_the_connection(upstream: FakeUpstream, layer: str, delta: int) -> None:
    upstream.add_fault("wrong-length", Match(kind="blob"), delta=delta)
    declared = max(0, SIZE + delta)
    with httpx.Client(base_url=upstream.url, timeout=5) as http:
        whole = http.get(layer, headers={"Range": "bytes=0-"})  # a 206, not a 200: untouched
        assert whole.status_code == 206 and len(whole.content) == SIZE
        response = http.get(layer)
        assert response.status_code == 200 and int(response.headers["content-length"]) == declared
        assert response.content == whole.content[:declared]
    # The connection serves the next request: the short answer ended cleanly, right after its declared bytes.
    head, _, rest = _pipelined(upstream, layer).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and f"content-length: {declared}".encode() in head.lower()
    assert rest[:declared] == whole.content[:declared] and rest[declared:].startswith(b"HTTP/1.1 200")
    entry = upstream.journal(after=upstream.cursor() - 4)[1]
    assert (entry.fault, entry.bytes, entry.complete, entry.status) == ("wrong-length", declared, True, 200)


@pytest.mark.parametrize("delta", [3, -3])
def test_head_declares_the_same_wrong_length(upstream: FakeUpstream, delta: int) -> None:
    with httpx.Client(base_url=upstream.url, timeout=5) as http:
        true_size = len(http.get("/v2/team/app/manifests/v1", headers=ACCEPT).content)
        upstream.add_fault("wrong-length", Match(kind="manifest"), delta=delta)
        head = http.head("/v2/team/app/manifests/v1", headers=ACCEPT)
        assert head.status_code == 200 and int(head.headers["content-length"]) == true_size + delta
        assert http.get("/v2/").status_code == 200  # a HEAD is never cut
    assert upstream.journal()[-2].fault == "wrong-length"


def test_error_answers_are_left_alone(upstream: FakeUpstream) -> None:
    upstream.add_fault("wrong-length", delta=100)
    with httpx.Client(base_url=upstream.url, timeout=5) as http:
        missing = http.get("/v2/team/app/manifests/nope", headers=ACCEPT)
        oci_error(missing, 404, "MANIFEST_UNKNOWN")


@pytest.mark.parametrize("spec", [{}, {"delta": 0}, {"delta": "1"}, {"delta": 1.5}, {"delta": True}])
def test_a_delta_is_a_non_zero_integer(spec: dict[str, object]) -> None:
    with pytest.raises(FaultError, match="delta"):
        Fault.from_dict({"fault": "wrong-length", **spec})


def test_the_control_api_and_toml_take_it(upstream: FakeUpstream) -> None:
    with httpx.Client(base_url=upstream.control_url + "/_control", timeout=5) as control:
        made = control.post("/faults", json={"fault": "wrong-length", "match": {"kind": "blob"}, "delta": -7})
        assert made.status_code == 201
        assert upstream.faults() == [(made.json()["id"], Fault("wrong-length", Match(kind="blob"), delta=-7))]
        assert control.get("/faults").json()[0]["delta"] == -7
        refused = control.post("/faults", json={"fault": "wrong-length"})
        assert refused.status_code == 400 and "delta" in refused.json()["error"]
    config = parse_config({"faults": [{"fault": "wrong-length", "delta": 12, "match": {"kind": "blob"}}]})
    assert config.faults == (Fault("wrong-length", Match(kind="blob"), delta=12),)
