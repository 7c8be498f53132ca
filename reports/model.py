"""The results of a run: what every report format is made from, and what `diff` compares.

Versioned JSON (`SCHEMA_VERSION`), validated by `schema.json` in this package.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 files load with the fields version 2 added left empty
NO_OBSERVATION = "no-observation"


class Kind(StrEnum):
    """What a case observed, before qualifiers; every kind a scenario may record is named here."""

    # One request's outcome, from harness.observe.classify.
    SERVED_CACHED = "served-cached"  # 200, the cached digest, verified
    SERVED_FRESH = "served-fresh"  # 200, the new upstream digest, verified
    SERVED = "served"  # 200, correct bytes, neither known digest (e.g. a cold pull)
    NOT_FOUND = "not-found"
    CLEAN_ERROR = "clean-error"  # non-2xx with an OCI error body
    UNCLEAN_ERROR = "unclean-error"  # non-2xx without one
    SERVED_WITHOUT_DIGEST = "served-without-digest"  # right bytes, but no Docker-Content-Digest to say so
    WRONG_BYTES = "wrong-bytes"  # a complete 200 whose bytes are not the content asked for
    SHORT = "short"  # a complete 200 that ended cleanly short of the content: a success a client cannot doubt
    INCOMPLETE = "incomplete"  # a whole-image pull that could not go on, every answer good (a platform missing)
    ABORTED = "aborted"  # visibly aborted: the transfer broke before its declared end
    HANG = "hang"  # no complete answer within T (nothing came, or the body stopped)
    CONNECTION_ERROR = "connection-error"
    REDIRECT = "redirect"
    # Rule-specific observations, recorded by the scenarios.
    UPSTREAM_REQUESTS = "upstream-requests"
    HEAD_PARITY = "head-parity"
    HEAD_MISMATCH = "head-mismatch"
    DIGEST_HEADER_OK = "digest-header-ok"
    DIGEST_HEADER_MISSING = "digest-header-missing"
    DIGEST_HEADER_WRONG = "digest-header-wrong"
    BYTE_IDENTICAL = "byte-identical"
    CHANGED = "changed"
    STORED_BYTES = "stored-bytes"
    CONVERTED = "converted"
    RANGED = "ranged"
    RANGE_WRONG = "range-wrong"
    TAGS_OK = "tags-ok"
    TAGS_WRONG = "tags-wrong"
    FORWARDED = "forwarded"
    LEAKED = "leaked"
    NO_LEAK = "no-leak"
    SERVED_ACROSS = "served-across"
    CACHE_VERIFIED = "cache-verified"
    CACHE_CORRUPT = "cache-corrupt"
    TOUCHED_OUTSIDE = "touched-outside"  # a file outside the cache read into an answer, or written
    # Recorded by pullthrough 0.1 only (now aborted, short or hang); kept so that old results still load.
    PARTIAL = "partial"


SERVED_KINDS = frozenset({Kind.SERVED, Kind.SERVED_CACHED, Kind.SERVED_FRESH})


class Verdict(StrEnum):
    PASS = "pass"  # the observation is what the profile expects
    FAIL = "fail"  # a gating rule does not hold
    DEVIATION = "deviation"  # a non-gating (recommended) rule does not hold
    ERROR = "error"  # the harness could not observe (environment, harness bug)
    SKIP = "skip"  # the case does not apply to this target


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its answer, as the client saw it (credentials already redacted)."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body_bytes: int = 0
    body_excerpt: str | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class UpstreamRequest:
    """One request the fake upstream received (from its journal)."""

    time: float
    method: str
    path: str
    status: int
    bytes: int
    auth: str
    client: str
    fault: str | None = None


@dataclass(frozen=True)
class Observation:
    """What happened, classified. `label` is what diffs compare, e.g. `clean-error(503 UNAVAILABLE)`."""

    kind: Kind
    label: str
    status: int | None = None
    error_code: str | None = None
    digest: str | None = None
    bytes: int | None = None
    seconds: float | None = None
    detail: str = ""
    upstream: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        return cls(**data)


@dataclass(frozen=True)
class Transcripts:
    client: list[Exchange] = field(default_factory=list)
    upstream: list[UpstreamRequest] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcripts:
        return cls(
            client=[Exchange(**e) for e in data.get("client", [])],
            upstream=[UpstreamRequest(**u) for u in data.get("upstream", [])],
        )


@dataclass(frozen=True)
class CaseResult:
    id: str
    rule: str
    family: str
    level: str
    title: str
    params: dict[str, str]
    expected: str
    verdict: Verdict
    gating: bool
    duration: float
    message: str = ""
    observation: Observation | None = None
    transcripts: Transcripts = field(default_factory=Transcripts)
    step: str = ""  # the step of the case the verdict rests on, when not its main observation ("warming the cache")
    notes: list[str] = field(default_factory=list)  # what the reader should know, e.g. a settle that ran out

    @property
    def label(self) -> str:
        """What diffs compare: the observation's label, or a marker when nothing was observed."""
        return self.observation.label if self.observation else NO_OBSERVATION

    @property
    def cell(self) -> str:
        """The cell within the rule: `503-tag-GET` for `STALE-5XX[503-tag-GET]`."""
        _, bracket, rest = self.id.partition("[")
        if bracket and rest.endswith("]"):
            return rest[:-1]
        return "-".join(self.params.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        observation = data.get("observation")
        return cls(
            **{k: v for k, v in data.items() if k not in ("observation", "transcripts", "verdict")},
            verdict=Verdict(data["verdict"]),
            observation=Observation.from_dict(observation) if observation else None,
            transcripts=Transcripts.from_dict(data.get("transcripts") or {}),
        )


@dataclass(frozen=True)
class RuleInfo:
    """A rule as the catalogue describes it, carried in the results so that every report can explain it."""

    level: str
    situation: str
    expected: str
    source: str
    anchor: str


@dataclass(frozen=True)
class RunInfo:
    target: str
    profile: str
    strict: bool
    pullthrough_version: str
    started_at: str
    finished_at: str
    host: str
    target_version: str | None = None
    target_url: str | None = None
    defects: list[str] = field(default_factory=list)
    python: str = ""
    command: str = ""
    variants: list[str] = field(default_factory=list)
    settle: str = ""
    options: dict[str, str] = field(default_factory=dict)  # the target's own settings (e.g. a Harbor project's)


@dataclass(frozen=True)
class Results:
    run: RunInfo
    cases: list[CaseResult]
    schema_version: int = SCHEMA_VERSION
    rules: dict[str, RuleInfo] = field(default_factory=dict)  # the catalogue entries of the rules run

    def counts(self) -> Counter[Verdict]:
        return Counter(case.verdict for case in self.cases)

    @property
    def seconds(self) -> float | None:
        """Wall time of the run, from its timestamps (None when they are not ISO 8601)."""
        try:
            started = datetime.fromisoformat(self.run.started_at)
            finished = datetime.fromisoformat(self.run.finished_at)
            return (finished - started).total_seconds()
        except (ValueError, TypeError):
            return None

    @property
    def gating_failed(self) -> bool:
        return any(case.verdict in (Verdict.FAIL, Verdict.ERROR) and case.gating for case in self.cases)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=False)

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise ValueError(f"results schema version {version!r} is not one of {READABLE_VERSIONS}")
        cases = [CaseResult.from_dict(c) for c in data["cases"]]
        rules = {rule_id: RuleInfo(**rule) for rule_id, rule in (data.get("rules") or {}).items()}
        return cls(run=RunInfo(**data["run"]), cases=cases, rules=rules)

    @classmethod
    def read(cls, path: str | Path) -> Results:
        return cls.from_dict(json.loads(Path(path).read_text()))
