"""Deliberate defects: one realistic bug each, switched on by name, to prove that the scenarios can fail.

`Defect` is the one place they are defined (name, the rule each breaks, what it does); the proxy's code
asks `config.has(Defect.X)`, and `DEFECTS` maps names to members for the README table and the harness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType


class Defect(StrEnum):
    rule: str
    description: str

    def __new__(cls, name: str, rule: str, description: str) -> Defect:
        member = str.__new__(cls, name)
        member._value_ = name
        member.rule = rule
        member.description = description
        return member

    NO_STALE_ON_404 = (
        "no-stale-on-404",
        "STALE-404",
        "upstream 404 on a cached tag -> answers 404 (cache kept; = not-found)",
    )
    DELETE_ON_404 = (
        "delete-on-404",
        "STALE-404",
        "upstream 404 on a cached tag -> answers 404 and evicts the tag (Harbor 2.14)",
    )
    NO_STALE_ON_5XX = ("no-stale-on-5xx", "STALE-5XX", "upstream 5xx on the freshness check -> passes the 5xx through")
    NO_STALE_ON_REFUSED = ("no-stale-on-refused", "STALE-REFUSED", "connection refused on the freshness check -> 502")
    NO_STALE_ON_RESET = ("no-stale-on-reset", "STALE-RESET", "connection reset on the freshness check -> 502")
    NO_STALE_ON_429 = ("no-stale-on-429", "STALE-429", "upstream 429 -> passes the 429 through although cached")
    NO_STALE_ON_AUTH = ("no-stale-on-auth", "STALE-AUTH", "upstream 401/403/token failure -> error although cached")
    TAG_POISONING = (
        "tag-poisoning",
        "STALE-HALF",
        "HEAD says new digest -> re-points the tag before the GET succeeds; GET fails -> 500, old copy lost",
    )
    NO_UPSTREAM_TIMEOUT = (
        "no-upstream-timeout",
        "STALE-BLACKHOLE",
        "ignores the upstream timeout: waits up to 600 s on an upstream that never answers",
    )
    IGNORE_UPSTREAM_UPDATE = ("ignore-upstream-update", "FRESH-2", "serves the cached tag without checking freshness")
    REFETCH_BLOBS = (
        "refetch-blobs",
        "FRESH-1",
        "never serves blobs from cache while the upstream answers: fetches them again",
    )
    NO_CACHE_LARGE_BLOBS = (
        "no-cache-large-blobs",
        "FRESH-1",
        "never caches a blob over 16 KiB: fetches it from the upstream on every request (fails when it is down)",
    )
    NO_CACHE_CONFIG = (
        "no-cache-config",
        "FRESH-3",
        "does not cache config blobs (a later pull with upstream refused fails)",
    )
    GET_FOR_FRESHNESS = ("get-for-freshness", "FRESH-4", "freshness check by manifest GET instead of HEAD")
    DIGEST_FRESHNESS = (
        "digest-freshness",
        "FRESH-5",
        "pulls of manifests by digest also send the upstream a HEAD before serving",
    )
    COLD_404_AS_500 = (
        "cold-404-as-500",
        "COLD-404",
        "cold upstream 404 -> 500 UNKNOWN (distribution 2.8 does this for digests)",
    )
    COLD_429_AS_500 = ("cold-429-as-500", "COLD-429", "cold upstream 429 -> 500 without Retry-After")
    COLD_DOWN_AS_404 = ("cold-down-as-404", "COLD-DOWN", "cold upstream refused/reset/5xx -> 404 (hides the cause)")
    COLD_AUTH_AS_404 = ("cold-auth-as-404", "COLD-AUTH", "cold upstream 401/403/token failure -> 404")
    STALL_AFTER_HEADERS = (
        "stall-after-headers",
        "COLD-NEVER-PARTIAL",
        "a cold blob whose upstream transfer breaks or fails verification mid-body: the connection stays open "
        "and silent after the headers (until the client gives up) instead of being cut",
    )
    NO_DIGEST_VERIFY = (
        "no-digest-verify",
        "INTEG-CORRUPT",
        "streams and caches upstream blob bytes without checking the digest",
    )
    CACHE_TRUNCATED = (
        "cache-truncated",
        "INTEG-TRUNCATE",
        "a cut-short upstream body is taken as complete and cached",
    )
    FORWARD_UPSTREAM_LENGTH = (
        "forward-upstream-length",
        "INTEG-LENGTH",
        "a cold blob goes out with the upstream's Content-Length, streamed through as the upstream frames it: "
        "a lying upstream makes it declare more than the blob (then cut), or less (then end cleanly short)",
    )
    NO_ATOMIC_WRITE = (
        "no-atomic-write",
        "INTEG-RESTART",
        "writes cache files in place: a kill -9 leaves a partial file that is later served",
    )
    HEAD_NO_LENGTH = ("head-no-length", "PROTO-HEAD", "HEAD answers omit Content-Length")
    WRONG_DIGEST_HEADER = (
        "wrong-digest-header",
        "PROTO-DIGEST-HEADER",
        "blobs streamed from the upstream (not cached yet) carry no Docker-Content-Digest, as Harbor's do",
    )
    NO_DIGEST_HEADER_CACHED = (
        "no-digest-header-cached",
        "PROTO-DIGEST-HEADER",
        "manifests and blobs served from the cache carry no Docker-Content-Digest",
    )
    REWRITE_MEDIA_TYPE = (
        "rewrite-media-type",
        "PROTO-MEDIATYPE",
        "re-serialises manifests fetched from upstream (json.loads/dumps), changing bytes and digest",
    )
    IGNORE_ACCEPT = (
        "ignore-accept",
        "PROTO-ACCEPT",
        "serves a manifest whose media type the client's Accept excludes, as 200, labelled as a type it accepts",
    )
    IGNORE_RANGE = ("ignore-range", "PROTO-RANGE", "ignores Range on cached blobs (200, full body)")
    TAGS_DOWN_5XX = (
        "tags-down-5xx",
        "PROTO-TAGS",
        "tags/list answers 502 when the upstream is down instead of the cached tags",
    )
    ALLOW_PUSH = ("allow-push", "PROTO-NO-PUSH", "forwards push, upload and delete requests to the upstream")
    PLAIN_ERRORS = ("plain-errors", "PROTO-ERRORS", "error answers are plain text, not OCI JSON")
    TRIM_INDEX = (
        "trim-index",
        "INDEX-1",
        "an index served from the cache while the upstream fails is trimmed to the children pulled "
        "(re-serialised: new digest), like Harbor's",
    )
    NO_COALESCE = ("no-coalesce", "ECON-COALESCE", "concurrent cold GETs of one blob each fetch it from upstream")
    HEAD_AS_GET = (
        "head-as-get",
        "ECON-HEAD",
        "a client HEAD of a cold blob or digest manifest becomes an upstream GET",
    )
    FETCH_TWICE = (
        "fetch-twice",
        "ECON-ONCE",
        "a cold blob is fetched twice (one for the client, one for the cache)",
    )
    TOKEN_PER_REQUEST = ("token-per-request", "ECON-TOKEN", "fetches a new upstream token for every request")
    LEAK_CREDENTIALS = (
        "leak-credentials",
        "SEC-CREDS",
        "upstream credentials appear in the error message when the upstream refuses",
    )
    CROSS_REPO_BLOBS = (
        "cross-repo-blobs",
        "SEC-ISOLATION",
        "serves content cached via repository a to repository b without asking",
    )
    NO_PATH_CHECK = ("no-path-check", "SEC-PATH", "skips name and digest validation: '..' and bad digests get a 500")


DEFECTS: Mapping[str, Defect] = MappingProxyType({defect.value: defect for defect in Defect})


def parse_defects(names: Iterable[str]) -> frozenset[Defect]:
    """The defects named; ValueError naming the unknown ones and every valid name."""
    names = list(names)
    unknown = sorted({name for name in names if name not in DEFECTS})
    if unknown:
        raise ValueError(f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(DEFECTS)}")
    return frozenset(DEFECTS[name] for name in names)
