"""The background deletion of finished cases' repositories: all of them, in order, and errors left to the teardown."""

from __future__ import annotations

import threading

import httpx

from harness.targets.harbor_api import HarborApi
from harness.targets.harbor_reaper import Reaper


def test_it_deletes_what_it_is_given_in_the_background_and_finishes_on_stop() -> None:
    seen: list[str] = []
    release = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        release.wait(5)  # a busy Harbor: the caller must not wait for this
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404 if "odd" in request.url.raw_path.decode() else 200)

    reaper = Reaper(HarborApi("http://harbor.test", "admin", "x", transport=httpx.MockTransport(answer)), "p")
    reaper.delete(["ns/a", "ns/odd", "ns/b"])
    assert seen == [], "queued, not deleted in the caller's time"
    release.set()
    reaper.stop(timeout=10)
    assert seen == [f"/api/v2.0/projects/p/repositories/ns%252F{name}" for name in ("a", "odd", "b")]


def test_a_failed_deletion_does_not_stop_the_rest() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(500 if len(seen) == 1 else 200, json={"errors": [{"code": "UNKNOWN", "message": "busy"}]})

    reaper = Reaper(HarborApi("http://harbor.test", "admin", "x", transport=httpx.MockTransport(answer)), "p")
    reaper.delete(["x", "y"])
    reaper.stop(timeout=10)
    assert len(seen) == 2
