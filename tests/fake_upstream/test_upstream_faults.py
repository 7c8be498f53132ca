"""Fault specifications and the table that decides which request suffers which fault."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fake_upstream import FAULT_NAMES, KINDS, Fault, FaultError, Match
from fake_upstream._faults import FaultTable, RequestInfo

MANIFEST = RequestInfo("GET", "manifest", "team/app", "v1")


def test_the_vocabulary_is_rules_md() -> None:
    assert set(FAULT_NAMES) == {
        "404", "401", "403", "429", "500", "502", "503", "504", "token-fail", "reset", "blackhole", "truncate",
        "corrupt", "slow", "head-ok-get-fail", "no-length", "wrong-length",
    }  # fmt: skip
    assert {"manifest", "blob", "tags", "token", "ping", "any"} <= set(KINDS)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fault": "418"}, "unknown fault"),
        ({"fault": "503", "times": 0}, "times"),
        ({"fault": "503", "fraction": 0.0}, "fraction"),
        ({"fault": "503", "fraction": 1.5}, "fraction"),
        ({"fault": "truncate", "after_bytes": -1}, "after_bytes"),
        ({"fault": "slow"}, "rate"),
        ({"fault": "slow", "rate": 0}, "rate"),
        ({"fault": "token-fail", "status": 200}, "status"),
        ({"fault": "429", "plain": "yes"}, "plain"),
    ],
)
def test_invalid_faults_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        Fault(**options)
    with pytest.raises(FaultError, match=message):
        Fault.from_dict(options)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"fault": "503", "bogus": 1},
        {"fault": "503", "match": {"kind": "image"}},
        {"fault": "503", "match": {"path": "/v2/"}},
        {"fault": "503", "match": "manifest"},
        {"fault": "503", "times": "2"},
        {"fault": "503", "times": True},
        {"fault": "503", "times": 1.5},
        {"fault": "503", "fraction": "half"},
        {"fault": "503", "fraction": [1]},
        {},
    ],
)
def test_malformed_fault_documents_are_refused(data: Any) -> None:
    with pytest.raises(FaultError):
        Fault.from_dict(data)


def test_a_fault_round_trips_through_its_document() -> None:
    fault = Fault(
        "truncate", Match("get", "blob", "team/*", "sha256:" + "1" * 64), times=3, fraction=0.5, seed=9, after_bytes=10
    )
    assert fault.match.method == "GET"
    assert Fault.from_dict(fault.to_dict()) == fault
    assert Fault.from_dict({"fault": 429, "plain": True}) == Fault("429", plain=True)


def test_matching_by_method_kind_repository_and_reference() -> None:
    assert Match().matches(MANIFEST)
    assert Match(method="GET", kind="manifest", repository="team/app", reference="v1").matches(MANIFEST)
    assert Match(repository="team/*").matches(MANIFEST)
    assert not Match(method="HEAD").matches(MANIFEST)
    assert not Match(kind="blob").matches(MANIFEST)
    assert not Match(repository="other/*").matches(MANIFEST)
    assert not Match(reference="v2").matches(MANIFEST)
    assert not Match(repository="team/app").matches(RequestInfo("GET", "ping"))


def test_registry_matches_a_repositorys_api_but_not_its_token_requests() -> None:
    registry = Match(kind="registry", repository="team/*")
    assert registry.matches(MANIFEST)
    assert registry.matches(RequestInfo("GET", "blob", "team/app", "sha256:" + "1" * 64))
    assert not registry.matches(RequestInfo("GET", "token", "team/app"))
    assert not registry.matches(RequestInfo("GET", "ping"))
    assert Match(repository="team/*").matches(RequestInfo("GET", "token", "team/app"))


def test_times_counts_down_and_the_fault_disarms() -> None:
    table = FaultTable()
    fault_id = table.arm(Fault("503", times=2))
    assert table.armed() == [(fault_id, Fault("503", times=2))]
    assert table.fire(MANIFEST) is not None
    assert table.armed()[0][1].times == 1
    assert table.fire(MANIFEST) is not None
    assert table.fire(MANIFEST) is None and table.armed() == []


def test_the_first_armed_fault_that_matches_wins() -> None:
    table = FaultTable()
    table.arm(Fault("404", Match(kind="blob")))
    table.arm(Fault("500"))
    table.arm(Fault("503"))
    fired = table.fire(MANIFEST)
    assert fired is not None and fired[1].fault == "500" and fired[0] == "f2"
    blob = table.fire(RequestInfo("GET", "blob", "team/app", "sha256:" + "0" * 64))
    assert blob is not None and blob == ("f1", Fault("404", Match(kind="blob")))


def test_a_fraction_fails_a_seeded_share_and_only_of_matching_requests() -> None:
    def pattern(seed: int) -> list[bool]:
        table = FaultTable()
        table.arm(Fault("500", Match(kind="manifest"), fraction=0.3, seed=seed))
        fired = []
        for _ in range(200):
            assert table.fire(RequestInfo("GET", "blob")) is None  # does not draw from the seeded sequence
            fired.append(table.fire(MANIFEST) is not None)
        return fired

    rng = random.Random(4)
    assert pattern(4) == [rng.random() < 0.3 for _ in range(200)]
    assert pattern(4) != pattern(5)
    assert 30 <= sum(pattern(4)) <= 90


def test_a_fraction_with_times_stops_after_n_failures() -> None:
    table = FaultTable()
    table.arm(Fault("500", fraction=0.5, times=3, seed=1))
    assert sum(table.fire(MANIFEST) is not None for _ in range(100)) == 3


@pytest.mark.parametrize(
    ("fault", "request_info", "applies"),
    [
        ("token-fail", RequestInfo("GET", "token"), True),
        ("token-fail", MANIFEST, False),
        ("head-ok-get-fail", MANIFEST, True),
        ("head-ok-get-fail", RequestInfo("HEAD", "manifest", "team/app", "v1"), False),
        ("truncate", RequestInfo("HEAD", "blob"), False),
        ("corrupt", RequestInfo("HEAD", "manifest"), False),
        ("truncate", RequestInfo("GET", "blob"), True),
        ("503", RequestInfo("HEAD", "manifest"), True),
        ("wrong-length", RequestInfo("HEAD", "blob"), True),
        ("wrong-length", RequestInfo("GET", "manifest"), True),
        ("wrong-length", RequestInfo("DELETE", "manifest"), False),
        ("wrong-length", RequestInfo("PUT", "manifest"), False),
    ],
)
def test_faults_that_cannot_act_on_a_request_do_not_spend_themselves(
    fault: str, request_info: RequestInfo, applies: bool
) -> None:
    table = FaultTable()
    options: dict[str, Any] = {"slow": {"rate": 10}, "wrong-length": {"delta": 1}}.get(fault, {})
    table.arm(Fault(fault, times=1, **options))  # type: ignore[arg-type]
    assert (table.fire(request_info) is not None) is applies
    assert len(table.armed()) == (0 if applies else 1)


def test_disarm_one_or_all() -> None:
    table = FaultTable()
    first, second = table.arm(Fault("500")), table.arm(Fault("503"))
    assert first != second
    table.disarm(first)
    table.disarm(first)  # cleared already (or spent): nothing more to do
    assert [fid for fid, _ in table.armed()] == [second]
    table.arm(Fault("504"))
    table.disarm()
    assert table.armed() == []
    for never_issued in ("f4", "f0", "x1", "f", "f²", "f" + "9" * 5000):
        with pytest.raises(FaultError, match="no such fault"):
            table.disarm(never_issued)
