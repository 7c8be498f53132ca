"""Fixtures every test package shares: peers from Debian, and a fresh fake upstream."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_upstream import FakeUpstream
from harness.peers import find_peer, in_ci


def need_peer(name: str) -> str:
    """The peer's path; skips the test without it, but fails it in CI, where a missing peer is a broken CI."""
    path = find_peer(name)
    if path is None:
        message = f"{name} is not installed (sudo apt-get install -y {name})"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """A fake upstream on ephemeral loopback ports, empty and healthy."""
    with FakeUpstream() as fake:
        yield fake
