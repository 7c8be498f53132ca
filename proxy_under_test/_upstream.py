"""The upstream client: pooled httpx, authentication, bounded waits, and failures sorted into kinds."""

from __future__ import annotations

import errno
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

import anyio
import httpx

from oci_wire import MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, is_digest_reference, parse_error_body
from proxy_under_test._auth import Challenge, TokenCache, TokenError, basic_header, parse_challenge
from proxy_under_test._routes import Target

T = TypeVar("T")
FailureKind = Literal[
    "not-found",
    "rate-limited",
    "auth",
    "token-error",
    "server-error",
    "refused",
    "reset",
    "timeout",
    "corrupt",
    "bad-response",
    "storage",
]
MAX_MANIFEST = 4 << 20
_LENGTH = re.compile(r"[0-9]{1,19}")
NETWORK_FAILURES = frozenset({"refused", "reset", "timeout"})


class UpstreamFailure(Exception):
    """The upstream did not give what was asked for; `message` names the failure and never a credential."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        code: str | None = None,
        source: str | None = None,
        token: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.code = code
        self.source = source  # what failed: the registry's host:port, or its token endpoint's URL
        self.token = token  # the token endpoint failed, not the registry


@dataclass(frozen=True, slots=True)
class ManifestHead:
    digest: str | None
    media_type: str
    size: int | None


@dataclass(frozen=True, slots=True)
class FetchedManifest:
    digest: str
    media_type: str
    body: bytes


class Upstream:
    """One pooled client for every upstream. `timeout` bounds each wait and each whole metadata exchange."""

    def __init__(self, *, timeout: float, user: str | None, password: str | None, reuse_tokens: bool = True) -> None:
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=64),
            follow_redirects=True,
            trust_env=False,
        )
        self._user = user
        self._password = password
        self._challenges: dict[str, Challenge] = {}
        self._probed: set[str] = set()
        self._tokens = TokenCache(user, password, reuse=reuse_tokens)

    async def aclose(self) -> None:
        await self._client.aclose()

    # ---- manifests ------------------------------------------------------------------------------

    async def head_manifest(self, target: Target, reference: str) -> ManifestHead:
        async def exchange() -> ManifestHead:
            async with self.open("HEAD", target, f"manifests/{reference}", {"Accept": MANIFEST_ACCEPT}) as response:
                length = response.headers.get("content-length")
                return ManifestHead(
                    response.headers.get("docker-content-digest"),
                    _media_type(response.headers.get("content-type"), None),
                    parse_length(length),
                )

        return await self.bounded(exchange())

    async def get_manifest(self, target: Target, reference: str) -> FetchedManifest:
        """The manifest's bytes, verified against the digest asked for or the one the upstream announced."""

        async def exchange() -> FetchedManifest:
            async with self.open("GET", target, f"manifests/{reference}", {"Accept": MANIFEST_ACCEPT}) as response:
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > MAX_MANIFEST:
                        raise UpstreamFailure(
                            "bad-response", f"{_where(target)} sent a manifest over 4 MiB", source=address(target)
                        )
                announced = response.headers.get("docker-content-digest")
                if is_digest_reference(reference):
                    announced = reference
                media_type = _media_type(response.headers.get("content-type"), bytes(body))
                return FetchedManifest(_verified(bytes(body), announced, target), media_type, bytes(body))

        return await self.bounded(exchange())

    # ---- blobs and tags -------------------------------------------------------------------------

    async def head_blob(self, target: Target, digest: str) -> int | None:
        async def exchange() -> int | None:
            async with self.open("HEAD", target, f"blobs/{digest}") as response:
                length = response.headers.get("content-length")
                return parse_length(length)

        return await self.bounded(exchange())

    async def get_tags(self, target: Target, n: str | None, last: str | None) -> tuple[list[str], bool]:
        """One page of the upstream's tags, and whether it says there are more."""
        params = {key: value for key, value in (("n", n), ("last", last)) if value is not None}

        async def exchange() -> tuple[list[str], bool]:
            async with self.open("GET", target, "tags/list", params=params) as response:
                body = await response.aread()
                try:
                    tags = json.loads(body).get("tags") or []
                except (ValueError, AttributeError):
                    raise UpstreamFailure(
                        "bad-response", f"{_where(target)} sent a malformed tag list", source=address(target)
                    ) from None
                return [str(tag) for tag in tags], 'rel="next"' in response.headers.get("link", "")

        return await self.bounded(exchange())

    # ---- the exchange ---------------------------------------------------------------------------

    async def bounded(self, exchange: Awaitable[T]) -> T:
        """Run a whole exchange (token, retries, body) within the timeout."""
        try:
            # anyio's cancellation, not asyncio.timeout's: httpcore shields its clean-up from anyio's only, and
            # a request cut off mid-clean-up stays in the pool as active for ever (encode/httpcore#658, #830).
            with anyio.fail_after(self.timeout):
                return await exchange
        except TimeoutError:
            raise UpstreamFailure("timeout", f"upstream did not answer within {self.timeout:g} s") from None

    @asynccontextmanager
    async def open(
        self,
        method: str,
        target: Target,
        suffix: str,
        headers: dict[str, str] | None = None,
        *,
        params: dict[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """A 200 response whose body is not read yet; any other answer raises UpstreamFailure."""
        response = await self.send(method, target, suffix, headers or {}, params=params)
        try:
            if response.status_code != 200:
                await response.aread()
                raise response_failure(response, target)
            yield response
        except httpx.HTTPError as error:
            raise error_failure(error, target) from None
        finally:
            await response.aclose()

    async def send(
        self,
        method: str,
        target: Target,
        suffix: str,
        headers: dict[str, str],
        *,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send with the upstream's authentication; answers other than 401 are returned unread."""
        url = f"{target.upstream}/v2/{target.repository}/{suffix}"
        action = "pull" if method in ("GET", "HEAD") else "pull,push"
        try:
            response = None
            for renew in (False, True):
                auth = await self.credentials(target, action, renew=renew)
                request = self._client.build_request(
                    method, url, headers={**headers, **auth}, params=params, content=content
                )
                response = await self._client.send(request, stream=True)
                if response.status_code != 401 or renew:
                    break
                await response.aclose()
                self.challenged(target, response.headers.get("www-authenticate", ""))
            assert response is not None
            if response.status_code in (401, 403):
                await response.aclose()
                raise auth_failure(target, response.status_code)
            return response
        except httpx.HTTPError as error:
            raise error_failure(error, target) from None

    async def credentials(self, target: Target, action: str = "pull", *, renew: bool = False) -> dict[str, str]:
        """The Authorization header the upstream asked for (a cached token unless `renew`), if any."""
        if target.upstream not in self._probed:
            await self._probe(target)
        challenge = self._challenges.get(target.upstream)
        if challenge is None:
            return {}
        if challenge.scheme == "basic":
            return {"Authorization": basic_header(self._user, self._password)} if self._user and self._password else {}
        scope = f"repository:{target.repository}:{action}"
        token = None if renew else self._tokens.cached(challenge, scope)
        if token is None:
            try:
                token = await self._tokens.fetch(self._client, challenge, scope)
            except TokenError as error:
                raise token_failure(target, challenge.realm, error) from None
            except httpx.HTTPError as error:
                raise error_failure(error, target) from None
        return {"Authorization": f"Bearer {token}"}

    async def _probe(self, target: Target) -> None:
        """Ask `GET /v2/` once, as docker does, to learn the upstream's authentication before the first
        real request, which then does not cost a 401 (nor spend a fault armed for it)."""
        self._probed.add(target.upstream)
        try:
            response = await self._client.get(f"{target.upstream}/v2/")
        except httpx.HTTPError:
            return  # the real request will say what is wrong
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if response.status_code == 401 and challenge is not None:
            self._challenges[target.upstream] = challenge

    def challenged(self, target: Target, header: str) -> None:
        """Learn the upstream's 401 challenge, or raise when the proxy cannot answer it."""
        challenge = parse_challenge(header)
        if challenge is None or (challenge.scheme == "basic" and self._user is None):
            raise auth_failure(target, 401)
        self._challenges[target.upstream] = challenge


def parse_length(value: str | None) -> int | None:
    """An upstream's Content-Length, if it is one: ASCII digits ("²" passes str.isdigit(), not int()),
    and few enough of them for int() (which refuses over 4,300)."""
    if value is None or _LENGTH.fullmatch(value) is None:
        return None
    return int(value)


def _where(target: Target) -> str:
    return f"upstream {target.upstream}"


def address(target: Target) -> str:
    """The upstream's host:port, as a terse message names it."""
    return httpx.URL(target.upstream).netloc.decode("ascii")


def auth_failure(target: Target, status: int) -> UpstreamFailure:
    return UpstreamFailure(
        "auth", f"{_where(target)} refused the proxy's credentials ({status})", status=status, source=address(target)
    )


def storage_failure(error: OSError) -> UpstreamFailure:
    """The proxy's own disk failed it (not the upstream): full, or otherwise unwritable."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return UpstreamFailure("storage", "the proxy's cache is full: nothing more can be cached until space is freed")
    return UpstreamFailure("storage", f"the proxy cannot write its cache ({error.strerror or error})")


def token_failure(target: Target, realm: str, error: TokenError) -> UpstreamFailure:
    """What the token endpoint's answer means: refused credentials only when it says so (401, 403)."""
    where, status = f"{_where(target)}'s token endpoint {realm}", error.status
    kind: FailureKind
    if error.malformed:
        kind, message = "token-error", f"{where} answered without a usable token"
    elif status in (401, 403):
        kind, message = "auth", f"{where} refused the proxy's credentials ({status})"
    elif status == 429:
        kind, message = "rate-limited", f"{where} is rate-limiting the proxy (429)"
    else:
        kind, message = "token-error", f"{where} answered {status}"
    return UpstreamFailure(kind, message, status=status, retry_after=error.retry_after, source=realm, token=True)


def response_failure(response: httpx.Response, target: Target) -> UpstreamFailure:
    return status_failure(response.status_code, response.headers.get("retry-after"), response.content, target)


def status_failure(status: int, retry_after: str | None, body: bytes, target: Target) -> UpstreamFailure:
    """What a non-200 answer means; `body` may hold an OCI error (NAME_UNKNOWN and the like)."""
    pairs = parse_error_body(body) if body else None
    code = pairs[0][0] if pairs else None
    if status == 404:
        return UpstreamFailure(
            "not-found", f"{_where(target)} does not have it (404)", status=404, code=code, source=address(target)
        )
    if status == 429:
        message = f"{_where(target)} is rate-limiting the proxy (429)"
        return UpstreamFailure("rate-limited", message, status=429, retry_after=retry_after, source=address(target))
    if status >= 500:
        message = f"{_where(target)} failed with {status}"
        return UpstreamFailure("server-error", message, status=status, retry_after=retry_after, source=address(target))
    return UpstreamFailure("bad-response", f"{_where(target)} answered {status}", status=status, source=address(target))


def error_failure(error: httpx.HTTPError, target: Target) -> UpstreamFailure:
    if isinstance(error, httpx.TimeoutException):
        return UpstreamFailure("timeout", f"{_where(target)} did not answer in time", source=address(target))
    if isinstance(error, httpx.ConnectError):
        cause: BaseException | None = error
        while cause is not None and not isinstance(cause, ConnectionRefusedError):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            return UpstreamFailure("refused", f"{_where(target)} refused the connection", source=address(target))
        return UpstreamFailure("refused", f"{_where(target)} is unreachable", source=address(target))
    if isinstance(error, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return UpstreamFailure("reset", f"{_where(target)} reset or closed the connection", source=address(target))
    return UpstreamFailure(
        "bad-response", f"{_where(target)} answered badly ({type(error).__name__})", source=address(target)
    )


def _verified(body: bytes, announced: str | None, target: Target) -> str:
    algorithm = announced.partition(":")[0] if announced and announced.startswith(("sha256:", "sha512:")) else "sha256"
    digest = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
    if announced is not None and announced != digest:
        raise UpstreamFailure(
            "corrupt", f"{_where(target)} sent bytes that do not match {announced}", source=address(target)
        )
    return digest


def _media_type(header: str | None, body: bytes | None) -> str:
    media_type = (header or "").split(";", 1)[0].strip()
    if media_type in MANIFEST_MEDIA_TYPES or body is None:
        return media_type or "application/octet-stream"
    try:
        declared = json.loads(body).get("mediaType")
    except (ValueError, AttributeError, UnicodeDecodeError):
        declared = None
    return declared if isinstance(declared, str) and declared else media_type or "application/octet-stream"
