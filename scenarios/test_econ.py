"""ECON: what the proxy costs its upstream (Docker Hub counts manifest GETs; every byte costs someone)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from fake_upstream import Match
from harness.case import Case
from harness.content import digest_of
from harness.expect import predicate
from harness.observe import upstream_counts
from reports.model import Kind, Observation
from scenarios._cells import few

CLIENTS = 20
COALESCE_BLOB = 1 << 20
COALESCE_RATE = 2 << 20
PULLS = 5


@pytest.mark.rule("ECON-COALESCE")
def test_concurrent_cold_pulls_share_one_fetch(case: Case) -> None:
    image = case.image(layers=(COALESCE_BLOB,))
    layer = digest_of(image, "layer")
    # A slowed upstream keeps the first fetch in flight while the others arrive.
    case.fault("slow", Match(method="GET", kind="blob", reference=layer), rate=COALESCE_RATE)
    start = threading.Barrier(CLIENTS)
    clients = [case.world.client() for _ in range(CLIENTS)]

    def pull(index: int) -> bool:
        start.wait(timeout=case.world.timeout)
        answer = case.request(image, "layer", client=clients[index])
        return answer.status == 200 and answer.complete and answer.body_digest == layer

    case.mark()
    with ThreadPoolExecutor(CLIENTS) as pool:
        whole = sum(pool.map(pull, range(CLIENTS)))
    for client in clients:
        case.client.exchanges.extend(client.exchanges[:1])
        client.close()
    case.quiesce()
    gets = _blob_gets(case, layer)
    observation = Observation(
        Kind.UPSTREAM_REQUESTS,
        f"upstream-requests(GET blob={few(gets)}), {whole}/{CLIENTS} whole",
        detail=f"{CLIENTS} concurrent cold GETs: {gets} upstream GETs, {whole} clients got the whole, correct blob",
        upstream={"GET blob": gets},
    )
    case.check(
        observation,
        predicate(
            f"1 upstream GET, {CLIENTS}/{CLIENTS} whole",
            lambda o: o.upstream.get("GET blob") == 1 and o.label.endswith(f"{CLIENTS}/{CLIENTS} whole"),
        ),
    )


@pytest.mark.rule("ECON-HEAD")
@pytest.mark.parametrize("what", ["layer", "digest"])
def test_head_of_cold_content_is_no_upstream_get(case: Case, what: str) -> None:
    image = case.image(layers=(200_000,))
    case.mark()
    answer = case.request(image, what, "HEAD")  # type: ignore[arg-type]
    kind = "blob" if what == "layer" else "manifest"
    case.quiesce()
    counts = upstream_counts(case.upstream_requests())
    sent = "GET" if counts.get(f"GET {kind}") else "HEAD only" if counts.get(f"HEAD {kind}") else "none"
    observation = Observation(
        Kind.UPSTREAM_REQUESTS,
        f"upstream-requests({sent})",
        status=answer.status,
        detail=f"client HEAD answered {answer.status}; upstream saw {counts}",
        upstream=counts,
    )
    case.check(
        observation,
        predicate(
            f"at most a HEAD upstream, no GET {kind}",
            lambda o: o.upstream.get(f"GET {kind}", 0) == 0 and o.status == 200,
        ),
    )


@pytest.mark.rule("ECON-ONCE")
def test_cold_blob_is_fetched_once(case: Case) -> None:
    image = case.image(layers=(300_000,))
    layer = digest_of(image, "layer")
    case.mark()
    answer = case.request(image, "layer", "GET")
    case.quiesce()
    gets = _blob_gets(case, layer)
    observation = Observation(
        Kind.UPSTREAM_REQUESTS,
        f"upstream-requests(GET blob={few(gets)})",
        status=answer.status,
        detail=f"{gets} upstream GETs for one cold blob GET",
        upstream={"GET blob": gets},
    )
    case.check(observation, predicate("1 upstream GET", lambda o: o.upstream.get("GET blob") == 1 and o.status == 200))


@pytest.mark.rule("ECON-TOKEN")
@pytest.mark.parametrize("when", ["reused", "expired"])
def test_tokens_are_reused_until_they_expire(case: Case, when: str) -> None:
    case.require("credentials", "token reuse matters to a proxy that logs in to its upstream")
    image = case.image()
    if when == "reused":
        start = case.upstream.cursor()
        pulls = [case.pull(image) for _ in range(PULLS)]
        observation = _tokens(case, start, f"{PULLS} pulls of one repository", pulls[-1].kind)
        case.check(observation, predicate("at most 1 token request", lambda o: o.upstream.get("GET token", 0) <= 1))
        return
    case.warm(image)
    case.upstream.expire_tokens()
    start = case.upstream.cursor()
    pulled = case.pull(image)
    observation = _tokens(case, start, "a pull after the proxy's token expired", pulled.kind)
    case.check(
        observation,
        predicate(
            "the pull is served, with 1 new token",
            lambda o: o.upstream.get("GET token", 0) <= 1 and o.label.endswith("served"),
        ),
    )


def _tokens(case: Case, start: int, what: str, pulled: Kind) -> Observation:
    tokens = sum(1 for e in case.upstream.journal(start) if e.kind == "token")
    # Without a digest header is served too: Harbor answers a tag from its upstream, without the header, until it has
    # stored the manifest 20 s after the first pull, and whether the last pull comes before that is the machine's
    # speed, not the proxy's tokens (PROTO-DIGEST-HEADER judges the header).
    served_kinds = (Kind.SERVED, Kind.SERVED_CACHED, Kind.SERVED_FRESH, Kind.SERVED_WITHOUT_DIGEST)
    served = "served" if pulled in served_kinds else pulled.value
    return Observation(
        Kind.UPSTREAM_REQUESTS,
        f"upstream-requests(token={few(tokens)}), {served}",
        detail=f"{tokens} token requests for {what}",
        upstream={"GET token": tokens},
    )


def _blob_gets(case: Case, digest: str) -> int:
    return sum(1 for e in case.upstream.journal(case.mark_at) if e.method == "GET" and e.reference == digest)
