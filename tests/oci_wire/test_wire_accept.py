from __future__ import annotations

from oci_wire import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    INDEX_MEDIA_TYPES,
    MANIFEST_ACCEPT,
    MANIFEST_MEDIA_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    accepts,
)


def test_no_accept_takes_anything() -> None:
    assert accepts([], OCI_INDEX)
    assert accepts([""], DOCKER_MANIFEST)


def test_listed_types_with_parameters_and_several_headers() -> None:
    assert accepts([f"{OCI_MANIFEST};q=0.9, {DOCKER_MANIFEST}"], DOCKER_MANIFEST)
    assert accepts([OCI_MANIFEST, DOCKER_MANIFEST_LIST], DOCKER_MANIFEST_LIST)
    assert not accepts([OCI_MANIFEST], OCI_INDEX)
    assert not accepts([DOCKER_MANIFEST], DOCKER_MANIFEST_LIST)


def test_wildcards() -> None:
    assert accepts(["*/*"], OCI_INDEX)
    assert accepts(["application/*"], OCI_INDEX)


def test_the_default_accept_takes_every_manifest_type() -> None:
    assert INDEX_MEDIA_TYPES < MANIFEST_MEDIA_TYPES
    for media_type in MANIFEST_MEDIA_TYPES:
        assert accepts([MANIFEST_ACCEPT], media_type)
