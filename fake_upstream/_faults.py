"""Faults armed on the registry: what to break, for which requests, how many times."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

FaultName = Literal[
    "404",
    "401",
    "403",
    "429",
    "500",
    "502",
    "503",
    "504",
    "token-fail",
    "reset",
    "blackhole",
    "truncate",
    "corrupt",
    "slow",
    "head-ok-get-fail",
    "no-length",
    "wrong-length",
]
TruncateHow = Literal["close", "reset", "stall"]
Kind = Literal["manifest", "blob", "tags", "token", "ping", "catalog", "referrers", "upload", "registry", "any"]
FAULT_NAMES: tuple[str, ...] = get_args(FaultName)
TRUNCATE_HOWS: tuple[str, ...] = get_args(TruncateHow)
KINDS: tuple[str, ...] = get_args(Kind)
# `registry`: the distribution API of a repository (not its token requests, not the ping or the catalog).
REGISTRY_KINDS = frozenset({"manifest", "blob", "tags", "referrers", "upload"})
STATUS_FAULTS = frozenset({"404", "401", "403", "429", "500", "502", "503", "504"})
BODY_FAULTS = frozenset({"truncate", "corrupt", "slow", "no-length"})
# Faults that change the response head, and so act on HEAD as well as on GET.
HEAD_FAULTS = frozenset({"wrong-length"})


class FaultError(ValueError):
    """A fault specification that cannot be armed."""


@dataclass(frozen=True)
class Match:
    """Which requests a fault applies to; None matches anything. `repository` may be a glob."""

    method: str | None = None
    kind: Kind = "any"
    repository: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultError(f"unknown kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.method is not None:
            object.__setattr__(self, "method", self.method.upper())

    def matches(self, request: RequestInfo) -> bool:
        if self.method is not None and self.method != request.method:
            return False
        if self.kind == "registry":
            if request.kind not in REGISTRY_KINDS:
                return False
        elif self.kind != "any" and self.kind != request.kind:
            return False
        if self.repository is not None and (
            request.repository is None or not fnmatch.fnmatchcase(request.repository, self.repository)
        ):
            return False
        return self.reference is None or self.reference == request.reference


@dataclass(frozen=True)
class RequestInfo:
    method: str
    kind: str
    repository: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Fault:
    """One fault. `times` limits it to the next N matching requests; `fraction` fails a seeded share of them.

    `after_bytes` is where `truncate` cuts and `corrupt` flips a byte (default: the middle), and
    `how` is how `truncate` cuts: "close" (an orderly close), "reset" (an RST), or "stall" (silence,
    the connection kept open until the client leaves or the fault is cleared);
    `rate` is the bandwidth of `slow` in bytes per second; `status` overrides the answer of
    `token-fail` and of the failing GET of `head-ok-get-fail`. `plain` makes an error answer a
    plain-text body instead of the OCI JSON one (`429` then says `Too Many Requests (HAP429).`,
    as Docker Hub's anti-abuse limit does). `delta` is what `wrong-length` adds to the true
    `Content-Length` of a 200 (non-zero; positive: the body ends short of it, the connection closes;
    negative: the body is cut to the declared length and ends cleanly).
    """

    fault: FaultName
    match: Match = field(default_factory=Match)
    times: int | None = None
    fraction: float | None = None
    seed: int = 0
    after_bytes: int | None = None
    rate: int | None = None
    status: int | None = None
    plain: bool = False
    delta: int | None = None
    how: TruncateHow = "close"

    def __post_init__(self) -> None:
        if self.fault not in FAULT_NAMES:
            raise FaultError(f"unknown fault {self.fault!r}; one of {', '.join(FAULT_NAMES)}")
        if self.times is not None and self.times < 1:
            raise FaultError("times must be at least 1")
        if self.fraction is not None and not 0.0 < self.fraction <= 1.0:
            raise FaultError("fraction must be in (0, 1]")
        if self.after_bytes is not None and self.after_bytes < 0:
            raise FaultError("after_bytes must be >= 0")
        if self.fault == "slow" and (self.rate is None or self.rate < 1):
            raise FaultError("slow needs a rate in bytes per second (>= 1)")
        if self.status is not None and not 400 <= self.status <= 599:
            raise FaultError("status must be a 4xx or 5xx code")
        if not isinstance(self.plain, bool):
            raise FaultError("plain must be true or false")
        if self.how not in TRUNCATE_HOWS:
            raise FaultError(f"how must be one of {', '.join(TRUNCATE_HOWS)}")
        if self.how != "close" and self.fault != "truncate":
            raise FaultError("how applies to truncate only")
        if self.fault == "wrong-length" and not self.delta:
            raise FaultError("wrong-length needs a non-zero delta: bytes added to the true Content-Length")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        if not isinstance(data, dict):
            raise FaultError("a fault is a JSON object")
        unknown = set(data) - _FIELDS
        if unknown:
            raise FaultError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        match = data.get("match") or {}
        if not isinstance(match, dict) or set(match) - {"method", "kind", "repository", "reference"}:
            raise FaultError("match takes method, kind, repository, reference")
        try:
            return cls(
                fault=str(data.get("fault")),  # type: ignore[arg-type]
                match=Match(**{k: (str(v) if v is not None else None) for k, v in match.items()}),  # type: ignore[arg-type]
                times=_int(data, "times"),
                fraction=float(data["fraction"]) if data.get("fraction") is not None else None,
                seed=_int(data, "seed") or 0,
                after_bytes=_int(data, "after_bytes"),
                rate=_int(data, "rate"),
                status=_int(data, "status"),
                plain=data.get("plain", False),
                delta=_int(data, "delta"),
                how=data.get("how", "close"),
            )
        except (TypeError, ValueError) as error:
            raise FaultError(str(error)) from None

    def to_dict(self) -> dict[str, Any]:
        match = {k: v for k, v in vars(self.match).items() if v is not None}
        skip = ("match", "seed", "plain") + (() if self.fault == "truncate" else ("how",))
        fields = {k: v for k, v in vars(self).items() if k not in skip and v is not None}
        return {**fields, "match": match, "seed": self.seed, "plain": self.plain}


_FIELDS = frozenset(
    {"fault", "match", "times", "fraction", "seed", "after_bytes", "rate", "status", "plain", "delta", "how"}
)


@dataclass
class _Armed:
    id: str
    fault: Fault
    remaining: int | None
    rng: random.Random


class FaultTable:
    """Armed faults, consulted in arming order; the first that fires wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._issued = 0

    def arm(self, fault: Fault) -> str:
        with self._lock:
            self._issued += 1
            armed = _Armed(f"f{self._issued}", fault, fault.times, random.Random(fault.seed))
            self._armed.append(armed)
            return armed.id

    def disarm(self, fault_id: str | None = None) -> None:
        """Disarm one fault (one already spent or cleared: nothing to do), or all of them."""
        with self._lock:
            if fault_id is not None and not self._was_issued(fault_id):
                raise FaultError(f"no such fault: {fault_id}")
            self._armed = [a for a in self._armed if fault_id is not None and a.id != fault_id]

    def _was_issued(self, fault_id: str) -> bool:
        number = fault_id[1:]
        well_formed = fault_id.startswith("f") and number.isascii() and number.isdigit() and len(number) <= 18
        return well_formed and 1 <= int(number) <= self._issued

    def armed(self) -> list[tuple[str, Fault]]:
        with self._lock:
            return [(a.id, replace(a.fault, times=a.remaining)) for a in self._armed]

    def fire(self, request: RequestInfo) -> tuple[str, Fault] | None:
        """The fault this request suffers (with its id), if any; spends one of its `times`."""
        with self._lock:
            for armed in self._armed:
                if not _applies(armed.fault, request) or not armed.fault.match.matches(request):
                    continue
                if armed.fault.fraction is not None and armed.rng.random() >= armed.fault.fraction:
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed.remove(armed)
                return armed.id, armed.fault
        return None


def _applies(fault: Fault, request: RequestInfo) -> bool:
    """Faults that cannot act on a request do not spend themselves on it."""
    if fault.fault == "token-fail":
        return request.kind == "token"
    if fault.fault == "head-ok-get-fail":
        return request.method == "GET"
    if fault.fault in BODY_FAULTS:
        return request.method != "HEAD"
    if fault.fault in HEAD_FAULTS:
        return request.method in ("GET", "HEAD")
    return True


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultError(f"{key} must be an integer")
    return value
