"""Tokens expire on command: all of them, or those whose scope names one repository."""

from __future__ import annotations

import re

import httpx
from http_checks import ACCEPT, oci_error

from fake_upstream import FakeUpstream, RemoteUpstream


def _token(http: httpx.Client, repository: str) -> dict[str, str]:
    answer = http.get("/token", params={"scope": f"repository:{repository}:pull", "service": "x"})
    return {"Authorization": f"Bearer {answer.json()['token']}", **ACCEPT}


def test_expired_tokens_are_challenged_again() -> None:
    with FakeUpstream(auth="token") as upstream, httpx.Client(base_url=upstream.url, timeout=5) as http:
        for name in ("team/a", "team/b"):
            upstream.add_image(name, "v1")
        a, b, again = _token(http, "team/a"), _token(http, "team/b"), _token(http, "team/a")
        assert all(
            http.get(f"/v2/{n}/manifests/v1", headers=h).status_code == 200 for n, h in [("team/a", a), ("team/b", b)]
        )
        assert upstream.expire_tokens("team/a") == 2
        refused = http.get("/v2/team/a/manifests/v1", headers=a)
        oci_error(refused, 401, "UNAUTHORIZED")
        challenge = refused.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and 'scope="repository:team/a:pull"' in challenge
        assert re.search(r'error="invalid_token"', challenge)
        assert http.get("/v2/team/a/manifests/v1", headers=again).status_code == 401
        assert http.get("/v2/team/b/manifests/v1", headers=b).status_code == 200  # another repository's
        assert http.get("/v2/team/a/manifests/v1", headers=_token(http, "team/a")).status_code == 200  # a new one
        assert upstream.expire_tokens("team/a") == 1 and upstream.expire_tokens("team/zzz") == 0
        assert upstream.expire_tokens() == 1  # b's; the rest expired already
        assert http.get("/v2/team/b/manifests/v1", headers=b).status_code == 401


def test_through_the_control_api() -> None:
    with FakeUpstream(auth="token") as upstream, httpx.Client(base_url=upstream.url, timeout=5) as http:
        upstream.add_image("team/a", "v1")
        a = _token(http, "team/a")
        with RemoteUpstream(upstream.url, upstream.control_url) as remote:
            assert remote.expire_tokens("team/other") == 0
            assert remote.expire_tokens("team/a") == 1
            assert remote.expire_tokens() == 0
        assert http.get("/v2/team/a/manifests/v1", headers=a).status_code == 401
        with httpx.Client(base_url=upstream.control_url + "/_control", timeout=5) as control:
            for bad in ({"repository": ""}, {"repository": 3}, {"who": "x"}):
                refused = control.post("/tokens/expire", json=bad)
                assert refused.status_code == 400 and refused.json()["error"]


def test_without_tokens_nothing_expires(upstream: FakeUpstream) -> None:
    assert upstream.expire_tokens() == 0
