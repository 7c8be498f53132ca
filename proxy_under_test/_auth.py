"""Upstream authentication: challenge discovery, Basic, and Docker registry tokens cached per scope."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass

import httpx

_PARAM_RE = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_DEFAULT_TTL = 60.0  # the token spec's default when `expires_in` is missing
_EARLY = 5.0  # renew this long before a token expires, so it never expires in flight


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    realm: str = ""
    service: str = ""


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        return Challenge("basic")
    if scheme != "bearer":
        return None
    params = {key.lower(): quoted if quoted else bare for key, quoted, bare in _PARAM_RE.findall(rest)}
    realm = params.get("realm", "")
    if not realm.startswith(("http://", "https://")):
        return None
    return Challenge("bearer", realm, params.get("service", ""))


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class TokenError(Exception):
    """The token endpoint refused or failed; `status` is its HTTP status."""

    def __init__(self, status: int, retry_after: str | None = None, *, malformed: bool = False) -> None:
        super().__init__(f"the token endpoint answered {status}")
        self.status = status
        self.retry_after = retry_after
        self.malformed = malformed  # a 200 without a usable token


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires: float


class TokenCache:
    """Bearer tokens by (realm, service, scope), reused until shortly before they expire (ECON-TOKEN)."""

    def __init__(self, user: str | None, password: str | None, *, reuse: bool = True) -> None:
        self._basic = basic_header(user, password) if user is not None and password is not None else None
        self._reuse = reuse
        self._tokens: dict[tuple[str, str, str], _Token] = {}

    def cached(self, challenge: Challenge, scope: str) -> str | None:
        token = self._tokens.get((challenge.realm, challenge.service, scope))
        if token is None or not self._reuse or token.expires <= time.monotonic():
            return None
        return token.value

    def forget(self, challenge: Challenge, scope: str) -> None:
        self._tokens.pop((challenge.realm, challenge.service, scope), None)

    async def fetch(self, client: httpx.AsyncClient, challenge: Challenge, scope: str) -> str:
        params = {"scope": scope}
        if challenge.service:
            params["service"] = challenge.service
        headers = {"Authorization": self._basic} if self._basic else {}
        started = time.monotonic()
        response = await client.get(challenge.realm, params=params, headers=headers)
        if response.status_code != 200:
            raise TokenError(response.status_code, response.headers.get("retry-after"))
        try:
            document = response.json()
            value = str(document.get("token") or document.get("access_token") or "")
            ttl = float(document.get("expires_in") or _DEFAULT_TTL)
        except (ValueError, TypeError, AttributeError):
            raise TokenError(response.status_code, malformed=True) from None
        if not value:
            raise TokenError(response.status_code, malformed=True)
        expires = started + ttl - min(_EARLY, ttl / 10)
        self._tokens[(challenge.realm, challenge.service, scope)] = _Token(value, expires)
        return value
