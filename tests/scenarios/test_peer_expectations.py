"""Real peers from Debian, run through every scenario, against a committed record of what they do.

distribution 2.8 serves stale on 404 and streams corrupt bytes through; rpardini-style nginx passes 503
and 404 through and never stores a tag. The records say exactly that, case by case, so any change in a
peer or in the suite shows as a changed observation or a changed verdict. Refresh a record after a deliberate
change with `PULLTHROUGH_REFRESH_EXPECTATIONS=1 pytest tests/scenarios/test_peer_expectations.py` and review
its diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import need_peer
from scenario_runs import EXPECTATIONS, pullthrough_run

from harness.rules import RULES
from reports.model import Results, Transcripts

PEERS = {"distribution": "docker-registry", "nginx": "nginx"}


@pytest.mark.parametrize("target", list(PEERS))
def test_peer_behaves_as_recorded(tmp_path: Path, target: str) -> None:
    need_peer(PEERS[target])
    record = EXPECTATIONS / f"{target}.json"
    if os.environ.get("PULLTHROUGH_REFRESH_EXPECTATIONS"):
        run = pullthrough_run(tmp_path, "--target", target, "-n", "2")
        assert run.results is not None, run.stderr[-2000:]
        _write_record(run.results, record)
    run = pullthrough_run(tmp_path, "--target", target, "-n", "2", "--baseline", str(record))
    assert run.results is not None, run.stderr[-2000:]
    assert {case.rule for case in run.cases()} == set(RULES), "the suite ran to the end"
    assert run.code == 0, f"{target} no longer behaves as recorded in {record.name}:\n{run.stderr[-4000:]}"
    recorded = {case.id: case.verdict for case in Results.read(record).cases}
    verdicts = [f"{c.id}: {recorded.get(c.id)} -> {c.verdict}" for c in run.cases() if recorded.get(c.id) != c.verdict]
    assert verdicts == [], f"{target}'s verdicts changed since {record.name}"


def _write_record(results: Results, path: Path) -> None:
    """The run without transcripts or timings: what the peer did, not how long it took."""
    cases = sorted(
        (replace(case, transcripts=Transcripts(), duration=0.0) for case in results.cases), key=lambda case: case.id
    )
    run = replace(results.run, started_at="", finished_at="", host="", command="", target_url=None)
    Results(run=run, cases=cases).write(path)
