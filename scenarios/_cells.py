"""Request shapes the suites are parametrised over, and small helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import pytest

from fake_upstream import Image
from harness.case import Case
from harness.content import MANIFESTS, What
from reports.model import Observation


@dataclass(frozen=True)
class Cell:
    what: What
    method: Literal["GET", "HEAD"]

    @property
    def id(self) -> str:
        return f"{self.what}-{self.method}"

    def __str__(self) -> str:
        return self.id

    @property
    def upstream_kind(self) -> Literal["manifest", "blob"]:
        return "manifest" if self.what in MANIFESTS else "blob"


def cell(shape: str) -> Cell:
    """`cell("layer-HEAD")`: a HEAD of the image's last layer."""
    what, method = shape.rsplit("-", 1)
    return Cell(what, method)  # type: ignore[arg-type]


def cells(*shapes: str) -> list[object]:
    """`cells("tag-GET", "layer-HEAD")` as pytest params with readable ids."""
    return [pytest.param(cell(shape), id=shape) for shape in shapes]


# RULES.md, STALE: manifest by tag (GET and HEAD), by digest, config and layer blobs (GET and HEAD).
CACHED = cells("tag-GET", "tag-HEAD", "digest-GET", "config-GET", "config-HEAD", "layer-GET", "layer-HEAD")


def observe_cell(case: Case, image: Image, shape: Cell) -> Observation:
    """A GET by tag is a whole pull, as docker does; every other shape is the one request."""
    if shape.what == "tag" and shape.method == "GET":
        return case.pull(image)
    case.mark()
    return case.observe(image, shape.what, shape.method)


def relabel(observation: Observation, suffix: str) -> Observation:
    """The same observation with a qualifier that diffs should see, e.g. `served-cached, 9 upstream retries`."""
    return replace(observation, label=f"{observation.label}, {suffix}", detail=f"{observation.detail}; {suffix}")


def few(count: int) -> str:
    """Counts in labels: exact while small, "many" beyond, so that a diff shows behaviour, not noise."""
    return str(count) if count <= 2 else "many"
