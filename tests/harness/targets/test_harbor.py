"""The harbor target's settings: what a run must give it, one line for each mistake, and the options it reports."""

from __future__ import annotations

import httpx
import pytest

from harness.client import Answer
from harness.runner import pytest_args
from harness.spec import RunSpec, SpecError
from harness.targets.harbor import PASSWORD_ENV, HarborTarget, _held, parse_options
from harness.targets.harbor_api import HarborApi
from harness.world import World

URL = "http://harbor.test"


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "from-the-environment")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "--target harbor needs --harbor-url URL"),
        ({"harbor_url": URL, "harbor_options": ("public",)}, "--harbor-option 'public': NAME=VALUE"),
        ({"harbor_url": URL, "upstream_timeout": 30.0}, "whole minutes: --upstream-timeout 60 or more"),
        ({"harbor_url": URL, "path_template": "p/{repository}"}, "--path-template is for --target external"),
    ],
)
def test_a_run_it_cannot_do_is_one_line(given: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message) as error:
        RunSpec(target="harbor", **given)  # type: ignore[arg-type]
    assert "\n" not in str(error.value)


def test_the_password_comes_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(SpecError, match=f"the password of --harbor-user in \\${PASSWORD_ENV}"):
        RunSpec(target="harbor", harbor_url=URL)


def test_it_waits_for_harbors_shortest_upstream_timeout_and_its_own_work() -> None:
    spec = RunSpec(target="harbor", harbor_url=URL + "/")
    target = HarborTarget(spec)
    assert target.url == URL
    assert target.upstream_timeout == 60.0
    assert World(spec).timeout == 60.0 + 2.0 + HarborTarget.slack
    assert HarborTarget(RunSpec(target="harbor", harbor_url=URL, upstream_timeout=1800)).upstream_timeout == 1800


def test_options_are_name_value_pairs() -> None:
    assert parse_options(["proxy_cache_local_on_not_found=true", " max_upstream_conn = 4"]) == {
        "proxy_cache_local_on_not_found": "true",
        "max_upstream_conn": "4",
    }


def test_the_options_reported_are_what_harbor_holds_and_what_it_dropped() -> None:
    wanted = {"public": "true", "proxy_cache_local_on_not_found": "true", "max_upstream_conn": "4"}
    held = {"public": "true", "max_upstream_conn": "4", "retention_id": "7"}  # 2.14 drops the first option
    assert _held(wanted, held) == {
        "public": "true",
        "max_upstream_conn": "4",
        "dropped": "proxy_cache_local_on_not_found=true",
    }


def test_an_empty_digest_header_says_nothing() -> None:
    # Harbor answers a proxied GET by tag with `Docker-Content-Digest:` and no value.
    assert Answer("GET", URL, 200, {"docker-content-digest": ""}).digest_header is None


def test_cases_that_refuse_the_whole_port_run_last_against_harbor() -> None:
    def collected(target: str) -> list[tuple[str, bool]]:
        items: list[tuple[str, bool]] = []

        class Collector:
            def pytest_collection_finish(self, session: pytest.Session) -> None:
                items.extend((i.nodeid, i.get_closest_marker("whole_upstream") is not None) for i in session.items)

        args = pytest_args(RunSpec(target="reference"))
        code = pytest.main([*args, "--collect-only", "--pt-target", target], plugins=[Collector()])
        assert code == pytest.ExitCode.OK
        return items

    harbor, reference = collected("harbor"), collected("reference")
    assert sorted(harbor) == sorted(reference)
    whole = [i for i, (_, refused) in enumerate(harbor) if refused]
    assert whole and whole == list(range(len(harbor) - len(whole), len(harbor))), "whole-port cases last"
    assert [item for item in harbor if not item[1]] == [item for item in reference if not item[1]], "else as before"
    assert reference != harbor, "other targets keep the modules' order"


class _Counting(httpx.MockTransport):
    """Counts the target's calls; answers the endpoint's status as `status` says (not a stand-in for a verdict)."""

    def __init__(self, status: list[str]) -> None:
        self.paths: list[str] = []
        super().__init__(self._answer)
        self._status = status

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(f"{request.method} {request.url.path}")
        if request.method == "PUT":
            self._status[0] = "healthy"
        return httpx.Response(200, json={"id": 3, "status": self._status[0]})


def test_between_cases_asks_for_the_endpoints_health_once_and_mends_it() -> None:
    status = ["healthy"]
    transport = _Counting(status)
    target = HarborTarget(RunSpec(target="harbor", harbor_url=URL))
    target._api = HarborApi(URL, "admin", "x", transport=transport)
    target._registry_id, target.project = 3, "p"
    target.between_cases()
    target.between_cases()  # after a case and before the next, with nothing between: no second question
    assert transport.paths == ["GET /api/v2.0/registries/3"]
    assert target.state() == "endpoint healthy"
    status[0] = "unhealthy"  # a check fell in a case's refused port
    target.between_cases()
    assert transport.paths[-3:] == [f"{method} /api/v2.0/registries/3" for method in ("GET", "GET", "PUT")]
