"""A case's view of the upstream: whether it made the upstream fail, so that the target can forget it after."""

from __future__ import annotations

import pytest

from fake_upstream import FakeUpstream
from harness.case_upstream import CaseUpstream
from harness.spec import RunSpec
from harness.world import World


def test_a_case_that_arms_a_fault_or_an_outage_has_disturbed_the_upstream(upstream: FakeUpstream) -> None:
    quiet = CaseUpstream(upstream, "rule/one", exclusive=False)
    repository = quiet.repository("app")
    quiet.add_image(repository, "v1", layers=[64])
    quiet.delete_tag(repository, "v1")  # the upstream answers 404 now, as a healthy registry does
    assert not quiet.disturbed
    quiet.fault("503")
    quiet.restore()
    assert quiet.disturbed, "cleared faults still count: the target may remember them"
    refusing = CaseUpstream(upstream, "rule/two", exclusive=True)
    refusing.outage("refused")
    refusing.restore()
    assert refusing.disturbed


def test_the_target_forgets_upstream_failures_only_after_a_disturbed_case(
    upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(RunSpec(target="reference", in_process=True))
    world.upstream = upstream
    forgotten: list[bool] = []
    monkeypatch.setattr(world.target, "forget_upstream_failures", lambda: forgotten.append(True))
    upstream.set_outage("refused")
    world.between_cases(disturbed=False)
    assert forgotten == []
    world.between_cases(disturbed=True)
    assert forgotten == [True]
