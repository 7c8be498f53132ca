"""Harbor's REST API v2.0, as the harbor target uses it: an endpoint, a proxy-cache project, artifacts, teardown.

Every failure is a `HarborError` whose message is one line naming the call and what Harbor said. The calls are
the ones Harbor's own UI makes; what each answers on 2.13-2.15 is in docs/harbor.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import quote

import httpx

from harness.targets.base import TargetError

TIMEOUT = 30.0
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


class HarborError(TargetError):
    """A Harbor API call failed; `status` is Harbor's answer (None when Harbor could not be reached)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Artifact:
    """One top-level artifact of a repository: its digest, its tags, and the children an index references."""

    digest: str
    media_type: str
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """One API call as it went: what the target asked and what Harbor answered (for tests and for errors)."""

    method: str
    path: str
    status: int | None


class HarborApi:
    """A Harbor's REST API, as an admin (basic auth); `transport` is for tests."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        *,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.calls: list[Call] = []
        self._http = httpx.Client(
            base_url=self.url,
            auth=(user, password),
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
            # No cookies: with Harbor's session cookie a request counts as a browser's and needs a CSRF token.
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HarborApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the Harbor ---------------------------------------------------------------------------------

    def version(self) -> str:
        """`harbor_version` from systeminfo, as Harbor says it (e.g. `v2.15.2-080b0220`)."""
        found = self._json("GET", "/systeminfo").get("harbor_version")
        if not isinstance(found, str) or not found:
            raise HarborError(f"Harbor at {self.url} did not say its version (GET /api/v2.0/systeminfo)")
        return found

    def check_login(self) -> str:
        """The admin's user name, once Harbor accepts the login (a project admin is not enough: endpoints need a
        system administrator)."""
        user = self._json("GET", "/users/current")
        if not user.get("sysadmin_flag"):
            raise HarborError(f"Harbor user {user.get('username')!r} is not a system administrator")
        return str(user.get("username"))

    # ---- endpoints ------------------------------------------------------------------------------------

    def create_registry(
        self, name: str, url: str, *, username: str | None = None, password: str | None = None, description: str = ""
    ) -> int:
        """A `docker-registry` endpoint for `url`; Harbor checks its health first (400 when it cannot reach it)."""
        body: dict[str, Any] = {
            "name": name,
            "type": "docker-registry",
            "url": url,
            "insecure": True,
            "description": description,
        }
        if username is not None:
            body["credential"] = {"type": "basic", "access_key": username, "access_secret": password or ""}
        response = self._call("POST", "/registries", json=body, ok=(201, 400, 409))
        if response.status_code == 409:
            raise HarborError(f"Harbor already has an endpoint named {name!r}: {_message(response)}", 409)
        if response.status_code == 400:
            raise HarborError(
                f"Harbor cannot reach the fake upstream at {url} ({_message(response)}): "
                "give an address Harbor can reach with --upstream-host",
                400,
            )
        return _location_id(response)

    def registry_status(self, registry_id: int) -> str:
        """`healthy` or `unhealthy`: what Harbor's last health check of the endpoint found."""
        return str(self._json("GET", f"/registries/{registry_id}").get("status", ""))

    def recheck_registry(self, registry_id: int) -> bool:
        """Check the endpoint's health now (`PUT {}`): True, and stored as healthy, when the upstream answers;
        False (400) when it does not, the stored status then unchanged."""
        response = self._call("PUT", f"/registries/{registry_id}", json={}, ok=(200, 400))
        return response.status_code == 200

    def registries(self) -> list[dict[str, Any]]:
        return self._list("/registries")

    def delete_registry(self, registry_id: int) -> bool:
        """False (412) while a project uses it; a missing one is already deleted."""
        response = self._call("DELETE", f"/registries/{registry_id}", ok=(200, 404, 412))
        return response.status_code != 412

    # ---- projects ---------------------------------------------------------------------------------

    def create_project(self, name: str, registry_id: int, metadata: Mapping[str, str]) -> int:
        body = {"project_name": name, "registry_id": registry_id, "storage_limit": -1, "metadata": dict(metadata)}
        response = self._call("POST", "/projects", json=body, ok=(201, 400, 409))
        if response.status_code == 409:
            raise HarborError(f"Harbor already has a project named {name!r}: {_message(response)}", 409)
        if response.status_code == 400:
            raise HarborError(f"Harbor refused the proxy-cache project {name!r}: {_message(response)}", 400)
        return _location_id(response)

    def project(self, name: str) -> dict[str, Any] | None:
        response = self._call("GET", f"/projects/{quote(name, safe='')}", ok=(200, 404))
        return response.json() if response.status_code == 200 else None

    def project_metadata(self, name: str) -> dict[str, str]:
        """The project's options as Harbor holds them (Harbor drops the ones it does not know)."""
        found = self.project(name)
        if found is None:
            raise HarborError(f"Harbor has no project {name!r}", 404)
        return {str(k): str(v) for k, v in (found.get("metadata") or {}).items()}

    def projects(self) -> list[dict[str, Any]]:
        return self._list("/projects")

    def delete_project(self, name: str) -> bool:
        """False (412) while it has repositories; a missing one is already deleted."""
        response = self._call("DELETE", f"/projects/{quote(name, safe='')}", ok=(200, 404, 412))
        return response.status_code != 412

    # ---- repositories and artifacts -----------------------------------------------------------------

    def repositories(self, project: str) -> list[str]:
        """The project's repositories, without the project's prefix."""
        prefix = project + "/"
        names = [str(r["name"]) for r in self._list(f"/projects/{quote(project, safe='')}/repositories")]
        return [name.removeprefix(prefix) for name in names]

    def delete_repository(self, project: str, repository: str) -> None:
        self._call("DELETE", _repository_path(project, repository), ok=(200, 404))

    def artifacts(self, project: str, repository: str) -> list[Artifact]:
        """The repository's top-level artifacts; none until Harbor has stored its first manifest."""
        path = _repository_path(project, repository) + "/artifacts"
        response = self._call("GET", path, params={"with_tag": "true", "page_size": "100"}, ok=(200, 404))
        if response.status_code == 404:
            return []
        return [_artifact(found) for found in response.json() or []]

    # ---- internals ------------------------------------------------------------------------------------

    def _list(self, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            response = self._call("GET", path, params={"page": str(page), "page_size": "100"})
            batch = response.json() or []
            found += batch
            if len(batch) < 100:
                return found
            page += 1

    def _json(self, method: str, path: str) -> dict[str, Any]:
        found = self._call(method, path).json()
        if not isinstance(found, dict):
            raise HarborError(f"Harbor {method} /api/v2.0{path}: not a JSON object")
        return found

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        try:
            response = self._http.request(method, "/api/v2.0" + path, json=json, params=params)
        except httpx.HTTPError as error:
            self.calls.append(Call(method, path, None))
            raise HarborError(f"Harbor at {self.url} is unreachable ({method} /api/v2.0{path}): {error}") from None
        self.calls.append(Call(method, path, response.status_code))
        if response.status_code in ok:
            return response
        if response.status_code == 401:
            raise HarborError(
                f"Harbor at {self.url} refused the login (HTTP 401): check the user and $PULLTHROUGH_HARBOR_PASSWORD",
                401,
            )
        raise HarborError(
            f"Harbor {method} /api/v2.0{path}: {response.status_code} {_message(response)}", response.status_code
        )


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """`v2.15.2-080b0220` -> (2, 15, 2)."""
    found = _VERSION.match(text or "")
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def _repository_path(project: str, repository: str) -> str:
    # Harbor wants a repository name with slashes encoded twice (a/b -> a%252Fb).
    return f"/projects/{quote(project, safe='')}/repositories/{quote(quote(repository, safe=''), safe='')}"


def _artifact(found: dict[str, Any]) -> Artifact:
    return Artifact(
        digest=str(found.get("digest", "")),
        media_type=str(found.get("manifest_media_type") or found.get("media_type") or ""),
        tags=tuple(str(tag["name"]) for tag in found.get("tags") or []),
        references=tuple(str(child["child_digest"]) for child in found.get("references") or []),
    )


def _location_id(response: httpx.Response) -> int:
    location = response.headers.get("location", "")
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdecimal():
        raise HarborError(f"Harbor answered {response.status_code} without the new resource's id ({location!r})")
    return int(tail)


def _message(response: httpx.Response) -> str:
    """Harbor's error as one line: `CODE message` from its `{"errors": [...]}` body, or the body's first line."""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        return f"{first.get('code', '')} {first.get('message', '')}".strip()
    except (ValueError, AttributeError, IndexError, TypeError):
        text = response.text.strip().splitlines()
        return text[0][:200] if text else f"HTTP {response.status_code}"
