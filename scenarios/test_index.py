"""INDEX: multi-platform images: the index and the platform pulled are cached whole and byte-identical."""

from __future__ import annotations

import pytest

from harness.case import Case
from harness.expect import by_profile, kinds, not_found, served_cached
from reports.model import Kind

PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7")


@pytest.mark.rule("INDEX-1")
@pytest.mark.parametrize("media_type", ["oci", "docker"])
@pytest.mark.parametrize("what", ["index", "child"])
def test_index_and_platform_served_from_cache(case: Case, media_type: str, what: str) -> None:
    image = case.image(media_type=media_type, platforms=PLATFORMS)
    case.warm(image, "linux/arm64")
    case.upstream.set_outage("refused")
    case.mark()
    if what == "index":
        observation = case.observe(image, "tag", "GET")
    else:
        observation = case.observe(image, "child", "GET", platform="linux/arm64")
    case.check(observation, served_cached(), note="with the upstream refused")


@pytest.mark.rule("INDEX-2")
@pytest.mark.parametrize("what", ["index", "child"])
def test_index_deleted_upstream(case: Case, what: str) -> None:
    image = case.image(platforms=PLATFORMS)
    case.warm(image, "linux/arm64")
    case.upstream.delete_tag(image.repository, image.tag)
    case.mark()
    if what == "index":
        expect = by_profile(documented=served_cached(), harbor_2_14_docs=not_found())
        observation = case.observe(image, "tag", "GET")
    else:
        expect = by_profile(documented=served_cached(), harbor_2_14_docs=kinds(Kind.SERVED_CACHED, Kind.NOT_FOUND))
        observation = case.observe(image, "child", "GET", platform="linux/arm64")
    case.check(observation, expect)
