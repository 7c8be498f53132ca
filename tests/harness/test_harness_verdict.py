"""One function decides a case's verdict: a missed check fails it, nothing checked is an error, never a pass."""

from __future__ import annotations

from harness.verdict import NO_CHECK, Check, decide
from reports.model import Kind, Observation, Verdict

SERVED = Observation(Kind.SERVED_CACHED, "served-cached", status=200, detail="3072 bytes")
ABORTED = Observation(Kind.ABORTED, "aborted", status=200, detail="1000 of 3072 bytes (reset)")


def _check(observation: Observation, accepted: bool, step: str = "") -> Check:
    return Check(observation, "served-cached", accepted, step)


def test_all_checks_held_is_a_pass_resting_on_the_last() -> None:
    checks = [_check(SERVED, True, "warming the cache"), _check(SERVED, True)]
    outcome = decide(checks, gating=True)
    assert (outcome.verdict, outcome.message, outcome.decisive) == (Verdict.PASS, "", checks[-1])


def test_the_first_missed_check_fails_a_gating_rule_and_names_its_step() -> None:
    checks = [_check(SERVED, True), _check(ABORTED, False, "warming the cache"), _check(ABORTED, False)]
    outcome = decide(checks, gating=True)
    assert outcome.verdict is Verdict.FAIL
    assert outcome.decisive is checks[1]
    assert outcome.message == "warming the cache: expected served-cached; observed aborted: 1000 of 3072 bytes (reset)"


def test_a_missed_check_of_a_recommended_rule_is_a_deviation() -> None:
    assert decide([_check(ABORTED, False)], gating=False).verdict is Verdict.DEVIATION


def test_no_check_is_an_error_not_a_pass() -> None:
    outcome = decide([], gating=True)
    assert (outcome.verdict, outcome.message, outcome.decisive) == (Verdict.ERROR, NO_CHECK, None)


def test_an_error_after_checks_that_held_is_an_error() -> None:
    outcome = decide([_check(SERVED, True)], gating=True, error="the proxy did not start")
    assert (outcome.verdict, outcome.message) == (Verdict.ERROR, "the proxy did not start")


def test_a_missed_check_outweighs_a_later_error() -> None:
    assert decide([_check(ABORTED, False)], gating=True, error="teardown failed").verdict is Verdict.FAIL


def test_a_skip_is_a_skip_whatever_was_checked() -> None:
    outcome = decide([_check(ABORTED, False)], gating=True, skipped="no storage to read")
    assert (outcome.verdict, outcome.message) == (Verdict.SKIP, "no storage to read")
