"""Without a control token, the control API answers only what no web page can send: CSRF and DNS rebinding.

A page in the user's browser could arm faults with a `text/plain` POST (no preflight) or, through a
domain that resolves to 127.0.0.1, read the journal (issue 10, item 10).
"""

from __future__ import annotations

import httpx
import pytest

from fake_upstream import FakeUpstream


def _post(upstream: FakeUpstream, headers: dict[str, str], body: bytes = b'{"fault": "503"}') -> httpx.Response:
    return httpx.post(f"{upstream.control_url}/_control/faults", content=body, headers=headers, timeout=5)


def test_a_cross_site_form_post_arms_nothing(upstream: FakeUpstream) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        refused = _post(upstream, {"Content-Type": content_type})
        assert refused.status_code == 415 and "application/json" in refused.json()["error"]
    assert upstream.faults() == []
    assert _post(upstream, {"Content-Type": "application/json"}).status_code == 201
    assert _post(upstream, {"Content-Type": "application/vnd.example+json; charset=utf-8"}).status_code == 201
    assert httpx.post(f"{upstream.control_url}/_control/reset", timeout=5).status_code == 204  # no body, no type


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example:5001", "file://"])
def test_a_foreign_origin_is_refused(upstream: FakeUpstream, origin: str) -> None:
    refused = _post(upstream, {"Content-Type": "application/json", "Origin": origin})
    assert refused.status_code == 403 and "Origin" in refused.json()["error"]
    read = httpx.get(f"{upstream.control_url}/_control/journal", headers={"Origin": origin}, timeout=5)
    assert read.status_code == 403 and upstream.faults() == []


@pytest.mark.parametrize("origin", ["http://127.0.0.1:5001", "http://localhost:8080", "http://[::1]:5001"])
def test_a_loopback_origin_is_fine(upstream: FakeUpstream, origin: str) -> None:
    assert _post(upstream, {"Content-Type": "application/json", "Origin": origin}).status_code == 201


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5001", "127.0.0.1.nip.io:5001", "10.0.0.1", ""])
def test_a_host_that_is_not_loopback_is_refused(upstream: FakeUpstream, host: str) -> None:
    """DNS rebinding: the page's own domain, resolving to 127.0.0.1, is what the browser sends as Host."""
    refused = httpx.get(f"{upstream.control_url}/_control/journal", headers={"Host": host}, timeout=5)
    assert refused.status_code == 403 and "Host" in refused.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:5001", "localhost", "localhost:5001", "[::1]:5001", "127.9.9.9"])
def test_a_loopback_host_is_fine(upstream: FakeUpstream, host: str) -> None:
    assert httpx.get(f"{upstream.control_url}/_control/journal", headers={"Host": host}, timeout=5).status_code == 200


def test_with_a_token_the_token_is_the_guard() -> None:
    """Behind a token (a control API reached from other machines), any Host and Origin may come with it."""
    with FakeUpstream(control_token="s3cret") as upstream:
        headers = {"Authorization": "Bearer s3cret", "Host": "ci-runner.internal:5001", "Origin": "http://ci"}
        assert _post(upstream, {**headers, "Content-Type": "application/json"}).status_code == 201
        assert _post(upstream, {**headers, "Content-Type": "text/plain"}).status_code == 415
