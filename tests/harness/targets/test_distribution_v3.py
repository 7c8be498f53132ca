"""The distribution target running a v3 registry (built from source): the v3 configuration, environment and settle.

Runs when PULLTHROUGH_DISTRIBUTION_V3 names the program; skipped without it (CI has only Debian's 2.8).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_built_peer

from fake_upstream import FakeUpstream, Image, Match
from harness.client import OciClient
from harness.spec import RunSpec
from harness.targets import UpstreamInfo
from harness.targets.distribution import DistributionTarget, major_version

REPOSITORY = "team/app"
USER = "alice"
PASSWORD = "s3cret"


@pytest.fixture
def locked_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(auth="token", users={USER: PASSWORD}) as fake:
        yield fake


@pytest.fixture
def image(locked_upstream: FakeUpstream) -> Image:
    return locked_upstream.add_image(REPOSITORY, "v1", layers=[4096, 300_000])


@pytest.fixture
def registry(locked_upstream: FakeUpstream) -> Iterator[DistributionTarget]:
    target = DistributionTarget(RunSpec(target="distribution", peer_binary=need_built_peer("distribution-v3")))
    target.start(UpstreamInfo(locked_upstream.url, USER, PASSWORD))
    try:
        yield target
    finally:
        target.stop()


def test_it_is_a_v3_run_with_its_own_keys_and_no_trace_export(registry: DistributionTarget) -> None:
    assert major_version(registry.version()) == 3
    config = (registry.storage.parent / "config.yml").read_text()
    assert "  ttl: 168h\n" in config and "secret:" not in config
    pid = registry._running().pid
    assert b"OTEL_TRACES_EXPORTER=none" in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


def test_it_logs_in_upstream_and_fetches_a_cold_blob_once(
    registry: DistributionTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    with OciClient(registry.url, timeout=10) as client:
        answers = client.pull(REPOSITORY, "v1")
        assert [answer.status for answer in answers] == [200] * len(answers)
        settled = registry.settle(client, REPOSITORY, [image.digest, *image.blobs])
    assert settled.complete
    journal = locked_upstream.journal()
    tokens = [entry for entry in journal if entry.kind == "token"]
    assert tokens and all(entry.auth == "basic" and entry.client == USER for entry in tokens)
    for blob in image.blobs:  # 2.8 fetched each twice; v3 tees one fetch to the client and the cache
        assert sum(1 for e in journal if e.method == "GET" and e.reference == blob) == 1
    assert "ttl=167h" in registry.logs()  # its scheduler took the TTL from the config


def test_a_failed_commit_settles_at_once_and_caches_nothing(
    registry: DistributionTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    layer = image.blobs[-1]
    locked_upstream.add_fault("corrupt", Match(kind="blob", reference=layer))
    with OciClient(registry.url, timeout=10) as client:
        client.blob(REPOSITORY, layer)
        settled = registry.settle(client, REPOSITORY, [layer])
    assert settled.complete and settled.waited < 5, settled
    assert "canonical digest does match provided digest" in registry.logs()  # v3's words for it (sic)
    assert registry.unverified() == []
    assert not registry._committed(REPOSITORY, layer)


def test_serves_the_cached_tag_while_the_upstream_refuses(
    registry: DistributionTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    with OciClient(registry.url, timeout=10) as client:
        client.pull(REPOSITORY, "v1")
        registry.settle(client, REPOSITORY, [image.digest, *image.blobs])
        locked_upstream.set_outage("refused")
        answers = client.pull(REPOSITORY, "v1")
    assert [answer.body_digest for answer in answers[1:]] == [image.digest, *image.blobs]
