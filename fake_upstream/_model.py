"""What the Python API hands back: images as made, faults as armed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LayerInfo:
    digest: str
    size: int
    media_type: str


@dataclass(frozen=True)
class PlatformInfo:
    platform: str
    manifest: str
    manifest_size: int
    config: LayerInfo
    layers: tuple[LayerInfo, ...]


@dataclass(frozen=True)
class Image:
    """An image in the fake upstream; `digest` is what `tag` points at (an index when multi-platform)."""

    repository: str
    tag: str | None
    digest: str
    media_type: str
    size: int
    platforms: tuple[PlatformInfo, ...] = field(default_factory=tuple)

    @property
    def blobs(self) -> list[str]:
        return [blob.digest for p in self.platforms for blob in (p.config, *p.layers)]

    @property
    def manifests(self) -> dict[str, str]:
        return {p.platform: p.manifest for p in self.platforms}

    def platform(self, name: str) -> PlatformInfo:
        for info in self.platforms:
            if info.platform == name:
                return info
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
