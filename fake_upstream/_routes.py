"""Which registry endpoint a request path names (kind, repository, reference)."""

from __future__ import annotations

import re

from fake_upstream._faults import RequestInfo

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ping", re.compile(r"^/v2/?$")),
    ("catalog", re.compile(r"^/v2/_catalog$")),
    ("token", re.compile(r"^/token$")),
    ("upload", re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<reference>[^/]*)$")),
    ("manifest", re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")),
    ("blob", re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<reference>[^/]+)$")),
    ("tags", re.compile(r"^/v2/(?P<name>.+)/tags/list$")),
    ("referrers", re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<reference>[^/]+)$")),
]


def classify(method: str, path: str) -> RequestInfo:
    for kind, pattern in _PATTERNS:
        match = pattern.match(path)
        if match is not None:
            groups = match.groupdict()
            return RequestInfo(method, kind, groups.get("name"), groups.get("reference"))
    return RequestInfo(method, "unknown")
