"""The soak's plan: who pulls what, from the seed alone."""

from __future__ import annotations

from fake_upstream import FakeUpstream
from harness.soak.plan import Plan, make_images, repository_count


def _plan(upstream: FakeUpstream, *, seed: int = 7, users: int = 3, pulls: int = 20, images: int = 9) -> Plan:
    made = make_images(upstream, count=images, seed=seed, namespace="soak/t", path=lambda name: f"proxy/{name}")
    return Plan("http://127.0.0.1:1", 3.0, seed, users, pulls, tuple(made))


def test_the_quotas_add_up_to_the_pulls(upstream: FakeUpstream) -> None:
    plan = _plan(upstream, users=3, pulls=20)
    assert [plan.quota(slot) for slot in range(3)] == [7, 7, 6]
    assert sum(len(list(plan.choices(slot))) for slot in range(3)) == 20
    assert plan.quota(3) == 0 and list(plan.choices(3)) == []


def test_the_same_seed_pulls_the_same_images_in_the_same_order(upstream: FakeUpstream) -> None:
    plan = _plan(upstream)
    again = Plan.from_json(plan.to_json())
    assert again == plan
    for slot in range(plan.users):
        assert [image.tag for image in plan.choices(slot)] == [image.tag for image in again.choices(slot)]
    other = Plan(plan.proxy_url, plan.timeout, plan.seed + 1, plan.users, plan.pulls, plan.images)
    assert [i.tag for s in range(3) for i in plan.choices(s)] != [i.tag for s in range(3) for i in other.choices(s)]


def test_new_images_come_in_as_a_client_goes_on(upstream: FakeUpstream) -> None:
    plan = _plan(upstream, users=1, pulls=90, images=9)
    tags = [image.tag for image in plan.choices(0)]
    assert tags[0] == "t0"  # the first pull's window is the first image
    assert "t8" in tags[-10:] and "t8" not in tags[:10]


def test_images_are_the_same_bytes_for_the_same_seed_and_spread_over_repositories() -> None:
    with FakeUpstream() as one, FakeUpstream() as two:
        first = make_images(one, count=12, seed=3, namespace="soak/a", path=lambda name: name)
        second = make_images(two, count=12, seed=3, namespace="soak/a", path=lambda name: name)
    assert first == second
    assert len({image.repository for image in first}) == repository_count(12) == 3
    indexes = [image for image in first if image.child is not None]
    assert indexes and all(len(image.blobs) >= 3 for image in first)  # the config and two or three layers
    assert max(blob.size for image in first for blob in image.blobs) > 32 << 10
