"""What a request asks for, in terms of an image the fake upstream made: its digest and its true size."""

from __future__ import annotations

from typing import Literal

from fake_upstream import Image, PlatformInfo

# tag and digest: the top manifest (an index for a multi-platform image); child: one platform's manifest;
# config; layer: the image's last (largest by default) layer.
What = Literal["tag", "digest", "config", "layer", "child"]
MANIFESTS: frozenset[str] = frozenset({"tag", "digest", "child"})


def platform_of(image: Image, platform: str | None = None) -> PlatformInfo:
    return image.platform(platform) if platform else image.platforms[0]


def digest_of(image: Image, what: What, platform: str | None = None) -> str:
    info = platform_of(image, platform)
    if what in ("tag", "digest"):
        return image.digest
    if what == "child":
        return info.manifest
    if what == "config" or not info.layers:
        return info.config.digest
    return info.layers[-1].digest


def size_of(image: Image, what: What, platform: str | None = None) -> int:
    info = platform_of(image, platform)
    if what in ("tag", "digest"):
        return image.size
    if what == "child":
        return info.manifest_size
    if what == "config" or not info.layers:
        return info.config.size
    return info.layers[-1].size


def reference_of(image: Image, what: What, platform: str | None = None) -> str:
    """What goes in the URL: the tag for `tag`, a digest otherwise."""
    return (image.tag or image.digest) if what == "tag" else digest_of(image, what, platform)
