"""Connection faults matched by repository act on that repository's requests only, of every kind that has one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from fake_upstream import FakeUpstream, Image, Match
from harness.poll import wait_until

Request = Callable[[httpx.Client, str, Image], httpx.Response]
# One request of each kind that carries a repository, for repository `name`.
KINDS: dict[str, Request] = {
    "manifest": lambda http, name, image: http.get(f"/v2/{name}/manifests/v1"),
    "blob": lambda http, name, image: http.get(f"/v2/{name}/blobs/{image.platforms[0].layers[0].digest}"),
    "tags": lambda http, name, image: http.get(f"/v2/{name}/tags/list"),
    "token": lambda http, name, image: http.get("/token", params={"scope": f"repository:{name}:pull"}),
    "referrers": lambda http, name, image: http.get(f"/v2/{name}/referrers/{image.digest}"),
    "upload": lambda http, name, image: http.post(f"/v2/{name}/blobs/uploads/"),
}


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[FakeUpstream, Image]]:
    with FakeUpstream() as upstream:
        image = upstream.add_image("team/a", "v1", seed=1)
        upstream.add_image("team/b", "v1", seed=1)  # the same digests in both repositories
        yield upstream, image


@pytest.fixture
def upstream(registry: tuple[FakeUpstream, Image]) -> Iterator[FakeUpstream]:
    registry[0].clear_faults()
    yield registry[0]
    registry[0].clear_faults()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_reset_matched_by_repository(upstream: FakeUpstream, registry: tuple[FakeUpstream, Image], kind: str) -> None:
    image = registry[1]
    upstream.add_fault("reset", Match(repository="team/a"))
    before = upstream.cursor()
    with httpx.Client(base_url=upstream.url, timeout=5) as http:
        assert KINDS[kind](http, "team/b", image).status_code < 500
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            KINDS[kind](http, "team/a", image)
    entries = upstream.journal(after=before)
    assert [(e.kind, e.repository, e.fault) for e in entries] == [(kind, "team/b", None), (kind, "team/a", "reset")]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_blackhole_matched_by_repository(
    upstream: FakeUpstream, registry: tuple[FakeUpstream, Image], kind: str
) -> None:
    image = registry[1]
    upstream.add_fault("blackhole", Match(repository="team/a"))
    before = upstream.cursor()
    with httpx.Client(base_url=upstream.url, timeout=httpx.Timeout(5, read=0.3)) as http:
        assert KINDS[kind](http, "team/b", image).status_code < 500
        with pytest.raises(httpx.ReadTimeout):
            KINDS[kind](http, "team/a", image)
    entries = upstream.journal(after=before)
    assert [(e.kind, e.repository, e.fault) for e in entries] == [
        (kind, "team/b", None),
        (kind, "team/a", "blackhole"),
    ]


def test_clearing_one_blackhole_lets_go_of_its_own_requests_only(
    upstream: FakeUpstream, registry: tuple[FakeUpstream, Image]
) -> None:
    image = registry[1]
    held = {name: upstream.add_fault("blackhole", Match(repository=name)) for name in ("team/a", "team/b")}
    outcomes: dict[str, str] = {}

    def pull(name: str) -> None:
        with httpx.Client(base_url=upstream.url, timeout=30) as http:
            try:
                KINDS["manifest"](http, name, image)
                outcomes[name] = "answered"
            except httpx.TransportError as error:
                outcomes[name] = type(error).__name__

    threads = {name: threading.Thread(target=pull, args=(name,)) for name in held}
    for thread in threads.values():
        thread.start()
    wait_until(lambda: all(upstream.activity(name).in_flight == 1 for name in held), what="both requests held")
    upstream.clear_faults(held["team/a"])
    threads["team/a"].join(timeout=10)
    assert outcomes == {"team/a": "RemoteProtocolError"}  # closed without an answer
    assert upstream.activity("team/b").in_flight == 1 and threads["team/b"].is_alive()
    upstream.clear_faults(held["team/b"])
    threads["team/b"].join(timeout=10)
    assert outcomes["team/b"] == "RemoteProtocolError"
