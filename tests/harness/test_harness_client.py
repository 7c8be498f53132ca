"""The OCI client against a real registry (the fake upstream) on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_upstream import FakeUpstream, Match
from harness.client import OciClient
from harness.observe import classify
from reports.model import Kind


@pytest.fixture(scope="module")
def token_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(auth="token", users={"alice": "wonderland"}) as fake:
        yield fake


def test_pull_resolves_the_platform_and_verifies_every_digest(token_upstream: FakeUpstream) -> None:
    image = token_upstream.add_image(
        "client/multi", "v1", layers=[2048, 9000], platforms=["linux/amd64", "linux/arm64/v8"]
    )
    with OciClient(token_upstream.url, timeout=5, username="alice", password="wonderland") as client:
        answers = client.pull("client/multi", "v1", "linux/arm64/v8")
    arm = image.platform("linux/arm64/v8")
    fetched = [a.body_digest for a in answers[1:]]
    assert fetched == [image.digest, arm.manifest, arm.config.digest, *(layer.digest for layer in arm.layers)]
    assert all(a.status == 200 and a.complete for a in answers)


def test_token_auth_against_the_registry_is_followed_and_recorded(token_upstream: FakeUpstream) -> None:
    token_upstream.add_image("client/auth", "v1")
    with OciClient(token_upstream.url, timeout=5, username="alice", password="wonderland") as client:
        answer = client.manifest("client/auth", "v1")
        assert answer.status == 200
        statuses = [exchange.status for exchange in client.exchanges]
        assert statuses == [401, 200, 200]  # challenge, token, retried request
        assert all("wonderland" not in str(exchange) for exchange in client.exchanges)
        assert client.exchanges[2].request_headers["Authorization"].endswith("REDACTED")


def test_hang_refusal_and_cut_bodies_are_told_apart(upstream: FakeUpstream) -> None:
    image = upstream.add_image("client/faults", "v1", layers=[200_000])
    layer = image.platforms[0].layers[0].digest
    size = image.platforms[0].layers[0].size
    with OciClient(upstream.url, timeout=0.5) as client:
        upstream.add_fault("truncate", Match(kind="blob"), times=1)
        assert classify(client.blob("client/faults", layer), asked=layer, size=size).kind == Kind.ABORTED
        upstream.add_fault("truncate", Match(kind="blob"), times=1, how="reset")
        assert classify(client.blob("client/faults", layer), asked=layer, size=size).kind == Kind.ABORTED
        upstream.add_fault("truncate", Match(kind="blob"), times=1, how="stall")
        stalled = client.blob("client/faults", layer)
        assert stalled.status == 200 and classify(stalled, asked=layer, size=size).kind == Kind.HANG
        upstream.add_fault("wrong-length", Match(kind="blob"), times=1, delta=-1000)
        assert classify(client.blob("client/faults", layer), asked=layer, size=size).kind == Kind.SHORT
        upstream.add_fault("blackhole", Match(kind="blob"), times=1)
        assert classify(client.blob("client/faults", layer)).kind == Kind.HANG
        upstream.set_outage("refused")
        assert classify(client.blob("client/faults", layer)).label == "connection-error(refused)"


def test_raw_paths_reach_the_server_unnormalised(upstream: FakeUpstream) -> None:
    with OciClient(upstream.url, timeout=5) as client:
        client.request("GET", "/v2/../etc/manifests/x", raw_path=True)
    assert upstream.journal()[-1].path == "/v2/../etc/manifests/x"
