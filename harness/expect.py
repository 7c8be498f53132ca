"""What a scenario expects of an observation, per profile; the verdict follows from it and the rule's level."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reports.model import Kind, Observation


@dataclass(frozen=True)
class Expect:
    text: str
    accepts: Callable[[Observation], bool]

    def __or__(self, other: Expect) -> Expect:
        return Expect(f"{self.text} or {other.text}", lambda o: self.accepts(o) or other.accepts(o))


ProfileExpect = Expect | Mapping[str, Expect]


def for_profile(expect: ProfileExpect, profile: str) -> Expect:
    if isinstance(expect, Expect):
        return expect
    return expect.get(profile) or expect["documented"]


def kinds(*names: Kind) -> Expect:
    return Expect(" or ".join(names), lambda o: o.kind in names)


def served_cached() -> Expect:
    return kinds(Kind.SERVED_CACHED)


def served_fresh() -> Expect:
    return kinds(Kind.SERVED_FRESH)


def served() -> Expect:
    """The right bytes, whether or not `Docker-Content-Digest` said so (PROTO-DIGEST-HEADER's concern)."""
    return kinds(Kind.SERVED, Kind.SERVED_CACHED, Kind.SERVED_FRESH, Kind.SERVED_WITHOUT_DIGEST)


def not_found(*codes: str) -> Expect:
    text = f"404 {'/'.join(codes)}" if codes else "404"
    return Expect(
        text, lambda o: o.kind is Kind.NOT_FOUND and (not codes or o.error_code in codes or o.error_code is None)
    )


def clean_error(*statuses: int, code: str | None = None) -> Expect:
    text = f"clean error {'/'.join(map(str, statuses))}" + (f" {code}" if code else "")

    def accepts(o: Observation) -> bool:
        if o.kind not in (Kind.CLEAN_ERROR, Kind.NOT_FOUND) or o.status not in statuses:
            return False
        return code is None or o.error_code in (code, None)

    return Expect(text, accepts)


def label(*labels: str) -> Expect:
    return Expect(" or ".join(labels), lambda o: o.label in labels)


def predicate(text: str, test: Callable[[Observation], bool]) -> Expect:
    return Expect(text, test)


def by_profile(**expects: Expect) -> Mapping[str, Expect]:
    """`by_profile(documented=served_cached(), harbor_2_14_docs=not_found())`; a profile not named gets
    `documented`'s."""
    return {re.sub(r"^harbor-(\d+)-(\d+)-", r"harbor-\1.\2-", name.replace("_", "-")): e for name, e in expects.items()}
