from __future__ import annotations

import pytest

from oci_wire import Endpoint, endpoint


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v2/", Endpoint("ping")),
        ("/v2", Endpoint("ping")),
        ("/v2/_catalog", Endpoint("catalog")),
        ("/v2/library/alpine/manifests/3.20", Endpoint("manifest", "library/alpine", "3.20")),
        ("/v2/a/b/c/blobs/sha256:ab", Endpoint("blob", "a/b/c", "sha256:ab")),
        ("/v2/a/blobs/uploads/", Endpoint("upload", "a", "")),
        ("/v2/a/blobs/uploads", Endpoint("upload", "a", None)),
        ("/v2/a/blobs/uploads/1234", Endpoint("upload", "a", "1234")),
        ("/v2/a/tags/list", Endpoint("tags", "a")),
        ("/v2/a/referrers/sha256:ab", Endpoint("referrers", "a", "sha256:ab")),
        ("/v2/../etc/manifests/x", Endpoint("manifest", "../etc", "x")),  # named, not yet validated
        ("/v1/_ping", Endpoint("unknown")),
    ],
)
def test_endpoint(path: str, expected: Endpoint) -> None:
    assert endpoint(path) == expected
