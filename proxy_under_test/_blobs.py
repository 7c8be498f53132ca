"""Blobs: from the cache without asking anyone (FRESH-1/5), else one shared upstream fetch (ECON-*).

A blob cached through another repository is served only after the upstream confirms, with a HEAD,
that this repository has it too (SEC-ISOLATION). A client's HEAD never becomes an upstream GET.
"""

from __future__ import annotations

import json
import os

from starlette.types import ASGIApp

from oci_wire import ErrorCode, RangeNotSatisfiable, content_range, parse_range
from proxy_under_test._bodies import Connection, FetchBody, FileBody, HeadersOnly, blob_headers
from proxy_under_test._context import Context, log
from proxy_under_test._defects import Defect
from proxy_under_test._errors import ProxyError
from proxy_under_test._fetch import BlobFetch, Fetches
from proxy_under_test._routes import Target
from proxy_under_test._upstream import UpstreamFailure, storage_failure
from proxy_under_test._variants import Variant

WHOLE_FIRST = 1 << 20  # cold blobs up to this size are answered once they have arrived whole and verified
# Defects that model a proxy streaming the upstream's answer through: its Content-Length, at once.
_STREAM_THROUGH = (
    Defect.FORWARD_UPSTREAM_LENGTH,
    Defect.STALL_AFTER_HEADERS,
    Defect.CACHE_TRUNCATED,
    Defect.NO_DIGEST_VERIFY,
)


class Blobs:
    def __init__(self, context: Context, fetches: Fetches) -> None:
        self.context = context
        self.fetches = fetches

    async def get(
        self, target: Target, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        context, cache = self.context, self.context.cache
        has = context.config.has
        landing = self.fetches.verified(digest, target.name)  # whole and verified, its rename still to come
        if has(Defect.REFETCH_BLOBS) and not head and byte_range is None:
            if landing is not None or cache.blob_linked(target.name, digest):
                fetch, fd = self.fetches.start(target, digest, join=False)
                try:
                    await fetch.started()
                    return self._stream(fetch, fd, digest, connection)
                except UpstreamFailure:
                    os.close(fd)
        inflight = self.fetches.find(target, digest)
        if inflight is not None:
            return await self._follow(*inflight, digest, byte_range, head, connection)
        if landing is not None:
            return self._from_file(os.dup(landing.fd), digest, byte_range, head, connection, cached=True)
        if cache.blob_linked(target.name, digest):
            return await self._cached(target, digest, byte_range, head, connection)
        try:
            if cache.content_size(digest) is not None or self.fetches.verified(digest) is not None:
                return await self._other_repository(target, digest, byte_range, head, connection)
            if head and not has(Defect.HEAD_AS_GET):
                size = await context.upstream.head_blob(target, digest)
                proxied = None if has(Defect.WRONG_DIGEST_HEADER) else digest
                return HeadersOnly(200, self._head_headers(proxied, cache.declared_size(digest) or size))
        except UpstreamFailure as failure:
            raise context.failures.cold_error(failure, "blob") from None
        store = not (has(Defect.NO_CACHE_CONFIG) and digest in self._configs(target))
        try:
            fetch, fd = self.fetches.start(target, digest, store=store)
        except OSError as error:  # not even a temp file: the disk is full
            raise context.failures.cold_error(storage_failure(error), "blob") from None
        return await self._follow(fetch, fd, digest, byte_range, head, connection)

    async def _other_repository(
        self, target: Target, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        """Cached through another repository: served once the upstream confirms this one has it."""
        context = self.context
        if not context.config.has(Defect.CROSS_REPO_BLOBS):
            try:
                await context.upstream.head_blob(target, digest)
            except UpstreamFailure as failure:
                if failure.kind == "not-found" and context.config.has(Variant.ISOLATION_DENIED):
                    raise ProxyError(ErrorCode.DENIED, "the upstream does not confirm this repository has it") from None
                raise
        try:
            await context.blocking(context.cache.link_blob, target.name, digest)
        except OSError as error:  # a full disk: served all the same, linked next time
            log.error("cannot link %s to %s: %s", digest, target.name, error)
        landing = self.fetches.verified(digest)  # not in the cache yet: read its file
        if landing is not None:
            return self._from_file(os.dup(landing.fd), digest, byte_range, head, connection, cached=True)
        return await self._cached(target, digest, byte_range, head, connection)

    async def _follow(
        self, fetch: BlobFetch, fd: int, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        """A cold blob's answer: whole from its verified file when small, else streamed as it arrives."""
        landed = fetch.complete  # fetched and verified before this request came: it is the cache's copy
        try:
            await fetch.started()
            if not head and not fetch.complete and self._whole_first(fetch, digest):
                await fetch.finished()
        except UpstreamFailure as failure:
            os.close(fd)
            raise self.context.failures.cold_error(failure, "blob") from None
        if fetch.complete:  # verified, and landing in the cache: its file is whole
            return self._from_file(fd, digest, byte_range, head, connection, cached=landed)
        if head:
            os.close(fd)
            proxied = None if self.context.config.has(Defect.WRONG_DIGEST_HEADER) else digest
            return HeadersOnly(
                200, self._head_headers(proxied, self.context.cache.declared_size(digest) or fetch.length)
            )
        return self._stream(fetch, fd, digest, connection)

    def _whole_first(self, fetch: BlobFetch, digest: str) -> bool:
        """Whether to wait for the whole blob to verify before answering: then the answer has the true
        Content-Length, and an upstream failure is a clean error rather than a cut body."""
        has = self.context.config.has
        if has(Variant.REFETCH_ON_CORRUPT):
            return True  # a corrupt first copy must not have reached the client at all
        if any(has(defect) for defect in _STREAM_THROUGH):
            return False
        size = self.context.cache.declared_size(digest) or fetch.length
        return size is not None and size <= WHOLE_FIRST

    def _stream(self, fetch: BlobFetch, fd: int, digest: str, connection: Connection) -> FetchBody:
        """Bytes as they arrive. The upstream's Content-Length is not trusted: the answer declares the size
        that a verified manifest gives the blob, or none (chunked), and never ends short of it cleanly."""
        context, has = self.context, self.context.config.has
        through = any(has(defect) for defect in _STREAM_THROUGH)
        length = fetch.length if through else context.cache.declared_size(digest)
        proxied = None if has(Defect.WRONG_DIGEST_HEADER) else digest  # Harbor's proxied blobs lack it
        headers = blob_headers(proxied, length)
        return FetchBody(
            context,
            fetch,
            fd,
            headers,
            length,
            connection,
            hold_last=not has(Defect.FORWARD_UPSTREAM_LENGTH),
            stall=has(Defect.STALL_AFTER_HEADERS),
        )

    async def _cached(
        self, target: Target, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        try:
            fd = os.open(self.context.cache.content_path(digest), os.O_RDONLY)
        except FileNotFoundError:
            raise ProxyError(ErrorCode.BLOB_UNKNOWN, "blob unknown to the cache") from None
        return self._from_file(fd, digest, byte_range, head, connection, cached=True)

    def _from_file(
        self, fd: int, digest: str, byte_range: str | None, head: bool, connection: Connection, *, cached: bool
    ) -> ASGIApp:
        """A whole, verified blob in an open file (closed by the body, or here)."""
        context = self.context
        size = os.fstat(fd).st_size
        hidden = context.config.has(Defect.NO_DIGEST_HEADER_CACHED if cached else Defect.WRONG_DIGEST_HEADER)
        shown = None if hidden else digest
        if head:
            os.close(fd)
            return HeadersOnly(200, self._head_headers(shown, size, ranges=True))
        start, end, status = 0, size, 200
        extra = [(b"accept-ranges", b"bytes")]
        if byte_range is not None and not context.config.has(Defect.IGNORE_RANGE):
            try:
                parsed = parse_range(byte_range, size)
            except RangeNotSatisfiable as error:
                os.close(fd)
                raise ProxyError(
                    ErrorCode.RANGE_INVALID, str(error), headers={"Content-Range": error.content_range}
                ) from None
            except ValueError:  # numbers int() refuses (over 4,300 digits): a range RFC 9110 lets us ignore
                parsed = None
            if parsed is not None:
                start, end = parsed
                status = 206
                extra.append((b"content-range", content_range(start, end, size).encode()))
        headers = blob_headers(shown, end - start, extra)
        return FileBody(context, fd, start, end, status, headers, connection)

    def _head_headers(self, digest: str | None, size: int | None, *, ranges: bool = False) -> list[tuple[bytes, bytes]]:
        extra = [(b"accept-ranges", b"bytes")] if ranges else []
        return blob_headers(digest, None if self.context.config.has(Defect.HEAD_NO_LENGTH) else size, extra)

    def _configs(self, target: Target) -> set[str]:
        """Config blobs of the manifests cached for `target` (only the `no-cache-config` defect asks)."""
        found = set()
        for digest in self.context.cache.linked_manifests(target.name):
            stored = self.context.cache.manifest(target.name, digest)
            try:
                config = json.loads(stored.body).get("config", {}) if stored else {}
                found.add(str(config.get("digest")))
            except (ValueError, AttributeError):
                continue
        return found
