"""Who a request comes from, and whether it may do what it asks: none, basic, or Docker Hub-style tokens."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from fake_upstream._errors import RegistryError
from oci_wire import ErrorCode

AuthMode = Literal["none", "basic", "token"]
SERVICE = "pullthrough-fake-upstream"
_SCOPE_RE = re.compile(r"^repository:([^:]+):([a-z*,]+)$")


@dataclass(frozen=True)
class Identity:
    kind: str  # "none", "basic", "bearer"
    name: str  # the user, or the client address for anonymous requests


@dataclass(frozen=True)
class _Token:
    identity: Identity
    grants: Mapping[str, frozenset[str]]
    expires: float


class Authenticator:
    def __init__(self, mode: AuthMode, users: Mapping[str, str], token_ttl: float) -> None:
        if mode not in ("none", "basic", "token"):
            raise ValueError(f"auth must be none, basic or token, not {mode!r}")
        self.mode: AuthMode = mode
        self.users = dict(users)
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}

    def identify(self, authorization: str | None, client: str) -> Identity:
        """Who sent this; does not judge whether they may (see `authorize`)."""
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            user = self._basic_user(credentials)
            if user is not None:
                return Identity("basic", user)
        elif scheme.lower() == "bearer":
            with self._lock:
                token = self._tokens.get(credentials.strip())
            if token is not None:
                return Identity("bearer", token.identity.name)
        return Identity("none", client)

    def authorize(self, authorization: str | None, repository: str | None, action: str, realm: str) -> None:
        """Raise a 401 the way Docker Hub does when the request may not go ahead."""
        if self.mode == "none":
            return
        scheme, _, credentials = (authorization or "").partition(" ")
        if self.mode == "basic":
            if scheme.lower() != "basic" or self._basic_user(credentials) is None:
                raise self._challenge(realm, repository, action, None)
            return
        if scheme.lower() != "bearer":
            raise self._challenge(realm, repository, action, None)
        with self._lock:
            token = self._tokens.get(credentials.strip())
        if token is None or token.expires <= time.time():
            raise self._challenge(realm, repository, action, "invalid_token")
        if repository is not None and action not in token.grants.get(repository, frozenset()):
            raise self._challenge(realm, repository, action, "insufficient_scope")

    def issue(self, user: str | None, scopes: list[str], exists: Mapping[str, bool], client: str) -> dict[str, object]:
        """The token endpoint: grant pull on existing repositories, push to known users."""
        grants: dict[str, frozenset[str]] = {}
        for scope in scopes:
            match = _SCOPE_RE.match(scope)
            if match is None:
                continue
            name, actions = match.groups()
            allowed = set()
            for action in actions.split(","):
                if action == "pull" and (exists.get(name, False) or user is not None or not self.users):
                    allowed.add("pull")
                elif action in ("push", "delete", "*") and (user is not None or not self.users):
                    allowed.update({"push", "delete", "pull"})
            grants[name] = frozenset(allowed | grants.get(name, frozenset()))
        token_value = secrets.token_urlsafe(24)
        issued = time.time()
        identity = Identity("bearer", user or client)
        with self._lock:
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires > issued}
            self._tokens[token_value] = _Token(identity, grants, issued + self.token_ttl)
        return {
            "token": token_value,
            "access_token": token_value,
            "expires_in": int(self.token_ttl) if self.token_ttl >= 1 else self.token_ttl,
            "issued_at": datetime.fromtimestamp(issued, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def expire(self, repository: str | None = None) -> int:
        """Treat the live tokens (those whose scope names `repository`, when given) as expired from now on."""
        now = time.time()
        expired = 0
        with self._lock:
            for value, token in self._tokens.items():
                if token.expires > now and (repository is None or repository in token.grants):
                    self._tokens[value] = replace(token, expires=now)
                    expired += 1
        return expired

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()

    def challenge_header(self, realm: str, repository: str | None, action: str, error: str | None) -> str:
        if self.mode == "basic":
            return f'Basic realm="{SERVICE}"'
        parts = [f'realm="{realm}"', f'service="{SERVICE}"']
        if repository is not None:
            parts.append(f'scope="repository:{repository}:{action}"')
        if error:
            parts.append(f'error="{error}"')
        return "Bearer " + ",".join(parts)

    def _challenge(self, realm: str, repository: str | None, action: str, error: str | None) -> RegistryError:
        detail = [{"Type": "repository", "Name": repository, "Action": action}] if repository else None
        return RegistryError(
            ErrorCode.UNAUTHORIZED,
            "authentication required",
            detail=detail,
            headers={"WWW-Authenticate": self.challenge_header(realm, repository, action, error)},
        )

    def token_user(self, authorization: str | None, form: Mapping[str, str]) -> str | None:
        """The user a token request authenticates as (Basic header or OAuth2 password form); None if anonymous."""
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            user = self._basic_user(credentials)
        elif form.get("grant_type") == "password":
            name, password = form.get("username", ""), form.get("password", "")
            user = name if self._matches(name, password) else None
        else:
            return None
        if user is None:
            raise RegistryError(ErrorCode.UNAUTHORIZED, "incorrect username or password")
        return user

    def _basic_user(self, credentials: str) -> str | None:
        try:
            user, _, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return user if self._matches(user, password) else None

    def _matches(self, user: str, password: str) -> bool:
        """In constant time, as bytes: compare_digest refuses str with characters beyond ASCII."""
        known = self.users.get(user)
        return known is not None and secrets.compare_digest(
            known.encode("utf-8", "surrogatepass"), password.encode("utf-8", "surrogatepass")
        )
