"""Settling strategies: parsed once with one-line errors; a quiet settle that runs out says what was busy."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from harness.settle import DEADLINE, QUIET_PERIOD, Settle, SettleError, delay, quiet


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("probe", Settle("probe")),
        ("none", Settle("none")),
        ("quiet", Settle("quiet", QUIET_PERIOD, DEADLINE)),
        ("quiet:0.5", Settle("quiet", 0.5, DEADLINE)),
        ("delay:3", Settle("delay", 3.0, DEADLINE)),
        ("delay:20", Settle("delay", 20.0, 80.0)),  # the deadline grows with a long quiet period or delay
    ],
)
def test_parse(text: str, expected: Settle) -> None:
    assert Settle.parse(text) == expected
    assert Settle.parse(str(expected)) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("soon", "one of probe, quiet[:SECONDS], delay:SECONDS, none"),
        ("probe:3", "takes no value"),
        ("delay", "needs seconds"),
        ("quiet:x", "is not a number"),
        ("delay:0", "more than 0"),
        ("delay:-1", "more than 0"),
        ("delay:nan", "more than 0"),
        ("delay:1e9", "at most 3600"),
    ],
)
def test_a_bad_strategy_is_one_line(text: str, says: str) -> None:
    with pytest.raises(SettleError) as raised:
        Settle.parse(text)
    assert says in str(raised.value) and "\n" not in str(raised.value)


@dataclass(frozen=True)
class _Seen:
    idle: float | None
    in_flight: int = 0


def test_quiet_returns_once_every_repository_is_idle_for_the_period() -> None:
    calls: list[str] = []

    def activity(repository: str) -> _Seen:
        calls.append(repository)
        busy_until = 3 if repository == "b" else 0
        return _Seen(idle=5.0) if calls.count(repository) > busy_until else _Seen(idle=0.01, in_flight=1)

    settled = quiet(activity, ["a", "b"], period=0.2, deadline=5.0)
    assert settled.complete and settled.strategy == "quiet:0.2"
    assert calls.count("b") == 4


def test_a_repository_never_seen_is_quiet() -> None:
    assert quiet(lambda _: _Seen(idle=None), ["new"], period=1.0, deadline=1.0).complete


def test_quiet_that_runs_out_says_what_was_still_going_on() -> None:
    started = time.monotonic()
    settled = quiet(lambda _: _Seen(idle=0.0, in_flight=2), ["busy"], period=0.2, deadline=0.3)
    assert not settled.complete
    assert 0.3 <= time.monotonic() - started < 3
    assert settled.detail == "busy: 2 in flight, idle 0.0s"
    assert settled.note.startswith("settle (quiet:0.2) ran out after 0.")


def test_delay_waits_the_time_asked() -> None:
    started = time.monotonic()
    settled = delay(0.2)
    assert settled.complete and time.monotonic() - started >= 0.2
