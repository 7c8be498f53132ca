"""Request shapes the suites are parametrised over, and small helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import pytest

from fake_upstream import Match
from harness.case import What
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
        return "manifest" if self.what in ("tag", "digest", "child") else "blob"


def cell(shape: str) -> Cell:
    """`cell("layer-HEAD")`: a HEAD of the image's first layer."""
    what, method = shape.rsplit("-", 1)
    return Cell(what, method)  # type: ignore[arg-type]


def cells(*shapes: str) -> list[object]:
    """`cells("tag-GET", "layer-HEAD")` as pytest params with readable ids."""
    return [pytest.param(cell(shape), id=shape) for shape in shapes]


# RULES.md, STALE: manifest by tag (GET and HEAD), by digest, config and layer blobs (GET and HEAD).
CACHED = cells("tag-GET", "tag-HEAD", "digest-GET", "config-GET", "config-HEAD", "layer-GET", "layer-HEAD")


def on_repository(repository: str) -> Match:
    return Match(repository=repository)


def relabel(observation: Observation, suffix: str) -> Observation:
    """The same observation with a qualifier that diffs should see, e.g. `served-cached, 9 upstream retries`."""
    return replace(observation, label=f"{observation.label}, {suffix}", detail=f"{observation.detail}; {suffix}")
