"""INTEG: bytes that do not match their digest never reach a client as a success, nor the cache."""

from __future__ import annotations

import threading

import pytest

from fake_upstream import Match
from harness.case import Case, digest_of
from harness.expect import kinds, predicate, served
from harness.observe import classify
from harness.poll import wait_until
from reports.model import Kind
from scenarios._cells import Cell, cells, relabel

_NOT_WRONG = (Kind.SERVED, Kind.PARTIAL, Kind.CLEAN_ERROR, Kind.NOT_FOUND, Kind.CONNECTION_ERROR, Kind.UNCLEAN_ERROR)
RESTART_BLOB = 4 << 20
RESTART_RATE = 256 << 10
PROGRESS_DEADLINE = 10.0


@pytest.mark.rule("INTEG-CORRUPT")
@pytest.mark.parametrize("cell", cells("digest-GET", "config-GET", "layer-GET"))
def test_corrupt_bytes(case: Case, cell: Cell) -> None:
    image = case.image(layers=(200_000,))
    case.upstream.add_fault(
        "corrupt", Match(method="GET", kind=cell.upstream_kind, repository=image.repository), times=1
    )
    case.mark()
    case.check(case.observe(image, cell.what, cell.method), kinds(*_NOT_WRONG))
    case.upstream.set_outage("refused")
    case.mark()
    case.check(
        case.observe(image, cell.what, cell.method),
        kinds(*(k for k in _NOT_WRONG if k is not Kind.SERVED)),
        note="nothing was cached (asked again with the upstream refused)",
    )


@pytest.mark.rule("INTEG-TRUNCATE")
@pytest.mark.parametrize("cell", cells("config-GET", "layer-GET"))
def test_truncated_body(case: Case, cell: Cell) -> None:
    image = case.image(layers=(200_000,))
    case.upstream.add_fault("truncate", Match(method="GET", kind="blob", repository=image.repository), times=1)
    case.mark()
    first = case.observe(image, cell.what, cell.method)
    case.check(first, kinds(Kind.PARTIAL, Kind.CLEAN_ERROR, Kind.CONNECTION_ERROR, Kind.UNCLEAN_ERROR, Kind.SERVED))
    case.mark()
    case.check(
        case.observe(image, cell.what, cell.method),
        served(),
        note="nothing cut short was cached: the next pull, upstream healthy, is complete",
    )


@pytest.mark.rule("INTEG-LENGTH")
@pytest.mark.parametrize("fault", ["no-length", "truncate"])
def test_proxy_headers_are_true(case: Case, fault: str) -> None:
    image = case.image(layers=(150_000,))
    case.upstream.add_fault(fault, Match(method="GET", kind="blob", repository=image.repository), times=1)
    case.mark()
    answer = case.request(image, "layer", "GET")
    observation = classify(answer, asked=digest_of(image, "layer"), upstream=case.upstream_requests())
    length = answer.headers.get("content-length")
    if answer.status == 200 and answer.complete and length is not None and int(length) != answer.body_bytes:
        observation = relabel(observation, f"Content-Length {length} for {answer.body_bytes} bytes")
    case.check(
        observation,
        predicate(
            "Content-Length, when sent, equals the bytes sent; no wrong bytes",
            lambda o: o.kind in _NOT_WRONG and "Content-Length" not in o.label,
        ),
    )


@pytest.mark.rule("INTEG-RESTART")
def test_killed_during_cold_pull(case: Case) -> None:
    case.require("restart", "the harness must be able to kill -9 and restart the proxy")
    image = case.image(layers=(RESTART_BLOB,))
    layer = digest_of(image, "layer")
    case.upstream.add_fault("slow", Match(method="GET", kind="blob", reference=layer), rate=RESTART_RATE)
    pulling = threading.Thread(target=case.request, args=(image, "layer", "GET"), daemon=True)
    pulling.start()
    _wait_for_upstream_bytes(case, layer)
    case.world.target.restart(kill=True)
    pulling.join(timeout=case.world.timeout)
    case.upstream.clear_faults()
    case.upstream.set_outage("refused")
    case.mark()
    case.check(
        case.observe(image, "layer", "GET"),
        kinds(*(k for k in _NOT_WRONG if k is not Kind.SERVED)),
        note="after kill -9 and restart, with the upstream refused, no partial file is served",
    )
    case.upstream.set_outage("none")
    case.mark()
    case.check(case.observe(image, "layer", "GET"), served(), note="and with the upstream back, it is complete")


def _wait_for_upstream_bytes(case: Case, digest: str) -> None:
    wait_until(
        lambda: any(e.method == "GET" and e.reference == digest and e.bytes > 0 for e in case.upstream.journal()),
        timeout=PROGRESS_DEADLINE,
        what=f"the proxy's upstream GET of {digest} moving bytes",
    )
