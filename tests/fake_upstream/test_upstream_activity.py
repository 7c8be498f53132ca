"""Activity per repository: the last request's number, how long the repository has been idle, what still runs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from http_checks import ACCEPT

from fake_upstream import Activity, FakeUpstream, Match
from fake_upstream._activity import ActivityTracker
from harness.poll import wait_until


@pytest.fixture
def http(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.url, timeout=10) as client:
        yield client


def test_a_repository_never_asked_for(upstream: FakeUpstream) -> None:
    assert upstream.activity("team/app") == Activity(last_seq=0, idle=None, in_flight=0)


def test_the_last_request_and_the_time_since(upstream: FakeUpstream, http: httpx.Client) -> None:
    upstream.add_image("team/app", "v1")
    http.get("/v2/team/app/manifests/v1", headers=ACCEPT)
    http.get("/v2/")  # no repository: changes nothing
    http.head("/v2/team/app/manifests/v1", headers=ACCEPT)
    first = upstream.activity("team/app")
    assert first.last_seq == 3 and first.in_flight == 0
    assert first.idle is not None and 0 <= first.idle < 5
    later = wait_until(lambda: (a := upstream.activity("team/app")).idle and a.idle > first.idle and a)
    assert later.last_seq == 3
    assert upstream.activity("team/ap") == Activity()


def test_a_request_still_running_is_in_flight(upstream: FakeUpstream) -> None:
    image = upstream.add_image("team/app", "v1", layers=[20_000], gzip=False)
    fault_id = upstream.add_fault("blackhole", Match(kind="blob", repository="team/app"))
    layer = image.platforms[0].layers[0].digest
    with httpx.Client(base_url=upstream.url, timeout=0.5) as http, pytest.raises(httpx.TimeoutException):
        http.get(f"/v2/team/app/blobs/{layer}")
    # The client gave up; until the server sees it leave, the request may still count as running.
    wait_until(lambda: upstream.activity("team/app").in_flight == 0, what="the request to end")
    upstream.clear_faults(fault_id)
    upstream.add_fault("slow", Match(kind="blob", repository="team/app"), rate=40_000)
    with (
        httpx.Client(base_url=upstream.url, timeout=10) as http,
        http.stream("GET", f"/v2/team/app/blobs/{layer}") as r,
    ):
        assert r.status_code == 200
        running = upstream.activity("team/app")
        assert running.in_flight == 1 and running.last_seq == upstream.cursor()
        r.read()
    done = wait_until(lambda: (a := upstream.activity("team/app")).in_flight == 0 and a, what="the blob to end")
    assert done.idle is not None and done.idle < running.idle + 5  # idle counts from the end, not the start


def test_the_control_api_answers_activity(upstream: FakeUpstream, http: httpx.Client) -> None:
    http.get("/v2/team/app/tags/list")
    with httpx.Client(base_url=upstream.control_url + "/_control", timeout=5) as control:
        answer = control.get("/activity", params={"repository": "team/app"}).json()
        assert set(answer) == {"last_seq", "idle", "in_flight"} and answer["last_seq"] == 1
        assert control.get("/activity", params={"repository": "x/y"}).json() == Activity().to_dict()
        missing = control.get("/activity")
        assert missing.status_code == 400 and "repository" in missing.json()["error"]


def test_idle_repositories_are_forgotten_first_past_the_limit() -> None:
    tracker = ActivityTracker(limit=2)
    tracker.arrived("a", 1)  # still running
    tracker.arrived("b", 2, finished=True)
    tracker.arrived("c", 3, finished=True)
    assert tracker.get("b") == Activity() and tracker.get("a").in_flight == 1 and tracker.get("c").last_seq == 3
    tracker.finished("a")
    tracker.finished("never-seen")
    assert tracker.get("a").in_flight == 0
