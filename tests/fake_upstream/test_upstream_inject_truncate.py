"""`truncate` cuts a 200's body after `after_bytes`, in one of three ways: a close, a reset, or a stall."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from fake_upstream import FakeUpstream, Fault, FaultError, Image, Match, parse_config
from harness.poll import wait_until

SIZE = 50_000
AFTER = 1000


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


def _connect(upstream: FakeUpstream, path: str, timeout: float) -> socket.socket:
    host = upstream.url.removeprefix("http://")
    name, port = host.split(":")
    sock = socket.create_connection((name, int(port)), timeout=timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock


def _read_until_it_ends(sock: socket.socket) -> tuple[bytes, str]:
    """Everything received, and how the connection ended: "close", "reset" or "silence"."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        except TimeoutError:
            return data, "silence"
        if not chunk:
            return data, "close"
        data += chunk


@pytest.mark.parametrize("how", ["close", "reset"])
def test_the_body_ends_after_the_bytes_asked_for(upstream: FakeUpstream, layer: str, how: str) -> None:
    whole = httpx.get(upstream.url + layer, timeout=5).content
    upstream.add_fault("truncate", Match(kind="blob"), after_bytes=AFTER, how=how)
    with _connect(upstream, layer, timeout=5) as sock:
        data, ended = _read_until_it_ends(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and f"content-length: {SIZE}".encode() in head.lower()
    assert (body, ended) == (whole[:AFTER], how)
    entry = upstream.journal()[-1]
    assert (entry.fault, entry.status, entry.bytes, entry.complete) == ("truncate", 200, AFTER, False)


def test_stall_keeps_the_connection_silent_until_the_fault_is_cleared(upstream: FakeUpstream, layer: str) -> None:
    fault_id = upstream.add_fault("truncate", Match(kind="blob"), after_bytes=AFTER, how="stall")
    with _connect(upstream, layer, timeout=0.5) as sock:
        data, ended = _read_until_it_ends(sock)
        assert ended == "silence" and len(data.partition(b"\r\n\r\n")[2]) == AFTER
        assert upstream.activity("team/app").in_flight == 1
        upstream.clear_faults(fault_id)
        sock.settimeout(5)
        assert _read_until_it_ends(sock) == (b"", "close")
    entry = wait_until(lambda: upstream.activity("team/app").in_flight == 0 and upstream.journal()[-1])
    assert (entry.fault, entry.status, entry.bytes, entry.complete) == ("truncate", 200, AFTER, False)


def test_a_stalled_request_ends_when_its_client_leaves(upstream: FakeUpstream, layer: str) -> None:
    upstream.add_fault("truncate", Match(kind="blob"), after_bytes=0, how="stall")
    with httpx.Client(base_url=upstream.url, timeout=httpx.Timeout(5, read=0.3)) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.get(layer)
    wait_until(lambda: upstream.activity("team/app").in_flight == 0, what="the stalled request to end")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"fault": "truncate", "how": "explode"}, "how must be one of close, reset, stall"),
        ({"fault": "truncate", "how": 1}, "how must be one of"),
        ({"fault": "corrupt", "how": "reset"}, "how applies to truncate only"),
    ],
)
def test_how_is_checked(spec: dict[str, object], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        Fault.from_dict(spec)


def test_the_control_api_and_toml_take_it(upstream: FakeUpstream) -> None:
    with httpx.Client(base_url=upstream.control_url + "/_control", timeout=5) as control:
        made = control.post("/faults", json={"fault": "truncate", "how": "reset", "after_bytes": 5})
        assert made.status_code == 201 and control.get("/faults").json()[0]["how"] == "reset"
        assert upstream.faults()[0][1] == Fault("truncate", after_bytes=5, how="reset")
        assert "how" not in Fault("503").to_dict() and Fault("truncate").to_dict()["how"] == "close"
    config = parse_config({"faults": [{"fault": "truncate", "how": "stall"}]})
    assert config.faults == (Fault("truncate", how="stall"),)
