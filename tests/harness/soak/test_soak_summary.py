"""Each invariant breaks the summary on its own, in one sentence; a soak where all hold is not broken."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.soak.probe import MIB, Reading
from harness.soak.pulling import Step
from harness.soak.summary import Resources, Summary
from harness.soak.tally import Tally
from reports.model import Kind, Observation

_OPEN = ("/dev/null", "pipe", "pipe", "tcp :5000 LISTEN", *("pipe",) * 6)
_RUN = {"target": "reference", "users": 2, "seed": 1, "cycle": 1.0}


def _summary(
    *kinds: Kind,
    unexplained: int = 0,
    corrupt: int = 0,
    fds_after: int = 10,
    peak_rss_mib: int = 50,
    max_rss_mib: float | None = None,
) -> Summary:
    tally = Tally()
    for kind in (Kind.SERVED, *kinds):
        tally.add_step(Step("GET blob", "soak/r0", 1.0, Observation(kind=kind, label=str(kind), seconds=0.1)))
    tally.add_pull(whole=not kinds)
    resources = Resources(
        before=Reading(rss=40 * MIB, peak=40 * MIB, fds=10, processes=1, descriptors=_OPEN),
        after=Reading(
            rss=45 * MIB,
            peak=peak_rss_mib * MIB,
            fds=fds_after,
            processes=1,
            descriptors=_OPEN + ("tcp :5000->:6000 CLOSE_WAIT",) * (fds_after - 10),
        ),
        peak_rss=peak_rss_mib * MIB,
        peak_fds=30,
    )
    summary = Summary(
        run=_RUN,
        stats={"requests": 1 + len(kinds), "rps": 1.0, "seconds": 1.0, "ms": {"p50": 1, "p99": 2}},
        tally=tally,
        unexplained=[["soak/r1", 1.0, 1.1, "clean-error(503)"]] * unexplained,
        corrupt=[f"sha256:{n:064x}" for n in range(corrupt)],
        resources=resources,
        schedule=[{"name": "healthy"}],
        max_rss_mib=max_rss_mib,
    )
    summary.judge()
    return summary


def test_a_soak_where_every_invariant_holds_is_not_broken() -> None:
    summary = _summary(Kind.CLEAN_ERROR, max_rss_mib=100)
    assert summary.broken == []
    invariants = summary.to_dict()["invariants"]
    assert invariants == {
        "wrong_bytes": 0,
        "short": 0,
        "corrupt_entries": 0,
        "unexplained_errors": 0,
        "descriptors_back": True,
    }


@pytest.mark.parametrize(
    ("summary_of", "words"),
    [
        (lambda: _summary(Kind.WRONG_BYTES), "1 wrong bytes served as a success"),
        (lambda: _summary(Kind.SHORT, Kind.SHORT), "2 cleanly short 200s"),
        (lambda: _summary(corrupt=3), "3 cache entries fail their digest"),
        (lambda: _summary(unexplained=4), "4 errors that no fault or outage explains"),
        (
            lambda: _summary(fds_after=12),
            "the proxy's descriptors did not come back: 10 before, 12 after (2 x tcp :5000->:6000 CLOSE_WAIT)",
        ),
        (lambda: _summary(peak_rss_mib=120, max_rss_mib=100), "the proxy's peak RSS 120.0 MiB is over 100"),
    ],
)
def test_each_broken_invariant_is_one_sentence(summary_of: Callable[[], Summary], words: str) -> None:
    assert summary_of().broken == [words]


def test_a_soak_that_pulled_nothing_proves_nothing() -> None:
    summary = Summary(run=_RUN, stats={}, tally=Tally(), unexplained=[], corrupt=None, resources=None, schedule=[])
    assert summary.judge() == ["no pull finished"]
