"""One pull as docker does it, judged against the plan: pointed at the fake upstream itself, which lies on command."""

from __future__ import annotations

from fake_upstream import FakeUpstream, Match
from harness.client import OciClient
from harness.soak.plan import PlanImage
from harness.soak.pulling import pull
from reports.model import Kind


def _image(upstream: FakeUpstream, platforms: list[str] | None = None) -> PlanImage:
    made = upstream.add_image("soak/r0", "t0", layers=[3000, 200_000], platforms=platforms)
    return PlanImage.from_image(made, "soak/r0")


def test_a_healthy_pull_gets_every_piece_verified(upstream: FakeUpstream) -> None:
    image = _image(upstream, ["linux/amd64", "linux/arm64"])
    with OciClient(upstream.url, timeout=5) as client:
        steps = list(pull(client, image))
        assert client.raw_answers == []  # nothing kept between pulls
    assert [step.name for step in steps] == [
        "HEAD manifest by tag",
        "GET manifest by tag",
        "GET manifest by digest",
        "GET blob",
        "GET blob",
        "GET blob",
    ]
    assert all(step.ok for step in steps)


def test_wrong_bytes_are_seen_and_the_pull_stops(upstream: FakeUpstream) -> None:
    image = _image(upstream)
    upstream.add_fault("corrupt", Match(kind="blob", reference=image.blobs[1].digest))
    with OciClient(upstream.url, timeout=5) as client:
        steps = list(pull(client, image))
    assert [step.observation.kind for step in steps[-2:]] == [Kind.SERVED, Kind.WRONG_BYTES]
    assert len(steps) == 4  # the second layer is never asked for


def test_a_cleanly_short_body_is_seen(upstream: FakeUpstream) -> None:
    image = _image(upstream)
    upstream.add_fault("wrong-length", Match(method="GET", kind="blob"), delta=-10)
    with OciClient(upstream.url, timeout=5) as client:
        steps = list(pull(client, image))
    assert steps[-1].observation.kind == Kind.SHORT


def test_a_stall_mid_body_is_a_hang_within_t(upstream: FakeUpstream) -> None:
    image = _image(upstream)
    upstream.add_fault("truncate", Match(kind="blob"), how="stall", after_bytes=100)
    with OciClient(upstream.url, timeout=0.5) as client:
        steps = list(pull(client, image))
    assert steps[-1].observation.kind == Kind.HANG
    assert not steps[-1].ok and steps[-1].ended > steps[-1].started
