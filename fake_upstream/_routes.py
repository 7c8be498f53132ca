"""Which registry endpoint a request path names (kind, repository, reference)."""

from __future__ import annotations

from fake_upstream._faults import RequestInfo
from oci_wire import endpoint


def classify(method: str, path: str) -> RequestInfo:
    if path == "/token":  # the token realm lives on the registry's own host and port, as Docker Hub's may not
        return RequestInfo(method, "token")
    found = endpoint(path)
    reference = found.reference if found.kind != "upload" else (found.reference or "")
    return RequestInfo(method, found.kind, found.name, reference)
