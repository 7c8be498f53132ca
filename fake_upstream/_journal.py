"""Every request the registry received, in arrival order."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass
class JournalEntry:
    """One request. `status` 0 means no answer was sent (reset, black-holed, or hit by an outage);
    `complete` is False when the body was cut short or never sent; `duration` is the seconds until
    the answer ended or the connection was given up; `outage` names the listener outage that took
    the request (only its request line is known then)."""

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
    user_agent: str | None = None
    duration: float | None = None
    outage: str | None = None

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
        """Copies, so that a caller's list does not change under it while requests finish."""
        with self._lock:
            return [replace(e) for e in self._entries if since is None or e.time >= since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
