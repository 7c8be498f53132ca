"""The fault schedule: drawn from the seed, in the catalogue's vocabulary, armed and taken off a real upstream."""

from __future__ import annotations

import httpx
import pytest

from fake_upstream import FakeUpstream
from harness.soak.schedule import VOCABULARY, ScheduleError, make_schedule, parse_vocabulary

REPOSITORIES = [f"soak/r{number}" for number in range(6)]


def test_the_same_seed_gives_the_same_schedule() -> None:
    one = make_schedule(seed=5, cycles=40, repositories=REPOSITORIES, vocabulary=VOCABULARY)
    assert one == make_schedule(seed=5, cycles=40, repositories=REPOSITORIES, vocabulary=VOCABULARY)
    assert one != make_schedule(seed=6, cycles=40, repositories=REPOSITORIES, vocabulary=VOCABULARY)


def test_a_fault_never_breaks_every_repository() -> None:
    schedule = make_schedule(seed=1, cycles=200, repositories=REPOSITORIES, vocabulary=VOCABULARY, healthy=0.1)
    faults = [cycle for cycle in schedule if cycle.fault is not None]
    assert faults and all(0 < len(cycle.repositories) < len(REPOSITORIES) for cycle in faults)
    assert {cycle.name for cycle in schedule} >= {"healthy", "refused", "truncate-stall", "corrupt", "blackhole"}


def test_the_vocabulary_is_checked() -> None:
    assert parse_vocabulary("none", login=False) == ()
    assert "token-fail" in parse_vocabulary("all", login=True)
    assert "token-fail" not in parse_vocabulary("all", login=False)
    assert parse_vocabulary("503,refused,503", login=False) == ("503", "refused")
    with pytest.raises(ScheduleError, match="unknown fault 'teapot'"):
        parse_vocabulary("503,teapot", login=False)
    with pytest.raises(ScheduleError, match="logs in"):
        parse_vocabulary("token-fail", login=False)


def test_a_cycle_is_armed_on_its_repositories_only_and_taken_off(upstream: FakeUpstream) -> None:
    hit = upstream.add_image("soak/r0", "t0")
    spared = upstream.add_image("soak/r1", "t1")
    cycle = next(
        c
        for c in make_schedule(seed=2, cycles=50, repositories=["soak/r0", "soak/r1"], vocabulary=["503"])
        if c.fault is not None and c.kind != "blob" and c.fraction is None
    )
    assert cycle.repositories == ("soak/r0",) or cycle.repositories == ("soak/r1",)
    broken, healthy = (hit, spared) if cycle.repositories == ("soak/r0",) else (spared, hit)
    disarm = cycle.arm(upstream)

    def status(image_repository: str, tag: str) -> int:
        url = f"{upstream.url}/v2/{image_repository}/manifests/{tag}"
        return httpx.get(url, headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).status_code

    assert status(broken.repository, str(broken.tag)) == 503
    assert status(healthy.repository, str(healthy.tag)) == 200
    disarm()
    assert upstream.faults() == []
    assert status(broken.repository, str(broken.tag)) == 200


def test_the_refused_outage_takes_the_port_and_gives_it_back(upstream: FakeUpstream) -> None:
    refused = next(c for c in make_schedule(seed=0, cycles=50, repositories=REPOSITORIES, vocabulary=["refused"]))
    disarm = refused.arm(upstream)
    with pytest.raises(httpx.ConnectError):
        httpx.get(upstream.url + "/v2/")
    disarm()
    assert httpx.get(upstream.url + "/v2/").status_code == 200
