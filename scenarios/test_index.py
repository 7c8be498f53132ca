"""INDEX: multi-platform images: the index and the platform pulled are cached whole and byte-identical."""

from __future__ import annotations

import pytest

from fake_upstream import Image
from harness.case import Case
from harness.expect import served_cached
from harness.profiles import KEEPS_DELETED, deleted_upstream
from reports.model import Observation
from scenarios._cells import Cell, cells

PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7")
PLATFORM = "linux/arm64"


def _observe(case: Case, image: Image, shape: Cell) -> Observation:
    """GET: a whole pull of the platform through the index (index, platform manifest, config, layers); HEAD: the
    index's HEAD, as docker sends first."""
    if shape.method == "GET":
        return case.pull(image, platform=PLATFORM)
    case.mark()
    return case.observe(image, "tag", "HEAD")


@pytest.mark.rule("INDEX-1")
@pytest.mark.whole_upstream
@pytest.mark.parametrize("media_type", ["oci", "docker"])
@pytest.mark.parametrize("cell", cells("tag-GET", "tag-HEAD"))
def test_index_and_platform_served_from_cache(case: Case, media_type: str, cell: Cell) -> None:
    image = case.image(media_type=media_type, platforms=PLATFORMS)
    case.warm(image, PLATFORM)
    case.outage("refused")
    case.check(_observe(case, image, cell), served_cached(), note="with the upstream refused")


@pytest.mark.rule("INDEX-2")
@pytest.mark.parametrize("deleted", ["tag", "repository"])
@pytest.mark.parametrize("cell", cells("tag-GET", "tag-HEAD", "child-GET"))
def test_index_deleted_upstream(case: Case, cell: Cell, deleted: str) -> None:
    image = case.image(platforms=PLATFORMS)
    case.warm(image, PLATFORM)
    if deleted == "tag":
        case.upstream.delete_tag(image.repository, image.tag or "")
    else:
        case.upstream.delete_repository(image.repository)
    case.check(_child_or(case, image, cell), deleted_upstream(cell.what))
    if case.profile in KEEPS_DELETED:
        case.outage("reset")
        case.check(
            _child_or(case, image, cell),
            served_cached(),
            note="the cache keeps it (pulled again with the upstream unreachable)",
        )


def _child_or(case: Case, image: Image, shape: Cell) -> Observation:
    if shape.what == "child":
        case.mark()
        return case.observe(image, "child", "GET", platform=PLATFORM)
    return _observe(case, image, shape)
