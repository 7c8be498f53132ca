"""The distribution target: Debian's docker-registry in proxy mode, in front of a fake upstream that needs a login."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_peer

from fake_upstream import FakeUpstream, Image
from harness.client import Answer, OciClient
from harness.spec import RunSpec
from harness.targets import TargetError, UpstreamInfo, make_target
from harness.targets.distribution import DistributionTarget, environment, major_version, parse_version, render_config

REPOSITORY = "team/app"
USER = "alice"
PASSWORD = 's3cr"et: #1 \\ {x}'  # characters YAML could trip on


@pytest.fixture
def locked_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(auth="token", users={USER: PASSWORD}) as fake:
        yield fake


@pytest.fixture
def image(locked_upstream: FakeUpstream) -> Image:
    return locked_upstream.add_image(REPOSITORY, "v1", layers=[4096, 300_000])


@pytest.fixture
def registry(locked_upstream: FakeUpstream) -> Iterator[DistributionTarget]:
    need_peer("docker-registry")
    target = DistributionTarget(RunSpec(target="distribution"))
    target.start(UpstreamInfo(locked_upstream.url, USER, PASSWORD))
    try:
        yield target
    finally:
        target.stop()


def pull(target: DistributionTarget) -> list[Answer]:
    with OciClient(target.url, timeout=5) as client:
        return client.pull(REPOSITORY, "v1")


def settle(target: DistributionTarget, image: Image) -> None:
    with OciClient(target.url, timeout=5) as client:
        target.settle(client, REPOSITORY, [image.digest, *image.blobs])


def served(answers: list[Answer]) -> list[str | None]:
    """The digests of the bodies the GETs of a pull got (the first answer is the manifest HEAD)."""
    assert [answer.status for answer in answers] == [200] * len(answers)
    return [answer.body_digest for answer in answers[1:]]


def test_pulls_through_with_the_upstream_login(
    registry: DistributionTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    assert served(pull(registry)) == [image.digest, *image.blobs]
    journal = locked_upstream.journal()
    tokens = [entry for entry in journal if entry.kind == "token"]
    assert tokens and all(entry.auth == "basic" and entry.client == USER for entry in tokens)
    content = [entry for entry in journal if entry.kind in ("manifest", "blob")]
    assert content and all(entry.auth == "bearer" and entry.status == 200 for entry in content)


def test_serves_the_cached_tag_while_the_upstream_refuses(
    registry: DistributionTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    pull(registry)
    settle(registry, image)
    locked_upstream.set_outage("refused")
    assert served(pull(registry)) == [image.digest, *image.blobs]


def test_a_kill_and_restart_keeps_the_storage_and_the_port(
    registry: DistributionTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    pull(registry)
    settle(registry, image)
    url = registry.url
    registry.restart(kill=True)
    assert registry.url == url
    locked_upstream.clear_journal()
    assert served(pull(registry)) == [image.digest, *image.blobs]
    assert not [entry for entry in locked_upstream.journal() if entry.kind == "blob"]


def test_an_upstream_down_at_start_is_a_one_line_error(locked_upstream: FakeUpstream) -> None:
    need_peer("docker-registry")
    locked_upstream.set_outage("refused")
    target = DistributionTarget(RunSpec(target="distribution"))
    with pytest.raises(TargetError) as raised:
        target.start(UpstreamInfo(locked_upstream.url, USER, PASSWORD))
    message = str(raised.value)
    assert message.startswith("docker-registry exited at start: panic: ")
    assert "connection refused" in message and "\n" not in message
    with pytest.raises(TargetError):
        target.storage  # noqa: B018 - nothing is left behind


def test_a_failed_restart_keeps_the_storage_for_the_next(
    registry: DistributionTarget, locked_upstream: FakeUpstream, image: Image
) -> None:
    pull(registry)
    settle(registry, image)
    locked_upstream.set_outage("refused")
    with pytest.raises(TargetError, match="panic: "):
        registry.restart(kill=False)
    locked_upstream.set_outage("none")
    registry.restart(kill=False)
    locked_upstream.set_outage("refused")
    assert served(pull(registry)) == [image.digest, *image.blobs]


def test_a_missing_binary_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    target = make_target(RunSpec(target="distribution"))
    with pytest.raises(TargetError) as raised:
        target.start(UpstreamInfo("http://127.0.0.1:9"))
    assert str(raised.value) == "docker-registry is not installed: sudo apt-get install -y docker-registry"
    assert target.version() is None


def test_it_declares_what_it_can_do(registry: DistributionTarget) -> None:
    assert registry.capabilities == {"credentials", "restart", "logs", "storage"}
    assert registry.upstream_timeout is None
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", registry.version() or "")


def test_its_logs_outlive_it(registry: DistributionTarget, image: Image) -> None:
    pull(registry)
    registry.stop()
    assert f'"GET /v2/{REPOSITORY}/manifests/v1 HTTP/1.1" 200' in registry.logs()


def test_the_config_quotes_every_value() -> None:
    yaml = pytest.importorskip("yaml")
    text = render_config(UpstreamInfo("http://127.0.0.1:5101", 'a"b', PASSWORD), Path("/tmp/a b/#c"), 5100)
    config = yaml.safe_load(text)
    assert config["proxy"] == {"remoteurl": "http://127.0.0.1:5101", "username": 'a"b', "password": PASSWORD}
    assert config["storage"]["filesystem"]["rootdirectory"] == "/tmp/a b/#c"
    assert config["storage"]["delete"] == {"enabled": True}
    assert config["http"]["addr"] == "127.0.0.1:5100"
    anonymous = yaml.safe_load(render_config(UpstreamInfo("http://127.0.0.1:5101"), Path("/s"), 5100))
    assert anonymous["proxy"] == {"remoteurl": "http://127.0.0.1:5101"}


def test_the_config_follows_the_major_version() -> None:
    yaml = pytest.importorskip("yaml")
    upstream = UpstreamInfo("http://127.0.0.1:5101", "alice", "pw")
    two = yaml.safe_load(render_config(upstream, Path("/s"), 5100, major=2))
    three = yaml.safe_load(render_config(upstream, Path("/s"), 5100, major=3))
    assert "ttl" not in two["proxy"] and len(two["http"]["secret"]) == 32  # 2.8 hard-codes 7 days; warns without
    assert three["proxy"] == {**two["proxy"], "ttl": "168h"}  # v3 takes the same 7 days as a key
    assert "secret" not in three["http"]  # ignored by v3 in proxy mode
    assert {k: v for k, v in two.items() if k not in ("http", "proxy")} == {
        k: v for k, v in three.items() if k not in ("http", "proxy")
    }
    assert environment(2) == {} and environment(3) == {"OTEL_TRACES_EXPORTER": "none"}


@pytest.mark.parametrize(
    ("text", "release", "major"),
    [
        ("2.8.2+ds1", (2, 8, 2), 2),  # Debian
        ("3.1.1", (3, 1, 1), 3),  # a release build
        ("v3.1.1+unknown", (3, 1, 1), 3),  # `make binaries` (the Makefile loses the version it was given)
        ("v3.0.0-rc.3", (3, 0, 0), 3),
        ("4.0.0", (4, 0, 0), 4),
        ("1.0.0", (1, 0, 0), None),
        ("unknown", None, None),
        ("3.1", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_versions_are_read_as_builds_report_them(text: str | None, release: tuple[int, ...], major: int) -> None:
    assert parse_version(text) == release
    assert major_version(text) == major


def _fake_registry(directory: Path, says: str) -> str:
    """A program that answers --version as a registry build does (nothing else is asked of it here)."""
    directory.mkdir()
    program = directory / "registry"
    program.write_text(f"#!/bin/sh\necho '{says}'\n")
    program.chmod(0o755)
    return str(program)


def test_the_binary_given_is_the_one_asked(tmp_path: Path) -> None:
    program = _fake_registry(tmp_path / "make", "registry github.com/distribution/distribution/v3 v3.1.1+unknown")
    target = make_target(RunSpec(target="distribution", peer_binary=program))
    assert target.version() == "v3.1.1+unknown"
    DistributionTarget.preflight(target.spec)
    silent = _fake_registry(tmp_path / "silent", "no version here")
    with pytest.raises(TargetError, match="does not say which distribution"):
        DistributionTarget.preflight(RunSpec(target="distribution", peer_binary=silent))
    with pytest.raises(TargetError, match="no executable file there"):
        DistributionTarget.preflight(RunSpec(target="distribution", peer_binary=str(tmp_path / "none")))
