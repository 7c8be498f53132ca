"""INTEG: bytes that do not match their digest never reach a client as a success, nor the cache."""

from __future__ import annotations

import threading

import pytest

from fake_upstream import Match
from harness.case import Case
from harness.content import digest_of, size_of
from harness.expect import Expect, kinds, predicate, served
from harness.observe import classify
from harness.poll import wait_until
from reports.model import Kind, Observation
from scenarios._cells import Cell, cells, relabel

# Correct bytes are fine wherever wrong bytes are forbidden; a failure is fine if the client can see it.
_NOT_WRONG = (
    Kind.SERVED,
    Kind.SERVED_CACHED,
    Kind.SERVED_WITHOUT_DIGEST,
    Kind.ABORTED,
    Kind.CLEAN_ERROR,
    Kind.NOT_FOUND,
    Kind.CONNECTION_ERROR,
    Kind.UNCLEAN_ERROR,
)
_LENGTH_FAULTS: dict[str, tuple[str, dict[str, object]]] = {
    "no-length": ("no-length", {}),
    "truncate": ("truncate", {}),
    "length-over": ("wrong-length", {"delta": 1000}),
    "length-under": ("wrong-length", {"delta": -1000}),
}
RESTART_BLOB = 4 << 20
RESTART_RATE = 256 << 10
PROGRESS_DEADLINE = 10.0


def _not_wrong(text: str = "no wrong bytes as a success") -> Expect:
    return predicate(text, lambda o: o.kind in _NOT_WRONG)


@pytest.mark.rule("INTEG-CORRUPT")
@pytest.mark.parametrize("cell", cells("digest-GET", "config-GET", "layer-GET"))
def test_corrupt_bytes(case: Case, cell: Cell) -> None:
    image = case.image(layers=(200_000,))
    case.fault("corrupt", Match(method="GET", kind=cell.upstream_kind), times=1)
    case.mark()
    case.check(case.observe(image, cell.what, cell.method, cold=True), _not_wrong())
    case.outage("reset")
    case.mark()
    case.check(
        case.observe(image, cell.what, cell.method),
        _not_wrong("nothing wrong cached: an error, or the right bytes"),
        note="nothing wrong was cached (asked again with the upstream unreachable)",
    )


@pytest.mark.rule("INTEG-TRUNCATE")
@pytest.mark.parametrize("cell", cells("config-GET", "layer-GET"))
def test_truncated_body(case: Case, cell: Cell) -> None:
    image = case.image(layers=(200_000,))
    case.fault("truncate", Match(method="GET", kind="blob"), times=1)
    case.mark()
    first = case.observe(image, cell.what, cell.method, cold=True)
    case.check(first, _not_wrong("a visible failure, or the right bytes"))
    case.mark()
    case.check(
        case.observe(image, cell.what, cell.method, cold=True),
        served(),
        note="nothing cut short was cached: the next pull, upstream healthy, is complete",
    )


@pytest.mark.rule("INTEG-LENGTH")
@pytest.mark.parametrize("fault", list(_LENGTH_FAULTS))
def test_proxy_headers_are_true(case: Case, fault: str) -> None:
    image = case.image(layers=(150_000,))
    name, options = _LENGTH_FAULTS[fault]
    case.fault(name, Match(method="GET", kind="blob"), times=1, **options)
    case.mark()
    answer = case.request(image, "layer", "GET")
    size = size_of(image, "layer")
    observation = classify(answer, asked=digest_of(image, "layer"), size=size, upstream=case.upstream_requests())
    length = answer.headers.get("content-length")
    if answer.status == 200 and length is not None and length != str(size):
        observation = relabel(observation, f"Content-Length {length} for a {size}-byte blob")
    case.check(
        observation,
        predicate(
            "a Content-Length, when sent, is the blob's size; a short body ends visibly aborted",
            lambda o: o.kind in _NOT_WRONG and "Content-Length" not in o.label,
        ),
    )


@pytest.mark.rule("INTEG-RESTART")
def test_killed_during_cold_pull(case: Case) -> None:
    case.require("restart", "the harness must be able to kill -9 and restart the proxy")
    image = case.image(layers=(RESTART_BLOB,))
    layer = digest_of(image, "layer")
    case.fault("slow", Match(method="GET", kind="blob", reference=layer), rate=RESTART_RATE)
    start = case.upstream.cursor()
    pulling = threading.Thread(target=case.request, args=(image, "layer", "GET"), daemon=True)
    pulling.start()
    wait_until(
        lambda: any(e.method == "GET" and e.reference == layer and e.bytes > 0 for e in case.upstream.journal(start)),
        timeout=PROGRESS_DEADLINE,
        what=f"the proxy's upstream GET of {layer} moving bytes",
    )
    case.world.target.restart(kill=True)
    pulling.join(timeout=case.world.timeout)
    case.upstream.clear()
    case.outage("reset")
    case.mark()
    case.check(
        case.observe(image, "layer", "GET"),
        _not_wrong("no partial file served: an error, or the whole blob"),
        note="after kill -9 and restart, with the upstream unreachable",
    )
    case.upstream.restore()
    case.mark()
    case.check(case.observe(image, "layer", "GET"), served(), note="and with the upstream back, it is complete")
    if "storage" in case.world.target.capabilities:
        case.check(_cache_verifies(case), kinds(Kind.CACHE_VERIFIED), note="the cache verifies")


def _cache_verifies(case: Case) -> Observation:
    bad = case.world.target.unverified()
    if bad:
        return Observation(Kind.CACHE_CORRUPT, "cache-corrupt", detail=f"files that fail their digest: {bad}")
    return Observation(Kind.CACHE_VERIFIED, "cache-verified", detail="every cached file hashes to its digest")
