"""RemoteUpstream drives a fake upstream through its control API exactly as FakeUpstream does in-process."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import httpx
import pytest
from http_checks import ACCEPT

from fake_upstream import Activity, ControlError, FakeUpstream, Fault, Match, RemoteUpstream, Upstream


@pytest.fixture
def remote(upstream: FakeUpstream) -> Iterator[RemoteUpstream]:
    with RemoteUpstream(upstream.url, upstream.control_url, timeout=5) as client:
        yield client


def _members() -> list[str]:
    return [name for name in dir(Upstream) if not name.startswith("_")]


def test_both_are_upstreams_with_identical_signatures() -> None:
    assert {"url", "control_url", "journal", "cursor", "activity", "clear_faults", "set_outage"} <= set(_members())
    for name in _members():
        member = inspect.getattr_static(Upstream, name)
        if isinstance(member, property):
            continue
        declared = inspect.signature(member)
        for implementation in (FakeUpstream, RemoteUpstream):
            assert inspect.signature(getattr(implementation, name)) == declared, (implementation.__name__, name)


def test_isinstance_of_the_protocol(upstream: FakeUpstream, remote: RemoteUpstream) -> None:
    assert isinstance(upstream, Upstream) and isinstance(remote, Upstream)
    assert remote.url == upstream.url and remote.control_url == upstream.control_url


def test_content_the_same_either_way(upstream: FakeUpstream, remote: RemoteUpstream) -> None:
    image = remote.add_image(
        "team/app", "v1", layers=[3000, 100], media_type="docker", platforms=["linux/arm64"], seed=4
    )
    assert image == upstream.add_image(
        "team/app", "v1", layers=[3000, 100], media_type="docker", platforms=["linux/arm64"], seed=4
    )
    blob = remote.add_blob("team/raw", b"config bytes")
    assert upstream.inventory()["repositories"]["team/raw"]["blobs"] == [blob]
    remote.tag("team/app", "stable", image.digest)
    assert remote.tags("team/app") == upstream.tags("team/app") == ["stable", "v1"]
    remote.delete_tag("team/app", "v1")
    assert remote.repositories() == upstream.repositories() == ["team/app", "team/raw"]
    manifest = httpx.get(f"{upstream.url}/v2/team/app/manifests/stable", headers=ACCEPT)
    media_type = manifest.headers["content-type"]
    assert remote.add_manifest("team/app", "v9", manifest.content, media_type) == image.digest
    assert remote.inventory() == upstream.inventory() and "v9" in upstream.tags("team/app")
    remote.delete_repository("team/app")
    assert upstream.repositories() == ["team/raw"]


def test_faults_outages_and_the_journal(upstream: FakeUpstream, remote: RemoteUpstream) -> None:
    upstream.add_image("team/app", "v1")
    fault_id = remote.add_fault("503", Match(kind="manifest", repository="team/app"), times=1)
    assert (
        remote.faults()
        == upstream.faults()
        == [(fault_id, Fault("503", Match(kind="manifest", repository="team/app"), times=1))]
    )
    other = remote.add_fault(Fault("wrong-length", Match(kind="blob"), delta=-1))
    remote.clear_faults(fault_id)
    assert [fid for fid, _ in upstream.faults()] == [other]
    remote.clear_faults(fault_id)  # already cleared: nothing to do, as in-process
    with pytest.raises(ControlError) as never:
        remote.clear_faults("f999")
    assert never.value.status == 404
    remote.clear_faults()
    assert upstream.faults() == []
    remote.set_outage("reset")
    assert upstream.outage == "reset"
    remote.set_outage("none")
    with pytest.raises(ControlError):
        remote.set_outage("flaky")
    httpx.get(f"{upstream.url}/v2/team/app/manifests/v1", headers=ACCEPT)
    httpx.get(f"{upstream.url}/v2/")
    assert remote.cursor() == upstream.cursor() == 2
    assert remote.journal() == upstream.journal()
    assert remote.journal(after=1) == upstream.journal(after=1) and len(remote.journal(after=1)) == 1
    assert remote.journal(repository="team/app") == upstream.journal(repository="team/app")
    assert remote.journal(upstream.journal()[1].time) == upstream.journal()[1:]
    activity = remote.activity("team/app")
    assert isinstance(activity, Activity) and (activity.last_seq, activity.in_flight) == (1, 0)
    assert remote.quota_usage() == upstream.quota_usage() == {}
    remote.clear_journal()
    assert upstream.journal() == []
    remote.reset()
    assert upstream.repositories() == []


def test_failures_are_control_errors(upstream: FakeUpstream) -> None:
    with RemoteUpstream(upstream.url, upstream.control_url) as remote, pytest.raises(ControlError) as bad:
        remote.add_image("team/app", "v1", layers=[-1])
    assert bad.value.status == 400 and "layer" in bad.value.message
    with RemoteUpstream(upstream.url, "http://127.0.0.1:9", timeout=2) as nowhere, pytest.raises(ControlError) as gone:
        nowhere.check()
    assert gone.value.status is None and "unreachable" in gone.value.message


def test_the_control_token_is_sent() -> None:
    with FakeUpstream(control_token="s3cret") as upstream:
        with RemoteUpstream(upstream.url, upstream.control_url, "wrong") as remote, pytest.raises(ControlError) as no:
            remote.check()
        assert no.value.status == 401
        with RemoteUpstream(upstream.url, upstream.control_url, "s3cret") as remote:
            remote.check()
            assert remote.cursor() == 0
