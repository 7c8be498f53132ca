"""FRESH: documented rules 1 and 2 (serve the cache when unchanged, the new image when changed)."""

from __future__ import annotations

import pytest

from harness.case import Case
from harness.expect import predicate, served_cached, served_fresh
from harness.observe import upstream_counts
from reports.model import Kind, Observation
from scenarios._cells import Cell, cells, few, relabel


@pytest.mark.rule("FRESH-1")
def test_unchanged_tag_is_served_from_cache_without_refetching_blobs(case: Case) -> None:
    image = case.image()
    case.warm(image)
    observation = case.pull(image)
    refetched = observation.upstream.get("GET blob", 0)
    if refetched:
        observation = relabel(observation, f"{few(refetched)} blobs fetched again")
    case.check(observation, predicate("served cached, no blob fetched again", lambda o: o.label == "served-cached"))


@pytest.mark.rule("FRESH-2")
@pytest.mark.whole_upstream
def test_updated_tag_serves_and_caches_the_new_image(case: Case) -> None:
    old = case.image()
    case.warm(old)
    new = case.upstream.add_image(old.repository, old.tag, layers=(4096, 30000, 80_000))
    case.check(case.pull(old, fresh=new), served_fresh())
    case.settle(new)
    case.outage("refused")
    case.check(case.pull(old, fresh=new), served_fresh(), note="later, with the upstream refused")


@pytest.mark.rule("FRESH-3")
@pytest.mark.whole_upstream
@pytest.mark.parametrize(
    ("media_type", "platforms"),
    [
        pytest.param("oci", None, id="oci"),
        pytest.param("docker", None, id="docker"),
        pytest.param("oci", ("linux/amd64", "linux/arm64"), id="oci-index"),
        pytest.param("docker", ("linux/amd64", "linux/arm64"), id="docker-list"),
    ],
)
def test_cold_pull_then_whole_image_from_cache(case: Case, media_type: str, platforms: tuple[str, ...] | None) -> None:
    image = case.image(media_type=media_type, platforms=platforms)
    platform = "linux/arm64" if platforms else None
    case.warm(image, platform)
    case.outage("refused")
    case.check(case.pull(image, platform=platform), served_cached(), note="with the upstream refused")


@pytest.mark.rule("FRESH-4")
@pytest.mark.parametrize("cell", cells("tag-GET", "tag-HEAD"))
def test_freshness_check_is_a_head(case: Case, cell: Cell) -> None:
    image = case.image()
    case.warm(image)
    case.mark()
    case.request(image, cell.what, cell.method)
    counts = upstream_counts(case.upstream_requests())
    heads, gets = counts.get("HEAD manifest", 0), counts.get("GET manifest", 0)
    label = f"upstream-requests(HEAD manifest={few(heads)}, GET manifest={few(gets)})"
    observation = Observation(Kind.UPSTREAM_REQUESTS, label, detail=f"upstream saw {counts}", upstream=counts)
    case.check(
        observation,
        predicate("a manifest HEAD upstream, no manifest GET", lambda o: o.upstream.get("GET manifest", 0) == 0),
    )


@pytest.mark.rule("FRESH-5")
@pytest.mark.parametrize("cell", cells("digest-GET", "digest-HEAD", "config-GET", "layer-GET", "layer-HEAD"))
def test_digest_pull_of_cached_content_never_asks_upstream(case: Case, cell: Cell) -> None:
    image = case.image()
    case.warm(image)
    case.mark()
    observation = case.observe(image, cell.what, cell.method)
    if observation.upstream:
        observation = relabel(observation, "asked upstream")
    case.check(observation, predicate("served cached with no upstream request", lambda o: o.label == "served-cached"))
