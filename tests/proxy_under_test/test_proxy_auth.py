"""Upstream authentication: challenges discovered, Basic and token auth, tokens reused until they expire
(ECON-TOKEN)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from proxy_checks import Rig, pull, rule_test

from harness.poll import wait_until
from proxy_under_test._auth import Challenge, parse_challenge


@rule_test("ECON-TOKEN", "token-per-request")
def test_tokens_are_reused_until_they_expire(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path, auth="token", users={"alice": "secret"}) as rig:
        client = rig.client(rig.proxy(defects, upstream_user="alice", upstream_password="secret"))
        image = rig.upstream.add_image("team/app", "v1", layers=[2048, 4096], platforms=["linux/amd64", "linux/arm64"])
        pull(client, image)
        pull(client, image)
        tokens = rig.upstream_requests(kind="token")
        assert len(tokens) == 1, len(tokens)
        assert all(e.auth == "bearer" for e in rig.upstream_requests(kind="manifest")[1:])


def test_an_expired_token_is_renewed(tmp_path: Path) -> None:
    with Rig(tmp_path, auth="token", users={"alice": "secret"}, token_ttl=0.3) as rig:
        client = rig.client(rig.proxy(upstream_user="alice", upstream_password="secret"))
        image = rig.upstream.add_image("team/app", "v1")
        pull(client, image)
        first = len(rig.upstream_requests(kind="token"))
        issued = time.monotonic()
        wait_until(lambda: time.monotonic() > issued + 0.3, what="the token's lifetime to pass")
        pull(client, image)
        assert len(rig.upstream_requests(kind="token")) > first
        assert not [e for e in rig.upstream_requests(kind="manifest") if e.status == 401 and e.auth == "bearer"]


@pytest.mark.parametrize("auth", ["basic", "token"])
def test_the_proxy_logs_in_with_its_credentials(tmp_path: Path, auth: str) -> None:
    with Rig(tmp_path, auth=auth, users={"alice": "secret"}) as rig:
        client = rig.client(rig.proxy(upstream_user="alice", upstream_password="secret"))
        image = rig.upstream.add_image("private/app", "v1", layers=[2048])
        pull(client, image)
        served = [e for e in rig.upstream_requests() if e.status == 200 and e.kind in ("manifest", "blob")]
        assert served and all(e.client == "alice" for e in served)


def test_anonymous_token_auth_works_without_credentials(tmp_path: Path) -> None:
    with Rig(tmp_path, auth="token") as rig:
        client = rig.client(rig.proxy())
        pull(client, rig.upstream.add_image("library/alpine", "3", layers=[2048]))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
            Challenge("bearer", "https://auth.docker.io/token", "registry.docker.io"),
        ),
        ('bearer realm="http://h/t", service="s", scope="repository:a:pull"', Challenge("bearer", "http://h/t", "s")),
        ('Basic realm="x"', Challenge("basic")),
        ('Bearer realm="ftp://h/t"', None),
        ("Negotiate abc", None),
        ("", None),
    ],
)
def test_challenges(header: str, expected: Challenge | None) -> None:
    assert parse_challenge(header) == expected
