"""The upstream lock: cases share it, a refused-port case holds it alone, and a waiting one is not starved.

flock locks belong to open file descriptions, so threads that each open the lock behave as the xdist workers do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.isolation import UpstreamLock
from harness.poll import wait_until


class _Holder:
    """A thread that takes the lock and keeps it until released."""

    def __init__(self, lock: UpstreamLock, *, exclusive: bool) -> None:
        self.holding = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(lock, exclusive), daemon=True)
        self._thread.start()

    def _run(self, lock: UpstreamLock, exclusive: bool) -> None:
        with lock.hold(exclusive=exclusive):
            self.holding.set()
            self._release.wait(10)

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)


@pytest.fixture
def lock(tmp_path: Path) -> Iterator[UpstreamLock]:
    yield UpstreamLock("http://127.0.0.1:5000", tmp_path)


def test_cases_share_the_lock(lock: UpstreamLock) -> None:
    first, second = _Holder(lock, exclusive=False), _Holder(lock, exclusive=False)
    wait_until(lambda: first.holding.is_set() and second.holding.is_set(), timeout=5, what="both shared holders")
    first.release(), second.release()


def test_an_exclusive_case_waits_for_the_shared_ones_and_then_runs_alone(lock: UpstreamLock) -> None:
    shared = _Holder(lock, exclusive=False)
    wait_until(shared.holding.is_set, timeout=5)
    alone = _Holder(lock, exclusive=True)
    assert not alone.holding.wait(0.3), "the exclusive case ran beside a shared one"
    shared.release()
    wait_until(alone.holding.is_set, timeout=5, what="the exclusive case")
    later = _Holder(lock, exclusive=False)
    assert not later.holding.wait(0.3), "a shared case ran beside the exclusive one"
    alone.release()
    wait_until(later.holding.is_set, timeout=5)
    later.release()


def test_a_waiting_exclusive_case_is_not_starved_by_new_shared_ones(lock: UpstreamLock) -> None:
    shared = _Holder(lock, exclusive=False)
    wait_until(shared.holding.is_set, timeout=5)
    alone = _Holder(lock, exclusive=True)
    assert not alone.holding.wait(0.2)
    newcomer = _Holder(lock, exclusive=False)  # queues behind the exclusive case at the turnstile
    assert not newcomer.holding.wait(0.3), "a new shared case overtook the waiting exclusive one"
    shared.release()
    wait_until(alone.holding.is_set, timeout=5)
    assert not newcomer.holding.is_set()
    alone.release()
    wait_until(newcomer.holding.is_set, timeout=5)
    newcomer.release()


def test_each_upstream_has_its_own_lock(tmp_path: Path) -> None:
    one = _Holder(UpstreamLock("http://127.0.0.1:5000", tmp_path), exclusive=True)
    other = _Holder(UpstreamLock("http://127.0.0.1:5001", tmp_path), exclusive=True)
    wait_until(lambda: one.holding.is_set() and other.holding.is_set(), timeout=5)
    one.release(), other.release()
