"""Both servers, all three ports (registry, control API, proxy), under the shared limits (issue 10, items 6-7)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving_helpers import read_all

from fake_upstream import FakeUpstream
from proxy_under_test import ProxyConfig, ReferenceProxy
from serving import Limits

FAST = Limits(head_timeout=0.5, body_timeout=0.5)


@pytest.fixture(scope="module")
def ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    cache = Path(tmp_path_factory.mktemp("cache"))
    with FakeUpstream(limits=FAST) as upstream:
        config = ProxyConfig(upstream=upstream.url, cache_dir=cache, limits=FAST)
        with ReferenceProxy(config) as proxy:
            yield {"registry": upstream.port, "control": upstream.control_port, "proxy": proxy.port}


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        return read_all(sock)[0]


@pytest.mark.parametrize("port", ["registry", "control", "proxy"])
def test_an_oversized_head_is_431(ports: dict[str, int], port: str) -> None:
    answer = _exchange(ports[port], b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431") and b'"SIZE_INVALID"' in answer


@pytest.mark.parametrize("port", ["registry", "control", "proxy"])
def test_a_half_sent_head_is_408(ports: dict[str, int], port: str) -> None:
    assert _exchange(ports[port], b"GET /v2/ HTTP/1.1\r\nHost: x\r\n").startswith(b"HTTP/1.1 408")


def test_the_proxy_keeps_idle_connections_30_s() -> None:
    assert ProxyConfig(upstream="http://x", cache_dir=Path("/tmp")).limits == Limits(keep_alive=30.0)


@pytest.mark.parametrize(
    ("port", "path"),
    [("registry", "/v2/team/app/blobs/uploads/?digest=sha256:" + "0" * 64), ("control", "/_control/faults")],
)
def test_a_half_sent_body_is_dropped_without_a_traceback(
    ports: dict[str, int], port: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    request = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n".encode() + b"{" * 10
    assert _exchange(ports[port], request) == b""  # closed after body_timeout, nothing to answer
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
