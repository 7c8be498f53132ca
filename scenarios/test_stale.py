"""STALE: documented rules 3 and 4 and their extensions: with the content cached, every upstream fault."""

from __future__ import annotations

import pytest

from fake_upstream import Match
from harness.case import Case
from harness.expect import predicate, served_cached
from harness.profiles import KEEPS_DELETED, deleted_upstream
from scenarios._cells import CACHED, Cell, observe_cell, relabel

# More upstream requests than this for one client request is retrying in a loop.
RETRY_BOUND = 3


@pytest.mark.rule("STALE-REFUSED")
@pytest.mark.whole_upstream
@pytest.mark.parametrize("cell", CACHED)
def test_refused(case: Case, cell: Cell) -> None:
    _unreachable(case, cell, "refused")


@pytest.mark.rule("STALE-RESET")
@pytest.mark.parametrize("cell", CACHED)
def test_reset(case: Case, cell: Cell) -> None:
    _unreachable(case, cell, "reset")


@pytest.mark.rule("STALE-BLACKHOLE")
@pytest.mark.parametrize("cell", CACHED)
def test_blackhole(case: Case, cell: Cell) -> None:
    _unreachable(case, cell, "blackhole")


def _unreachable(case: Case, cell: Cell, mode: str) -> None:
    image = case.image()
    case.warm(image)
    case.outage(mode)
    case.check(observe_cell(case, image, cell), served_cached())


@pytest.mark.rule("STALE-5XX")
@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
@pytest.mark.parametrize("cell", CACHED)
def test_server_errors(case: Case, cell: Cell, status: str) -> None:
    image = case.image()
    case.warm(image)
    case.fault(status)
    case.check(observe_cell(case, image, cell), served_cached())


@pytest.mark.rule("STALE-404")
@pytest.mark.parametrize("deleted", ["tag", "repository"])
@pytest.mark.parametrize("cell", CACHED)
def test_deleted_upstream(case: Case, cell: Cell, deleted: str) -> None:
    image = case.image()
    case.warm(image)
    if deleted == "tag":
        case.upstream.delete_tag(image.repository, image.tag or "")
    else:
        case.upstream.delete_repository(image.repository)
    case.check(observe_cell(case, image, cell), deleted_upstream(cell.what))
    if case.profile in KEEPS_DELETED:
        case.outage("reset")
        case.check(
            observe_cell(case, image, cell),
            served_cached(),
            note="the cache keeps it (pulled again with the upstream unreachable)",
        )


@pytest.mark.rule("STALE-429")
@pytest.mark.parametrize("cell", CACHED)
def test_rate_limited(case: Case, cell: Cell) -> None:
    image = case.image()
    case.warm(image)
    case.fault("429")
    asked = len(case.client.exchanges)
    observation = observe_cell(case, image, cell)
    asked = len(case.client.exchanges) - asked  # a whole pull is several requests
    if sum(observation.upstream.values()) > RETRY_BOUND * asked:
        observation = relabel(observation, "retried upstream in a loop")
    case.check(
        observation,
        predicate(f"served cached, at most {RETRY_BOUND} upstream requests each", lambda o: o.label == "served-cached"),
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
        case.fault("401", times=1)
        case.fault("token-fail", Match(kind="token"))
    else:
        case.fault(fault)
    case.check(observe_cell(case, image, cell), served_cached())


@pytest.mark.rule("STALE-HALF")
def test_head_reports_new_digest_then_get_fails(case: Case) -> None:
    image = case.image()
    case.warm(image)
    case.upstream.add_image(image.repository, image.tag, layers=(5120,))
    case.fault("head-ok-get-fail", Match(kind="manifest"))
    case.check(case.pull(image), served_cached())
    case.check(case.pull(image), served_cached(), note="pulled again")
    case.outage("reset")
    case.check(case.pull(image), served_cached(), note="later, with the upstream unreachable")
