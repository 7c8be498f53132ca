"""The named expectation sets a run is judged against (RULES.md, "Profiles"), each in the words of a document.

- `documented`: the four rules as the seed quotes Harbor's proxy-cache documentation, rule 4 included.
- `harbor-2.13-docs`: Harbor's documentation for 2.12 and 2.13 (goharbor/website, release-2.12.0 and
  release-2.13.0): "If the image is no longer in the target registry, but is still in the proxy cache project, the
  cached image is served from the proxy cache project." The same promise as `documented`.
- `harbor-2.14-docs`: Harbor's documentation for 2.14 and 2.15 (release-2.14.0, release-2.15.0, and main): "If the
  image is no longer in the target registry, no image is served." The rule speaks of "the next time a user
  requests that image", when "Harbor checks the image's latest manifest": a pull by tag. What a pull by digest
  or of a blob gets is not said, so either answer is accepted there; nor is whether the copy is kept.

Every other rule is the same in all three: Harbor's documentation of rules 1-3 has not changed since 2.1.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.expect import Expect, by_profile, kinds, not_found, served_cached
from reports.model import Kind

PROFILES = ("documented", "harbor-2.13-docs", "harbor-2.14-docs")
# Where rule 4 promises the copy deleted upstream is served, and so kept.
KEEPS_DELETED = frozenset({"documented", "harbor-2.13-docs"})
LOCAL_ON_NOT_FOUND = "proxy_cache_local_on_not_found"


def deleted_upstream(what: str) -> Mapping[str, Expect]:
    """Rule 4: a pull of cached content whose tag or repository the upstream deleted (`what`: tag, digest, config,
    layer, child), by profile."""
    return by_profile(
        documented=served_cached(),
        harbor_2_14_docs=not_found() if what == "tag" else kinds(Kind.SERVED_CACHED, Kind.NOT_FOUND),
    )


def harbor_profile(version: tuple[int, int, int], options: Mapping[str, str]) -> str:
    """The profile a Harbor release promises: its documentation's, or `documented` with the option (2.15.1+) that
    serves a copy deleted upstream, which is what it exists for."""
    if version >= (2, 15, 1) and options.get(LOCAL_ON_NOT_FOUND) == "true":
        return "documented"
    return "harbor-2.13-docs" if version < (2, 14, 0) else "harbor-2.14-docs"
