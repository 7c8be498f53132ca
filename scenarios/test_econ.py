"""ECON: what the proxy costs its upstream (Docker Hub counts manifest GETs; every byte costs someone)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from fake_upstream import Match
from harness.case import Case, digest_of
from harness.expect import predicate
from harness.observe import upstream_counts
from reports.model import Kind, Observation

CLIENTS = 20
COALESCE_BLOB = 1 << 20
COALESCE_RATE = 2 << 20
PULLS = 5


def _few(count: int) -> str:
    """Counts in labels: exact while small, "many" beyond, so that a diff shows behaviour, not noise."""
    return str(count) if count <= 2 else "many"


@pytest.mark.rule("ECON-COALESCE")
def test_concurrent_cold_pulls_share_one_fetch(case: Case) -> None:
    image = case.image(layers=(COALESCE_BLOB,))
    layer = digest_of(image, "layer")
    # A slowed upstream keeps the first fetch in flight while the others arrive.
    case.upstream.add_fault("slow", Match(method="GET", kind="blob", reference=layer), rate=COALESCE_RATE)
    start = threading.Barrier(CLIENTS)
    clients = [case.world.client() for _ in range(CLIENTS)]

    def pull(index: int) -> bool:
        start.wait(timeout=case.world.timeout)
        answer = clients[index].blob(case.path(image), layer)
        return answer.status == 200 and answer.complete and answer.body_digest == layer

    case.mark()
    with ThreadPoolExecutor(CLIENTS) as pool:
        whole = sum(pool.map(pull, range(CLIENTS)))
    for client in clients:
        case.client.exchanges.extend(client.exchanges[:1])
        client.close()
    case.settle(image, only=[layer])
    gets = sum(1 for e in case.journal() if e.method == "GET" and e.reference == layer)
    observation = Observation(
        Kind.UPSTREAM_REQUESTS,
        f"upstream-requests(GET blob={_few(gets)}), {whole}/{CLIENTS} whole",
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
    case.settle(image, only=[digest_of(image, what)])
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
    case.settle(image, only=[layer])
    gets = sum(1 for e in case.journal() if e.method == "GET" and e.reference == layer)
    observation = Observation(
        Kind.UPSTREAM_REQUESTS,
        f"upstream-requests(GET blob={_few(gets)})",
        status=answer.status,
        detail=f"{gets} upstream GETs for one cold blob GET",
        upstream={"GET blob": gets},
    )
    case.check(observation, predicate("1 upstream GET", lambda o: o.upstream.get("GET blob") == 1 and o.status == 200))


@pytest.mark.rule("ECON-TOKEN")
def test_tokens_are_reused(case: Case) -> None:
    case.require("credentials", "token reuse matters to a proxy that logs in to its upstream")
    image = case.image()
    case.mark()
    for _ in range(PULLS):
        case.client.pull(case.path(image), image.tag or image.digest)
    tokens = sum(1 for e in case.journal() if e.kind == "token")
    observation = Observation(
        Kind.UPSTREAM_REQUESTS,
        f"upstream-requests(token={_few(tokens)})",
        detail=f"{tokens} token requests for {PULLS} pulls of one repository",
        upstream={"GET token": tokens},
    )
    case.check(observation, predicate("at most 1 token request", lambda o: o.upstream.get("GET token", 0) <= 1))
