"""A tally adds up what workers send it, and a worker's report empties its own."""

from __future__ import annotations

from harness.soak.pulling import Step
from harness.soak.tally import Tally
from reports.model import Kind, Observation


def _step(kind: Kind, label: str) -> Step:
    return Step("GET blob", "soak/r0", 100.0, Observation(kind=kind, label=label, seconds=0.5, detail="d"))


def test_workers_tallies_add_up_and_drain_empties() -> None:
    worker = Tally()
    worker.add_step(_step(Kind.SERVED, "served"))
    worker.add_step(_step(Kind.WRONG_BYTES, "wrong-bytes"))
    worker.add_pull(whole=False)
    master = Tally()
    master.merge(worker.drain())
    assert worker.to_dict() == Tally().to_dict()
    worker.add_step(_step(Kind.CLEAN_ERROR, "clean-error(503 UNAVAILABLE)"))
    master.merge(worker.drain())
    assert master.requests == 3 and master.pulls == 1 and master.whole == 0
    assert master.count(Kind.WRONG_BYTES) == 1
    assert master.outcomes["served"] == 1
    assert master.broken == [{"request": "GET blob", "repository": "soak/r0", "detail": "d"}]
    assert master.errors == [
        ["soak/r0", 100.0, 100.5, "wrong-bytes"],
        ["soak/r0", 100.0, 100.5, "clean-error(503 UNAVAILABLE)"],
    ]
    assert Tally.from_dict(master.to_dict()).to_dict() == master.to_dict()
