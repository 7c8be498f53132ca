"""Real peers run through every scenario, against a committed record of what they do.

distribution 2.8 serves stale on 404 and streams corrupt bytes through; rpardini-style nginx passes 503
and 404 through and never stores a tag. The records say exactly that, case by case, so any change in a
peer or in the suite shows as a changed observation or a changed verdict. Refresh a record after a deliberate
change with `PULLTHROUGH_REFRESH_EXPECTATIONS=1 pytest tests/scenarios/test_peer_expectations.py` and review
its diff.

Peers built from source (distribution v3, zot) are checked against their records when their program is given
(`PULLTHROUGH_DISTRIBUTION_V3`, `PULLTHROUGH_ZOT`); CI has none, so there it checks that their records are
whole runs of the current catalogue.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import need_built_peer, need_peer
from scenario_runs import EXPECTATIONS, pullthrough_run

from harness.rules import RULES
from reports.model import Results, Transcripts

PEERS = {"distribution": "docker-registry", "nginx": "nginx"}
# Records of peers built from source: (target, the peer's name for need_built_peer).
BUILT_PEERS = {"distribution-3.1.1": ("distribution", "distribution-v3"), "zot-2.1.20": ("zot", "zot")}


@pytest.mark.parametrize("target", list(PEERS))
def test_peer_behaves_as_recorded(tmp_path: Path, target: str) -> None:
    need_peer(PEERS[target])
    _behaves_as_recorded(tmp_path, EXPECTATIONS / f"{target}.json", "--target", target)


@pytest.mark.parametrize("name", list(BUILT_PEERS))
def test_built_peer_behaves_as_recorded(tmp_path: Path, name: str) -> None:
    target, peer = BUILT_PEERS[name]
    binary = need_built_peer(peer)
    _behaves_as_recorded(tmp_path, EXPECTATIONS / f"{name}.json", "--target", target, "--peer-binary", binary)


@pytest.mark.parametrize("name", list(BUILT_PEERS))
def test_built_peer_records_are_whole_runs(name: str) -> None:
    """Without the program (CI) a record cannot be checked against the peer, only that it is whole and current."""
    target, _ = BUILT_PEERS[name]
    record = Results.read(EXPECTATIONS / f"{name}.json")
    assert (record.run.target, record.run.target_version) == tuple(name.split("-", 1)), "the file names its run"
    assert record.run.profile == "documented" and not record.run.strict and record.run.settle == "probe"
    missing = set(RULES) - {case.rule for case in record.cases}
    assert not missing, f"{name}.json lacks rules {sorted(missing)}: refresh it with the peer (see module doc)"
    for case in record.cases:
        assert case.rule in RULES, f"{case.id}: a rule the catalogue no longer has"
        assert case.observation is not None or case.message, f"{case.id}: neither an observation nor a reason"
        assert case.transcripts == Transcripts() and case.duration == 0.0, f"{case.id}: recorded with its run"
    assert len({case.id for case in record.cases}) == len(record.cases)


def _behaves_as_recorded(tmp_path: Path, record: Path, *args: str) -> None:
    if os.environ.get("PULLTHROUGH_REFRESH_EXPECTATIONS"):
        run = pullthrough_run(tmp_path, *args, "-n", "2")
        assert run.results is not None, run.stderr[-2000:]
        write_record(run.results, record)
    run = pullthrough_run(tmp_path, *args, "-n", "2", "--baseline", str(record))
    assert run.results is not None, run.stderr[-2000:]
    assert {case.rule for case in run.cases()} == set(RULES), "the suite ran to the end"
    assert run.results.run.target_version == Results.read(record).run.target_version, "the version recorded"
    assert run.code == 0, f"the peer no longer behaves as recorded in {record.name}:\n{run.stderr[-4000:]}"
    recorded = {case.id: case.verdict for case in Results.read(record).cases}
    verdicts = [f"{c.id}: {recorded.get(c.id)} -> {c.verdict}" for c in run.cases() if recorded.get(c.id) != c.verdict]
    assert verdicts == [], f"the peer's verdicts changed since {record.name}"


def write_record(results: Results, path: Path) -> None:
    """The run without transcripts or timings: what the peer did, not how long it took (nor how long a settle
    that ran out waited)."""
    cases = sorted(
        (
            replace(case, transcripts=Transcripts(), duration=0.0, notes=[_untimed(note) for note in case.notes])
            for case in results.cases
        ),
        key=lambda case: case.id,
    )
    run = replace(results.run, started_at="", finished_at="", host="", command="", target_url=None)
    Results(run=run, cases=cases).write(path)


def _untimed(note: str) -> str:
    return re.sub(r" after \d+(\.\d+)?s", "", note)
