"""Deliberate defects: one realistic bug each, switched on by name, to prove that the scenarios can fail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Defect:
    name: str
    rule: str
    description: str


_ROWS = [
    ("no-stale-on-404", "STALE-404", "upstream 404 on a cached tag -> answers 404 (cache kept; = not-found)"),
    ("delete-on-404", "STALE-404", "upstream 404 on a cached tag -> answers 404 and evicts the tag (Harbor 2.14)"),
    ("no-stale-on-5xx", "STALE-5XX", "upstream 5xx on the freshness check -> passes the 5xx through"),
    ("no-stale-on-refused", "STALE-REFUSED", "connection refused on the freshness check -> 502"),
    ("no-stale-on-reset", "STALE-RESET", "connection reset on the freshness check -> 502"),
    ("no-stale-on-429", "STALE-429", "upstream 429 -> passes the 429 through although cached"),
    ("no-stale-on-auth", "STALE-AUTH", "upstream 401/403/token failure -> error although cached"),
    (
        "tag-poisoning",
        "STALE-HALF",
        "HEAD says new digest -> re-points the tag before the GET succeeds; GET fails -> 500, old copy lost",
    ),
    (
        "no-upstream-timeout",
        "STALE-BLACKHOLE",
        "ignores the upstream timeout: waits up to 600 s on an upstream that never answers",
    ),
    ("ignore-upstream-update", "FRESH-2", "serves the cached tag without checking freshness"),
    ("refetch-blobs", "FRESH-1", "never serves blobs from cache while the upstream answers: fetches them again"),
    ("no-cache-config", "FRESH-3", "does not cache config blobs (a later pull with upstream refused fails)"),
    ("get-for-freshness", "FRESH-4", "freshness check by manifest GET instead of HEAD"),
    ("digest-freshness", "FRESH-5", "pulls of manifests by digest also send the upstream a HEAD before serving"),
    ("cold-404-as-500", "COLD-404", "cold upstream 404 -> 500 UNKNOWN (distribution 2.8 does this for digests)"),
    ("cold-429-as-500", "COLD-429", "cold upstream 429 -> 500 without Retry-After"),
    ("cold-down-as-404", "COLD-DOWN", "cold upstream refused/reset/5xx -> 404 (hides the cause)"),
    ("cold-auth-as-404", "COLD-AUTH", "cold upstream 401/403/token failure -> 404"),
    ("no-digest-verify", "INTEG-CORRUPT", "streams and caches upstream blob bytes without checking the digest"),
    ("cache-truncated", "INTEG-TRUNCATE", "a cut-short upstream body is taken as complete and cached"),
    (
        "lying-content-length",
        "INTEG-LENGTH",
        "forwards the upstream's Content-Length (0 when it sent none) instead of the truth",
    ),
    (
        "no-atomic-write",
        "INTEG-RESTART",
        "writes cache files in place: a kill -9 leaves a partial file that is later served",
    ),
    ("head-no-length", "PROTO-HEAD", "HEAD answers omit Content-Length"),
    (
        "wrong-digest-header",
        "PROTO-DIGEST-HEADER",
        "blobs streamed from the upstream (not cached yet) carry no Docker-Content-Digest, as Harbor's do",
    ),
    (
        "rewrite-media-type",
        "PROTO-MEDIATYPE",
        "re-serialises manifests fetched from upstream (json.loads/dumps), changing bytes and digest",
    ),
    (
        "ignore-accept",
        "PROTO-ACCEPT",
        "serves a manifest whose media type the client's Accept excludes, as 200, labelled as a type it accepts",
    ),
    ("ignore-range", "PROTO-RANGE", "ignores Range on cached blobs (200, full body)"),
    ("tags-down-5xx", "PROTO-TAGS", "tags/list answers 502 when the upstream is down instead of the cached tags"),
    ("allow-push", "PROTO-NO-PUSH", "forwards push, upload and delete requests to the upstream"),
    ("plain-errors", "PROTO-ERRORS", "error answers are plain text, not OCI JSON"),
    (
        "trim-index",
        "INDEX-1",
        "serves cached indexes trimmed to the children pulled so far (re-serialised: new digest), like Harbor",
    ),
    ("no-coalesce", "ECON-COALESCE", "concurrent cold GETs of one blob each fetch it from upstream"),
    ("head-as-get", "ECON-HEAD", "a client HEAD of a cold blob or digest manifest becomes an upstream GET"),
    ("fetch-twice", "ECON-ONCE", "a cold blob is fetched twice (one for the client, one for the cache)"),
    ("token-per-request", "ECON-TOKEN", "fetches a new upstream token for every request"),
    ("leak-credentials", "SEC-CREDS", "upstream credentials appear in the error message when the upstream refuses"),
    ("cross-repo-blobs", "SEC-ISOLATION", "serves content cached via repository a to repository b without asking"),
    ("no-path-check", "SEC-PATH", "skips name and digest validation: '..' and bad digests get a 500"),
]

DEFECTS: Mapping[str, Defect] = MappingProxyType({name: Defect(name, rule, text) for name, rule, text in _ROWS})
