"""The nginx target: Debian's nginx as rpardini's caching registry proxy, in front of an anonymous fake upstream."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import need_peer

from fake_upstream import FakeUpstream, Image, Match
from harness.client import Answer, OciClient
from harness.poll import wait_until
from harness.spec import RunSpec, SpecError
from harness.targets import TargetError, UpstreamInfo, make_target
from harness.targets.nginx import NginxTarget

REPOSITORY = "team/app"
CACHE_STATUS = "x-docker-registry-proxy-cache-upstream-status"


@pytest.fixture
def image(upstream: FakeUpstream) -> Image:
    return upstream.add_image(REPOSITORY, "v1", layers=[4096, 300_000])


def started(upstream: FakeUpstream, spec: RunSpec | None = None) -> NginxTarget:
    need_peer("nginx")
    target = NginxTarget(spec or RunSpec(target="nginx"))
    target.start(UpstreamInfo(upstream.url))
    return target


@pytest.fixture
def nginx(upstream: FakeUpstream) -> Iterator[NginxTarget]:
    target = started(upstream)
    try:
        yield target
    finally:
        target.stop()


def pull(target: NginxTarget) -> list[Answer]:
    with OciClient(target.url, timeout=5) as client:
        answers = client.pull(REPOSITORY, "v1")
        assert [answer.status for answer in answers] == [200] * len(answers)
        return answers


def pull_and_settle(target: NginxTarget, image: Image) -> None:
    with OciClient(target.url, timeout=5) as client:
        answers = client.pull(REPOSITORY, "v1")
        assert [answer.body_digest for answer in answers[1:]] == [image.digest, *image.blobs]
        target.settle(client, REPOSITORY, [image.digest, *image.blobs])


def blobs_from_cache(target: NginxTarget, image: Image) -> None:
    with OciClient(target.url, timeout=5) as client:
        for digest in image.blobs:
            answer = client.blob(REPOSITORY, digest)
            assert (answer.status, answer.body_digest, answer.headers[CACHE_STATUS]) == (200, digest, "HIT")


def test_pulls_through_and_caches_what_is_named_by_digest(
    nginx: NginxTarget, upstream: FakeUpstream, image: Image
) -> None:
    pull_and_settle(nginx, image)
    upstream.clear_journal()
    answers = pull(nginx)
    assert [answer.headers[CACHE_STATUS] for answer in answers] == ["MISS", "MISS", "HIT", "HIT", "HIT"]
    # The tag goes upstream every time, and a HEAD goes as a GET (proxy_cache_convert_head).
    assert [(entry.method, entry.path) for entry in upstream.journal()] == [
        ("GET", f"/v2/{REPOSITORY}/manifests/v1"),
        ("GET", f"/v2/{REPOSITORY}/manifests/v1"),
    ]


def test_an_outage_leaves_the_digests_but_not_the_tag(nginx: NginxTarget, upstream: FakeUpstream, image: Image) -> None:
    pull_and_settle(nginx, image)
    upstream.set_outage("refused")
    blobs_from_cache(nginx, image)
    # rpardini's default stores tags with `proxy_cache_valid 0s`, and nginx does not store a 0 s response at all.
    assert httpx.get(f"{nginx.url}/v2/{REPOSITORY}/manifests/v1").status_code == 502


def test_with_manifest_cache_a_tag_is_served_stale_on_errors_but_not_on_503(
    upstream: FakeUpstream, image: Image
) -> None:
    target = started(upstream, RunSpec(target="nginx", nginx_manifest_cache="1s"))
    try:
        pull_and_settle(target, image)
        upstream.set_outage("refused")
        url = f"{target.url}/v2/{REPOSITORY}/manifests/v1"
        with httpx.Client() as http:

            def stale() -> bool:  # a HIT until its second is up, then STALE
                response = http.get(url, headers={"Accept": image.media_type})
                assert response.status_code == 200 and response.headers["docker-content-digest"] == image.digest
                return response.headers[CACHE_STATUS] == "STALE"

            wait_until(stale, timeout=5, what="the tag served stale", interval=0.05)
            upstream.set_outage("none")
            upstream.add_fault("503", Match(kind="manifest"))
            assert http.get(url).status_code == 503
    finally:
        target.stop()


def test_a_kill_and_restart_keeps_the_cache_and_the_port(
    nginx: NginxTarget, upstream: FakeUpstream, image: Image
) -> None:
    pull_and_settle(nginx, image)
    url = nginx.url
    nginx.restart(kill=True)
    assert nginx.url == url
    upstream.set_outage("refused")
    blobs_from_cache(nginx, image)


def test_a_black_holed_upstream_costs_the_declared_timeout(upstream: FakeUpstream, image: Image) -> None:
    target = started(upstream, RunSpec(target="nginx", upstream_timeout=0.5))
    try:
        assert target.upstream_timeout == 0.5
        upstream.add_fault("blackhole", Match(kind="manifest"))
        began = time.monotonic()
        assert httpx.get(f"{target.url}/v2/{REPOSITORY}/manifests/v1", timeout=5).status_code == 504
        assert 0.5 <= time.monotonic() - began < 2.0
    finally:
        target.stop()


def test_concurrent_misses_share_one_upstream_fetch(nginx: NginxTarget, upstream: FakeUpstream, image: Image) -> None:
    layer = image.blobs[-1]
    upstream.add_fault("slow", Match(kind="blob"), rate=1_000_000)

    def get(_: int) -> Answer:
        with OciClient(nginx.url, timeout=10) as client:
            return client.blob(REPOSITORY, layer)

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(get, range(5)))
    assert [(answer.status, answer.body_digest) for answer in answers] == [(200, layer)] * 5
    assert [entry.method for entry in upstream.journal() if entry.kind == "blob"] == ["GET"]


def test_pushes_are_refused_without_going_upstream(nginx: NginxTarget, upstream: FakeUpstream) -> None:
    upstream.clear_journal()
    with httpx.Client(base_url=nginx.url) as http:
        for method, path in [
            ("POST", f"/v2/{REPOSITORY}/blobs/uploads/"),
            ("PATCH", f"/v2/{REPOSITORY}/blobs/uploads/some-session"),
            ("PUT", f"/v2/{REPOSITORY}/manifests/v1"),
            ("DELETE", f"/v2/{REPOSITORY}/manifests/v1"),
        ]:
            assert http.request(method, path, content=b"{}").status_code == 405
    assert upstream.journal() == []


def test_it_starts_while_the_upstream_is_down(upstream: FakeUpstream) -> None:
    upstream.set_outage("refused")
    target = started(upstream)
    try:
        assert httpx.get(f"{target.url}/v2/").status_code == 502
    finally:
        target.stop()


def test_a_missing_binary_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("harness.peers._SBIN", ())  # Debian's nginx is in /usr/sbin, which is always searched
    target = make_target(RunSpec(target="nginx"))
    with pytest.raises(TargetError) as raised:
        target.start(UpstreamInfo("http://127.0.0.1:9"))
    assert str(raised.value) == "nginx is not installed: sudo apt-get install -y nginx"
    assert target.version() is None


def test_bad_options_are_one_line_errors() -> None:
    with pytest.raises(SpecError, match="--nginx-manifest-cache takes an nginx time"):
        RunSpec(target="nginx", nginx_manifest_cache="1 hour; }")
    with pytest.raises(SpecError, match="--upstream-timeout takes a positive number"):
        RunSpec(target="nginx", upstream_timeout=-1)


def test_it_declares_what_it_can_do_and_logs_what_it_did(nginx: NginxTarget, image: Image) -> None:
    assert nginx.capabilities == {"restart", "logs"}
    assert nginx.upstream_timeout == 2.0
    assert re.fullmatch(r"\d+\.\d+\.\d+", nginx.version() or "")
    pull(nginx)
    nginx.stop()
    assert f'"uri":"/v2/{REPOSITORY}/blobs/{image.blobs[-1]}"' in nginx.logs()
