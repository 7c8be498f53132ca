"""Clients nobody here wrote accept the fake upstream as a registry: skopeo pushes and pulls, podman unpacks."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import need_peer
from http_checks import ACCEPT, sha256

from fake_upstream import FakeUpstream, Image
from fake_upstream._content import TarLayer

USERS = {"alice": "secret"}
CREDS = "alice:secret"
KINDS = {
    "docker": {"media_type": "docker", "platforms": None},
    "docker-list": {"media_type": "docker", "platforms": ["linux/amd64", "linux/arm64"]},
    "oci": {"media_type": "oci", "platforms": None},
    "oci-index": {"media_type": "oci", "platforms": ["linux/amd64", "linux/arm64/v8"]},
}


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[FakeUpstream, dict[str, Image]]]:
    with FakeUpstream(auth="token", users=USERS) as upstream:
        images = {
            kind: upstream.add_image(f"src/{kind}", "v1", layers=[2048, 30_000, 70_000], **options)  # type: ignore[arg-type]
            for kind, options in KINDS.items()
        }
        yield upstream, images


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment that reads no system or user container configuration and writes only under a temp dir."""
    home = tmp_path_factory.mktemp("containers-home")
    (home / "run").mkdir()
    (home / "tmp").mkdir()
    (home / "registries.conf").write_text("unqualified-search-registries = []\n")
    (home / "policy.json").write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    (home / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{home}/root"\nrunroot = "{home}/runroot"\n'
    )
    (home / "auth.json").write_text('{"auths": {}}')
    (home / "containers.conf").write_text('[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "TMPDIR": str(home / "tmp"),
        "CONTAINERS_REGISTRIES_CONF": str(home / "registries.conf"),
        "CONTAINERS_STORAGE_CONF": str(home / "storage.conf"),
        "CONTAINERS_CONF": str(home / "containers.conf"),
        "REGISTRY_AUTH_FILE": str(home / "auth.json"),
    }


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, f"{command}\n{result.stderr}"
    return result.stdout


def _skopeo(env: dict[str, str], *args: str) -> str:
    return _run([need_peer("skopeo"), "--insecure-policy", *args], env)


def _host(upstream: FakeUpstream) -> str:
    return upstream.url.removeprefix("http://")


def _digests_in(directory: Path) -> dict[str, str]:
    """What a `dir:` copy holds: file name -> sha256 of its bytes."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in directory.iterdir()}


def test_skopeo_copies_an_image_in_and_back_out_with_token_auth(
    registry: tuple[FakeUpstream, dict[str, Image]], isolated: dict[str, str], tmp_path: Path
) -> None:
    upstream, images = registry
    image, host = images["oci"], _host(upstream)
    layout, out = tmp_path / "layout", tmp_path / "out"
    _skopeo(isolated, "copy", "--src-tls-verify=false", "--src-creds", CREDS,
            f"docker://{host}/src/oci:v1", f"oci:{layout}:v1")  # fmt: skip
    upstream.clear_journal()
    _skopeo(isolated, "copy", "--dest-tls-verify=false", "--dest-creds", CREDS,
            f"oci:{layout}:v1", f"docker://{host}/pushed/app:v1")  # fmt: skip
    pushed = upstream.journal()
    assert {(e.method, e.kind) for e in pushed} >= {("POST", "upload"), ("PUT", "upload"), ("PUT", "manifest")}
    assert all(e.status < 500 for e in pushed)
    assert {(e.auth, e.client) for e in pushed if e.kind in ("upload", "manifest")} == {("bearer", "alice")}
    assert upstream.tags("pushed/app") == ["v1"]
    _skopeo(isolated, "copy", "--src-tls-verify=false", "--src-creds", CREDS,
            f"docker://{host}/pushed/app:v1", f"dir:{out}")  # fmt: skip
    held = _digests_in(out)
    assert held["manifest.json"] == image.digest.removeprefix("sha256:")
    blobs = {name: digest for name, digest in held.items() if name not in ("manifest.json", "version")}
    assert {f"sha256:{name}" for name in blobs} == set(image.blobs)
    assert all(name == digest for name, digest in blobs.items())
    with httpx.Client(base_url=upstream.url) as http:
        token = http.get("/token", params={"scope": "repository:pushed/app:pull"}, auth=("alice", "secret")).json()
        served = http.get(
            "/v2/pushed/app/manifests/v1", headers={**ACCEPT, "Authorization": f"Bearer {token['token']}"}
        )
    assert served.headers["docker-content-digest"] == image.digest == sha256(served.content)


def test_skopeo_copies_a_multi_platform_image_between_repositories(
    registry: tuple[FakeUpstream, dict[str, Image]], isolated: dict[str, str]
) -> None:
    upstream, images = registry
    host = _host(upstream)
    _skopeo(isolated, "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
            "--src-creds", CREDS, "--dest-creds", CREDS,
            f"docker://{host}/src/docker-list:v1", f"docker://{host}/pushed/list:v2")  # fmt: skip
    raw = _skopeo(
        isolated, "inspect", "--raw", "--tls-verify=false", "--creds", CREDS, f"docker://{host}/pushed/list:v2"
    )
    assert sha256(raw.encode()) == images["docker-list"].digest
    assert upstream.inventory()["repositories"]["pushed/list"]["blobs"] == sorted(images["docker-list"].blobs)


@pytest.mark.parametrize("kind", KINDS)
def test_skopeo_inspects_every_media_type(
    registry: tuple[FakeUpstream, dict[str, Image]], isolated: dict[str, str], kind: str
) -> None:
    upstream, images = registry
    image, reference = images[kind], f"docker://{_host(upstream)}/src/{kind}:v1"
    raw = _skopeo(isolated, "inspect", "--raw", "--tls-verify=false", "--creds", CREDS, reference)
    assert sha256(raw.encode()) == image.digest and json.loads(raw)["mediaType"] == image.media_type
    for arch in ("amd64", "arm64"):
        if arch == "arm64" and image.platforms[0].platform == "linux/amd64" and len(image.platforms) == 1:
            continue
        inspected = json.loads(
            _skopeo(isolated, "--override-arch", arch, "inspect", "--tls-verify=false", "--creds", CREDS, reference)
        )
        chosen = next(p for p in image.platforms if p.platform.split("/")[1] == arch)
        assert inspected["Digest"] == image.digest
        assert inspected["Architecture"] == arch and inspected["Os"] == "linux"
        assert inspected["Layers"] == [layer.digest for layer in chosen.layers]
        assert inspected["RepoTags"] == ["v1"]
    config = _skopeo(isolated, "inspect", "--config", "--raw", "--tls-verify=false", "--creds", CREDS, reference)
    assert sha256(config.encode()) in image.blobs


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """podman refuses a run root longer than 50 characters, which pytest's temp dirs are."""
    path = Path(tempfile.mkdtemp(prefix="pt-podman-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_podman_pulls_and_unpacks_one_platform(isolated: dict[str, str], short_dir: Path) -> None:
    podman = need_peer("podman")
    home = Path(isolated["HOME"])
    with FakeUpstream() as upstream:
        image = upstream.add_image(
            "library/alpine", "3", layers=[4096, 50_000], platforms=["linux/amd64", "linux/arm64"]
        )
        arm = image.platform("linux/arm64")
        base = [
            podman, "--root", str(short_dir / "root"), "--runroot", str(short_dir / "run"),
            "--tmpdir", str(short_dir / "tmp"), "--storage-driver", "vfs", "--cgroup-manager=cgroupfs",
            "--events-backend=file",
        ]  # fmt: skip
        reference = f"{_host(upstream)}/library/alpine:3"
        _run([*base, "pull", "--tls-verify=false", "--platform", "linux/arm64",
              "--signature-policy", str(home / "policy.json"), reference], isolated)  # fmt: skip
        inspected = json.loads(_run([*base, "image", "inspect", reference], isolated))[0]
        fetched = {(e.method, e.reference) for e in upstream.journal() if e.kind in ("manifest", "blob")}
    assert inspected["Architecture"] == "arm64" and inspected["Os"] == "linux"
    assert inspected["Id"] == arm.config.digest.removeprefix("sha256:")
    assert inspected["Digest"] == image.digest
    assert ("GET", arm.manifest) in fetched and ("GET", image.platform("linux/amd64").manifest) not in fetched
    # Unpacked: each layer's file is on disk (vfs keeps one directory per layer), with the size it was made with.
    unpacked = sorted((short_dir / "root" / "vfs" / "dir").glob("*/pullthrough/*.bin"))
    sizes = {path.name: path.stat().st_size for path in unpacked}
    assert len(sizes) == 2 and sorted(sizes.values()) == sorted(TarLayer(0, size).data_size for size in (4096, 50_000))
