"""Manifest content negotiation by `Accept`."""

from __future__ import annotations

from collections.abc import Iterable

from oci_wire.media_types import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST

# What docker and containerd send when pulling by tag.
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST])


def accepts(accept_headers: Iterable[str], media_type: str) -> bool:
    """Whether a client that sent these Accept headers takes `media_type`.

    No Accept header, or `*/*`, takes anything: registries treat a missing Accept as "whatever you have".
    """
    types = [part.split(";", 1)[0].strip() for header in accept_headers for part in header.split(",")]
    types = [t for t in types if t]
    if not types:
        return True
    return media_type in types or "*/*" in types or "application/*" in types
