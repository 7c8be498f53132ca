"""RemoteUpstream: a fake upstream running elsewhere (`pullthrough upstream`), driven through its control API.

It implements `Upstream` as FakeUpstream does; every failure is a ControlError (with the answer's
status, or None when the control API cannot be reached).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from fake_upstream._activity import Activity
from fake_upstream._errors import ControlError
from fake_upstream._faults import Fault, Match
from fake_upstream._journal import JournalEntry
from fake_upstream._model import Image, LayerInfo, PlatformInfo
from fake_upstream._outages import Outage


class RemoteUpstream:
    def __init__(self, url: str, control_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.control_url = control_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.control_url + "/_control", headers=headers, timeout=timeout)

    def check(self) -> None:
        """Raise ControlError unless the control API answers (and accepts the token)."""
        self._call("GET", "/")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteUpstream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- content --------------------------------------------------------------------------------

    def add_image(
        self,
        repository: str,
        tag: str | None = "latest",
        *,
        layers: Sequence[int] = (2048,),
        media_type: str = "oci",
        platforms: Sequence[str] | None = None,
        gzip: bool = True,
        seed: int | None = None,
    ) -> Image:
        body: dict[str, Any] = {
            "repository": repository,
            "tag": tag,
            "layers": list(layers),
            "media_type": media_type,
            "gzip": gzip,
        }
        if platforms is not None:
            body["platforms"] = list(platforms)
        if seed is not None:
            body["seed"] = seed
        return _image(self._call("POST", "/images", body))

    def add_blob(self, repository: str, data: bytes, media_type: str = "application/octet-stream") -> str:
        body = {"repository": repository, "data_base64": base64.b64encode(data).decode(), "media_type": media_type}
        return str(self._call("POST", "/blobs", body)["digest"])

    def add_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        document = {"repository": repository, "reference": reference, "media_type": media_type, "body": body.decode()}
        return str(self._call("POST", "/manifests", document)["digest"])

    def tag(self, repository: str, tag: str, digest: str) -> None:
        self._call("PUT", f"/repositories/{_path(repository)}/tags/{_path(tag)}", {"digest": digest})

    def delete_tag(self, repository: str, tag: str) -> None:
        self._call("DELETE", f"/repositories/{_path(repository)}/tags/{_path(tag)}")

    def delete_repository(self, repository: str) -> None:
        self._call("DELETE", f"/repositories/{_path(repository)}")

    def tags(self, repository: str) -> list[str]:
        return list(self._call("GET", f"/repositories/{_path(repository)}/tags"))

    def repositories(self) -> list[str]:
        return list(self._call("GET", "/repositories"))

    def inventory(self) -> dict[str, Any]:
        return dict(self._call("GET", "/inventory"))

    # ---- faults and outages ---------------------------------------------------------------------

    def add_fault(self, fault: Fault | str, match: Match | None = None, **options: Any) -> str:
        if isinstance(fault, str):
            fault = Fault(fault, match or Match(), **options)  # type: ignore[arg-type]
        return str(self._call("POST", "/faults", fault.to_dict())["id"])

    def clear_faults(self, fault_id: str | None = None) -> None:
        self._call("DELETE", f"/faults/{_path(fault_id)}" if fault_id else "/faults")

    def faults(self) -> list[tuple[str, Fault]]:
        listed = self._call("GET", "/faults")
        return [(item.pop("id"), Fault.from_dict(item)) for item in listed]

    def set_outage(self, mode: Outage | str) -> None:
        self._call("POST", "/outage", {"mode": mode})

    # ---- journal, quota, reset ------------------------------------------------------------------

    def journal(
        self, since: float | None = None, *, after: int | None = None, repository: str | None = None
    ) -> list[JournalEntry]:
        params = {"since": since, "after": after, "repository": repository}
        query = {key: str(value) for key, value in params.items() if value is not None}
        return [JournalEntry(**entry) for entry in self._call("GET", "/journal", params=query)]

    def cursor(self) -> int:
        return int(self._call("GET", "/journal/cursor")["cursor"])

    def activity(self, repository: str) -> Activity:
        return Activity(**self._call("GET", "/activity", params={"repository": repository}))

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def expire_tokens(self, repository: str | None = None) -> int:
        return int(self._call("POST", "/tokens/expire", {"repository": repository})["expired"])

    def quota_usage(self) -> dict[str, int]:
        return dict(self._call("GET", "/quota"))

    def reset(self) -> None:
        self._call("POST", "/reset")

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as error:
            message = f"the fake upstream's control API at {self.control_url} is unreachable: {error}"
            raise ControlError(message, None) from None
        if response.status_code >= 400:
            raise ControlError(
                f"{method} /_control{path}: {response.status_code} {response.text[:200]}", response.status_code
            )
        return response.json() if response.content else None


def _path(segment: str) -> str:
    """A name in a control API path: its slashes stay (repositories have them), the rest is escaped."""
    return quote(segment, safe="/")


def _image(data: dict[str, Any]) -> Image:
    platforms = tuple(
        PlatformInfo(
            platform=p["platform"],
            manifest=p["manifest"],
            manifest_size=p["manifest_size"],
            config=LayerInfo(**p["config"]),
            layers=tuple(LayerInfo(**layer) for layer in p["layers"]),
        )
        for p in data["platforms"]
    )
    return Image(data["repository"], data["tag"], data["digest"], data["media_type"], data["size"], platforms)
