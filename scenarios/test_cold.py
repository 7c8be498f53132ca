"""COLD: failures with nothing cached: honest errors, in bounded time, and never a partial success."""

from __future__ import annotations

import re

import pytest

from fake_upstream import Image, Match
from harness.case import Case
from harness.expect import Expect, kinds, not_found, predicate
from harness.observe import classify
from reports.model import Kind, Observation
from scenarios._cells import Cell, cell, cells, relabel

_MANIFEST_CODES = ("MANIFEST_UNKNOWN", "NAME_UNKNOWN")
# What a message may say to name a failure of the upstream: the upstream itself, or what happened to it.
_DOWN_WORDS = ("upstream", "refused", "reset", "timed out", "timeout", "unreachable", "connect")
_AUTH_WORDS = ("upstream", "unauthorized", "forbidden", "denied", "credential", "token", "login", "authenticat")
# Mid-body failures: (fault, options); the bytes that reach the client must never pass for the whole blob.
_MID_BODY: dict[str, tuple[str, dict[str, object]]] = {
    "truncate": ("truncate", {}),
    "reset": ("truncate", {"how": "reset"}),
    "stall": ("truncate", {"how": "stall"}),
    "corrupt": ("corrupt", {}),
    "length-over": ("wrong-length", {"delta": 1000}),
    "length-under": ("wrong-length", {"delta": -1000}),
}


def _missing(case: Case, image: Image, shape: Cell, missing: str) -> Observation:
    """Ask for something the upstream does not have; the image exists, so only the reference is unknown."""
    path = case.path(case.upstream.repository("gone")) if missing == "repository" else case.path(image)
    unknown_digest = "sha256:" + "0" * 63 + "1"
    case.mark()
    if shape.what == "tag":
        answer = case.client.manifest(path, "no-such-tag", method=shape.method)
    elif shape.what == "digest":
        answer = case.client.manifest(path, unknown_digest, method=shape.method)
    else:
        answer = case.client.blob(path, unknown_digest, method=shape.method)
    return classify(answer, upstream=case.upstream_requests())


@pytest.mark.rule("COLD-404")
@pytest.mark.parametrize(
    ("cell", "missing"),
    [
        pytest.param(cell("tag-GET"), "reference", id="tag-GET"),
        pytest.param(cell("tag-HEAD"), "reference", id="tag-HEAD"),
        pytest.param(cell("digest-GET"), "reference", id="digest-GET"),
        pytest.param(cell("layer-GET"), "reference", id="blob-GET"),
        pytest.param(cell("layer-HEAD"), "reference", id="blob-HEAD"),
        pytest.param(cell("tag-GET"), "repository", id="repository-GET"),
    ],
)
def test_not_found_upstream(case: Case, cell: Cell, missing: str) -> None:
    image = case.image()
    expect = not_found(*_MANIFEST_CODES) if cell.upstream_kind == "manifest" else not_found("BLOB_UNKNOWN")
    case.check(_missing(case, image, cell, missing), expect)


@pytest.mark.rule("COLD-429")
@pytest.mark.parametrize("cell", cells("tag-GET", "digest-GET", "layer-GET"))
def test_rate_limited(case: Case, cell: Cell) -> None:
    image = case.image()
    case.fault("429")
    case.mark()
    answer = case.request(image, cell.what, cell.method)
    observation = classify(answer, upstream=case.upstream_requests())
    if answer.status == 429 and "retry-after" not in answer.headers:
        observation = relabel(observation, "no Retry-After")
    case.check(
        observation,
        predicate(
            "429 with Retry-After",
            lambda o: o.status == 429 and o.kind is Kind.CLEAN_ERROR and "Retry" not in o.label,
        ),
    )


def names_the_failure(case: Case, statuses: tuple[int, ...], words: tuple[str, ...], what: str) -> Expect:
    """A clean error whose message names what went wrong upstream: the upstream, its address, the status, or what
    happened (refused, reset, timed out...), in whatever words the proxy chooses."""
    address = case.upstream.url.split("//", 1)[-1].rstrip("/")
    host = address.rsplit(":", 1)[0]

    def names(o: Observation) -> bool:
        text = o.detail.lower()
        return any(re.search(rf"(?<![\w.]){re.escape(word)}", text) for word in (address, host, *words))

    return predicate(
        f"clean error {'/'.join(map(str, statuses))} whose message names {what}",
        lambda o: o.kind is Kind.CLEAN_ERROR and o.status in statuses and names(o),
    )


def _status(fault: str) -> tuple[str, ...]:
    """The upstream's status, where the fault is one: a message that quotes it names what happened."""
    return (fault,) if fault.isdecimal() else ()


@pytest.mark.rule("COLD-DOWN")
@pytest.mark.parametrize(
    "fault", [pytest.param("refused", marks=pytest.mark.whole_upstream), "reset", "500", "502", "503", "504"]
)
@pytest.mark.parametrize("cell", cells("tag-GET", "layer-GET"))
def test_upstream_down(case: Case, cell: Cell, fault: str) -> None:
    image = case.image()
    if fault in ("refused", "reset"):
        case.outage(fault)
    else:
        case.fault(fault)
    case.mark()
    case.check(
        case.observe(image, cell.what, cell.method, cold=True),
        names_the_failure(case, (502, 503, 504), (*_DOWN_WORDS, *_status(fault)), "the upstream failure"),
    )


@pytest.mark.rule("COLD-BLACKHOLE")
@pytest.mark.parametrize("cell", cells("tag-GET", "layer-GET"))
def test_upstream_black_holed(case: Case, cell: Cell) -> None:
    image = case.image()
    case.outage("blackhole")
    case.mark()
    observation = case.observe(image, cell.what, cell.method, cold=True)
    case.check(
        observation,
        predicate(
            f"clean error 504 within {case.world.timeout:.0f}s",
            lambda o: o.kind is Kind.CLEAN_ERROR and o.status == 504,
        ),
    )


@pytest.mark.rule("COLD-AUTH")
@pytest.mark.parametrize("fault", ["401", "403", "token-fail"])
def test_upstream_refuses_credentials(case: Case, fault: str) -> None:
    if fault == "token-fail":
        case.require("credentials", "the token endpoint only matters to a proxy that logs in")
    image = case.image()
    case.fault(fault, Match(kind="token") if fault == "token-fail" else None)
    case.mark()
    answer = case.request(image, "tag", "GET")
    observation = classify(answer, upstream=case.upstream_requests())
    realm = answer.headers.get("www-authenticate", "")
    if case.upstream.url.split("//", 1)[-1] in realm:
        observation = relabel(observation, "upstream realm exposed")
    refused = names_the_failure(case, (502,), (*_AUTH_WORDS, *_status(fault)), "the refused credentials")
    case.check(
        observation,
        predicate(
            "502 saying the upstream refused the proxy's credentials, or 401/403 without the upstream's realm",
            lambda o: (
                refused.accepts(o) or (o.kind is Kind.CLEAN_ERROR and o.status in (401, 403) and "realm" not in o.label)
            ),
        ),
    )


@pytest.mark.rule("COLD-NEVER-PARTIAL")
@pytest.mark.parametrize("fault", list(_MID_BODY))
@pytest.mark.parametrize("cell", cells("digest-GET", "layer-GET"))
def test_fault_mid_body(case: Case, cell: Cell, fault: str) -> None:
    image = case.image(layers=(300_000,))
    name, options = _MID_BODY[fault]
    case.fault(name, Match(method="GET", kind=cell.upstream_kind), **options)
    case.mark()
    case.check(
        case.observe(image, cell.what, cell.method, cold=True),
        kinds(
            Kind.SERVED,
            Kind.SERVED_CACHED,
            Kind.SERVED_WITHOUT_DIGEST,
            Kind.ABORTED,
            Kind.CLEAN_ERROR,
            Kind.NOT_FOUND,
            Kind.UNCLEAN_ERROR,
            Kind.CONNECTION_ERROR,
        ),
    )
