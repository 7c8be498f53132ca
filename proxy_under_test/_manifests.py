"""Manifests and indexes: freshness by HEAD for tags (FRESH-*), the cached copy on failures (STALE-*).

A cached tag is re-pointed only after the new manifest has been fetched, verified and stored
(STALE-HALF). Manifests are stored and served byte for byte, with the upstream's media type.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from oci_wire import INDEX_MEDIA_TYPES, ErrorCode, accepts, is_digest_reference
from proxy_under_test._bodies import WholeBody
from proxy_under_test._cache import StoredManifest
from proxy_under_test._context import Context, log
from proxy_under_test._defects import Defect
from proxy_under_test._errors import API_VERSION, ProxyError
from proxy_under_test._routes import Target
from proxy_under_test._upstream import FetchedManifest, UpstreamFailure
from proxy_under_test._variants import Variant


class Manifests:
    def __init__(self, context: Context) -> None:
        self.context = context

    async def get(self, target: Target, reference: str, accept: Sequence[str], head: bool) -> WholeBody:
        if is_digest_reference(reference):
            return await self._by_digest(target, reference, accept, head)
        return await self._by_tag(target, reference, accept, head)

    # ---- tags -----------------------------------------------------------------------------------

    async def _by_tag(self, target: Target, tag: str, accept: Sequence[str], head: bool) -> WholeBody:
        context, cache = self.context, self.context.cache
        pointer = cache.tag(target.name, tag)
        cached = cache.manifest(target.name, pointer[0]) if pointer else None
        if cached is None:
            try:
                fetched = await context.upstream.get_manifest(target, tag)
            except UpstreamFailure as failure:
                raise context.failures.cold_error(failure, "manifest") from None
            await self._store(target, fetched, tag)
            return self._fresh(fetched, accept, head)
        if context.config.has(Defect.IGNORE_UPSTREAM_UPDATE):
            return self._cached(target, cached, accept, head)
        try:
            if context.config.has(Defect.GET_FOR_FRESHNESS):
                fetched = await context.upstream.get_manifest(target, tag)
                if fetched.digest == cached.digest:
                    return self._cached(target, cached, accept, head)
                await self._store(target, fetched, tag)
                return self._fresh(fetched, accept, head)
            current = await context.upstream.head_manifest(target, tag)
        except UpstreamFailure as failure:
            return await self._stale(target, tag, cached, failure, accept, head)
        if current.digest == cached.digest:
            return self._cached(target, cached, accept, head)
        return await self._update(target, tag, cached, current.digest, current.media_type, accept, head)

    async def _update(
        self,
        target: Target,
        tag: str,
        cached: StoredManifest,
        digest: str | None,
        media_type: str,
        accept: Sequence[str],
        head: bool,
    ) -> WholeBody:
        """The upstream's tag moved: fetch, verify and store the new manifest, only then re-point the tag."""
        context = self.context
        poisoned = context.config.has(Defect.TAG_POISONING) and digest is not None
        if poisoned:
            assert digest is not None
            await context.blocking(context.cache.set_tag, target.name, tag, digest, media_type)
        try:
            fetched = await context.upstream.get_manifest(target, tag)
        except UpstreamFailure as failure:
            if poisoned:
                raise ProxyError(ErrorCode.UNKNOWN, "internal error") from None
            log.warning(
                "%s:%s moved upstream but fetching it failed (%s); serving the cached copy",
                target.name,
                tag,
                failure.message,
            )
            return self._cached(target, cached, accept, head)
        if fetched.digest == cached.digest:
            return self._cached(target, cached, accept, head)
        await self._store(target, fetched, tag)
        return self._fresh(fetched, accept, head)

    async def _stale(
        self,
        target: Target,
        tag: str,
        cached: StoredManifest,
        failure: UpstreamFailure,
        accept: Sequence[str],
        head: bool,
    ) -> WholeBody:
        context = self.context
        if failure.kind == "not-found":
            policy = context.config.not_found_policy
            if policy != "serve-cached":
                if policy == "not-found-and-evict":
                    await context.blocking(context.cache.delete_tag, target.name, tag)
                raise context.failures.cold_error(failure, "manifest")
        else:
            error = context.failures.stale_error(failure, "manifest")
            if error is not None:
                raise error
        log.warning("serving cached %s:%s: %s", target.name, tag, failure.message)
        return self._cached(target, cached, accept, head, stale=True)

    # ---- digests --------------------------------------------------------------------------------

    async def _by_digest(self, target: Target, digest: str, accept: Sequence[str], head: bool) -> WholeBody:
        context, cache = self.context, self.context.cache
        # From memory on the loop; from disk in a worker thread, so a read that waits on the disk holds up
        # this request only, not every request the loop is serving.
        cached = cache.remembered(target.name, digest) or await context.blocking(cache.manifest, target.name, digest)
        if cached is not None:
            if context.config.has(Defect.DIGEST_FRESHNESS):
                try:
                    await context.upstream.head_manifest(target, digest)
                except UpstreamFailure:
                    pass
            return self._cached(target, cached, accept, head)
        try:
            if cache.content_size(digest) is not None:
                return await self._other_repository(target, digest, accept, head)
            if head and not context.config.has(Defect.HEAD_AS_GET):
                current = await context.upstream.head_manifest(target, digest)
                return _response(digest, current.media_type, b"", current.size, accept, head, context)
            fetched = await context.upstream.get_manifest(target, digest)
        except UpstreamFailure as failure:
            raise context.failures.cold_error(failure, "manifest") from None
        await self._store(target, fetched, None)
        return self._fresh(fetched, accept, head)

    async def _other_repository(self, target: Target, digest: str, accept: Sequence[str], head: bool) -> WholeBody:
        """Cached through another repository: served only once the upstream confirms this one has it."""
        context = self.context
        media_type = None
        if not context.config.has(Defect.CROSS_REPO_BLOBS):
            try:
                media_type = (await context.upstream.head_manifest(target, digest)).media_type
            except UpstreamFailure as failure:
                if failure.kind == "not-found" and context.config.has(Variant.ISOLATION_DENIED):
                    raise ProxyError(ErrorCode.DENIED, "the upstream does not confirm this repository has it") from None
                raise
        content = await context.blocking(context.cache.content_manifest, digest, media_type or "")
        if content is None:  # evicted meanwhile: fetch it as if cold
            fetched = await context.upstream.get_manifest(target, digest)
            await self._store(target, fetched, None)
            return self._fresh(fetched, accept, head)
        stored = StoredManifest(digest, media_type or _declared_type(content.body), content.body)
        try:
            await context.blocking(context.cache.put_manifest, target.name, stored)
        except OSError as error:
            log.error("cannot link %s to %s: %s", digest, target.name, error)
        return self._cached(target, stored, accept, head)

    # ---- storing and answering ------------------------------------------------------------------

    async def _store(self, target: Target, fetched: FetchedManifest, tag: str | None) -> None:
        """Cache a verified manifest (and point the tag at it); on a full disk it is served uncached."""
        cache = self.context.cache
        stored = StoredManifest(fetched.digest, fetched.media_type, fetched.body)
        try:
            await self.context.blocking(cache.put_manifest, target.name, stored)
            if tag is not None:
                await self.context.blocking(cache.set_tag, target.name, tag, fetched.digest, fetched.media_type)
        except OSError as error:
            log.error("cannot cache %s@%s: %s", target.name, fetched.digest, error)

    def _fresh(self, fetched: FetchedManifest, accept: Sequence[str], head: bool) -> WholeBody:
        body, digest = fetched.body, fetched.digest
        if self.context.config.has(Defect.REWRITE_MEDIA_TYPE):
            body = json.dumps(json.loads(body)).encode()
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        return _response(digest, fetched.media_type, body, len(body), accept, head, self.context)

    def _cached(
        self, target: Target, cached: StoredManifest, accept: Sequence[str], head: bool, *, stale: bool = False
    ) -> WholeBody:
        body, digest = cached.body, cached.digest
        # Harbor keeps the upstream's index bytes while the upstream answers, and serves its trimmed copy when not.
        if stale and cached.media_type in INDEX_MEDIA_TYPES and self.context.config.has(Defect.TRIM_INDEX):
            body = _trim(body, set(self.context.cache.linked_manifests(target.name)))
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        response = _response(digest, cached.media_type, body, len(body), accept, head, self.context)
        if self.context.config.has(Defect.NO_DIGEST_HEADER_CACHED):
            response.drop(b"docker-content-digest")
        return response


def _response(
    digest: str, media_type: str, body: bytes, size: int | None, accept: Sequence[str], head: bool, context: Context
) -> WholeBody:
    if not accepts(accept, media_type):
        if not context.config.has(Defect.IGNORE_ACCEPT):
            message = f"the manifest is {media_type}, which the request's Accept excludes"
            raise ProxyError(ErrorCode.MANIFEST_UNKNOWN, message)
        media_type = _first_accepted(accept) or media_type  # the defect: labelled as whatever was asked for
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        media_type += "; charset=utf-8"
    if not head:
        length: int | None = len(body)
    else:
        length = None if context.config.has(Defect.HEAD_NO_LENGTH) else size
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    headers += [
        (b"content-type", media_type.encode("latin-1")),
        (b"docker-content-digest", digest.encode()),
        (b"etag", f'"{digest}"'.encode()),
        API_VERSION,
    ]
    return WholeBody(200, headers, b"" if head else body)


def _first_accepted(accept: Sequence[str]) -> str | None:
    for header in accept:
        for part in header.split(","):
            media_type = part.split(";", 1)[0].strip()
            if media_type and "*" not in media_type:
                return media_type
    return None


def _trim(body: bytes, children: set[str]) -> bytes:
    """Harbor's trimmed index: only the children pulled so far, re-serialised."""
    document = json.loads(body)
    document["manifests"] = [entry for entry in document.get("manifests", []) if entry.get("digest") in children]
    return json.dumps(document).encode()


def _declared_type(body: bytes) -> str:
    try:
        declared = json.loads(body).get("mediaType")
    except (ValueError, AttributeError, UnicodeDecodeError):
        declared = None
    return declared if isinstance(declared, str) else "application/octet-stream"
