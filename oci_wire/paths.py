"""Which distribution-API endpoint a request path names: `/v2/<name>/manifests/<reference>` and the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

EndpointKind = Literal["ping", "catalog", "manifest", "blob", "tags", "upload", "referrers", "unknown"]

_PATTERNS: list[tuple[EndpointKind, re.Pattern[str]]] = [
    ("ping", re.compile(r"^/v2/?$")),
    ("catalog", re.compile(r"^/v2/_catalog$")),
    ("upload", re.compile(r"^/v2/(?P<name>.+)/blobs/uploads(?:/(?P<reference>[^/]*))?$")),
    ("manifest", re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")),
    ("blob", re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<reference>[^/]+)$")),
    ("tags", re.compile(r"^/v2/(?P<name>.+)/tags/list$")),
    ("referrers", re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<reference>[^/]+)$")),
]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The endpoint, the repository name and the reference (tag, digest or upload session) as written.

    Nothing is validated here: a name may still be invalid, a reference still malformed.
    """

    kind: EndpointKind
    name: str | None = None
    reference: str | None = None


def endpoint(path: str) -> Endpoint:
    for kind, pattern in _PATTERNS:
        match = pattern.match(path)
        if match is not None:
            groups = match.groupdict()
            return Endpoint(kind, groups.get("name"), groups.get("reference"))
    return Endpoint("unknown")
