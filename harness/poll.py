"""Synchronisation by polling with a deadline: the only way the harness waits for something to happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Timeout(AssertionError):
    """What was awaited did not happen before the deadline."""


def wait_until(
    condition: Callable[[], T], *, timeout: float = 10.0, what: str = "the condition", interval: float = 0.01
) -> T:
    """Call `condition` until it returns something truthy, and return that; raise Timeout at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Timeout(f"{what}: not within {timeout:g}s")
        time.sleep(interval)
