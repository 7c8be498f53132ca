"""The harbor target's REST handling, against exchanges recorded from a real Harbor (2.15.2): creation, the
options read back, a duplicate name (409), a failed health check (400), teardown in the order Harbor allows (412
while a repository or a project remains), and the clean-up of a run interrupted during start and mid-run.

Replayed from `cassettes/` in CI; re-recorded with a Harbor at hand (see harbor_cassettes.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from harbor_cassettes import harbor_password, harbor_url, recording, vcr_settings

from fake_upstream import FakeUpstream
from harness.client import OciClient
from harness.poll import wait_until
from harness.spec import RunSpec
from harness.targets import UpstreamInfo
from harness.targets.harbor import PASSWORD_ENV, HarborTarget, teardown
from harness.targets.harbor_api import HarborApi, HarborError, parse_version

pytestmark = pytest.mark.vcr
SEED = 7  # the same image bytes on every recording


@pytest.fixture(scope="module")
def vcr_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return vcr_settings(harbor_url(request.config))


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[HarborApi]:
    client = HarborApi(harbor_url(request.config), "admin", harbor_password(request.config))
    yield client
    client.close()


@pytest.fixture
def poll_interval(request: pytest.FixtureRequest) -> float:
    """Polls go at Harbor's pace when recording; a replay has the answers in order and need not wait."""
    return 1.0 if recording(request.config) else 0.0


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(seed=SEED) as fake:
        yield fake


def _calls(api: HarborApi, method: str) -> list[tuple[str, int | None]]:
    return [(call.path, call.status) for call in api.calls if call.method == method]


def test_creates_an_endpoint_and_a_project_and_reads_the_options_back(api: HarborApi, upstream: FakeUpstream) -> None:
    assert parse_version(api.version()) == (2, 15, 2)
    assert api.check_login() == "admin"
    registry_id = api.create_registry("pt-cassette-create", upstream.url, username="puller", password="s3cret")
    try:
        assert api.registry_status(registry_id) == "healthy"
        metadata = {"public": "true", "proxy_cache_local_on_not_found": "true", "max_upstream_conn": "4"}
        api.create_project("pt-cassette-create", registry_id, metadata)
        held = api.project_metadata("pt-cassette-create")
        assert {k: held[k] for k in metadata} == metadata
        assert api.repositories("pt-cassette-create") == []
    finally:
        teardown(api, "pt-cassette-create", registry_id)
    assert api.project("pt-cassette-create") is None
    assert registry_id not in [r["id"] for r in api.registries()]


def test_a_duplicate_name_is_a_one_line_409(api: HarborApi, upstream: FakeUpstream) -> None:
    registry_id = api.create_registry("pt-cassette-dup", upstream.url)
    try:
        with pytest.raises(HarborError) as duplicate:
            api.create_registry("pt-cassette-dup", upstream.url)
        assert duplicate.value.status == 409
        assert str(duplicate.value) == (
            "Harbor already has an endpoint named 'pt-cassette-dup': CONFLICT registry pt-cassette-dup already exists"
        )
        api.create_project("pt-cassette-dup", registry_id, {"public": "true"})
        with pytest.raises(HarborError) as again:
            api.create_project("pt-cassette-dup", registry_id, {"public": "true"})
        assert again.value.status == 409 and "\n" not in str(again.value)
    finally:
        teardown(api, "pt-cassette-dup", registry_id)


def test_an_upstream_harbor_cannot_reach_is_a_one_line_400(api: HarborApi) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(HarborError) as unhealthy:
            api.create_registry("pt-cassette-down", f"http://127.0.0.1:{port}")
    assert unhealthy.value.status == 400
    assert "BAD_REQUEST the registry is unhealthy" in str(unhealthy.value)
    assert "--upstream-host" in str(unhealthy.value)
    assert "pt-cassette-down" not in [r["name"] for r in api.registries()]


def test_teardown_deletes_repositories_then_the_project_then_the_endpoint(
    api: HarborApi, upstream: FakeUpstream, poll_interval: float
) -> None:
    image = upstream.add_image("team/app", "v1", layers=[600], seed=SEED)
    registry_id = api.create_registry("pt-cassette-order", upstream.url)
    api.create_project("pt-cassette-order", registry_id, {"public": "true"})
    with OciClient(api.url, timeout=30) as client:
        pulled = client.pull("pt-cassette-order/team/app", "v1")
    assert [answer.status for answer in pulled] == [200] * 4
    # Harbor stores the manifest (and so makes the repository) about 20 s after the pull.
    wait_until(lambda: api.repositories("pt-cassette-order"), timeout=90, interval=poll_interval)
    assert api.artifacts("pt-cassette-order", "team/app")[0].digest == image.digest
    assert api.delete_project("pt-cassette-order") is False  # 412 while a repository remains
    assert api.delete_registry(registry_id) is False  # 412 while a project uses it
    api.calls.clear()
    teardown(api, "pt-cassette-order", registry_id)
    assert _calls(api, "DELETE") == [
        ("/projects/pt-cassette-order/repositories/team%252Fapp", 200),
        ("/projects/pt-cassette-order", 200),
        (f"/registries/{registry_id}", 200),
    ]


def _target(config: pytest.Config, monkeypatch: pytest.MonkeyPatch) -> HarborTarget:
    monkeypatch.setenv(PASSWORD_ENV, harbor_password(config))
    monkeypatch.setattr("harness.targets.harbor._name", lambda: "pt-cassette-target")
    return HarborTarget(RunSpec(target="harbor", harbor_url=harbor_url(config)))


def test_a_start_interrupted_after_the_project_removes_both(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream
) -> None:
    target = _target(request.config, monkeypatch)
    created: list[int] = []

    def interrupted(self: HarborApi, name: str, registry_id: int, metadata: dict[str, str]) -> int:
        created.append(real(self, name, registry_id, metadata))
        raise KeyboardInterrupt  # Ctrl-C, or SIGTERM turned into one, right after Harbor made the project

    real = HarborApi.create_project
    monkeypatch.setattr(HarborApi, "create_project", interrupted)
    with pytest.raises(KeyboardInterrupt):
        target.start(UpstreamInfo(upstream.url, upstream=upstream))
    assert created
    monkeypatch.setattr(HarborApi, "create_project", real)
    with HarborApi(target.url, "admin", harbor_password(request.config)) as check:
        assert check.project("pt-cassette-target") is None
        assert "pt-cassette-target" not in [r["name"] for r in check.registries()]


def test_a_run_interrupted_mid_case_leaves_nothing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, upstream: FakeUpstream, poll_interval: float
) -> None:
    target = _target(request.config, monkeypatch)
    upstream.add_image("team/app", "v1", layers=[600], seed=SEED)
    target.start(UpstreamInfo(upstream.url, upstream=upstream))
    api = target._api
    assert api is not None and target.project == "pt-cassette-target"
    with pytest.raises(KeyboardInterrupt):
        try:
            with OciClient(target.url, timeout=30) as client:
                assert client.pull(target.path("team/app"), "v1")[-1].status == 200
            wait_until(lambda: api.repositories("pt-cassette-target"), timeout=90, interval=poll_interval)
            raise KeyboardInterrupt  # as the plugin turns SIGTERM into one, mid-case
        finally:
            target.stop()  # what the session fixture's teardown does
    deleted = _calls(api, "DELETE")
    assert [path for path, _ in deleted][-3:] == [
        "/projects/pt-cassette-target/repositories/team%252Fapp",
        "/projects/pt-cassette-target",
        deleted[-1][0],
    ]
    assert deleted[-1][0].startswith("/registries/") and {status for _, status in deleted} == {200}
    with HarborApi(target.url, "admin", harbor_password(request.config)) as check:
        assert check.project("pt-cassette-target") is None
        assert "pt-cassette-target" not in [r["name"] for r in check.registries()]
