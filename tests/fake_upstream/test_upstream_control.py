"""The control API: the same operations as the Python API, JSON in and out, on its own port."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from http_checks import ACCEPT, sha256

from fake_upstream import FakeUpstream, Fault, Match
from fake_upstream._control import ControlApp
from oci_wire import OCI_MANIFEST


@pytest.fixture
def control(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.control_url + "/_control", timeout=5) as client:
        yield client


@pytest.fixture
def http(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.url, timeout=5) as client:
        yield client


def test_info(upstream: FakeUpstream, control: httpx.Client) -> None:
    assert control.get("/").json() == {"registry": upstream.url, "control": upstream.control_url, "outage": "none"}


def test_images_made_either_way_are_the_same_images(
    upstream: FakeUpstream, control: httpx.Client, http: httpx.Client
) -> None:
    body = {"repository": "team/app", "tag": "v1", "layers": [3000, 5000], "media_type": "docker",
            "platforms": ["linux/amd64", "linux/arm64"], "seed": 3}  # fmt: skip
    made = control.post("/images", json=body)
    assert made.status_code == 201
    again = upstream.add_image("team/copy", "v1", layers=[3000, 5000], media_type="docker",
                               platforms=["linux/amd64", "linux/arm64"], seed=3)  # fmt: skip
    assert made.json() == {**json.loads(json.dumps(again.to_dict())), "repository": "team/app"}
    assert http.get("/v2/team/app/manifests/v1", headers=ACCEPT).headers["docker-content-digest"] == again.digest
    assert control.get("/repositories/team/app/tags").json() == upstream.tags("team/app") == ["v1"]
    assert control.get("/repositories").json() == upstream.repositories() == ["team/app", "team/copy"]
    assert control.get("/inventory").json() == upstream.inventory()
    defaults = control.post("/images", json={"repository": "team/small"}).json()
    assert defaults["tag"] == "latest" and len(defaults["platforms"]) == 1
    assert defaults["platforms"][0]["layers"][0]["media_type"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    untagged = control.post("/images", json={"repository": "team/small", "tag": None, "gzip": False}).json()
    assert untagged["tag"] is None and upstream.tags("team/small") == ["latest"]


def test_tags_and_repositories(upstream: FakeUpstream, control: httpx.Client, http: httpx.Client) -> None:
    image = upstream.add_image("team/app", "v1")
    assert control.put("/repositories/team/app/tags/stable", json={"digest": image.digest}).status_code == 204
    assert upstream.tags("team/app") == ["stable", "v1"]
    assert control.delete("/repositories/team/app/tags/v1").status_code == 204
    assert upstream.tags("team/app") == ["stable"]
    assert http.get("/v2/team/app/manifests/v1").status_code == 404
    assert control.delete("/repositories/team/app").status_code == 204
    assert upstream.repositories() == []
    assert http.get(f"/v2/team/app/manifests/{image.digest}").status_code == 404


def test_manifests_and_blobs(upstream: FakeUpstream, control: httpx.Client, http: httpx.Client) -> None:
    config = b'{"architecture":"amd64","os":"linux"}'
    added = control.post("/blobs", json={"repository": "team/raw", "data_base64": base64.b64encode(config).decode()})
    assert added.status_code == 201 and added.json() == {"digest": sha256(config)}
    assert http.get(f"/v2/team/raw/blobs/{sha256(config)}").content == config
    descriptor = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config), "size": 37}
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor, "layers": []})
    body = {"repository": "team/raw", "reference": "v1", "media_type": OCI_MANIFEST, "body": manifest}
    made = control.post("/manifests", json=body)
    assert made.status_code == 201 and made.json() == {"digest": sha256(manifest.encode())}
    assert http.get("/v2/team/raw/manifests/v1").content == manifest.encode()


def test_faults(upstream: FakeUpstream, control: httpx.Client, http: httpx.Client) -> None:
    upstream.add_image("team/app", "v1")
    fault = Fault("503", Match(kind="manifest", repository="team/*"), times=2)
    made = control.post("/faults", json=fault.to_dict())
    assert made.status_code == 201
    fault_id = made.json()["id"]
    assert upstream.faults() == [(fault_id, fault)]
    python_id = upstream.add_fault("404", Match(kind="blob"))
    assert control.get("/faults").json() == [{"id": fid, **f.to_dict()} for fid, f in upstream.faults()]
    assert http.get("/v2/team/app/manifests/v1").status_code == 503
    assert control.get("/faults").json()[0]["times"] == 1
    assert control.delete(f"/faults/{fault_id}").status_code == 204
    assert [fid for fid, _ in upstream.faults()] == [python_id]
    assert control.delete(f"/faults/{fault_id}").status_code == 204  # already cleared: nothing to do
    assert control.delete("/faults/f99").status_code == 404  # never issued
    assert control.delete("/faults/f" + "9" * 5000).status_code == 404
    assert control.delete("/faults").status_code == 204 and upstream.faults() == []
    minimal = control.post("/faults", json={"fault": "truncate", "match": {"kind": "blob"}, "after_bytes": 10})
    assert minimal.status_code == 201 and upstream.faults()[0][1] == Fault(
        "truncate", Match(kind="blob"), after_bytes=10
    )


def test_outage_from_the_control_port(upstream: FakeUpstream, control: httpx.Client) -> None:
    assert control.get("/outage").json() == {"mode": "none"}
    assert control.post("/outage", json={"mode": "refused"}).json() == {"mode": "refused"}
    assert upstream.outage == "refused"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{upstream.url}/v2/")
    assert control.get("/").json()["outage"] == "refused"
    assert control.post("/outage", json={"mode": "none"}).status_code == 200
    assert httpx.get(f"{upstream.url}/v2/").status_code == 200


def test_journal_and_quota(upstream: FakeUpstream, control: httpx.Client, http: httpx.Client) -> None:
    upstream.add_image("team/app", "v1")
    http.get("/v2/team/app/manifests/v1")
    http.head("/v2/team/app/manifests/v1")
    entries = control.get("/journal").json()
    assert entries == [entry.to_dict() for entry in upstream.journal()]
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 200), ("HEAD", 200)]
    assert control.get("/journal", params={"since": entries[1]["time"]}).json() == entries[1:]
    assert control.delete("/journal").status_code == 204 and upstream.journal() == []
    assert control.get("/quota").json() == upstream.quota_usage() == {}


def test_reset(upstream: FakeUpstream, control: httpx.Client, http: httpx.Client) -> None:
    upstream.add_image("team/app", "v1")
    upstream.add_fault("500")
    upstream.set_outage("reset")
    assert control.post("/reset").status_code == 204
    assert upstream.inventory() == {"repositories": {}, "uploads": {}}
    assert upstream.faults() == [] and upstream.outage == "none" and upstream.journal() == []
    assert http.get("/v2/").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/images", b"{not json", 400),
        ("POST", "/images", b"[1, 2]", 400),
        ("POST", "/images", b"\xff\xfe", 400),
        ("POST", "/images", {"repository": "team/app", "colour": "red"}, 400),
        ("POST", "/images", {"repository": ""}, 400),
        ("POST", "/images", {"repository": "Team/App"}, 400),
        ("POST", "/images", {"repository": "team/app", "tag": 5}, 400),
        ("POST", "/images", {"repository": "team/app", "tag": "-bad"}, 400),
        ("POST", "/images", {"repository": "team/app", "layers": "big"}, 400),
        ("POST", "/images", {"repository": "team/app", "layers": [-1]}, 400),
        ("POST", "/images", {"repository": "team/app", "layers": [1 << 50]}, 400),
        ("POST", "/images", {"repository": "team/app", "media_type": "helm"}, 400),
        ("POST", "/images", {"repository": "team/app", "platforms": "linux/amd64"}, 400),
        ("POST", "/images", {"repository": "team/app", "platforms": ["linux"]}, 400),
        ("POST", "/images", {"repository": "team/app", "seed": "x"}, 400),
        ("POST", "/images", {"repository": "team/app", "gzip": "yes"}, 400),
        ("POST", "/blobs", {"repository": "team/app", "data_base64": "!!"}, 400),
        (
            "POST",
            "/manifests",
            {"repository": "team/app", "reference": "v1", "media_type": OCI_MANIFEST, "body": "{}"},
            400,
        ),
        ("POST", "/faults", {"fault": "flaky"}, 400),
        ("POST", "/faults", {"fault": "503", "match": {"kind": "everything"}}, 400),
        ("POST", "/faults", {"fault": "503", "times": 0}, 400),
        ("POST", "/faults", {"fault": "503", "after": 3}, 400),
        ("POST", "/faults", b"", 400),
        ("POST", "/faults", b"x" * (2 << 20), 413),
        ("POST", "/faults", b"[" * 50_000, 400),  # was a 500 (RecursionError; issue 10, item 3)
        ("POST", "/images", b'{"repository":' * 20_000, 400),
        ("POST", "/faults", b'{"fault": "503", "match": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 400),
        ("POST", "/faults", b'{"fault": "503", "times": ' + b"9" * 5000 + b"}", 400),
        ("POST", "/faults", b"\xff\xfe", 400),
        ("POST", "/faults", b'{"fault": "503", "match": {"kind": ' + b"[" * 100 + b"]" * 100 + b"}}", 400),
        ("POST", "/outage", {"mode": "flaky"}, 400),
        ("POST", "/outage", {}, 400),
        ("PUT", "/repositories/team/app/tags/v2", {"digest": "sha256:" + "0" * 64}, 404),
        ("PUT", "/repositories/team/app/tags/v2", {}, 400),
        ("DELETE", "/repositories/team/none", None, 404),
        ("DELETE", "/repositories/team/app/tags/none", None, 404),
        ("GET", "/repositories/team/none/tags", None, 404),
        ("DELETE", "/faults/f999", None, 404),
        ("GET", "/journal?since=yesterday", None, 400),
        ("GET", "/nothing", None, 404),
        ("PATCH", "/faults", None, 405),
        ("GET", "/reset", None, 405),
    ],
)
def test_bad_input_is_a_json_error_and_changes_nothing(
    upstream: FakeUpstream, control: httpx.Client, method: str, path: str, body: Any, status: int
) -> None:
    upstream.add_image("team/app", "v1")
    upstream.add_fault("500", Match(kind="ping"))
    before = (upstream.inventory(), upstream.faults(), upstream.outage)
    content = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    response = control.request(method, path, content=content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert (upstream.inventory(), upstream.faults(), upstream.outage) == before


def _asgi_get(
    app: ControlApp, path: str, client: tuple[str, int], headers: dict[str, str] | None = None
) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:5001") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(get())


def test_without_a_token_only_loopback_clients_may_use_it(upstream: FakeUpstream) -> None:
    app = ControlApp(upstream, token=None, journal=upstream._parts.journal)
    for address in ("127.0.0.1", "127.8.9.10", "::1"):
        assert _asgi_get(app, "/_control/faults", (address, 40000)).status_code == 200
    for address in ("203.0.113.7", "10.0.0.2", "::ffff:203.0.113.7", "not-an-address"):
        refused = _asgi_get(app, "/_control/faults", (address, 40000))
        assert refused.status_code == 403 and "loopback" in refused.json()["error"]


def test_with_a_token_every_client_must_send_it() -> None:
    with FakeUpstream(control_token="s3cret") as upstream, httpx.Client(base_url=upstream.control_url) as control:
        assert control.get("/_control/").status_code == 401
        assert control.get("/_control/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert control.get("/_control/", headers={b"Authorization": "Bearer s3crét".encode()}).status_code == 401
        refused = control.post("/_control/outage", json={"mode": "refused"})
        assert refused.status_code == 401 and "Bearer" in refused.json()["error"] and upstream.outage == "none"
        good = {"Authorization": "Bearer s3cret"}
        assert control.get("/_control/", headers=good).status_code == 200
        assert httpx.get(f"{upstream.url}/v2/").status_code == 200  # the registry does not want it
        app = ControlApp(upstream, token="s3cret", journal=upstream._parts.journal)
        assert _asgi_get(app, "/_control/faults", ("203.0.113.7", 1), good).status_code == 200
        assert _asgi_get(app, "/_control/faults", ("203.0.113.7", 1)).status_code == 401


def test_every_route_is_in_the_openapi_document(upstream: FakeUpstream, control: httpx.Client) -> None:
    document = control.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item if method != "parameters"
    }
    app = ControlApp(upstream, None, upstream._parts.journal).app
    routed = {
        (re.sub(r"\{(\w+)(:path)?\}", r"{\1}", route.path), method)
        for route in app.routes
        for method in getattr(route, "methods", set()) - {"HEAD"}
    }
    assert routed == documented
