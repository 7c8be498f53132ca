"""Every request the registry received, in arrival order."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class JournalEntry:
    time: float
    method: str
    path: str
    kind: str
    repository: str | None
    reference: str | None
    status: int
    bytes: int
    auth: str
    client: str
    fault: str | None = None
    range: str | None = None
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, since: float | None = None) -> list[JournalEntry]:
        with self._lock:
            return [e for e in self._entries if since is None or e.time >= since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
