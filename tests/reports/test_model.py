from __future__ import annotations

import json
from dataclasses import replace

import pytest
from reports_factory import few_results, suite_results

from reports.model import NO_OBSERVATION, Results, Verdict


def test_json_round_trip_is_lossless() -> None:
    results = suite_results()
    again = Results.from_dict(json.loads(results.to_json()))
    assert again == results
    assert again.cases[0].verdict is results.cases[0].verdict


def test_label_falls_back_when_nothing_was_observed() -> None:
    small = few_results()
    case = replace(small.cases[0], observation=None)
    assert case.label == NO_OBSERVATION
    assert small.cases[1].observation is not None
    assert small.cases[1].label == small.cases[1].observation.label


def test_cell_is_the_bracketed_part_of_the_id_or_the_params() -> None:
    small = few_results()
    case = replace(small.cases[0], id="STALE-5XX[503-tag-GET]")
    assert case.cell == "503-tag-GET"
    bare = replace(case, id="FRESH-1", params={"ref": "tag", "method": "GET"})
    assert bare.cell == "tag-GET"


def test_seconds_from_the_run_timestamps() -> None:
    small = few_results()
    run = replace(small.run, started_at="2025-01-01T10:00:00+00:00", finished_at="2025-01-01T10:01:30.5+00:00")
    assert replace(small, run=run).seconds == pytest.approx(90.5)
    assert replace(small, run=replace(run, finished_at="yesterday")).seconds is None


def test_counts_and_gating() -> None:
    small = few_results()
    counts = small.counts()
    assert set(counts) == set(Verdict)
    assert sum(counts.values()) == len(small.cases)
    passing = replace(small, cases=[c for c in small.cases if c.verdict is not Verdict.FAIL or not c.gating])
    assert small.gating_failed
    assert passing.gating_failed == any(c.verdict is Verdict.ERROR and c.gating for c in passing.cases)
