"""Checking a content-addressed cache on disk: every file's bytes hash to the digest its path names."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_CHUNK = 1 << 20


def unverified(entries: Iterable[tuple[str, Path]]) -> list[str]:
    """The digests whose files do not hash to them (e.g. a partial file a crash left where readers find it)."""
    return [digest for digest, path in entries if _digest(path, digest.partition(":")[0]) != digest]


def _digest(path: Path, algorithm: str) -> str:
    hasher = hashlib.new(algorithm)
    with path.open("rb") as content:
        while chunk := content.read(_CHUNK):
            hasher.update(chunk)
    return f"{algorithm}:{hasher.hexdigest()}"
