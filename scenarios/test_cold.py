"""COLD: failures with nothing cached: honest errors, in bounded time."""

from __future__ import annotations

import pytest

from fake_upstream import Image, Match
from harness.case import Case
from harness.expect import Expect, kinds, not_found, predicate
from harness.observe import classify
from reports.model import Kind, Observation
from scenarios._cells import Cell, cell, cells, relabel

_MANIFEST_CODES = ("MANIFEST_UNKNOWN", "NAME_UNKNOWN")


def _missing(case: Case, image: Image, shape: Cell, missing: str) -> Observation:
    """Ask for something the upstream does not have; the image exists, so only the reference is unknown."""
    path = case.path(image)
    unknown_digest = "sha256:" + "0" * 63 + "1"
    case.mark()
    if missing == "repository":
        path = path + "-gone"
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
    # The registry's answer is rate-limited, not the token endpoint's (a token request has the repository too).
    case.upstream.add_fault("429", Match(kind=cell.upstream_kind, repository=image.repository))
    case.mark()
    answer = case.request(image, cell.what, cell.method)
    observation = classify(answer, upstream=case.upstream_requests())
    if answer.status == 429 and "retry-after" not in answer.headers:
        observation = relabel(observation, "no Retry-After")
    case.check(
        observation,
        predicate(
            "429 with Retry-After", lambda o: o.status == 429 and o.kind == Kind.CLEAN_ERROR and "Retry" not in o.label
        ),
    )


def _names_upstream(statuses: tuple[int, ...]) -> Expect:
    return predicate(
        f"clean error {'/'.join(map(str, statuses))} naming the upstream failure",
        lambda o: o.kind == Kind.CLEAN_ERROR and o.status in statuses and "upstream" in o.detail.lower(),
    )


@pytest.mark.rule("COLD-DOWN")
@pytest.mark.parametrize("fault", ["refused", "reset", "500", "502", "503", "504"])
@pytest.mark.parametrize("cell", cells("tag-GET", "layer-GET"))
def test_upstream_down(case: Case, cell: Cell, fault: str) -> None:
    image = case.image()
    if fault in ("refused", "reset"):
        case.upstream.set_outage(fault)
    else:
        case.upstream.add_fault(fault, Match(repository=image.repository))
    case.mark()
    case.check(case.observe(image, cell.what, cell.method), _names_upstream((502, 503, 504)))


@pytest.mark.rule("COLD-BLACKHOLE")
@pytest.mark.parametrize("cell", cells("tag-GET", "layer-GET"))
def test_upstream_black_holed(case: Case, cell: Cell) -> None:
    image = case.image()
    case.upstream.set_outage("blackhole")
    case.mark()
    observation = case.observe(image, cell.what, cell.method)
    case.check(
        observation,
        predicate(
            f"clean error 504 within {case.world.timeout:.0f}s",
            lambda o: o.kind == Kind.CLEAN_ERROR and o.status == 504,
        ),
    )


@pytest.mark.rule("COLD-AUTH")
@pytest.mark.parametrize("fault", ["401", "403", "token-fail"])
def test_upstream_refuses_credentials(case: Case, fault: str) -> None:
    if fault == "token-fail":
        case.require("credentials", "the token endpoint only matters to a proxy that logs in")
    image = case.image()
    case.upstream.add_fault(fault, Match(kind="token") if fault == "token-fail" else Match(repository=image.repository))
    case.mark()
    answer = case.request(image, "tag", "GET")
    observation = classify(answer, upstream=case.upstream_requests())
    realm = answer.headers.get("www-authenticate", "")
    if case.upstream.url.split("//", 1)[-1] in realm:
        observation = relabel(observation, "upstream realm exposed")
    case.check(
        observation,
        predicate(
            "502 saying the upstream refused the proxy's credentials, or 401/403 without the upstream's realm",
            lambda o: (
                (o.kind == Kind.CLEAN_ERROR and o.status == 502 and "upstream" in o.detail.lower())
                or (o.kind == Kind.CLEAN_ERROR and o.status in (401, 403) and "realm" not in o.label)
            ),
        ),
    )


@pytest.mark.rule("COLD-NEVER-PARTIAL")
@pytest.mark.parametrize("fault", ["truncate", "corrupt"])
@pytest.mark.parametrize("cell", cells("digest-GET", "layer-GET"))
def test_fault_mid_body(case: Case, cell: Cell, fault: str) -> None:
    image = case.image(layers=(300_000,))
    case.upstream.add_fault(fault, Match(method="GET", kind=cell.upstream_kind, repository=image.repository))
    case.mark()
    case.check(
        case.observe(image, cell.what, cell.method),
        kinds(Kind.SERVED, Kind.PARTIAL, Kind.CLEAN_ERROR, Kind.NOT_FOUND, Kind.CONNECTION_ERROR, Kind.UNCLEAN_ERROR),
    )
