"""Cold blobs: verified before they complete or land (INTEG-CORRUPT/TRUNCATE/LENGTH), cut visibly when they
cannot complete (COLD-NEVER-PARTIAL), fetched once (ECON-ONCE) and shared by concurrent clients (ECON-COALESCE)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import httpx
import pytest
from http_checks import ACCEPT, oci_error, sha256
from proxy_checks import TIMEOUT, Rig, rule_test, timed

from fake_upstream import Match
from harness.poll import wait_until
from proxy_under_test._fetch import BlobFetch
from proxy_under_test._spool import Spool
from proxy_under_test._upstream import parse_length

_HOP = frozenset({b"content-length", b"transfer-encoding", b"connection", b"keep-alive"})


def attempt(client: httpx.Client, path: str) -> tuple[int, bytes, dict[str, str]] | None:
    """(status, body, headers), or None when the transfer failed visibly."""
    try:
        got = client.get(path)
    except httpx.TransportError:
        return None
    return got.status_code, got.content, dict(got.headers)


def never_wrong(result: tuple[int, bytes, dict[str, str]] | None, digest: str) -> None:
    assert result is None or result[0] != 200 or sha256(result[1]) == digest, "a 200 with bytes that are not the blob"


@rule_test("INTEG-CORRUPT", "no-digest-verify")
def test_corrupt_bytes_never_complete_and_are_not_cached(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[300_000])
        layer = image.blobs[-1]
        rig.upstream.add_fault("corrupt", Match(method="GET", kind="blob"), times=1)
        never_wrong(attempt(client, f"/v2/team/app/blobs/{layer}"), layer)
        rig.upstream.set_outage("refused")
        never_wrong(attempt(client, f"/v2/team/app/blobs/{layer}"), layer)
        oci_error(client.get(f"/v2/team/app/blobs/{layer}"), 502)
        rig.upstream.set_outage("none")
        assert sha256(client.get(f"/v2/team/app/blobs/{layer}").content) == layer


@pytest.mark.parametrize("reference", ["tag", "digest"])
def test_corrupt_manifests_are_refused(tmp_path: Path, reference: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        image = rig.upstream.add_image("team/app", "v1")
        name = "v1" if reference == "tag" else image.digest
        rig.upstream.add_fault("corrupt", Match(method="GET", kind="manifest"), times=1)
        message = oci_error(client.get(f"/v2/team/app/manifests/{name}", headers=ACCEPT), 502, "UNAVAILABLE")
        assert "do not match" in message
        assert sha256(client.get(f"/v2/team/app/manifests/{name}", headers=ACCEPT).content) == image.digest


@rule_test("INTEG-TRUNCATE", "cache-truncated")
@pytest.mark.parametrize("after", [0, 150_000])
def test_a_cut_short_body_fails_visibly_and_is_not_cached(tmp_path: Path, defects: frozenset[str], after: int) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[300_000])
        layer = image.blobs[-1]
        rig.upstream.add_fault("truncate", Match(method="GET", kind="blob"), times=1, after_bytes=after)
        first = attempt(client, f"/v2/team/app/blobs/{layer}")
        assert first is None or first[0] != 200, "the cut-short transfer completed"
        rig.upstream.set_outage("refused")
        never_wrong(attempt(client, f"/v2/team/app/blobs/{layer}"), layer)
        rig.upstream.set_outage("none")
        assert sha256(client.get(f"/v2/team/app/blobs/{layer}").content) == layer


def test_content_length_is_the_truth_when_the_upstream_sends_none(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        image = rig.upstream.add_image("team/app", "v1", layers=[300_000])
        rig.upstream.add_fault("no-length")  # the right bytes, chunked, no Content-Length
        for path in [f"blobs/{image.blobs[-1]}", f"manifests/{image.digest}", f"blobs/{image.blobs[0]}"]:
            result = attempt(client, f"/v2/team/app/{path}")
            assert result is not None and result[0] == 200, result and result[0]
            status, body, headers = result
            assert sha256(body) == path.split("/")[1]
            assert headers.get("content-length") in (None, str(len(body))), headers.get("content-length")
        assert all(e.fault == "no-length" for e in rig.upstream_requests("GET"))


@rule_test("INTEG-LENGTH", "forward-upstream-length")
@pytest.mark.parametrize("size", [300_000, 3 << 20], ids=["answered-whole", "streamed"])
@pytest.mark.parametrize("delta", [1000, -1000], ids=["longer", "shorter"])
def test_an_upstream_lying_about_length_never_makes_the_proxy_lie(
    tmp_path: Path, defects: frozenset[str], size: int, delta: int
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[size], gzip=False)
        layer = image.blobs[-1]
        rig.upstream.add_fault("wrong-length", Match(kind="blob"), delta=delta)
        with client.stream("GET", f"/v2/team/app/blobs/{layer}") as response:
            declared = response.headers.get("content-length")
            if response.status_code == 200:
                assert declared in (None, str(size)), f"Content-Length {declared} for a blob of {size} bytes"
            try:
                body, whole = response.read(), True
            except httpx.TransportError:
                body, whole = b"", False
        if delta > 0:  # every byte of the blob came: the digest says so, whatever the length claimed
            assert response.status_code == 200 and whole and sha256(body) == layer
            rig.upstream.set_outage("refused")  # and it was cached
            got = client.get(f"/v2/team/app/blobs/{layer}")
            assert got.status_code == 200 and sha256(got.content) == layer
            assert got.headers["content-length"] == str(size)
        else:
            assert not (response.status_code == 200 and whole), f"a {len(body)}-byte body ended cleanly"


@rule_test("COLD-NEVER-PARTIAL", "stall-after-headers")
@pytest.mark.parametrize("size", [300_000, 3 << 20], ids=["answered-whole", "streamed"])
@pytest.mark.parametrize("fault", ["truncate", "corrupt"])
def test_a_body_that_cannot_complete_ends_visibly_and_in_time(
    tmp_path: Path, defects: frozenset[str], size: int, fault: str
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects), timeout=TIMEOUT + 1)
        image = rig.upstream.add_image("team/app", "v1", layers=[size], gzip=False)
        layer = image.blobs[-1]
        rig.upstream.add_fault(fault, Match(method="GET", kind="blob"), times=1)
        with timed(TIMEOUT + 1):  # a silent connection makes the client time out: an AssertionError here
            try:
                got = client.get(f"/v2/team/app/blobs/{layer}")
            except httpx.TimeoutException:
                raise
            except httpx.TransportError:
                return  # visibly cut
        assert got.status_code != 200, "a body that could not be right completed"
        oci_error(got, 502)


@rule_test("ECON-ONCE", "fetch-twice")
def test_a_cold_blob_is_fetched_once(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[300_000])
        layer = image.blobs[-1]
        assert sha256(client.get(f"/v2/team/app/blobs/{layer}").content) == layer
        assert sha256(client.get(f"/v2/team/app/blobs/{layer}").content) == layer
        assert len(rig.upstream_requests("GET", "blob")) == 1


@rule_test("ECON-COALESCE", "no-coalesce")
def test_concurrent_cold_gets_share_one_fetch(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        proxy = rig.proxy(defects)
        image = rig.upstream.add_image("team/app", "v1", layers=[1 << 20])
        layer = image.blobs[-1]
        rig.upstream.add_fault("slow", Match(method="GET", kind="blob"), rate=8 << 20)

        async def pull_all() -> list[str]:
            async with httpx.AsyncClient(base_url=proxy.url, timeout=10, limits=httpx.Limits(max_connections=20)) as c:
                answers = await asyncio.gather(*(c.get(f"/v2/team/app/blobs/{layer}") for _ in range(20)))
            return [sha256(a.content) if a.status_code == 200 else str(a.status_code) for a in answers]

        assert asyncio.run(pull_all()) == [layer] * 20
        assert len(rig.upstream_requests("GET", "blob")) == 1


def test_a_client_leaving_does_not_stop_the_fetch(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        proxy = rig.proxy()
        image = rig.upstream.add_image("team/app", "v1", layers=[1 << 20])
        layer = image.blobs[-1]
        rig.upstream.add_fault("slow", Match(method="GET", kind="blob"), rate=4 << 20, times=1)
        with (
            httpx.Client(base_url=proxy.url, timeout=10) as leaving,
            leaving.stream("GET", f"/v2/team/app/blobs/{layer}") as response,
        ):
            assert response.status_code == 200
            next(response.iter_raw())
        wait_until(lambda: all(e.complete for e in rig.upstream_requests("GET", "blob")), what="the fetch to end")
        rig.upstream.set_outage("refused")
        got = rig.client(proxy).get(f"/v2/team/app/blobs/{layer}")
        assert got.status_code == 200 and sha256(got.content) == layer


def test_a_client_that_stops_reading_does_not_hold_the_fetch(tmp_path: Path) -> None:
    """The fetch keeps pace with its fastest reader, but not with one that stands still (PACE_WAIT)."""
    with Rig(tmp_path) as rig:
        proxy = rig.proxy()
        image = rig.upstream.add_image("team/app", "v1", layers=[48 << 20])  # far more than AHEAD and the sockets
        layer = image.blobs[-1]
        with (
            httpx.Client(base_url=proxy.url, timeout=30) as stalled,
            stalled.stream("GET", f"/v2/team/app/blobs/{layer}") as response,
        ):
            assert response.status_code == 200
            chunks = response.iter_raw()  # kept: a dropped iterator would close the connection
            next(chunks)  # then reads nothing more, and stays connected
            wait_until(lambda: _fetched(rig), what="the fetch to end", timeout=20)
        rig.upstream.set_outage("refused")
        got = rig.client(proxy).get(f"/v2/team/app/blobs/{layer}")
        assert got.status_code == 200 and sha256(got.content) == layer


def test_a_finished_fetch_frees_its_memory_without_the_garbage_collector(tmp_path: Path) -> None:
    """A reference cycle would keep each fetch's window (megabytes) alive until the collector runs."""
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        image = rig.upstream.add_image("team/app", "v1", layers=[3 << 20])
        gc.collect()
        gc.disable()
        try:
            assert sha256(client.get(f"/v2/team/app/blobs/{image.blobs[-1]}").content) == image.blobs[-1]
            wait_until(lambda: not _alive(BlobFetch), what="the fetch to end")
            assert not _alive(Spool)
        finally:
            gc.enable()


def _fetched(rig: Rig) -> bool:
    gets = rig.upstream_requests("GET", "blob")
    return bool(gets) and all(e.complete for e in gets)


def _alive(kind: type) -> bool:
    return any(isinstance(o, kind) for o in gc.get_objects())


@pytest.mark.parametrize(
    ("header", "length"),
    [("300000", 300_000), ("0", 0), (None, None), ("\u00b2", None), ("9" * 5000, None), ("-1", None), ("1 2", None)],
)
def test_an_upstream_length_is_read_only_when_it_is_a_number(header: str | None, length: int | None) -> None:
    """Latin-1 headers can hold "²", which passes str.isdigit() and fails int(); so do 5,000 digits."""
    assert parse_length(header) == length
