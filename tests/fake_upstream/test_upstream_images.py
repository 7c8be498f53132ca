from __future__ import annotations

import gzip
import json

import pytest

from fake_upstream._content import synthetic_layer
from fake_upstream._images import BuiltImage, ImageFormat, build_image
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


def _build(image_format: ImageFormat, platforms: list[str] | None, gzip: bool = True, seed: int = 1) -> BuiltImage:
    return build_image(
        layers=[3000, 9000],
        image_format=image_format,
        platforms=platforms,
        seed=seed,
        gzip=gzip,
        make_layer=synthetic_layer,
    )


@pytest.mark.parametrize(
    ("image_format", "gzip", "manifest_type", "config_type", "layer_type"),
    [
        ("oci", True, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP),
        ("oci", False, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_TAR),
        ("docker", True, DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP),
        ("docker", False, DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_TAR),
    ],
)
def test_single_platform_image(
    image_format: ImageFormat, gzip: bool, manifest_type: str, config_type: str, layer_type: str
) -> None:
    built = _build(image_format, None, gzip)
    assert built.index is None and built.top is built.platforms[0].manifest
    manifest = json.loads(built.top.body)
    assert built.top.media_type == manifest["mediaType"] == manifest_type
    assert built.top.digest == sha256_digest(built.top.body)
    assert manifest["config"] == {
        "mediaType": config_type,
        "digest": built.platforms[0].config.digest,
        "size": built.platforms[0].config.size,
    }
    assert [layer["mediaType"] for layer in manifest["layers"]] == [layer_type, layer_type]
    for descriptor, blob in zip(manifest["layers"], built.platforms[0].layers, strict=True):
        data = b"".join(blob.content.chunks())
        assert descriptor["digest"] == blob.digest == sha256_digest(data)
        assert descriptor["size"] == blob.size == len(data)


def test_the_config_names_the_platform_and_the_diff_ids_of_its_layers() -> None:
    built = _build("oci", ["linux/arm64/v8"], gzip=True)
    image = built.platforms[0]
    config = json.loads(b"".join(image.config.content.chunks()))
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm64", "v8")
    assert image.config.digest == sha256_digest(b"".join(image.config.content.chunks()))
    assert len(config["rootfs"]["diff_ids"]) == 2
    for layer, diff_id in zip(image.layers, config["rootfs"]["diff_ids"], strict=True):
        assert sha256_digest(gzip.decompress(b"".join(layer.content.chunks()))) == diff_id


@pytest.mark.parametrize(("image_format", "index_type"), [("oci", OCI_INDEX), ("docker", DOCKER_MANIFEST_LIST)])
def test_multi_platform_image_is_an_index_of_one_manifest_per_platform(
    image_format: ImageFormat, index_type: str
) -> None:
    built = _build(image_format, ["linux/amd64", "linux/arm64", "linux/arm/v7"])
    assert built.index is not None and built.top is built.index
    index = json.loads(built.index.body)
    assert built.index.media_type == index["mediaType"] == index_type
    assert built.index.digest == sha256_digest(built.index.body)
    platforms = [entry["platform"] for entry in index["manifests"]]
    assert platforms == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
    ]
    for entry, image in zip(index["manifests"], built.platforms, strict=True):
        assert entry["digest"] == image.manifest.digest
        assert entry["size"] == len(image.manifest.body)
        assert entry["mediaType"] == image.manifest.media_type
    assert len({image.manifest.digest for image in built.platforms}) == 3
    assert len(built.manifests) == 4 and len(built.blobs) == 9


def test_images_are_deterministic_from_the_seed() -> None:
    assert _build("oci", ["linux/amd64"], seed=5).top.digest == _build("oci", ["linux/amd64"], seed=5).top.digest
    assert _build("oci", ["linux/amd64"], seed=5).top.digest != _build("oci", ["linux/amd64"], seed=6).top.digest


@pytest.mark.parametrize("platform", ["linux", "linux/", "/amd64", "linux/arm/v7/x"])
def test_a_malformed_platform_is_refused(platform: str) -> None:
    with pytest.raises(ValueError, match="os/arch"):
        _build("oci", [platform])
