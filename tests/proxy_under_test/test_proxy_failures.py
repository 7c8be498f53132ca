"""Failures with nothing cached answer cleanly, name the cause and come in time (COLD-*); the proxy's
upstream credentials never show (SEC-CREDS)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from http_checks import ACCEPT, oci_error
from proxy_checks import TIMEOUT, Rig, rule_test, timed

from fake_upstream import Match
from proxy_under_test import ProxyConfig

LAYER = "sha256:" + "a" * 64


@rule_test("COLD-404", "cold-404-as-500")
@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("team/app/manifests/v9", "MANIFEST_UNKNOWN"),
        ("team/none/manifests/v1", "NAME_UNKNOWN"),
        (f"team/app/manifests/sha256:{'b' * 64}", "MANIFEST_UNKNOWN"),
        (f"team/app/blobs/{LAYER}", "BLOB_UNKNOWN"),
    ],
)
def test_unknown_upstream_is_404(tmp_path: Path, defects: frozenset[str], path: str, code: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        rig.upstream.add_image("team/app", "v1")
        oci_error(client.get(f"/v2/{path}", headers=ACCEPT), 404, code)


@rule_test("COLD-429", "cold-429-as-500")
@pytest.mark.parametrize("path", ["team/app/manifests/v1", f"team/app/blobs/{LAYER}"])
def test_rate_limit_is_passed_through(tmp_path: Path, defects: frozenset[str], path: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        rig.upstream.add_image("team/app", "v1")
        rig.upstream.add_fault("429")
        got = client.get(f"/v2/{path}", headers=ACCEPT)
        oci_error(got, 429, "TOOMANYREQUESTS")
        assert got.headers["retry-after"] == "30"


@rule_test("COLD-DOWN", "cold-down-as-404")
@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        ("refused", 502, "refused the connection"),
        ("reset", 502, "reset"),
        ("500", 502, "failed with 500"),
        ("502", 502, "failed with 502"),
        ("503", 503, "failed with 503"),
        ("504", 504, "failed with 504"),
    ],
)
def test_an_upstream_that_is_down_is_named(
    tmp_path: Path, defects: frozenset[str], failure: str, status: int, words: str
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        rig.upstream.add_image("team/app", "v1", layers=[2048])
        if failure in ("refused", "reset"):
            rig.upstream.set_outage(failure)  # type: ignore[arg-type]
        else:
            rig.upstream.add_fault(failure)
        for path in ("manifests/v1", f"blobs/{LAYER}"):
            got = client.get(f"/v2/team/app/{path}", headers=ACCEPT)
            message = oci_error(got, status, "UNAVAILABLE")
            assert words in message and rig.upstream.url in message, message
            if failure == "503":
                assert got.headers["retry-after"] == "30"


@pytest.mark.parametrize("path", ["manifests/v1", f"blobs/{LAYER}", "tags/list"])
def test_an_upstream_that_never_answers_is_504_in_time(tmp_path: Path, path: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(), timeout=TIMEOUT + 2)
        rig.upstream.set_outage("blackhole")
        with timed(TIMEOUT + 1):
            oci_error(client.get(f"/v2/team/app/{path}", headers=ACCEPT), 504, "UNAVAILABLE")


@rule_test("COLD-AUTH", "cold-auth-as-404")
@pytest.mark.parametrize("fault", ["401", "403", "token-fail", "wrong-password"])
def test_an_upstream_refusing_the_proxy_says_so(tmp_path: Path, defects: frozenset[str], fault: str) -> None:
    with Rig(tmp_path, auth="token", users={"alice": "secret"}) as rig:
        password = "wrong" if fault == "wrong-password" else "secret"
        client = rig.client(rig.proxy(defects, upstream_user="alice", upstream_password=password))
        rig.upstream.add_image("team/app", "v1")
        if fault != "wrong-password":
            rig.upstream.add_fault(fault)
        got = client.get("/v2/team/app/manifests/v1", headers=ACCEPT)
        words = "token endpoint" if fault == "token-fail" else "proxy's credentials"
        assert words in oci_error(got, 502, "UNAVAILABLE") and rig.upstream.url in got.text
        assert "www-authenticate" not in got.headers


@pytest.mark.parametrize(
    ("status", "answer", "words"),
    [
        (429, 429, "is rate-limiting the proxy (429)"),
        (404, 502, "answered 404"),
        (500, 502, "answered 500"),
        (503, 502, "answered 503"),
        (401, 502, "refused the proxy's credentials (401)"),
    ],
)
def test_a_token_endpoint_failing_is_named_for_what_it_is(tmp_path: Path, status: int, answer: int, words: str) -> None:
    """Issue 10 item 8: every token endpoint failure was "refused the proxy's credentials", a 429 too
    (answered 502, its Retry-After dropped)."""
    with Rig(tmp_path, auth="token", users={"alice": "secret"}) as rig:
        client = rig.client(rig.proxy(upstream_user="alice", upstream_password="secret"))
        rig.upstream.add_image("team/app", "v1")
        rig.upstream.add_fault("token-fail", status=status)
        for path in ("manifests/v1", f"blobs/{LAYER}", "tags/list"):
            got = client.get(f"/v2/team/app/{path}", headers=ACCEPT)
            message = oci_error(got, answer, "TOOMANYREQUESTS" if answer == 429 else "UNAVAILABLE")
            assert f"token endpoint {rig.upstream.url}/token" in message and words in message, message
            assert got.headers.get("retry-after") == ("30" if status == 429 else None)
            if status != 401:
                assert "credentials" not in message, message


@rule_test("SEC-CREDS", "leak-credentials")
@pytest.mark.parametrize("auth", ["basic", "token"])
def test_upstream_credentials_never_show(
    tmp_path: Path, defects: frozenset[str], auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    password = "pw-7f3a9c-do-not-print"
    caplog.set_level(logging.DEBUG)
    with Rig(tmp_path, auth=auth, users={"alice": "another"}) as rig:
        client = rig.client(rig.proxy(defects, upstream_user="alice", upstream_password=password))
        rig.upstream.add_image("team/app", "v1")
        answers = [
            client.request(method, f"/v2/team/app/{path}", headers=ACCEPT)
            for method in ("GET", "HEAD")
            for path in ("manifests/v1", f"blobs/{LAYER}", "tags/list")
        ]
        for answer in answers:
            assert answer.status_code == 502
            assert password not in answer.text and password not in str(answer.headers)
        assert password not in caplog.text
        config = ProxyConfig(
            upstream=rig.upstream.url, cache_dir=tmp_path, upstream_user="a", upstream_password=password
        )
        assert password not in repr(config)


def test_a_fault_that_clears_is_fetched_again(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        image = rig.upstream.add_image("team/app", "v1")
        rig.upstream.add_fault("503", Match(kind="manifest"), times=1)
        oci_error(client.get("/v2/team/app/manifests/v1", headers=ACCEPT), 503)
        assert client.get("/v2/team/app/manifests/v1", headers=ACCEPT).headers["docker-content-digest"] == image.digest
