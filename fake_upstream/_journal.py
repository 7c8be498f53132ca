"""Every request the registry received, in arrival order, numbered, up to a limit."""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass, fields
from typing import Any

from fake_upstream._activity import Activity, ActivityTracker

# Entries kept; older ones are dropped (their `seq` numbers are not reused). About 600 bytes each.
DEFAULT_JOURNAL_LIMIT = 10_000


@dataclass
class JournalEntry:
    """One request. `seq` is the upstream's own arrival number (1, 2, 3, ...; 0 until journalled);
    `status` 0 means no answer was sent (reset, black-holed, or hit by an outage); `complete` is
    False when the body was cut short or never sent; `duration` is the seconds until the answer
    ended or the connection was given up; `outage` names the listener outage that took the request
    (only its request line is known then)."""

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
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: that deep-copies every value, and a journal has thousands of entries.
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(JournalEntry))


class Journal:
    def __init__(self, limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("the journal limit must be a positive number of entries")
        self.limit = limit
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._seq = 0
        self._activity = ActivityTracker()

    def record(self, entry: JournalEntry, *, finished: bool = False) -> None:
        """Number the entry and keep it; `finished` for a request that is already over (an outage took it)."""
        with self._lock:
            self._seq += 1
            entry.seq = self._seq
            self._entries.append(entry)
            if entry.repository is not None:
                self._activity.arrived(entry.repository, entry.seq, finished=finished)

    def finish(self, entry: JournalEntry) -> None:
        """The request `entry` recorded has ended (answered, cut, or given up by its client)."""
        if entry.repository is not None:
            with self._lock:
                self._activity.finished(entry.repository)

    def cursor(self) -> int:
        """The highest sequence number given so far (0: none)."""
        with self._lock:
            return self._seq

    def activity(self, repository: str) -> Activity:
        with self._lock:
            return self._activity.get(repository)

    def select(
        self, since: float | None = None, *, after: int | None = None, repository: str | None = None
    ) -> list[JournalEntry]:
        """The live entries (still changing while their requests run) with `seq > after`, `time >= since`,
        of `repository` exactly, in sequence order."""
        with self._lock:
            if after is None:
                chosen = list(self._entries)
            else:
                # Newest first, stopping at `after`: a harness asks for the last few, not the whole journal.
                chosen = []
                for entry in reversed(self._entries):
                    if entry.seq <= after:
                        break
                    chosen.append(entry)
                chosen.reverse()
        return [
            e
            for e in chosen
            if (since is None or e.time >= since) and (repository is None or e.repository == repository)
        ]

    def entries(
        self, since: float | None = None, *, after: int | None = None, repository: str | None = None
    ) -> list[JournalEntry]:
        """Copies, so that a caller's list does not change under it while requests finish."""
        return [copy.copy(e) for e in self.select(since, after=after, repository=repository)]

    def clear(self) -> None:
        """Forget the entries; the sequence and the activity go on (a cursor never goes back)."""
        with self._lock:
            self._entries.clear()
