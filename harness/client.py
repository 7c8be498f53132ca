"""An OCI pull client on httpx that pulls as docker and containerd do, and keeps a redacted transcript."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.redact import Redactor
from oci_wire import INDEX_MEDIA_TYPES, MANIFEST_ACCEPT
from reports.model import Exchange

_KEEP_BODY = 4 << 20
_EXCERPT = 2048
_CHALLENGE_FIELDS = ("realm", "service", "scope")


@dataclass
class Answer:
    """What one request got: the status and headers if any came, the body, and how the transfer ended."""

    method: str
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_bytes: int = 0
    body_digest: str | None = None
    complete: bool = False
    error: str | None = None  # refused, connect, reset, closed, timeout; after the headers: the body broke so
    seconds: float = 0.0

    @property
    def digest_header(self) -> str | None:
        """None when absent, or empty (Harbor sends `Docker-Content-Digest:` with no value on a GET by tag)."""
        return self.headers.get("docker-content-digest") or None

    def json(self) -> Any:
        return json.loads(self.body)


class OciClient:
    """Talks to a registry (the proxy under test) with a per-request deadline `timeout` (the rules' T)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        redactor: Redactor | None = None,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls`: a context shared by many clients (building one loads the CA bundle: tens of milliseconds)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.redactor = redactor or Redactor([p for p in (password,) if p])
        self.exchanges: list[Exchange] = []
        self.raw_answers: list[Answer] = []  # unredacted, for searching them for leaked secrets
        self._auth = (username, password) if username is not None and password is not None else None
        self._tokens: dict[str, str] = {}
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            verify=tls if tls is not None else True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OciClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        *,
        raw_path: bool = False,
    ) -> Answer:
        """One request, with token auth against the registry when it asks for it (401 + Bearer).

        With `raw_path`, the path goes on the wire exactly as given (no dot-segment normalisation).
        """
        headers = dict(headers or {})
        scope_key = path.split("/manifests/")[0].split("/blobs/")[0]
        if scope_key in self._tokens:
            headers["Authorization"] = f"Bearer {self._tokens[scope_key]}"
        elif self._auth is not None and "Authorization" not in headers:
            headers["Authorization"] = _basic(*self._auth)
        target = path.encode() if raw_path else None
        answer = self._send(method, self.base_url + path, headers, content, target)
        challenge = answer.headers.get("www-authenticate", "")
        if (
            answer.status == 401
            and challenge.lower().startswith("bearer ")
            and "Bearer" not in headers.get("Authorization", "")
        ):
            token = self._token(_parse_challenge(challenge))
            if token is not None:
                self._tokens[scope_key] = token
                headers["Authorization"] = f"Bearer {token}"
                answer = self._send(method, self.base_url + path, headers, content, target)
        return answer

    def manifest(
        self, repository: str, reference: str, *, method: str = "GET", accept: str = MANIFEST_ACCEPT
    ) -> Answer:
        return self.request(method, f"/v2/{repository}/manifests/{reference}", {"Accept": accept})

    def blob(self, repository: str, digest: str, *, method: str = "GET", byte_range: str | None = None) -> Answer:
        headers = {"Range": byte_range} if byte_range else None
        return self.request(method, f"/v2/{repository}/blobs/{digest}", headers)

    def pull(self, repository: str, reference: str, platform: str = "linux/amd64") -> list[Answer]:
        """Pull like docker: HEAD then GET the manifest, resolve an index to the platform, then config and layers.

        Stops at the first answer that is not a complete, digest-verified 200.
        """
        answers = [self.manifest(repository, reference, method="HEAD")]
        if answers[-1].status != 200:
            return answers
        answers.append(self.manifest(repository, reference))
        top = answers[-1]
        if not _verified(top, reference):
            return answers
        document = top.json()
        if top.headers.get("content-type", "").split(";")[0] in INDEX_MEDIA_TYPES:
            child = _platform_digest(document, platform)
            if child is None:
                return answers
            answers.append(self.manifest(repository, child))
            if not _verified(answers[-1], child):
                return answers
            document = answers[-1].json()
        for descriptor in [document.get("config", {}), *document.get("layers", [])]:
            answers.append(self.blob(repository, descriptor["digest"]))
            if not _verified(answers[-1], descriptor["digest"]):
                return answers
        return answers

    # ---- internals ------------------------------------------------------------------------------

    def _send(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, target: bytes | None = None
    ) -> Answer:
        answer = Answer(method, url)
        started = time.monotonic()
        deadline = started + self.timeout
        hasher = hashlib.sha256()
        body = bytearray()
        try:
            extensions = {"target": target} if target is not None else None
            with self._http.stream(method, url, headers=headers, content=content, extensions=extensions) as response:
                answer.status = response.status_code
                answer.headers = {k.lower(): v for k, v in response.headers.items()}
                for chunk in response.iter_raw():
                    hasher.update(chunk)
                    answer.body_bytes += len(chunk)
                    if len(body) < _KEEP_BODY:
                        body.extend(chunk[: _KEEP_BODY - len(body)])
                    if time.monotonic() > deadline:
                        answer.error = "timeout"
                        break
                else:
                    answer.error = None
                    answer.complete = True
        except httpx.ConnectError as error:
            answer.error = "refused" if "refused" in str(error).lower() else "connect"
        except httpx.TimeoutException:
            answer.error = "timeout"  # before or after the headers: nothing (more) came within T
        except httpx.RemoteProtocolError:
            answer.error = "closed"
        except (httpx.ReadError, httpx.WriteError):
            answer.error = "reset"
        except httpx.HTTPError:
            answer.error = "protocol"  # an answer no HTTP client can take (malformed framing, bad encoding)
        answer.seconds = time.monotonic() - started
        answer.body = bytes(body)
        if answer.status is not None and method != "HEAD":
            answer.body_digest = "sha256:" + hasher.hexdigest()
        self.exchanges.append(self._exchange(answer, headers))
        self.raw_answers.append(answer)
        return answer

    def _token(self, challenge: dict[str, str]) -> str | None:
        realm = challenge.get("realm")
        if not realm:
            return None
        params = {k: v for k, v in challenge.items() if k in ("service", "scope")}
        # The body is read raw (for digests), so ask for it uncompressed: Harbor gzips its token answers.
        headers = {"Accept-Encoding": "identity"}
        if self._auth is not None:
            headers["Authorization"] = _basic(*self._auth)
        answer = self._send("GET", str(httpx.URL(realm, params=params)), headers, None)
        if answer.status != 200:
            return None
        try:
            document = answer.json()
        except ValueError:
            return None
        token = document.get("token") or document.get("access_token")
        return str(token) if token else None

    def _exchange(self, answer: Answer, headers: dict[str, str]) -> Exchange:
        excerpt = None
        content_type = answer.headers.get("content-type", "")
        if answer.body and ("json" in content_type or "text" in content_type):
            excerpt = self.redactor.text(answer.body[:_EXCERPT].decode("utf-8", "replace"))
        return Exchange(
            method=answer.method,
            url=self.redactor.url(answer.url),
            request_headers=self.redactor.headers(headers),
            status=answer.status,
            response_headers=self.redactor.headers(answer.headers),
            body_bytes=answer.body_bytes,
            body_excerpt=excerpt,
            error=answer.error,
            seconds=round(answer.seconds, 4),
        )


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _verified(answer: Answer, reference: str) -> bool:
    if answer.status != 200 or not answer.complete:
        return False
    if ":" in reference and answer.body_digest != reference:
        return False
    return answer.digest_header in (None, answer.body_digest)


def _platform_digest(index: dict[str, Any], platform: str) -> str | None:
    os_name, _, rest = platform.partition("/")
    architecture, _, variant = rest.partition("/")
    for entry in index.get("manifests", []):
        wanted = entry.get("platform", {})
        if (
            wanted.get("os") == os_name
            and wanted.get("architecture") == architecture
            and (not variant or wanted.get("variant") == variant)
        ):
            return str(entry["digest"])
    return None


def _parse_challenge(header: str) -> dict[str, str]:
    _, _, params = header.partition(" ")
    found: dict[str, str] = {}
    for part in _split_params(params):
        key, _, value = part.partition("=")
        found[key.strip().lower()] = value.strip().strip('"')
    return found


def _split_params(params: str) -> Iterable[str]:
    current: list[str] = []
    quoted = False
    for char in params:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            yield "".join(current)
            current = []
        else:
            current.append(char)
    if current:
        yield "".join(current)
