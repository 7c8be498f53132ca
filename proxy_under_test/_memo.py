"""A memo bounded in bytes: the most recently used values whose sizes add up to at most `limit`.

The cache keeps manifests in one, so that a tag's freshness check does not read the disk. Bounded by
count, 4,096 manifests of up to 4 MiB each could hold 16 GiB; bounded in bytes, memory is what the
operator set. Thread-safe: manifests are stored from worker threads and read on the event loop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    def __init__(self, limit: int, weigh: Callable[[V], int]) -> None:
        self.limit = limit
        self.size = 0
        self._weigh = weigh
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V) -> None:
        """Remember `value`, forgetting the least recently used ones over the limit (a value bigger than
        the whole limit is not remembered at all)."""
        weight = self._weigh(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            if weight > self.limit:
                return
            self._items[key] = (value, weight)
            self.size += weight
            while self.size > self.limit:
                _, (_, dropped) = self._items.popitem(last=False)
                self.size -= dropped
