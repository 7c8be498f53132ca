"""The zot target: its configuration, credentials file and version everywhere; the program itself when
PULLTHROUGH_ZOT names a build (skipped without it: zot is built from source, and CI has none)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_built_peer

from fake_upstream import FakeUpstream, Image, Match
from harness.client import OciClient
from harness.spec import RunSpec, SpecError
from harness.targets import TargetError, UpstreamInfo, make_target
from harness.targets.zot import ZotTarget, build_info, credentials_file, release, render_config

REPOSITORY = "team/app"
USER = "alice"
PASSWORD = 's3cr"et: {x}'
VERSION_LINE = (
    '{"time":"2026-12-03T14:52:42Z","level":"info","message":"version","distribution-spec":"1.1.1",'
    '"commit":"v2.1.20-0-g3b5796d","binary-type":"-events-imagetrust-lint-metrics-mgmt-sync-userprefs",'
    '"go version":"go1.26.8"}'
)


# ---- everywhere: what the target generates and reads ---------------------------------------------


def test_the_config_syncs_on_demand_keeping_digests_within_the_declared_timeout() -> None:
    config = render_config(UpstreamInfo("http://127.0.0.1:5101"), Path("/tmp/s"), 5100, 10.0)
    assert config["storage"] == {"rootDirectory": "/tmp/s"}
    http = {"address": "127.0.0.1", "port": "5100", "compat": ["docker2s2"], "writeTimeout": "70000ms"}
    assert config["http"] == http  # a minute above the sync: zot's default 60 s cuts slower answers
    (registry,) = config["extensions"]["sync"]["registries"]
    assert registry == {
        "urls": ["http://127.0.0.1:5101"],
        "onDemand": True,
        "tlsVerify": False,
        "preserveDigest": True,  # needs compat docker2s2; without both, Docker images change digest
        "syncTimeout": "10000ms",
        "responseHeaderTimeout": "2500ms",
        "content": [{"prefix": "**"}],
    }
    assert "credentialsFile" not in config["extensions"]["sync"]
    login = render_config(UpstreamInfo("http://127.0.0.1:5101", USER, PASSWORD), Path("/s"), 1, 2.5, Path("/c.json"))
    assert login["extensions"]["sync"]["credentialsFile"] == "/c.json"
    assert login["http"]["writeTimeout"] == "62500ms"


def test_the_credentials_file_is_keyed_by_host_and_port() -> None:
    upstream = UpstreamInfo("http://127.0.0.1:5101", USER, PASSWORD)
    assert credentials_file(upstream) == {"127.0.0.1:5101": {"username": USER, "password": PASSWORD}}


@pytest.mark.parametrize(
    ("commit", "version"),
    [("v2.1.20-0-g3b5796d", "2.1.20"), ("v2.1.20-7-g6d19b44", "2.1.20-7-g6d19b44"), ("6d19b44", "6d19b44"), ("", None)],
)
def test_the_version_is_the_release_tag_of_a_tagged_build(commit: str, version: str | None) -> None:
    assert release({"commit": commit}) == version


def _fake_zot(directory: Path, says: str) -> str:
    """A program that answers -v as a zot build does (nothing else is asked of it here)."""
    directory.mkdir()
    program = directory / "zot"
    program.write_text(f"#!/bin/sh\ncat <<'END'\n{says}\nEND\n")
    program.chmod(0o755)
    return str(program)


def test_the_build_is_read_from_zot_v_and_needs_the_sync_extension(tmp_path: Path) -> None:
    program = _fake_zot(tmp_path / "full", VERSION_LINE)
    assert build_info(program) == {**json.loads(VERSION_LINE)}
    spec = RunSpec(target="zot", peer_binary=program)
    ZotTarget.preflight(spec)
    assert make_target(spec).version() == "2.1.20"
    without_sync = _fake_zot(tmp_path / "lean", VERSION_LINE.replace("-sync", ""))
    with pytest.raises(TargetError, match="without the sync extension"):
        ZotTarget.preflight(RunSpec(target="zot", peer_binary=without_sync))
    not_zot = _fake_zot(tmp_path / "other", "registry 3.1.1")
    with pytest.raises(TargetError, match="is it zot"):
        ZotTarget.preflight(RunSpec(target="zot", peer_binary=not_zot))


def test_it_needs_the_binary_named() -> None:
    with pytest.raises(SpecError, match="--target zot needs --peer-binary PATH"):
        RunSpec(target="zot")
    assert make_target(RunSpec(target="zot", peer_binary="/no/such/zot")).version() is None


def test_the_cache_check_reads_every_repository_and_no_staging(tmp_path: Path) -> None:
    """zot removes `.sync/<id>/` as a sync ends: the check must not walk into it (nor judge its partial files)."""
    target = make_target(RunSpec(target="zot", peer_binary="/no/such/zot"))
    assert isinstance(target, ZotTarget)
    target._directory = tmp_path
    good, bad = b"good", b"bad"
    good_hex, bad_hex = hashlib.sha256(good).hexdigest(), hashlib.sha256(bad).hexdigest()
    for repository in ("team/app", "library/deep/name"):
        (tmp_path / "storage" / repository / "blobs" / "sha256").mkdir(parents=True)
        (tmp_path / "storage" / repository / "blobs" / "sha256" / good_hex).write_bytes(good)
    staged = tmp_path / "storage" / "team/app/.sync/1c59efef/team/app/blobs/sha256"
    staged.mkdir(parents=True)
    (staged / good_hex).write_bytes(b"half")
    assert target.unverified() == []
    (tmp_path / "storage" / "library/deep/name/blobs/sha256" / bad_hex).write_bytes(b"bad, cut")
    assert target.unverified() == [f"sha256:{bad_hex}"]


# ---- with a zot build ----------------------------------------------------------------------------


@pytest.fixture
def zot_binary() -> str:
    return need_built_peer("zot")


@pytest.fixture
def locked_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(auth="token", users={USER: PASSWORD}) as fake:
        yield fake


@pytest.fixture
def image(locked_upstream: FakeUpstream) -> Image:
    return locked_upstream.add_image(REPOSITORY, "v1", layers=[4096, 300_000], media_type="docker")


def _started(binary: str, upstream: FakeUpstream, timeout: float | None = None, login: bool = True) -> ZotTarget:
    target = ZotTarget(RunSpec(target="zot", peer_binary=binary, upstream_timeout=timeout))
    target.start(UpstreamInfo(upstream.url, USER if login else None, PASSWORD if login else None))
    return target


@pytest.fixture
def zot(zot_binary: str, locked_upstream: FakeUpstream) -> Iterator[ZotTarget]:
    target = _started(zot_binary, locked_upstream)
    try:
        yield target
    finally:
        target.stop()


def _pull(target: ZotTarget, repository: str = REPOSITORY, tag: str = "v1") -> list[int]:
    with OciClient(target.url, timeout=target.upstream_timeout + 5) as client:
        return [answer.status for answer in client.pull(repository, tag)]


def test_zot_accepts_the_generated_config(zot_binary: str, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    upstream = UpstreamInfo("http://127.0.0.1:5101", USER, PASSWORD)
    credentials.write_text(json.dumps(credentials_file(upstream)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(render_config(upstream, tmp_path / "storage", 5100, 10.0, credentials)))
    done = subprocess.run([zot_binary, "verify", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_it_logs_in_upstream_and_keeps_the_upstream_digests(
    zot: ZotTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    with OciClient(zot.url, timeout=15) as client:
        answers = client.pull(REPOSITORY, "v1")
        assert [answer.body_digest for answer in answers[1:]] == [image.digest, *image.blobs]
        assert client.manifest(REPOSITORY, image.digest).status == 200  # by the upstream's digest too
        assert zot.settle(client, REPOSITORY, [image.digest, *image.blobs]).complete
    journal = locked_upstream.journal()
    assert any(entry.kind == "token" and entry.auth == "basic" and entry.client == USER for entry in journal)
    served = [entry for entry in journal if entry.kind in ("manifest", "blob") and entry.status == 200]
    assert {entry.auth for entry in served} == {"bearer"}  # after one anonymous try that got the challenge
    assert zot.version() and zot.unverified() == []
    assert PASSWORD not in zot.logs()


def test_serves_the_cached_tag_while_the_upstream_refuses(
    zot: ZotTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    assert set(_pull(zot)) == {200}
    locked_upstream.set_outage("refused")
    assert set(_pull(zot)) == {200}


def test_restarting_forgets_a_retry_after_that_would_slow_every_later_request(
    zot_binary: str, locked_upstream: FakeUpstream, image: Image
) -> None:
    """A 503's Retry-After (30 s) on one repository holds back zot's next request to any repository."""
    other = locked_upstream.add_image("team/other", "v1", layers=[1024])
    target = _started(zot_binary, locked_upstream, timeout=3.0)
    try:
        assert set(_pull(target)) == {200}
        locked_upstream.add_fault("503", Match(repository=REPOSITORY, kind="manifest"))
        assert set(_pull(target)) == {200}, "stale, at once"
        started = time.monotonic()
        held = _pull(target, other.repository)  # a healthy repository, never pulled
        assert held != [200] * len(held) or time.monotonic() - started > 2.5, "held back by another's Retry-After"
        target.forget_upstream_failures()
        started = time.monotonic()
        assert set(_pull(target, other.repository)) == {200}
        assert time.monotonic() - started < 2.5
        assert set(_pull(target)) == {200}, "the restart kept the cache"
    finally:
        target.stop()


def test_a_kill_and_restart_keeps_the_storage_and_the_port(
    zot: ZotTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    assert set(_pull(zot)) == {200}
    url, pid = zot.url, zot.pid
    assert pid is not None and Path(f"/proc/{pid}/exe").resolve() == Path(zot.spec.peer_binary or "").resolve()
    zot.restart(kill=True)
    assert zot.url == url and zot.pid not in (None, pid), "a new process, which the soak's probe must read"
    locked_upstream.set_outage("refused")
    assert set(_pull(zot)) == {200}


def test_settling_waits_for_a_sync_its_client_gave_up_on(
    zot: ZotTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    layer = image.blobs[-1]
    locked_upstream.add_fault("slow", Match(kind="blob", reference=layer), rate=150_000)  # about 2 s
    with OciClient(zot.url, timeout=0.5) as impatient:
        assert impatient.manifest(REPOSITORY, "v1").status != 200
    with OciClient(zot.url, timeout=15) as client:
        settled = zot.settle(client, REPOSITORY, [image.digest, *image.blobs])
    assert settled.complete and settled.waited > 0.5, settled
    assert zot.unverified() == []
    locked_upstream.set_outage("refused")
    assert set(_pull(zot)) == {200}, "the sync went on without its client and cached the image"


@pytest.mark.parametrize("fault", ["corrupt", "truncate"])
def test_a_bad_blob_fails_the_whole_sync_and_nothing_is_cached(
    zot: ZotTarget, locked_upstream: FakeUpstream, image: Image, fault: str
) -> None:
    """The suite's blob cells ask for cold blobs, which zot never fetches alone: here the blob comes with its image."""
    layer = image.blobs[-1]
    fault_id = locked_upstream.add_fault(fault, Match(kind="blob", reference=layer))
    with OciClient(zot.url, timeout=15) as client:
        answers = client.pull(REPOSITORY, "v1")
        assert answers[0].status == 404 and len(answers) == 1, "no manifest is served for an image it could not copy"
        assert zot.settle(client, REPOSITORY, [image.digest, *image.blobs]).complete
    assert zot.unverified() == []
    assert not (zot.storage / REPOSITORY / "blobs" / "sha256" / layer.partition(":")[2]).exists()
    locked_upstream.clear_faults(fault_id)
    zot.forget_upstream_failures()  # a cut body's retries leave a backoff that fails the next pulls for a while
    assert set(_pull(zot)) == {200}
