"""Harbor's endpoint health checks, told from a request's own probe in the fake upstream's journal, and a
whole-port outage kept clear of the next one."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_upstream import JournalEntry
from harness.targets.harbor_health import PERIOD, HealthClock

T0 = 1_800_000_000.0


class _Journal:
    """The two methods of the fake upstream the clock reads, over entries a test writes."""

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []

    def add(self, at: float, kind: str, repository: str | None = None) -> None:
        path = {"ping": "/v2/", "token": "/token"}.get(kind, f"/v2/{repository}/manifests/v1")
        seq = len(self.entries) + 1
        self.entries.append(JournalEntry(T0 + at, "GET", path, kind, repository, None, 200, 0, "", "", seq=seq))

    def check(self, at: float) -> None:
        """What Harbor's check sends with credentials: a probe, a token without a scope, the ping."""
        self.add(at, "ping")
        self.add(at + 0.01, "token")
        self.add(at + 0.02, "ping")

    def request(self, at: float, repository: str = "ns/app") -> None:
        """A proxied request: its probe, then its repository's token and request."""
        self.add(at, "ping")
        self.add(at + 0.4, "token", repository)
        self.add(at + 0.5, "manifest", repository)

    def journal(self, since: float | None = None, *, after: int | None = None) -> list[JournalEntry]:
        return [e for e in self.entries if e.seq > (after or 0)]

    def cursor(self) -> int:
        return len(self.entries)


@pytest.fixture
def journal() -> _Journal:
    return _Journal()


def _clock(journal: _Journal, tmp_path: Path, now: list[float]) -> HealthClock:
    return HealthClock(journal, "http://harbor.test", directory=tmp_path, clock=lambda: T0 + now[0])  # type: ignore[arg-type]


def test_a_check_is_two_pings_with_no_repository_near(journal: _Journal, tmp_path: Path) -> None:
    now = [0.0]
    clock = _clock(journal, tmp_path, now)
    journal.request(10)
    journal.check(40)
    journal.request(41.5)  # a request right after: this burst could be its probe, so it is not taken for a check
    journal.check(100)
    now[0] = 120
    assert clock.seen() == T0 + 100


def test_the_targets_own_checks_are_not_the_periodic_one(journal: _Journal, tmp_path: Path) -> None:
    now = [0.0]
    clock = _clock(journal, tmp_path, now)
    with clock.own_check():
        journal.check(5)
    now[0] = 30
    assert clock.seen() is None


def test_a_check_not_yet_followed_long_enough_is_judged_later(journal: _Journal, tmp_path: Path) -> None:
    now = [50.0]
    clock = _clock(journal, tmp_path, now)
    journal.check(49.5)
    assert clock.seen() is None
    journal.add(50.2, "manifest", "ns/app")
    now[0] = 60
    assert clock.seen() is None, "a repository request 0.7 s after it: it may have been a request's probe"


def test_an_outage_far_from_the_next_check_goes_ahead(journal: _Journal, tmp_path: Path) -> None:
    now = [0.0]
    clock = _clock(journal, tmp_path, now)
    journal.check(10)
    now[0] = 100
    assert clock.next_check() == (T0 + 10 + PERIOD, 5.0)
    assert clock.clear_of_checks(45) is None


def test_an_outage_waits_for_the_check_that_is_due(journal: _Journal, tmp_path: Path) -> None:
    now = [PERIOD - 20]  # the next check is due in 30 s

    def ticking() -> float:
        now[0] += 10  # time runs fast here: each look at the clock is 10 s later
        return T0 + now[0]

    clock = HealthClock(journal, "http://harbor.test", directory=tmp_path, clock=ticking)  # type: ignore[arg-type]
    journal.check(10)
    journal.check(10 + PERIOD)  # it comes when due; it is judged once the clock has passed it
    assert clock.clear_of_checks(45) is None
    assert clock.seen() == T0 + 10 + PERIOD
    assert now[0] > PERIOD + 10


def test_with_no_check_seen_the_outage_waits_for_one_and_says_so(journal: _Journal, tmp_path: Path) -> None:
    clock = _clock(journal, tmp_path, [0.0])
    assert clock.clear_of_checks(45, unknown_deadline=1.5) == "no endpoint health check seen within 2s"


def test_another_workers_sighting_tells_the_schedule_roughly(journal: _Journal, tmp_path: Path) -> None:
    now = [0.0]
    first = _clock(journal, tmp_path, now)
    journal.check(10)
    now[0] = 20
    assert first.seen() == T0 + 10
    other = _clock(_Journal(), tmp_path, now)
    assert other.next_check() == (T0 + 10 + PERIOD, 45.0)
