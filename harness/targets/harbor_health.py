"""When Harbor checks its endpoints' health, learned from the pings the check sends the fake upstream.

Harbor checks every endpoint every 300 s (the first check 5-10 min after core starts), one endpoint after another
in one loop, so an endpoint's turn comes up to tens of seconds after the tick when there are many. While an endpoint
is marked unhealthy Harbor answers from its local storage only, so a check that falls in a case's whole-port
outage would change what the case observes.

A check is two `GET /v2/` (with credentials, a token request without a scope between them) with no repository
request near them; a request's own probe is a single `GET /v2/` followed by its repository's requests. Checks the
target triggers itself (creating the endpoint, `PUT /registries/N {}`) are left out. The time of the latest check
seen is shared through a file keyed by Harbor's URL, so that workers and runs that start later know roughly when
the next one comes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fake_upstream import JournalEntry, Upstream
from harness.poll import Timeout, wait_until

PERIOD = 300.0
_GAP = 2.0  # the requests of one check follow each other within this, even on a loaded Harbor
_QUIET = 3.0  # no repository request this near a check (a request's probe is followed by one at once)
_MINE = 5.0  # how far this endpoint's next check may stray from a period after its last one
_OTHERS = 45.0  # ... and from a period after another endpoint's (they are checked in turn)
_TRUSTED = 2 * PERIOD  # a shared sighting older than this may predate a restart of Harbor's core


class HealthClock:
    def __init__(
        self,
        upstream: Upstream,
        harbor_url: str,
        *,
        directory: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._upstream = upstream
        self._clock = clock
        self._cursor = upstream.cursor()
        self._pending: list[JournalEntry] = []
        self._own: list[tuple[int, int]] = []
        self._seen: list[float] = []
        self._before: float | None = None  # when the latest repository request already judged came
        key = hashlib.sha256(harbor_url.rstrip("/").encode()).hexdigest()[:16]
        self._file = (directory or Path(tempfile.gettempdir())) / f"pullthrough-harbor-health-{key}.json"

    @contextmanager
    def own_check(self) -> Iterator[None]:
        """Around a call that makes Harbor check the endpoint (its pings are not the periodic check)."""
        start = self._upstream.cursor()
        try:
            yield
        finally:
            self._own.append((start, self._upstream.cursor()))

    def seen(self) -> float | None:
        """When this endpoint's latest periodic check was seen (UNIX time)."""
        self._scan()
        return self._seen[-1] if self._seen else None

    def next_check(self) -> tuple[float, float] | None:
        """When the next check of this endpoint is due, and how far it may stray; None if nothing is known."""
        mine = self.seen()
        shared = self._read()
        last, spread = (mine, _MINE) if mine is not None else (shared, _OTHERS) if shared is not None else (None, 0.0)
        if last is None:
            return None
        periods = max(1, int((self._clock() - last + spread) // PERIOD) + 1)
        return last + periods * PERIOD, spread

    def clear_of_checks(self, seconds: float, *, unknown_deadline: float = PERIOD + 30) -> str | None:
        """Return once no check of this endpoint can come in the next `seconds`: at once, or right after the one
        that is due; a note when none could be seen in time."""
        due = self.next_check()
        if due is None:
            return self._await(self._clock() - 1, unknown_deadline, "no endpoint health check seen")
        at, spread = due
        now = self._clock()
        if at - spread >= now + seconds:
            return None
        return self._await(at - spread, at + spread + 30 - now, "the due endpoint health check was not seen")

    # ---- internals ----------------------------------------------------------------------------------

    def _await(self, after: float, deadline: float, missing: str) -> str | None:
        try:
            wait_until(lambda: (self.seen() or 0) >= after, timeout=max(deadline, 1.0), what="a check", interval=1.0)
        except Timeout:
            return f"{missing} within {deadline:.0f}s"
        return None

    def _scan(self) -> None:
        """Read the journal since last time; judge a burst once what follows it has had time to arrive."""
        entries = self._upstream.journal(after=self._cursor)
        if entries:
            self._cursor = entries[-1].seq
            self._pending += entries
        judged_before = self._clock() - _QUIET - _GAP
        while self._pending:
            first = self._pending[0]
            if first.repository:
                self._before = first.time
                self._pending.pop(0)
                continue
            burst = _burst(self._pending)
            rest = self._pending[len(burst) :]
            if burst[-1].time > judged_before and not rest:
                return  # what follows it may not have arrived yet
            if burst[-1].time > judged_before and rest[0].time - burst[-1].time < _QUIET:
                return
            if self._is_check(burst, rest):
                self._seen.append(burst[0].time)
                self._write(burst[0].time)
            self._pending = rest

    def _is_check(self, burst: list[JournalEntry], rest: list[JournalEntry]) -> bool:
        pings = sum(1 for entry in burst if entry.kind == "ping")
        near_after = any(e.repository and e.time - burst[-1].time < _QUIET for e in rest)
        near_before = self._before is not None and burst[0].time - self._before < _QUIET
        own = any(start < burst[0].seq <= end for start, end in self._own)
        return pings >= 2 and not near_after and not near_before and not own

    def _read(self) -> float | None:
        try:
            found = float(json.loads(self._file.read_text())["check"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return found if self._clock() - found < _TRUSTED else None

    def _write(self, seen: float) -> None:
        previous = self._read()
        if previous is not None and previous >= seen:
            return
        partial = self._file.with_suffix(f".{os.getpid()}.tmp")
        try:
            partial.write_text(json.dumps({"check": seen}))
            partial.replace(self._file)
        except OSError:
            partial.unlink(missing_ok=True)


def _burst(entries: list[JournalEntry]) -> list[JournalEntry]:
    """The leading run of requests without a repository (pings, token requests without a scope)."""
    burst = [entries[0]]
    for entry in entries[1:]:
        if entry.repository or entry.time - burst[-1].time > _GAP:
            break
        burst.append(entry)
    return burst
