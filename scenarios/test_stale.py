"""STALE: documented rules 3 and 4 and their extensions: with the content cached, every upstream fault."""

from __future__ import annotations

import pytest

from fake_upstream import Match
from harness.case import Case
from harness.expect import by_profile, kinds, not_found, predicate, served_cached
from reports.model import Kind
from scenarios._cells import CACHED, Cell, relabel

# More upstream requests than this for one client request is retrying in a loop.
RETRY_BOUND = 3


@pytest.mark.rule("STALE-REFUSED")
@pytest.mark.parametrize("cell", CACHED)
def test_refused(case: Case, cell: Cell) -> None:
    _outage(case, cell, "refused")


@pytest.mark.rule("STALE-RESET")
@pytest.mark.parametrize("cell", CACHED)
def test_reset(case: Case, cell: Cell) -> None:
    _outage(case, cell, "reset")


@pytest.mark.rule("STALE-BLACKHOLE")
@pytest.mark.parametrize("cell", CACHED)
def test_blackhole(case: Case, cell: Cell) -> None:
    _outage(case, cell, "blackhole")


def _outage(case: Case, cell: Cell, mode: str) -> None:
    image = case.image()
    case.warm(image)
    case.upstream.set_outage(mode)
    case.mark()
    case.check(case.observe(image, cell.what, cell.method), served_cached())


@pytest.mark.rule("STALE-5XX")
@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
@pytest.mark.parametrize("cell", CACHED)
def test_server_errors(case: Case, cell: Cell, status: str) -> None:
    image = case.image()
    case.warm(image)
    case.upstream.add_fault(status, Match(repository=image.repository))
    case.mark()
    case.check(case.observe(image, cell.what, cell.method), served_cached())


@pytest.mark.rule("STALE-404")
@pytest.mark.parametrize("deleted", ["tag", "repository"])
@pytest.mark.parametrize("cell", CACHED)
def test_deleted_upstream(case: Case, cell: Cell, deleted: str) -> None:
    image = case.image()
    case.warm(image)
    if deleted == "tag":
        case.upstream.delete_tag(image.repository, image.tag)
    else:
        case.upstream.delete_repository(image.repository)
    case.mark()
    by_tag = cell.what == "tag"
    expect = by_profile(
        documented=served_cached(),
        harbor_2_14_docs=not_found() if by_tag else kinds(Kind.SERVED_CACHED, Kind.NOT_FOUND),
    )
    case.check(case.observe(image, cell.what, cell.method), expect)
    if case.world.spec.profile == "documented":
        case.upstream.set_outage("refused")
        case.mark()
        case.check(
            case.observe(image, cell.what, cell.method),
            served_cached(),
            note="the cache keeps it (pulled again with the upstream refused)",
        )


@pytest.mark.rule("STALE-429")
@pytest.mark.parametrize("cell", CACHED)
def test_rate_limited(case: Case, cell: Cell) -> None:
    image = case.image()
    case.warm(image)
    case.upstream.add_fault("429", Match(repository=image.repository))
    case.mark()
    observation = case.observe(image, cell.what, cell.method)
    sent = sum(observation.upstream.values())
    if sent > RETRY_BOUND:
        observation = relabel(observation, f"more than {RETRY_BOUND} upstream requests")
    case.check(
        observation,
        predicate(f"served cached, at most {RETRY_BOUND} upstream requests", lambda o: o.label == "served-cached"),
    )


@pytest.mark.rule("STALE-AUTH")
@pytest.mark.parametrize("fault", ["401", "403", "token-fail"])
@pytest.mark.parametrize("cell", CACHED)
def test_upstream_refuses_credentials(case: Case, cell: Cell, fault: str) -> None:
    if fault == "token-fail":
        case.require("credentials", "the token endpoint only matters to a proxy that logs in")
    image = case.image()
    case.warm(image)
    if fault == "token-fail":
        # The proxy holds a token from warming: make the registry reject it once, so it must ask for another.
        case.upstream.add_fault("401", Match(repository=image.repository), times=1)
        case.upstream.add_fault("token-fail", Match(kind="token"))
    else:
        case.upstream.add_fault(fault, Match(repository=image.repository))
    case.mark()
    case.check(case.observe(image, cell.what, cell.method), served_cached())


@pytest.mark.rule("STALE-HALF")
def test_head_reports_new_digest_then_get_fails(case: Case) -> None:
    image = case.image()
    case.warm(image)
    case.upstream.add_image(image.repository, image.tag, layers=(5120,))
    case.upstream.add_fault("head-ok-get-fail", Match(kind="manifest", repository=image.repository))
    case.mark()
    case.check(case.observe(image, "tag", "GET"), served_cached())
    case.mark()
    case.check(case.observe(image, "tag", "GET"), served_cached(), note="pulled again")
    case.upstream.set_outage("refused")
    case.mark()
    case.check(case.observe(image, "tag", "GET"), served_cached(), note="later, with the upstream refused")
