"""Which errors a disturbance explains: its repositories (or all, for the port), from its start to T after its end."""

from __future__ import annotations

from harness.soak.timeline import Disturbance, unexplained

TIMELINE = [
    Disturbance("503", 100.0, 102.0, ("soak/r0",)),
    Disturbance("refused", 110.0, 112.0, ()),
]


def test_an_error_on_the_broken_repository_while_broken_is_explained() -> None:
    assert unexplained([["soak/r0", 101.0, 101.5, "clean-error(503)"]], TIMELINE, grace=3.0) == []


def test_an_error_within_t_after_the_fault_is_explained_and_later_not() -> None:
    late = ["soak/r0", 104.5, 104.6, "clean-error(502)"]
    assert unexplained([late], TIMELINE, grace=3.0) == []
    assert unexplained([late], TIMELINE, grace=1.0) == [late]


def test_an_error_on_a_healthy_repository_is_not_explained() -> None:
    other = ["soak/r1", 101.0, 101.5, "clean-error(502)"]
    before = ["soak/r0", 90.0, 99.0, "clean-error(502)"]
    assert unexplained([other, before], TIMELINE, grace=3.0) == [other, before]


def test_an_outage_of_the_port_explains_errors_on_every_repository() -> None:
    assert unexplained([["soak/r5", 109.0, 110.5, "hang"]], TIMELINE, grace=0.0) == []
