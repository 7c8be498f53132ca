"""Cases that share one upstream never see each other's outages.

Faults are armed per repository, so concurrent cases cannot meet them. A whole-port outage (`refused`) cannot
be: when workers share one fake upstream (an external target), a case that takes the port down runs alone. Every
other case holds the lock shared; such a case holds it exclusively. A turnstile keeps a waiting exclusive case
from being starved by a stream of shared ones.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class UpstreamLock:
    """A readers-writer lock across processes (pytest-xdist workers), one per upstream."""

    def __init__(self, upstream_url: str, directory: Path | None = None) -> None:
        key = hashlib.sha256(upstream_url.encode()).hexdigest()[:16]
        base = directory or Path(tempfile.gettempdir())
        self._main = base / f"pullthrough-upstream-{key}.lock"
        self._turnstile = base / f"pullthrough-upstream-{key}.turnstile"

    @contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[None]:
        main = _open(self._main)
        try:
            with _locked(self._turnstile, fcntl.LOCK_EX):
                fcntl.flock(main, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(main)  # closing the descriptor releases its lock


@contextmanager
def _locked(path: Path, operation: int) -> Iterator[None]:
    descriptor = _open(path)
    try:
        fcntl.flock(descriptor, operation)
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
