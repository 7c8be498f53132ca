"""A fake upstream running elsewhere (`pullthrough upstream`), driven through its control API.

It offers the subset of FakeUpstream's Python API that scenarios use, so a world can hold either.
"""

from __future__ import annotations

from typing import Any

import httpx

from fake_upstream import Fault, Image, LayerInfo, Match, PlatformInfo
from fake_upstream._journal import JournalEntry


class RemoteUpstreamError(RuntimeError):
    pass


class RemoteUpstream:
    def __init__(self, url: str, control_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.control_url = control_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.control_url + "/_control", headers=headers, timeout=timeout)

    def check(self) -> None:
        try:
            self._call("GET", "/")
        except httpx.HTTPError as error:
            raise RemoteUpstreamError(
                f"the fake upstream's control API at {self.control_url} is unreachable: {error}"
            ) from None

    def close(self) -> None:
        self._http.close()

    def add_image(self, repository: str, tag: str | None = "latest", **options: Any) -> Image:
        body = {
            "repository": repository,
            "tag": tag,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in options.items() if v is not None},
        }
        return _image(self._call("POST", "/images", body))

    def add_fault(self, fault: Fault | str, match: Match | None = None, **options: Any) -> str:
        if isinstance(fault, str):
            fault = Fault(fault, match or Match(), **options)  # type: ignore[arg-type]
        return str(self._call("POST", "/faults", fault.to_dict())["id"])

    def clear_faults(self, fault_id: str | None = None) -> None:
        self._call("DELETE", f"/faults/{fault_id}" if fault_id else "/faults")

    def set_outage(self, mode: str) -> None:
        self._call("POST", "/outage", {"mode": mode})

    def journal(self, since: float | None = None) -> list[JournalEntry]:
        params = f"?since={since}" if since is not None else ""
        return [JournalEntry(**entry) for entry in self._call("GET", "/journal" + params)]

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def delete_tag(self, repository: str, tag: str) -> None:
        self._call("DELETE", f"/repositories/{repository}/tags/{tag}")

    def delete_repository(self, repository: str) -> None:
        self._call("DELETE", f"/repositories/{repository}")

    def tag(self, repository: str, tag: str, digest: str) -> None:
        self._call("PUT", f"/repositories/{repository}/tags/{tag}", {"digest": digest})

    def reset(self) -> None:
        self._call("POST", "/reset")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise RemoteUpstreamError(f"{method} /_control{path}: {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None


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
