"""Cold blobs: ONE upstream GET per blob, spooled to a temp file and hashed as it lands.

The fetch runs as its own task, so it outlives any one client, and every client of the same cold blob
(ECON-COALESCE) reads it as it arrives: from the spool's memory window, or from the temp file through
its own duplicate of the descriptor when it has fallen behind. The fetch keeps pace with its fastest
reader (at most AHEAD bytes ahead, so that reader always sends from memory: reading a just-written blob
back from disk costs more than the rest of its path), unless that reader stops for PACE_WAIT seconds.
The file lands in the cache only when its digest verifies; readers hold back the last byte until then,
so a wrong or cut-short upstream body never completes a client's response.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from typing import Literal

from proxy_under_test._context import Context, log
from proxy_under_test._defects import Defect
from proxy_under_test._rawget import get_blob
from proxy_under_test._routes import Target
from proxy_under_test._spool import WINDOW, Spool
from proxy_under_test._upstream import UpstreamFailure, address, parse_length, status_failure, storage_failure
from proxy_under_test._variants import Variant

LARGE = 16 << 10  # the `no-cache-large-blobs` defect caches nothing bigger
State = Literal["connecting", "streaming", "verified", "done", "failed"]
AHEAD = WINDOW // 2
PACE_WAIT = 1.0  # seconds the fastest reader may stand still before the fetch stops waiting for readers


class Follower:
    """A reader of a fetch: how far it has sent (the fetch keeps pace with the fastest)."""

    __slots__ = ("offset",)

    def __init__(self) -> None:
        self.offset = 0


class BlobFetch:
    def __init__(self, context: Context, target: Target, digest: str, *, store: bool) -> None:
        self.context = context
        self.target = target
        self.digest = digest
        self.store = store
        self.state: State = "connecting"
        self.failure: UpstreamFailure | None = None
        self.length_header: str | None = None
        self.spool: Spool | None = None
        self.fd, self._temp = context.cache.new_temp(digest)
        self._committed = False
        self.closed = False
        self._changed = asyncio.Event()
        self._followers: set[Follower] = set()
        self._pacing = True
        self._advance: asyncio.Future[None] | None = None

    @property
    def changed(self) -> asyncio.Event:
        """Set at the next change of `state` or of the spool (take it before looking at them)."""
        return self._changed

    @property
    def complete(self) -> bool:
        """Every byte has arrived and verified: readers may finish."""
        return self.state in ("verified", "done")

    @property
    def length(self) -> int | None:
        return parse_length(self.length_header)

    async def started(self) -> None:
        """Wait for the upstream's answer; raises its failure if the fetch failed."""
        while self.state == "connecting":
            await self._changed.wait()
        self._raise_failure()

    async def finished(self) -> None:
        """Wait until every byte has arrived and verified; raises the failure if the fetch failed."""
        while not self.complete and self.state != "failed":
            await self._changed.wait()
        self._raise_failure()

    async def run(self) -> None:
        context, cache = self.context, self.context.cache
        try:
            if not cache.atomic and self.store:  # `no-atomic-write` records the blob before it has it
                await context.blocking(cache.link_blob, self.target.name, self.digest)
            await self._download_verified()
            if self.context.config.has(Defect.FETCH_TWICE):
                await self._fetch_again()
            self.state = "verified"  # readers send the last byte now; the cache's fsync need not hold them
            self._notify()
            if self.store and not (self.context.config.has(Defect.NO_CACHE_LARGE_BLOBS) and self.received > LARGE):
                try:
                    await context.blocking(self._commit)
                except OSError as error:
                    log.error("cannot cache %s: %s", self.digest, error)
            self.state = "done"
        except UpstreamFailure as failure:
            self._fail(failure)
        except OSError as error:  # the temp file could not be written (a full disk): nothing verified to send
            log.error("cannot spool %s: %s", self.digest, error)
            self._fail(storage_failure(error))
        except Exception:  # a bug: its readers get a clean failure, the log the traceback
            log.exception("fetching %s failed", self.digest)
            self._fail(UpstreamFailure("bad-response", "the proxy failed while fetching"))
        finally:
            if not self.complete and self.state != "failed":  # cancelled: the proxy is stopping
                self._fail(UpstreamFailure("reset", "the proxy stopped before the blob arrived"))
            self._notify()
            if not self._committed:
                cache.discard(self._temp)

    def close(self) -> None:
        self.closed = True
        os.close(self.fd)

    def follow(self) -> Follower:
        follower = Follower()
        self._followers.add(follower)
        return follower

    def unfollow(self, follower: Follower) -> None:
        self._followers.discard(follower)
        self.advanced()

    def advanced(self) -> None:
        """A reader moved on (or left): a fetch waiting for it may go on."""
        if self._advance is not None and not self._advance.done():
            self._advance.set_result(None)

    # ---- internals ------------------------------------------------------------------------------

    @property
    def received(self) -> int:
        return self.spool.received if self.spool is not None else 0

    def _raise_failure(self) -> None:
        if self.state == "failed":
            assert self.failure is not None
            raise self.failure

    async def _download_verified(self) -> None:
        """Download; with `refetch-on-corrupt`, once more when the bytes fail their digest."""
        try:
            await self._download()
        except UpstreamFailure as failure:
            if failure.kind != "corrupt" or not self.context.config.has(Variant.REFETCH_ON_CORRUPT):
                raise
            log.warning("%s failed verification; fetching it once more", self.digest)
            os.ftruncate(self.fd, 0)
            await self._download()

    async def _download(self) -> None:
        upstream = self.context.upstream
        response = await upstream.bounded(get_blob(upstream, self.target, self.digest))
        try:
            if response.status != 200:
                body = await self.context.upstream.bounded(response.read_all())
                raise status_failure(response.status, response.headers.get("retry-after"), body, self.target)
            self.length_header = response.headers.get("content-length")
            self._check_room()
            hasher = hashlib.new(self.digest.partition(":")[0])
            context = self.context
            self.spool = spool = Spool(self.fd, str(self._temp), hasher, context.hashing, context.writing, self._notify)
            self.state = "streaming"
            self._notify()
            cut = None
            try:
                async for piece in response.body():
                    await spool.feed(piece)
                    await self._keep_pace()
            except UpstreamFailure as failure:
                cut = failure
            finally:
                await spool.close()
        finally:
            response.close()
        has = self.context.config.has
        if cut is not None and has(Defect.CACHE_TRUNCATED):
            return
        if f"{hasher.name}:{hasher.hexdigest()}" == self.digest:
            return  # whatever the framing claimed (a lying Content-Length), these are the blob's bytes
        if cut is not None:
            raise cut
        if not has(Defect.NO_DIGEST_VERIFY):
            message = f"upstream {self.target.upstream} sent bytes that do not match {self.digest}"
            raise UpstreamFailure("corrupt", message, source=address(self.target))

    async def _keep_pace(self) -> None:
        """Wait while AHEAD bytes ahead of the fastest reader, unless it has stopped reading."""
        while self._pacing and self._followers:
            if self.received - max(follower.offset for follower in self._followers) <= AHEAD:
                return
            self._advance = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(PACE_WAIT):
                    await self._advance
            except TimeoutError:
                self._pacing = False  # a client that stopped reading does not hold the blob back
            finally:
                self._advance = None

    def _check_room(self) -> None:
        """Refuse, before any client is answered, a blob that cannot fit on the cache's disk."""
        size = self.context.cache.declared_size(self.digest) or self.length
        if size is None:
            return
        free = self.context.cache.free_space()
        if free is not None and free < size:
            raise OSError(errno.ENOSPC, f"{size} bytes to cache, {free} free")

    def _commit(self) -> None:
        os.fsync(self.fd)
        self.context.cache.commit(self._temp, self.digest)
        self._committed = True
        self.context.cache.link_blob(self.target.name, self.digest)

    async def _fetch_again(self) -> None:
        """The `fetch-twice` defect: a second full GET, as distribution 2.8 does to fill its cache."""
        try:
            upstream = self.context.upstream
            response = await upstream.bounded(get_blob(upstream, self.target, self.digest))
            try:
                async for _ in response.body():
                    pass
            finally:
                response.close()
        except UpstreamFailure:
            pass

    def _fail(self, failure: UpstreamFailure) -> None:
        self.failure = failure
        self.state = "failed"
        log.warning("fetching %s/%s failed: %s", self.target.name, self.digest, failure.message)

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()


class Fetches:
    """The fetches in flight, one per (repository, digest) unless `no-coalesce` is on."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._inflight: dict[tuple[str, str], BlobFetch] = {}
        self._running: dict[asyncio.Task[None], BlobFetch] = {}  # also keeps the tasks referenced

    def find(self, target: Target, digest: str) -> tuple[BlobFetch, int] | None:
        """The fetch of this blob for this repository to join, if one is in flight."""
        fetch = self._inflight.get((target.name, digest))
        return (fetch, os.dup(fetch.fd)) if fetch is not None else None

    def verified(self, digest: str, name: str | None = None) -> BlobFetch | None:
        """A verified fetch of `digest` (through `name`, or any repository), maybe still landing in the cache."""
        for fetch in self._running.values():
            if fetch.digest == digest and fetch.complete and not fetch.closed and name in (None, fetch.target.name):
                return fetch
        return None

    def start(self, target: Target, digest: str, *, store: bool = True, join: bool = True) -> tuple[BlobFetch, int]:
        """Join the fetch in flight (unless not `join`), or start one; returns it and a descriptor of its file."""
        if join and not self.context.config.has(Defect.NO_COALESCE):
            found = self.find(target, digest)
            if found is not None:
                return found
        fetch = BlobFetch(self.context, target, digest, store=store)
        key = (target.name, digest)
        if not self.context.config.has(Defect.NO_COALESCE):
            self._inflight[key] = fetch
        task = asyncio.create_task(self._run(key, fetch))
        self._running[task] = fetch
        task.add_done_callback(self._forget)
        return fetch, os.dup(fetch.fd)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)

    async def _run(self, key: tuple[str, str], fetch: BlobFetch) -> None:
        try:
            await fetch.run()
        finally:
            if self._inflight.get(key) is fetch:
                del self._inflight[key]
            fetch.close()

    async def stop(self) -> None:
        """Cancel the fetches still downloading; let the verified ones finish landing in the cache."""
        running = list(self._running.items())
        for task, fetch in running:
            if not fetch.complete:
                task.cancel()
        await asyncio.gather(*(task for task, _ in running), return_exceptions=True)
