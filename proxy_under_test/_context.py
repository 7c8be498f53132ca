"""What every handler shares: the configuration, the cache, the upstream client, and worker threads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from proxy_under_test._cache import Cache
from proxy_under_test._config import ProxyConfig
from proxy_under_test._failures import Failures
from proxy_under_test._routes import Router
from proxy_under_test._upstream import Upstream

T = TypeVar("T")
log = logging.getLogger("pullthrough.proxy")


@dataclass
class Context:
    config: ProxyConfig
    cache: Cache
    upstream: Upstream
    failures: Failures
    router: Router
    executor: ThreadPoolExecutor  # file work: reads, fsync, small writes
    hashing: ThreadPoolExecutor  # one thread: cold blobs' sha256, batch after batch
    writing: ThreadPoolExecutor  # one thread: cold blobs' bytes into their temp files, in order

    async def blocking(self, function: Callable[..., T], *args: object) -> T:
        """Run file work (fsync, big reads and writes, hashing) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)
