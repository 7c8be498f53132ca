"""Which registry endpoint a request names: kind, repository, reference (a token request's: its scope's)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

from fake_upstream._faults import RequestInfo
from oci_wire import endpoint


def classify(method: str, path: str, query: str = "") -> RequestInfo:
    if path == "/token":  # the token realm lives on the registry's own host and port, as Docker Hub's may not
        scopes = [value for key, value in parse_qsl(query, keep_blank_values=True) if key == "scope"]
        return RequestInfo(method, "token", scope_repository(scopes))
    found = endpoint(path)
    reference = found.reference if found.kind != "upload" else (found.reference or "")
    return RequestInfo(method, found.kind, found.name, reference)


def scope_repository(scopes: Iterable[str]) -> str | None:
    """The repository of the first `repository:NAME:ACTIONS` scope (one parameter may hold several, spaced)."""
    for scope in (part for value in scopes for part in value.split()):
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind == "repository" and name and actions:
            return name
    return None
