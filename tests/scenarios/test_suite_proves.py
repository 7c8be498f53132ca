"""The tests of the tests: the suite passes the clean reference proxy and catches every deliberate defect."""

from __future__ import annotations

from pathlib import Path

import pytest
from proxy_under_test import DEFECTS

from harness.rules import RULES
from reports.model import Verdict
from scenario_runs import pullthrough_run

CAUGHT = (Verdict.FAIL, Verdict.DEVIATION)


def test_clean_reference_passes_every_case(tmp_path: Path) -> None:
    run = pullthrough_run(tmp_path, "-n", "2")
    not_passing = [f"{c.id}: {c.verdict} {c.message}" for c in run.cases() if c.verdict is not Verdict.PASS]
    assert not_passing == []
    assert run.code == 0, run.stderr[-2000:]
    assert {c.rule for c in run.cases()} == set(RULES), "every rule of RULES.md has a case"


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_caught_by_its_rule(tmp_path: Path, defect: str) -> None:
    rule = DEFECTS[defect].rule
    extra = [] if defect == "no-atomic-write" else ["--in-process"]  # kill -9 needs a real process
    run = pullthrough_run(tmp_path, "--defect", defect, "-k", rule, "-n", "1", *extra)
    cases = run.cases(rule)
    assert cases, f"no case of {rule} ran"
    caught = [c.id for c in cases if c.verdict in CAUGHT]
    assert caught, f"{defect} breaks {rule}, yet every case of {rule} passed: the scenarios cannot fail"
    assert not [c.id for c in run.cases() if c.verdict is Verdict.ERROR]
    gating = RULES[rule].gating(strict=False)
    assert run.code == (1 if gating else 0), f"exit {run.code} for a {'gating' if gating else 'non-gating'} rule"
