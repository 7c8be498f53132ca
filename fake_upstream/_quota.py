"""Docker Hub's pull quota: manifest GETs per client identity per window; HEADs are free."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class QuotaConfig:
    limit: int
    window: float = 21600.0


@dataclass(frozen=True)
class QuotaState:
    limit: int
    remaining: int
    window: float
    retry_after: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        window = int(self.window)
        return {"ratelimit-limit": f"{self.limit};w={window}", "ratelimit-remaining": f"{self.remaining};w={window}"}


class Quota:
    def __init__(self, config: QuotaConfig | None) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._pulls: dict[str, deque[float]] = {}

    def check(self, identity: str, counts: bool) -> QuotaState | None:
        """Count one manifest GET (when `counts`) and say where the identity stands; None when no quota."""
        if self.config is None:
            return None
        now = time.time()
        with self._lock:
            pulls = self._pulls.setdefault(identity, deque())
            while pulls and pulls[0] <= now - self.config.window:
                pulls.popleft()
            exceeded = len(pulls) >= self.config.limit
            if counts and not exceeded:
                pulls.append(now)
            retry = int(pulls[0] + self.config.window - now) + 1 if pulls else 0
            remaining = max(0, self.config.limit - len(pulls))
            return QuotaState(self.config.limit, remaining, self.config.window, retry, counts and exceeded)

    def usage(self) -> dict[str, int]:
        with self._lock:
            return {identity: len(pulls) for identity, pulls in self._pulls.items()}

    def reset(self) -> None:
        with self._lock:
            self._pulls.clear()
