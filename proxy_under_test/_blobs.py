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
from proxy_under_test._context import Context
from proxy_under_test._errors import ProxyError
from proxy_under_test._fetch import BlobFetch, Fetches
from proxy_under_test._routes import Target
from proxy_under_test._upstream import UpstreamFailure


class Blobs:
    def __init__(self, context: Context, fetches: Fetches) -> None:
        self.context = context
        self.fetches = fetches

    async def get(
        self, target: Target, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        context, cache = self.context, self.context.cache
        inflight = self.fetches.find(target, digest)
        if inflight is not None:
            return await self._follow(*inflight, digest, byte_range, head, connection)
        landing = self.fetches.verified(digest, target.name)  # whole and verified, its rename still to come
        if landing is not None:
            return self._from_file(os.dup(landing.fd), digest, byte_range, head, connection)
        if cache.blob_linked(target.name, digest):
            if context.defect("refetch-blobs") and not head and byte_range is None:
                fetch, fd = self.fetches.start(target, digest)
                try:
                    await fetch.started()
                    return self._stream(fetch, fd, digest, connection)
                except UpstreamFailure:
                    os.close(fd)
            return await self._cached(target, digest, byte_range, head, connection)
        try:
            if cache.content_size(digest) is not None or self.fetches.verified(digest) is not None:
                return await self._other_repository(target, digest, byte_range, head, connection)
            if head and not context.defect("head-as-get"):
                size = await context.upstream.head_blob(target, digest)
                proxied = None if context.defect("wrong-digest-header") else digest
                return HeadersOnly(200, self._head_headers(proxied, size))
        except UpstreamFailure as failure:
            raise context.failures.cold_error(failure, "blob") from None
        store = not (context.defect("no-cache-config") and digest in self._configs(target))
        fetch, fd = self.fetches.start(target, digest, store=store)
        return await self._follow(fetch, fd, digest, byte_range, head, connection)

    async def _other_repository(
        self, target: Target, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        """Cached through another repository: served once the upstream confirms this one has it."""
        context = self.context
        if not context.defect("cross-repo-blobs"):
            await context.upstream.head_blob(target, digest)
        await context.blocking(context.cache.link_blob, target.name, digest)
        landing = self.fetches.verified(digest)  # not in the cache yet: read its file
        if landing is not None:
            return self._from_file(os.dup(landing.fd), digest, byte_range, head, connection)
        return await self._cached(target, digest, byte_range, head, connection)

    async def _follow(
        self, fetch: BlobFetch, fd: int, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        try:
            await fetch.started()
        except UpstreamFailure as failure:
            os.close(fd)
            raise self.context.failures.cold_error(failure, "blob") from None
        if fetch.complete:  # verified, and landing in the cache: its file is whole
            return self._from_file(fd, digest, byte_range, head, connection)
        if head:
            os.close(fd)
            proxied = None if self.context.defect("wrong-digest-header") else digest
            return HeadersOnly(200, self._head_headers(proxied, fetch.length))
        return self._stream(fetch, fd, digest, connection)

    def _stream(self, fetch: BlobFetch, fd: int, digest: str, connection: Connection) -> FetchBody:
        context = self.context
        length = fetch.length
        proxied = None if context.defect("wrong-digest-header") else digest  # Harbor's proxied blobs lack it
        headers = blob_headers(proxied, length)
        if context.defect("lying-content-length"):
            headers = [(k, v) for k, v in headers if k != b"content-length"]
            headers.append((b"content-length", (fetch.length_header or "0").encode()))
        return FetchBody(context, fetch, fd, headers, length, connection)

    async def _cached(
        self, target: Target, digest: str, byte_range: str | None, head: bool, connection: Connection
    ) -> ASGIApp:
        try:
            fd = os.open(self.context.cache.content_path(digest), os.O_RDONLY)
        except FileNotFoundError:
            raise ProxyError(ErrorCode.BLOB_UNKNOWN, "blob unknown to the cache") from None
        return self._from_file(fd, digest, byte_range, head, connection)

    def _from_file(self, fd: int, digest: str, byte_range: str | None, head: bool, connection: Connection) -> ASGIApp:
        """A whole, verified blob in an open file (closed by the body, or here)."""
        context = self.context
        size = os.fstat(fd).st_size
        if head:
            os.close(fd)
            return HeadersOnly(200, self._head_headers(digest, size, ranges=True))
        start, end, status = 0, size, 200
        extra = [(b"accept-ranges", b"bytes")]
        if byte_range is not None and not context.defect("ignore-range"):
            try:
                parsed = parse_range(byte_range, size)
            except RangeNotSatisfiable as error:
                os.close(fd)
                raise ProxyError(
                    ErrorCode.RANGE_INVALID, str(error), headers={"Content-Range": error.content_range}
                ) from None
            if parsed is not None:
                start, end = parsed
                status = 206
                extra.append((b"content-range", content_range(start, end, size).encode()))
        headers = blob_headers(digest, end - start, extra)
        return FileBody(context, fd, start, end, status, headers, connection)

    def _head_headers(self, digest: str | None, size: int | None, *, ranges: bool = False) -> list[tuple[bytes, bytes]]:
        extra = [(b"accept-ranges", b"bytes")] if ranges else []
        return blob_headers(digest, None if self.context.defect("head-no-length") else size, extra)

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
