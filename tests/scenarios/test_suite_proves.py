"""The tests of the tests: the suite passes the clean reference proxy and catches every deliberate defect."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_runs import pullthrough_run

from harness.rules import RULES
from proxy_under_test import DEFECTS
from reports.model import Verdict

CAUGHT = (Verdict.FAIL, Verdict.DEVIATION)
# Rules whose mechanism another rule's defect breaks as well: (defect, rule) pairs proven here too.
SHARED = [
    ("no-stale-on-404", "INDEX-2"),
    ("no-upstream-timeout", "COLD-BLACKHOLE"),
    ("no-digest-verify", "COLD-NEVER-PARTIAL"),
]
# Defects the scenarios cannot catch yet: their checks come with issue 8 (whole images, stalls, lying lengths).
AWAITING_CHECKS = {"no-cache-large-blobs", "stall-after-headers", "forward-upstream-length"}
BREAKS = sorted({(name, defect.rule) for name, defect in DEFECTS.items() if name not in AWAITING_CHECKS} | set(SHARED))


def test_clean_reference_passes_every_case(tmp_path: Path) -> None:
    run = pullthrough_run(tmp_path, "-n", "2")
    not_passing = [f"{c.id}: {c.verdict} {c.message}" for c in run.cases() if c.verdict is not Verdict.PASS]
    assert not_passing == []
    assert run.code == 0, run.stderr[-2000:]
    assert {c.rule for c in run.cases()} == set(RULES), "every rule of RULES.md has a case"


def test_every_rule_can_fail() -> None:
    assert {rule for _, rule in BREAKS} | {DEFECTS[name].rule for name in AWAITING_CHECKS} == set(RULES)


@pytest.mark.parametrize(("defect", "rule"), BREAKS, ids=[f"{d}-{r}" for d, r in BREAKS])
def test_each_defect_is_caught_by_the_rule_it_breaks(tmp_path: Path, defect: str, rule: str) -> None:
    extra = [] if defect == "no-atomic-write" else ["--in-process"]  # kill -9 needs a real process
    run = pullthrough_run(tmp_path, "--defect", defect, "-k", rule, "-n", "1", *extra)
    cases = run.cases(rule)
    assert cases, f"no case of {rule} ran"
    caught = [c.id for c in cases if c.verdict in CAUGHT]
    assert caught, f"{defect} breaks {rule}, yet every case of {rule} passed: the scenarios cannot fail"
    assert not [c.id for c in run.cases() if c.verdict is Verdict.ERROR]
    failing_gate = any(c.verdict is Verdict.FAIL and c.gating for c in run.cases())
    assert run.code == (1 if failing_gate else 0)
