"""What a request path names, validated before anything else looks at it (SEC-PATH).

Mirror mode maps `/v2/<repo>` to the upstream's `<repo>`; project mode maps `/v2/<project>/<repo>` to
that project's upstream `<repo>`. The proxy-side name (with the project) is what the cache is keyed by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from oci_wire import (
    DigestError,
    Endpoint,
    ErrorCode,
    endpoint,
    is_digest_reference,
    parse_digest,
    valid_repository,
    valid_tag,
)
from proxy_under_test._errors import ProxyError


@dataclass(frozen=True, slots=True)
class Target:
    """Where a proxy-side repository comes from."""

    name: str  # proxy-side repository, e.g. "hub/library/alpine"
    upstream: str  # the upstream's base URL
    repository: str  # the upstream's repository, e.g. "library/alpine"


def classify(path: str) -> Endpoint:
    return endpoint(path)


class Router:
    """Resolves and validates proxy-side names against the configured upstreams."""

    def __init__(self, upstream: str | None, projects: Mapping[str, str], *, check: bool = True) -> None:
        self._mirror = upstream
        self._projects = dict(projects)
        self._check = check

    def target(self, name: str) -> Target:
        if self._check and not valid_repository(name):
            raise ProxyError(ErrorCode.NAME_INVALID, "invalid repository name")
        project, _, rest = name.partition("/")
        if project in self._projects:
            if not rest:
                raise ProxyError(ErrorCode.NAME_UNKNOWN, f"name a repository inside project {project!r}")
            return Target(name, self._projects[project], rest)
        if self._mirror is not None:
            return Target(name, self._mirror, name)
        known = ", ".join(sorted(self._projects))
        raise ProxyError(ErrorCode.NAME_UNKNOWN, f"no project {project!r} here; projects: {known}")

    def manifest_reference(self, reference: str) -> str:
        if not self._check:
            return reference
        if is_digest_reference(reference):
            self.digest(reference)
        elif not valid_tag(reference):
            raise ProxyError(ErrorCode.MANIFEST_INVALID, "invalid tag")
        return reference

    def digest(self, reference: str) -> str:
        if not self._check:
            return reference
        try:
            parse_digest(reference)
        except DigestError as error:
            raise ProxyError(ErrorCode.DIGEST_INVALID, str(error)[:200]) from None
        return reference
