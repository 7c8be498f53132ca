"""The behaviour catalogue of RULES.md as data: every rule's ID, family, level and expectation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["documented", "spec", "recommended"]
FAMILIES = ("FRESH", "STALE", "COLD", "INTEG", "PROTO", "INDEX", "ECON", "SEC")


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    situation: str
    expected: str

    @property
    def family(self) -> str:
        return self.id.split("-", 1)[0]

    def gating(self, strict: bool) -> bool:
        return self.level != "recommended" or strict


_RULES = [
    Rule("FRESH-1", "documented", "tag cached, upstream unchanged", "served cached; no blob is fetched again"),
    Rule(
        "FRESH-2",
        "documented",
        "tag cached, upstream re-pointed the tag to a new image",
        "the new manifest is served and its blobs cached; later, with upstream refused, the new image is served",
    ),
    Rule(
        "FRESH-3",
        "documented",
        "cold pull of a whole image (manifest, config, layers)",
        "served; afterwards, with upstream refused, the whole image is served from cache",
    ),
    Rule(
        "FRESH-4",
        "documented",
        "freshness check of a cached tag",
        "costs the upstream a manifest HEAD, never a manifest GET",
    ),
    Rule("FRESH-5", "spec", "pull by digest of cached content", "served with no upstream request at all"),
    Rule("STALE-REFUSED", "documented", "upstream refuses connections", "served cached"),
    Rule("STALE-RESET", "documented", "upstream resets connections", "served cached"),
    Rule("STALE-BLACKHOLE", "documented", "upstream accepts and never answers", "served cached within T"),
    Rule("STALE-5XX", "documented", "upstream answers 500, 502, 503 or 504", "served cached"),
    Rule(
        "STALE-404",
        "documented",
        "tag or whole repository deleted upstream",
        "served cached, and the cache keeps it (profile harbor-2.14-docs: 404)",
    ),
    Rule("STALE-429", "recommended", "upstream answers 429", "served cached, without retrying upstream in a loop"),
    Rule("STALE-AUTH", "recommended", "upstream answers 401, 403, or its token endpoint fails", "served cached"),
    Rule(
        "STALE-HALF",
        "recommended",
        "HEAD reports a new digest, the GET that follows fails",
        "the old cached copy is still served, now and on later pulls",
    ),
    Rule("COLD-404", "spec", "nothing cached, upstream 404", "404 with MANIFEST_UNKNOWN / BLOB_UNKNOWN / NAME_UNKNOWN"),
    Rule("COLD-429", "recommended", "nothing cached, upstream 429", "429 passed through with Retry-After"),
    Rule(
        "COLD-DOWN",
        "recommended",
        "nothing cached, upstream refused, reset or 5xx",
        "clean error 502/503/504 whose message names the upstream failure",
    ),
    Rule("COLD-BLACKHOLE", "recommended", "nothing cached, upstream black-holed", "clean error (504) within T"),
    Rule(
        "COLD-AUTH",
        "recommended",
        "nothing cached, upstream refuses the proxy's credentials",
        "clean error that says the upstream refused the proxy's credentials (502, or 401/403 without upstream realm)",
    ),
    Rule(
        "COLD-NEVER-PARTIAL",
        "spec",
        "any fault mid-body",
        "never a 200 whose body is shorter than its Content-Length or differs from its digest",
    ),
    Rule(
        "INTEG-CORRUPT",
        "spec",
        "upstream sends bytes that do not match the digest",
        "never received as a 200 under that digest; nothing is cached",
    ),
    Rule(
        "INTEG-TRUNCATE",
        "spec",
        "upstream cuts a blob short",
        "the transfer fails visibly; nothing cached; the next healthy pull is complete",
    ),
    Rule(
        "INTEG-LENGTH",
        "spec",
        "upstream omits or lies in Content-Length",
        "the proxy's own Content-Length equals the bytes it sends",
    ),
    Rule(
        "INTEG-RESTART",
        "recommended",
        "proxy killed during a cold pull, restarted",
        "no partial file is ever served; the cache verifies",
    ),
    Rule(
        "PROTO-HEAD",
        "spec",
        "HEAD manifest / blob",
        "same status, Content-Type, Content-Length, Docker-Content-Digest as GET, no body",
    ),
    Rule(
        "PROTO-DIGEST-HEADER",
        "spec",
        "any 200 manifest or blob",
        "Docker-Content-Digest present and equal to the body's digest",
    ),
    Rule(
        "PROTO-MEDIATYPE",
        "spec",
        "Docker schema2, Docker manifest list, OCI manifest, OCI index",
        "served with the upstream's media type and bytes, unchanged",
    ),
    Rule(
        "PROTO-ACCEPT",
        "spec",
        "client Accept excludes the stored media type",
        "404 MANIFEST_UNKNOWN (or the stored bytes unconverted); never a silently converted manifest",
    ),
    Rule("PROTO-RANGE", "recommended", "Range on a cached blob", "206 with a correct Content-Range"),
    Rule(
        "PROTO-TAGS",
        "recommended",
        "tags/list with upstream down, and pagination with it up",
        "the cached tags, never a 5xx; n, last and Link honoured",
    ),
    Rule(
        "PROTO-NO-PUSH",
        "documented",
        "push (POST upload, PUT manifest) and DELETE",
        "refused with a clean error (405 UNSUPPORTED or 403 DENIED); nothing reaches the upstream",
    ),
    Rule("PROTO-ERRORS", "spec", "any error", "OCI error body with the right code for the status"),
    Rule(
        "INDEX-1",
        "documented",
        "cold pull of an index and one platform's manifest",
        "later, with upstream refused, the index and that platform are served from cache, byte-identical",
    ),
    Rule("INDEX-2", "documented", "index deleted upstream (404)", "as STALE-404, for the index and its child"),
    Rule(
        "ECON-COALESCE",
        "recommended",
        "20 clients pull the same cold blob at once",
        "exactly 1 upstream GET; every client gets the whole, correct blob",
    ),
    Rule(
        "ECON-HEAD",
        "recommended",
        "client HEAD of a cold blob or digest manifest",
        "at most a HEAD upstream, no full GET",
    ),
    Rule("ECON-ONCE", "recommended", "cold blob GET", "fetched from upstream once, not twice"),
    Rule(
        "ECON-TOKEN", "recommended", "many pulls against a token-auth upstream", "tokens are reused until they expire"
    ),
    Rule(
        "SEC-CREDS",
        "recommended",
        "upstream credentials configured",
        "never in any response, header, error message, log line or report",
    ),
    Rule(
        "SEC-ISOLATION",
        "recommended",
        "a blob cached through upstream repository a, asked for through b",
        "not served through b unless the upstream confirms b has it",
    ),
    Rule(
        "SEC-PATH",
        "spec",
        "names or references with .., %2e, absolute paths, bad digests",
        "clean 400/404 error; nothing read or written outside the cache",
    ),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule {rule_id!r}; see RULES.md") from None
