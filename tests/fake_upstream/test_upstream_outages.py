"""Connection-level outages of the whole registry port, switched at run time; the control port stays up."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from functools import partial

import httpx
import pytest
from http_checks import ACCEPT

from fake_upstream import OUTAGES, FakeUpstream, JournalEntry, Outage
from harness.poll import wait_until


@pytest.fixture(scope="module")
def shared() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        upstream.add_image("team/app", "v1")
        yield upstream


@pytest.fixture
def upstream(shared: FakeUpstream) -> Iterator[FakeUpstream]:
    shared.clear_journal()
    yield shared
    shared.set_outage("none")


def _address(upstream: FakeUpstream) -> tuple[str, int]:
    return upstream.host, upstream.port


def _healthy(upstream: FakeUpstream) -> None:
    with httpx.Client(base_url=upstream.url, timeout=5) as http:
        assert http.get("/v2/team/app/manifests/v1", headers=ACCEPT).status_code == 200


def _control_answers(upstream: FakeUpstream) -> None:
    assert httpx.get(f"{upstream.control_url}/_control/", timeout=5).json()["outage"] == upstream.outage


def test_outage_names() -> None:
    assert set(OUTAGES) == {"none", "refused", "reset", "blackhole"}


def test_refused_closes_the_port(upstream: FakeUpstream) -> None:
    upstream.set_outage("refused")
    assert upstream.outage == "refused"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(_address(upstream), timeout=5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{upstream.url}/v2/", timeout=5)
    _control_answers(upstream)
    upstream.set_outage("none")
    _healthy(upstream)


def test_reset_resets_each_connection_at_its_first_bytes(upstream: FakeUpstream) -> None:
    upstream.set_outage("reset")
    with socket.create_connection(_address(upstream), timeout=5) as sock:  # the handshake succeeds
        sock.sendall(b"GET /v2/team/app/manifests/v1 HTTP/1.1\r\nHost: x\r\nUser-Agent: probe\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(f"{upstream.url}/v2/", timeout=5)
    _control_answers(upstream)
    upstream.set_outage("none")
    _healthy(upstream)


def test_blackhole_accepts_and_never_answers(upstream: FakeUpstream) -> None:
    upstream.set_outage("blackhole")
    with socket.create_connection(_address(upstream), timeout=5):
        pass  # accepted
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{upstream.url}/v2/", timeout=httpx.Timeout(5, read=0.3))
    assert time.monotonic() - started < 3
    _control_answers(upstream)
    upstream.set_outage("none")
    _healthy(upstream)


def test_held_connections_are_dropped_when_the_blackhole_ends(upstream: FakeUpstream) -> None:
    upstream.set_outage("blackhole")
    with socket.create_connection(_address(upstream), timeout=5) as sock:
        sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: upstream.journal() or None)
        upstream.set_outage("none")
        try:
            assert sock.recv(1024) == b"", "closed without an answer"
        except ConnectionResetError:
            pass  # or reset: either way the held connection ends


@pytest.mark.parametrize("mode", ["refused", "reset", "blackhole"])
def test_an_outage_ends_open_keep_alive_connections(upstream: FakeUpstream, mode: str) -> None:
    with httpx.Client(base_url=upstream.url, timeout=httpx.Timeout(5, read=0.3)) as http:
        assert http.get("/v2/").status_code == 200
        upstream.set_outage(mode)  # type: ignore[arg-type]
        with pytest.raises(httpx.TransportError):
            http.get("/v2/")
        upstream.set_outage("none")
        assert http.get("/v2/").status_code == 200


def test_the_journal_shows_what_an_outage_swallowed(upstream: FakeUpstream) -> None:
    modes: tuple[Outage, ...] = ("reset", "blackhole")
    for mode in modes:
        upstream.set_outage(mode)
        with socket.create_connection(_address(upstream), timeout=5) as sock:
            sock.sendall(
                b"HEAD /v2/team/app/manifests/v1?ns=docker.io HTTP/1.1\r\nHost: x\r\nUser-Agent: probe\r\n\r\n"
            )
            wait_until(partial(_journaled, upstream, mode))
    upstream.set_outage("refused")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(_address(upstream), timeout=5)
    upstream.set_outage("none")
    entries = upstream.journal()
    assert [(e.outage, e.method, e.kind, e.repository, e.reference, e.status) for e in entries] == [
        ("reset", "HEAD", "manifest", "team/app", "v1", 0),
        ("blackhole", "HEAD", "manifest", "team/app", "v1", 0),
    ]
    assert entries[0].path == "/v2/team/app/manifests/v1?ns=docker.io" and entries[0].user_agent == "probe"


def test_non_http_bytes_into_an_outage_are_not_journaled(upstream: FakeUpstream) -> None:
    upstream.set_outage("reset")
    with socket.create_connection(_address(upstream), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")  # a TLS ClientHello's first bytes
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    assert upstream.journal() == []


def _journaled(upstream: FakeUpstream, mode: str) -> list[JournalEntry] | None:
    return [entry for entry in upstream.journal() if entry.outage == mode] or None


def test_switching_is_idempotent_and_checked(upstream: FakeUpstream) -> None:
    modes: tuple[Outage, ...] = ("refused", "refused", "reset", "blackhole", "refused", "none", "none")
    for mode in modes:
        upstream.set_outage(mode)
        assert upstream.outage == mode
    _healthy(upstream)
    with pytest.raises(ValueError, match="outage must be one of"):
        upstream.set_outage("flaky")  # type: ignore[arg-type]
    assert upstream.outage == "none"
