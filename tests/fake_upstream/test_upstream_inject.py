"""Every fault of RULES.md's vocabulary, as a real HTTP client sees it."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from http_checks import ACCEPT, oci_error, sha256

from fake_upstream import FakeUpstream, Image, Match
from harness.poll import wait_until

STATUS_CODES = {
    "401": "UNAUTHORIZED",
    "403": "DENIED",
    "429": "TOOMANYREQUESTS",
    "500": "UNKNOWN",
    "502": "UNKNOWN",
    "503": "UNAVAILABLE",
    "504": "UNKNOWN",
}


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[FakeUpstream, Image]]:
    with FakeUpstream() as upstream:
        yield upstream, upstream.add_image("team/app", "v1", layers=[70_000], gzip=False)


@pytest.fixture
def upstream(registry: tuple[FakeUpstream, Image]) -> Iterator[FakeUpstream]:
    """The module's upstream, with no fault armed before or after each test."""
    registry[0].clear_faults()
    registry[0].clear_journal()
    yield registry[0]
    registry[0].clear_faults()


@pytest.fixture
def image(registry: tuple[FakeUpstream, Image]) -> Image:
    return registry[1]


@pytest.fixture
def http(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.url, timeout=5) as client:
        yield client


def _layer_url(image: Image) -> str:
    return f"/v2/team/app/blobs/{image.platforms[0].layers[0].digest}"


@pytest.mark.parametrize("status", sorted(STATUS_CODES))
def test_status_faults_answer_an_oci_error(upstream: FakeUpstream, http: httpx.Client, status: str) -> None:
    upstream.add_fault(status, Match(kind="manifest"), times=2)
    response = http.get("/v2/team/app/manifests/v1", headers=ACCEPT)
    oci_error(response, int(status), STATUS_CODES[status])
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    assert int(response.headers["content-length"]) == len(response.content)
    assert ("www-authenticate" in response.headers) is (status == "401")
    assert ("retry-after" in response.headers) is (status in ("429", "503"))
    if status == "401":
        assert response.headers["www-authenticate"].startswith('Bearer realm="')
    if status in ("429", "503"):
        assert int(response.headers["retry-after"]) > 0
    head = http.head("/v2/team/app/manifests/v1", headers=ACCEPT)
    assert head.status_code == int(status) and head.content == b""
    assert head.headers["content-length"] == response.headers["content-length"]
    assert http.get("/v2/team/app/manifests/v1", headers=ACCEPT).status_code == 200
    assert [e.fault for e in upstream.journal()] == [status, status, None]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v2/team/app/manifests/v1", "MANIFEST_UNKNOWN"),
        ("blob", "BLOB_UNKNOWN"),
        ("/v2/team/app/tags/list", "NAME_UNKNOWN"),
    ],
)
def test_404_names_what_is_unknown(
    upstream: FakeUpstream, http: httpx.Client, image: Image, path: str, code: str
) -> None:
    upstream.add_fault("404")
    oci_error(http.get(_layer_url(image) if path == "blob" else path), 404, code)


def test_plain_text_variants_and_hap429(upstream: FakeUpstream, http: httpx.Client) -> None:
    upstream.add_fault("429", Match(kind="manifest"), times=2, plain=True)
    response = http.get("/v2/team/app/manifests/v1")
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Too Many Requests (HAP429).\n"
    assert http.head("/v2/team/app/manifests/v1").content == b""
    upstream.add_fault("502", plain=True, times=1)
    bad_gateway = http.get("/v2/team/app/tags/list")
    assert bad_gateway.status_code == 502 and bad_gateway.text == "502 bad gateway\n"


def test_token_fail_breaks_only_the_token_endpoint() -> None:
    with FakeUpstream(auth="token") as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_image("library/alpine", "3")
        upstream.add_fault("token-fail", times=1)
        assert http.get("/v2/").status_code == 401  # the fault waits for the token endpoint
        oci_error(http.get("/token", params={"scope": "repository:library/alpine:pull"}), 500, "UNKNOWN")
        assert http.get("/token", params={"scope": "repository:library/alpine:pull"}).status_code == 200
        upstream.add_fault("token-fail", status=401, times=1)
        refused = http.get("/token")
        oci_error(refused, 401, "UNAUTHORIZED")
        upstream.add_fault("token-fail", status=503, times=1)
        assert "retry-after" in http.get("/token").headers
        upstream.add_fault("token-fail", status=418, times=1)
        oci_error(http.get("/token"), 418, "UNKNOWN")
        assert [e.kind for e in upstream.journal() if e.fault == "token-fail"] == ["token"] * 4


def test_head_ok_get_fail(upstream: FakeUpstream, http: httpx.Client, image: Image) -> None:
    upstream.add_fault("head-ok-get-fail", Match(kind="manifest"), times=1)
    head = http.head("/v2/team/app/manifests/v1", headers=ACCEPT)
    assert head.status_code == 200 and head.headers["docker-content-digest"] == image.digest
    oci_error(http.get("/v2/team/app/manifests/v1", headers=ACCEPT), 500, "UNKNOWN")
    assert http.get("/v2/team/app/manifests/v1", headers=ACCEPT).status_code == 200
    upstream.add_fault("head-ok-get-fail", Match(kind="blob"), status=404, times=1)
    assert http.head(_layer_url(image)).status_code == 200
    oci_error(http.get(_layer_url(image)), 404, "BLOB_UNKNOWN")


def test_reset_before_any_answer(upstream: FakeUpstream, http: httpx.Client) -> None:
    upstream.add_fault("reset", Match(kind="manifest"), times=2)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.get("/v2/team/app/manifests/v1")
    host, port = upstream.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET /v2/team/app/manifests/v1 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)  # RST, not an orderly close (which would read b"")
    assert http.get("/v2/team/app/manifests/v1").status_code == 200
    entries = upstream.journal()
    assert [(e.fault, e.status, e.complete) for e in entries] == [("reset", 0, False)] * 2 + [(None, 200, True)]


def test_blackhole_holds_the_request_until_the_client_gives_up(upstream: FakeUpstream, image: Image) -> None:
    upstream.add_fault("blackhole", Match(kind="blob"))
    with httpx.Client(base_url=upstream.url, timeout=httpx.Timeout(5, read=0.3)) as http:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            http.get(_layer_url(image))
        assert 0.3 <= time.monotonic() - started < 3
        assert http.get("/v2/team/app/manifests/v1").status_code == 200  # only blobs are black-holed
    entry = wait_until(lambda: next((e for e in upstream.journal() if e.duration is not None), None))
    assert (entry.fault, entry.status, entry.bytes) == ("blackhole", 0, 0)


def test_clearing_a_blackhole_lets_held_requests_go(upstream: FakeUpstream, image: Image) -> None:
    upstream.add_fault("blackhole")
    host, port = upstream.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {_layer_url(image)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        wait_until(lambda: upstream.journal() or None)
        upstream.clear_faults()
        assert sock.recv(1024) == b""  # released: the connection closes without an answer


@pytest.mark.parametrize("after", [None, 0, 1000, 69_999])
def test_truncate_cuts_the_body_short_under_the_full_content_length(
    upstream: FakeUpstream, http: httpx.Client, image: Image, after: int | None
) -> None:
    layer = image.platforms[0].layers[0]
    upstream.add_fault("truncate", Match(kind="blob"), times=1, after_bytes=after)
    received = b""
    with pytest.raises(httpx.RemoteProtocolError), http.stream("GET", _layer_url(image)) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == layer.size
        assert response.headers["docker-content-digest"] == layer.digest
        for chunk in response.iter_raw():
            received += chunk
    expected = layer.size // 2 if after is None else after
    assert len(received) == expected
    whole = http.get(_layer_url(image)).content
    assert received == whole[:expected] and sha256(whole) == layer.digest
    assert [(e.fault, e.bytes, e.complete) for e in upstream.journal()][0] == ("truncate", expected, False)


def test_no_length_sends_the_right_bytes_chunked(upstream: FakeUpstream, http: httpx.Client, image: Image) -> None:
    layer = image.platforms[0].layers[0]
    upstream.add_fault("no-length", Match(kind="blob"), times=1)
    response = http.get(_layer_url(image))
    assert (response.status_code, response.headers.get("transfer-encoding")) == (200, "chunked")
    assert "content-length" not in response.headers
    assert sha256(response.content) == layer.digest == response.headers["docker-content-digest"]
    assert "content-length" in http.get(_layer_url(image)).headers  # once


def test_truncate_a_manifest(upstream: FakeUpstream, http: httpx.Client, image: Image) -> None:
    upstream.add_fault("truncate", Match(kind="manifest"), times=1, after_bytes=10)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/v2/team/app/manifests/v1", headers=ACCEPT)


@pytest.mark.parametrize("after", [None, 0, 65_536])
def test_corrupt_sends_wrong_bytes_under_the_right_headers(
    upstream: FakeUpstream, http: httpx.Client, image: Image, after: int | None
) -> None:
    layer = image.platforms[0].layers[0]
    whole = http.get(_layer_url(image)).content
    upstream.add_fault("corrupt", Match(kind="blob"), times=1, after_bytes=after)
    response = http.get(_layer_url(image))
    assert response.status_code == 200
    assert response.headers["docker-content-digest"] == layer.digest
    assert int(response.headers["content-length"]) == len(response.content) == layer.size
    assert sha256(response.content) != layer.digest
    differing = [i for i, (a, b) in enumerate(zip(response.content, whole, strict=True)) if a != b]
    assert differing == [layer.size // 2 if after is None else after]


def test_corrupt_a_manifest(upstream: FakeUpstream, http: httpx.Client, image: Image) -> None:
    upstream.add_fault("corrupt", Match(kind="manifest"), times=1)
    response = http.get("/v2/team/app/manifests/v1", headers=ACCEPT)
    assert response.headers["docker-content-digest"] == image.digest != sha256(response.content)
    assert len(response.content) == image.size


def test_slow_limits_the_bandwidth(upstream: FakeUpstream, http: httpx.Client, image: Image) -> None:
    config = image.platforms[0].config
    rate = config.size  # about a second for the whole body: far from a loaded machine's jitter
    upstream.add_fault("slow", Match(kind="blob", reference=config.digest), rate=rate, times=1)
    started = time.monotonic()
    response = http.get(f"/v2/team/app/blobs/{config.digest}")
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and sha256(response.content) == config.digest
    assert 0.9 <= elapsed < 5, elapsed
    started = time.monotonic()
    http.get(f"/v2/team/app/blobs/{config.digest}")
    assert time.monotonic() - started < 0.9


def test_matching_by_method_kind_repository_and_reference(upstream: FakeUpstream, http: httpx.Client) -> None:
    other = upstream.add_image("team/other", "v1")
    upstream.add_image("elsewhere/app", "v1")
    upstream.add_fault("503", Match(method="HEAD", kind="manifest", repository="team/*", reference="v1"))
    assert http.head("/v2/team/app/manifests/v1").status_code == 503
    assert http.head("/v2/team/other/manifests/v1").status_code == 503
    assert http.get("/v2/team/app/manifests/v1").status_code == 200  # method
    assert http.head(f"/v2/team/other/manifests/{other.digest}").status_code == 200  # reference
    assert http.head("/v2/elsewhere/app/manifests/v1").status_code == 200  # repository
    assert http.head("/v2/team/app/tags/list").status_code != 503  # kind
    upstream.delete_repository("team/other")
    upstream.delete_repository("elsewhere/app")


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("ping", "/v2/"),
        ("tags", "/v2/team/app/tags/list"),
        ("catalog", "/v2/_catalog"),
        ("referrers", "/v2/team/app/referrers/sha256:" + "0" * 64),
        ("token", "/token"),
    ],
)
def test_every_kind_can_be_faulted(upstream: FakeUpstream, http: httpx.Client, kind: str, path: str) -> None:
    upstream.add_fault("502", Match(kind=kind), times=1)  # type: ignore[arg-type]
    assert http.get(path).status_code == 502
    assert http.get(path).status_code == 200


def test_times_and_a_seeded_fraction_over_http(upstream: FakeUpstream, http: httpx.Client) -> None:
    upstream.add_fault("500", Match(kind="manifest"), times=2)
    assert [http.get("/v2/team/app/manifests/v1").status_code for _ in range(3)] == [500, 500, 200]
    assert upstream.faults() == []

    def statuses() -> list[int]:
        upstream.clear_faults()
        upstream.add_fault("503", Match(kind="manifest"), fraction=0.5, seed=11)
        return [http.get("/v2/team/app/manifests/v1").status_code for _ in range(16)]

    first = statuses()
    assert first == statuses()
    assert set(first) == {200, 503}


def test_faults_listed_with_what_remains(upstream: FakeUpstream) -> None:
    fault_id = upstream.add_fault("504", Match(kind="blob"), times=3)
    [(listed_id, fault)] = upstream.faults()
    assert listed_id == fault_id and fault.fault == "504" and fault.times == 3
    assert json.loads(json.dumps(fault.to_dict()))["match"] == {"kind": "blob"}
    assert re.fullmatch(r"f\d+", fault_id)
    upstream.clear_faults(fault_id)
    assert upstream.faults() == []
