"""The OCI distribution wire format, shared by every part of pullthrough.

Names, references, digests, media types and error bodies as the OCI distribution spec and
Docker's registry API define them. Pure functions and constants: no I/O, no framework.
"""

from oci_wire.accept import MANIFEST_ACCEPT, accepts
from oci_wire.digests import Digest, DigestError, parse_digest, sha256_digest
from oci_wire.errors import ErrorCode, error_body, parse_error_body
from oci_wire.media_types import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_LAYER_TAR,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_TAR,
    OCI_MANIFEST,
)
from oci_wire.names import is_digest_reference, valid_repository, valid_tag
from oci_wire.paths import Endpoint, EndpointKind, endpoint
from oci_wire.ranges import RangeNotSatisfiable, content_range, parse_content_range, parse_range

__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_LAYER_GZIP",
    "DOCKER_LAYER_TAR",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INDEX_MEDIA_TYPES",
    "MANIFEST_ACCEPT",
    "MANIFEST_MEDIA_TYPES",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_TAR",
    "OCI_MANIFEST",
    "Digest",
    "DigestError",
    "Endpoint",
    "EndpointKind",
    "ErrorCode",
    "RangeNotSatisfiable",
    "accepts",
    "content_range",
    "endpoint",
    "error_body",
    "is_digest_reference",
    "parse_content_range",
    "parse_digest",
    "parse_error_body",
    "parse_range",
    "sha256_digest",
    "valid_repository",
    "valid_tag",
]
