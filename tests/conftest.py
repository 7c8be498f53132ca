"""Fixtures every test package shares: peers from Debian, and a fresh fake upstream."""

from __future__ import annotations

import os
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


# Peers built from source (not in Debian, not in CI): their tests run when the program is named here.
BUILT_PEERS = {"distribution-v3": "PULLTHROUGH_DISTRIBUTION_V3", "zot": "PULLTHROUGH_ZOT"}


def need_built_peer(name: str) -> str:
    """The path of a peer built from source, from its environment variable; skips the test without it, in CI too."""
    variable = BUILT_PEERS[name]
    path = os.environ.get(variable)
    if not path:
        pytest.skip(f"{name} is built from source, not installed: set {variable}=/path/to/its/binary to test it")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{variable}={path}: no executable file there", pytrace=False)
    return path
