"""FakeUpstream's Python API and lifecycle: in a thread, or in the caller's event loop."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from http_checks import ACCEPT

from fake_upstream import FakeUpstream, RegistryError


def test_runs_in_a_thread_on_ephemeral_loopback_ports() -> None:
    with FakeUpstream() as upstream:
        assert upstream.url.startswith("http://127.0.0.1:") and upstream.port != upstream.control_port
        assert httpx.get(f"{upstream.url}/v2/").status_code == 200
        port = upstream.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_serves_in_the_callers_event_loop() -> None:
    async def main() -> tuple[int, str, str]:
        upstream = FakeUpstream()
        await upstream.open()
        serving = asyncio.ensure_future(upstream.run())
        try:
            image = upstream.add_image("team/app", "v1")
            await upstream.set_outage_async("none")
            async with httpx.AsyncClient(base_url=upstream.url) as http:
                response = await http.get("/v2/team/app/manifests/v1", headers=ACCEPT)
            with pytest.raises(RuntimeError, match="_async"):
                upstream.set_outage("refused")
            return response.status_code, response.headers["docker-content-digest"], image.digest
        finally:
            upstream.stop()
            await serving

    status, served, made = asyncio.run(main())
    assert status == 200 and served == made


def test_a_stopped_upstream_refuses_run_time_switches() -> None:
    upstream = FakeUpstream()
    with pytest.raises(RuntimeError, match="not running"):
        upstream.set_outage("refused")
    upstream.stop()  # harmless when never started


def test_a_taken_port_fails_start() -> None:
    with FakeUpstream() as first, pytest.raises(OSError, match="in use"):
        FakeUpstream(port=first.port).start()


def test_each_add_image_without_a_seed_makes_a_new_image() -> None:
    with FakeUpstream(seed=1) as upstream:
        first = upstream.add_image("team/app", "v1")
        second = upstream.add_image("team/app", "v1")
        assert first.digest != second.digest
        assert (
            upstream.add_image("team/app", "v1", seed=9).digest == upstream.add_image("team/other", "x", seed=9).digest
        )
    with FakeUpstream(seed=1) as again:
        assert again.add_image("team/app", "v1").digest == first.digest
    with FakeUpstream(seed=2) as other:
        assert other.add_image("team/app", "v1").digest != first.digest


def test_re_pointing_a_tag_keeps_the_old_manifest_by_digest() -> None:
    with FakeUpstream() as upstream, httpx.Client(base_url=upstream.url) as http:
        old = upstream.add_image("team/app", "v1")
        new = upstream.add_image("team/app", "v1")
        assert http.head("/v2/team/app/manifests/v1", headers=ACCEPT).headers["docker-content-digest"] == new.digest
        assert http.get(f"/v2/team/app/manifests/{old.digest}").status_code == 200
        upstream.tag("team/app", "v1", old.digest)
        assert http.head("/v2/team/app/manifests/v1", headers=ACCEPT).headers["docker-content-digest"] == old.digest


def test_the_image_description() -> None:
    with FakeUpstream() as upstream:
        image = upstream.add_image("team/app", "v1", layers=[2048, 4096], platforms=["linux/amd64", "linux/arm64"])
        assert image.repository == "team/app" and image.tag == "v1"
        assert list(image.manifests) == ["linux/amd64", "linux/arm64"]
        arm = image.platform("linux/arm64")
        assert len(arm.layers) == 2 and image.blobs.count(arm.config.digest) == 1
        assert len(image.blobs) == 6
        with pytest.raises(KeyError):
            image.platform("windows/amd64")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"layers": [-1]},
        {"layers": [True]},
        {"layers": ["1"]},
        {"layers": [(64 << 30) + 1]},
        {"media_type": "helm"},
        {"platforms": ["linux"]},
    ],
)
def test_add_image_refuses_bad_arguments(kwargs: dict[str, object]) -> None:
    with FakeUpstream() as upstream:
        with pytest.raises(ValueError):
            upstream.add_image("team/app", "v1", **kwargs)  # type: ignore[arg-type]
        assert upstream.inventory() == {"repositories": {}, "uploads": {}}


def test_python_api_errors_are_registry_errors() -> None:
    with FakeUpstream() as upstream:
        with pytest.raises(RegistryError) as invalid:
            upstream.add_image("Team/App", "v1")
        assert invalid.value.code.value == "NAME_INVALID"
        with pytest.raises(RegistryError):
            upstream.tag("team/none", "v1", "sha256:" + "0" * 64)
        with pytest.raises(RegistryError):
            upstream.delete_repository("team/none")
        image = upstream.add_image("team/app", "v1")
        with pytest.raises(RegistryError):
            upstream.tag("team/app", "-bad", image.digest)
        with pytest.raises(RegistryError):
            upstream.delete_tag("team/app", "v9")
        with pytest.raises(RegistryError):
            upstream.add_manifest("team/app", "v2", b"{}", "application/vnd.oci.image.manifest.v1+json")
        assert upstream.tags("team/app") == ["v1"]


def test_auth_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="auth"):
        FakeUpstream(auth="ldap")  # type: ignore[arg-type]
