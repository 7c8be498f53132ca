"""The committed records of what Harbor did (harbor-<version>[-<option>].json) load, say which Harbor and which
project options they are of, are each a whole run of the catalogue as it is now (every case the suites collect,
nothing else), and are judged against the profile of that release's documentation: each verdict of rule 4 (the one
rule the profiles disagree on) is what that profile says of the recorded observation.

CI cannot start a Harbor; test_harbor_live.py runs the suite against one and compares it with these records.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scenario_runs import EXPECTATIONS

from harness.expect import for_profile
from harness.plugin import case_id
from harness.profiles import KEEPS_DELETED, LOCAL_ON_NOT_FOUND, PROFILES, deleted_upstream, harbor_profile
from harness.runner import pytest_args
from harness.spec import RunSpec
from harness.targets.harbor_api import parse_version
from reports.model import Results, Verdict
from reports.validate import validate

RECORDS = sorted(EXPECTATIONS.glob("harbor-*.json"))
_NAME = re.compile(r"harbor-(\d+\.\d+\.\d+)(?:-(.+))?\.json")
# The cells whose expectation differs between profiles, and the content each pulls.
_RULE4 = {"STALE-404", "INDEX-2"}
_OPTIONS = {f"local-on-not-found-{value}": {LOCAL_ON_NOT_FOUND: value} for value in ("true", "false")}


@pytest.fixture(scope="module")
def catalogue() -> set[str]:
    """The case ids the suites collect now."""
    ids: set[str] = set()

    class Collector:
        def pytest_collection_finish(self, session: pytest.Session) -> None:
            ids.update(case_id(item) for item in session.items)

    assert pytest.main([*pytest_args(RunSpec()), "--collect-only"], plugins=[Collector()]) == pytest.ExitCode.OK
    return ids


def test_there_are_records_of_each_release_run() -> None:
    versions = {_NAME.fullmatch(path.name)[1] for path in RECORDS if _NAME.fullmatch(path.name)}  # type: ignore[index]
    assert {"2.13.5", "2.14.4", "2.15.2"} <= versions


@pytest.mark.parametrize("path", RECORDS, ids=[path.stem for path in RECORDS])
def test_a_record_says_what_it_is_of(path: Path, catalogue: set[str]) -> None:
    validate(json.loads(path.read_text()))
    record = Results.read(path)
    named = _NAME.fullmatch(path.name)
    assert named is not None, f"{path.name}: harbor-<version>[-<option>].json"
    version, option = named[1], named[2]
    assert record.run.target == "harbor"
    assert parse_version(record.run.target_version) == parse_version(version)
    for name, value in _OPTIONS.get(option or "", {}).items():
        assert record.run.options.get(name) == value, f"{path.name} was not run with {name}={value}"
    assert record.run.profile in PROFILES
    found = parse_version(version)
    assert found is not None
    assert record.run.profile == harbor_profile(found, record.run.options), "the profile of the release's docs"
    recorded = [case.id for case in record.cases]
    assert len(recorded) == len(set(recorded)), "each case once"
    assert set(recorded) == catalogue, (
        f"{path.name} is not a whole run of the current catalogue: missing {sorted(catalogue - set(recorded))[:5]}, "
        f"not in it {sorted(set(recorded) - catalogue)[:5]}; run the live test with PULLTHROUGH_REFRESH_EXPECTATIONS=1"
    )
    timed = [case.id for case in record.cases if case.transcripts.client or case.transcripts.upstream or case.duration]
    assert not timed, "no transcripts, no timings"


@pytest.mark.parametrize("path", RECORDS, ids=[path.stem for path in RECORDS])
def test_rule_4_verdicts_are_the_claimed_profiles(path: Path) -> None:
    record = Results.read(path)
    profile = record.run.profile
    judged = 0
    for case in record.cases:
        if case.rule not in _RULE4 or case.observation is None or case.verdict in (Verdict.SKIP, Verdict.ERROR):
            continue
        if case.step:  # a later step: "the cache keeps it", which only the profiles that keep a deleted copy check
            assert profile in KEEPS_DELETED, f"{case.id}: {profile} does not check {case.step!r}"
            judged += 1
            continue
        what = case.params["cell"].split("-")[0]
        accepted = for_profile(deleted_upstream(what), profile).accepts(case.observation)
        missed = Verdict.FAIL if case.gating else Verdict.DEVIATION
        says = "accepts" if accepted else "refuses"
        assert case.verdict is (Verdict.PASS if accepted else missed), (
            f"{case.id}: {case.label} is {case.verdict} in the record; {profile} {says} it"
        )
        judged += 1
    assert judged >= 8, "rule 4's cells were judged"


@pytest.mark.parametrize("path", RECORDS, ids=[path.stem for path in RECORDS])
def test_every_observation_was_made_with_the_endpoint_healthy(path: Path) -> None:
    # The runs keep Harbor's periodic health check out of refused-port cases: an observation made while Harbor had
    # marked the endpoint unhealthy (local storage only) would not be what the case meant to observe.
    states = {
        case.id: [n for n in case.notes if n.startswith("target at each check:")] for case in Results.read(path).cases
    }
    observed = {case_id: notes for case_id, notes in states.items() if notes}
    assert len(observed) >= len(states) * 0.9, "the endpoint's status is recorded"
    unhealthy = [case_id for case_id, notes in observed.items() if "unhealthy" in notes[0]]
    assert unhealthy == [], f"observed with the endpoint unhealthy: {unhealthy}"
