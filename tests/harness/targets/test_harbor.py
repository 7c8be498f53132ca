"""The harbor target's settings: what a run must give it, one line for each mistake, and the options it reports."""

from __future__ import annotations

import pytest

from harness.client import Answer
from harness.spec import RunSpec, SpecError
from harness.targets.harbor import PASSWORD_ENV, HarborTarget, _held, parse_options
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
