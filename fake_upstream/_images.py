"""Synthetic images: config, layers, manifests and indexes, deterministic from a seed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fake_upstream._content import BytesContent, Content
from oci_wire import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_LAYER_TAR,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_MANIFEST,
    sha256_digest,
)

ImageFormat = Literal["oci", "docker"]
LayerFactory = Callable[[int, int, bool], tuple[Content, str, str]]

_CREATED = "2023-11-14T22:13:20Z"


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    media_type: str
    content: Content = field(repr=False, compare=False)


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class PlatformImage:
    platform: str
    manifest: Manifest
    config: Blob
    layers: tuple[Blob, ...]


@dataclass(frozen=True)
class BuiltImage:
    """Everything an image is made of; `top` is what the tag points at (a manifest or an index)."""

    top: Manifest
    platforms: tuple[PlatformImage, ...]
    index: Manifest | None

    @property
    def blobs(self) -> list[Blob]:
        return [blob for image in self.platforms for blob in (image.config, *image.layers)]

    @property
    def manifests(self) -> list[Manifest]:
        children = [image.manifest for image in self.platforms]
        return [*children, self.index] if self.index is not None else children


def build_image(
    *,
    layers: Sequence[int],
    image_format: ImageFormat,
    platforms: Sequence[str] | None,
    seed: int,
    gzip: bool,
    make_layer: LayerFactory,
) -> BuiltImage:
    """Build an image; with `platforms`, a multi-platform index over one image per platform."""
    single = not platforms
    wanted = list(platforms) if platforms else ["linux/amd64"]
    images = tuple(
        _platform_image(
            platform, layers, image_format, _mix(seed, platform), gzip, make_layer, with_platform=not single
        )
        for platform in wanted
    )
    if single:
        return BuiltImage(top=images[0].manifest, platforms=images, index=None)
    index = _index(images, image_format)
    return BuiltImage(top=index, platforms=images, index=index)


def _platform_image(
    platform: str,
    sizes: Sequence[int],
    image_format: ImageFormat,
    seed: int,
    gzip: bool,
    make_layer: LayerFactory,
    *,
    with_platform: bool,
) -> PlatformImage:
    layer_type = {
        ("oci", True): OCI_LAYER_GZIP,
        ("oci", False): OCI_LAYER_TAR,
        ("docker", True): DOCKER_LAYER_GZIP,
        ("docker", False): DOCKER_LAYER_TAR,
    }[(image_format, gzip)]
    layers: list[Blob] = []
    diff_ids: list[str] = []
    for position, size in enumerate(sizes):
        content, digest, diff_id = make_layer(_mix(seed, f"layer{position}"), size, gzip)
        layers.append(Blob(digest, content.size, layer_type, content))
        diff_ids.append(diff_id)
    os_name, architecture, variant = _split_platform(platform)
    config_doc: dict[str, Any] = {
        "architecture": architecture,
        "os": os_name,
        "created": _CREATED,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": _CREATED, "created_by": f"pullthrough synthetic layer {i}"} for i in range(len(sizes))],
    }
    if variant:
        config_doc["variant"] = variant
    config_body = _canonical(config_doc)
    config_type = OCI_CONFIG if image_format == "oci" else DOCKER_CONFIG
    config = Blob(sha256_digest(config_body), len(config_body), config_type, BytesContent(config_body))
    media_type = OCI_MANIFEST if image_format == "oci" else DOCKER_MANIFEST
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": _descriptor(config),
        "layers": [_descriptor(layer) for layer in layers],
    }
    if image_format == "oci" and with_platform:
        manifest_doc["annotations"] = {"org.opencontainers.image.ref.name": platform}
    body = _canonical(manifest_doc)
    return PlatformImage(platform, Manifest(sha256_digest(body), media_type, body), config, tuple(layers))


def _index(images: Sequence[PlatformImage], image_format: ImageFormat) -> Manifest:
    media_type = OCI_INDEX if image_format == "oci" else DOCKER_MANIFEST_LIST
    entries = []
    for image in images:
        os_name, architecture, variant = _split_platform(image.platform)
        platform: dict[str, str] = {"architecture": architecture, "os": os_name}
        if variant:
            platform["variant"] = variant
        entries.append(
            {
                "mediaType": image.manifest.media_type,
                "digest": image.manifest.digest,
                "size": len(image.manifest.body),
                "platform": platform,
            }
        )
    body = _canonical({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})
    return Manifest(sha256_digest(body), media_type, body)


def _descriptor(blob: Blob) -> dict[str, Any]:
    return {"mediaType": blob.media_type, "digest": blob.digest, "size": blob.size}


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=3).encode()


def _split_platform(platform: str) -> tuple[str, str, str | None]:
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"platform must be os/arch[/variant], got {platform!r}")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _mix(seed: int, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{salt}".encode()).digest()[:8], "big")
