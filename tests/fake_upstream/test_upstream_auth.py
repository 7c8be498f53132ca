"""Auth modes as clients meet them: none, basic, and Docker Hub-style bearer tokens."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from http_checks import ACCEPT, oci_error

from fake_upstream import FakeUpstream, Match
from harness.poll import wait_until

USERS = {"alice": "secret", "bob": "hunter2"}


def _challenge(header: str) -> dict[str, str]:
    scheme, _, params = header.partition(" ")
    assert scheme == "Bearer"
    return dict(re.findall(r'(\w+)="([^"]*)"', params))


@pytest.fixture(scope="module")
def token_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(auth="token", users=USERS) as upstream:
        upstream.add_image("library/alpine", "3")
        yield upstream


@pytest.fixture(scope="module")
def http(token_upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=token_upstream.url, timeout=5) as client:
        yield client


def _token(http: httpx.Client, scope: str | None, auth: tuple[str, str] | None = None) -> str:
    params = {"service": "pullthrough-fake-upstream", **({"scope": scope} if scope else {})}
    response = http.get("/token", params=params, auth=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_no_auth_lets_everyone_in(upstream: FakeUpstream) -> None:
    upstream.add_image("open/app", "v1")
    with httpx.Client(base_url=upstream.url) as http:
        assert http.get("/v2/open/app/manifests/v1", headers=ACCEPT).status_code == 200
        assert http.get("/v2/").status_code == 200
    assert upstream.journal()[-1].auth == "none"


def test_basic_auth() -> None:
    with FakeUpstream(auth="basic", users=USERS) as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_image("team/app", "v1")
        anonymous = http.get("/v2/team/app/manifests/v1")
        oci_error(anonymous, 401, "UNAUTHORIZED")
        assert anonymous.headers["www-authenticate"].startswith("Basic realm=")
        oci_error(http.get("/v2/team/app/manifests/v1", auth=("alice", "wrong")), 401, "UNAUTHORIZED")
        oci_error(http.get("/v2/", headers={"Authorization": "Basic !!!"}), 401, "UNAUTHORIZED")
        assert http.get("/v2/team/app/manifests/v1", auth=("alice", "secret")).status_code == 200
        entry = upstream.journal()[-1]
        assert (entry.auth, entry.client) == ("basic", "alice")


def test_the_challenge_names_a_realm_on_the_same_host_and_port(
    token_upstream: FakeUpstream, http: httpx.Client
) -> None:
    ping = http.get("/v2/")
    oci_error(ping, 401, "UNAUTHORIZED")
    assert ping.headers["docker-distribution-api-version"] == "registry/2.0"
    challenge = _challenge(ping.headers["www-authenticate"])
    assert challenge == {"realm": f"{token_upstream.url}/token", "service": "pullthrough-fake-upstream"}
    manifest = http.get("/v2/library/alpine/manifests/3")
    body = manifest.json()["errors"][0]
    assert body["message"] == "authentication required"
    assert body["detail"] == [{"Type": "repository", "Name": "library/alpine", "Action": "pull"}]
    assert _challenge(manifest.headers["www-authenticate"])["scope"] == "repository:library/alpine:pull"
    push = http.post("/v2/library/alpine/blobs/uploads/")
    assert _challenge(push.headers["www-authenticate"])["scope"] == "repository:library/alpine:push"


def test_the_token_endpoint_answers_like_docker_hub(http: httpx.Client) -> None:
    before = datetime.now(UTC)
    response = http.get(
        "/token", params={"service": "pullthrough-fake-upstream", "scope": "repository:library/alpine:pull"}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"] and body["expires_in"] == 300
    issued = datetime.strptime(body["issued_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before.replace(microsecond=0) <= issued <= datetime.now(UTC)
    headers = {"Authorization": f"Bearer {body['token']}", **ACCEPT}
    assert http.get("/v2/library/alpine/manifests/3", headers=headers).status_code == 200
    assert http.get("/v2/", headers=headers).status_code == 200


def test_a_token_is_scoped(token_upstream: FakeUpstream, http: httpx.Client) -> None:
    token = _token(http, "repository:library/alpine:pull")
    headers = {"Authorization": f"Bearer {token}"}
    # Pull, not push; this repository, not another (Docker Hub: 401 insufficient_scope, not 404).
    upload = http.post("/v2/library/alpine/blobs/uploads/", headers=headers)
    oci_error(upload, 401, "UNAUTHORIZED")
    assert _challenge(upload.headers["www-authenticate"])["error"] == "insufficient_scope"
    other = http.get("/v2/library/busybox/manifests/1", headers=headers)
    assert _challenge(other.headers["www-authenticate"]) == {
        "realm": f"{token_upstream.url}/token",
        "service": "pullthrough-fake-upstream",
        "scope": "repository:library/busybox:pull",
        "error": "insufficient_scope",
    }


def test_anonymous_users_cannot_see_missing_repositories_but_users_get_a_404(http: httpx.Client) -> None:
    anonymous = _token(http, "repository:nobody/here:pull")
    missing = http.get("/v2/nobody/here/manifests/v1", headers={"Authorization": f"Bearer {anonymous}"})
    oci_error(missing, 401, "UNAUTHORIZED")
    assert _challenge(missing.headers["www-authenticate"])["error"] == "insufficient_scope"
    alice = _token(http, "repository:nobody/here:pull", auth=("alice", "secret"))
    oci_error(
        http.get("/v2/nobody/here/manifests/v1", headers={"Authorization": f"Bearer {alice}"}), 404, "NAME_UNKNOWN"
    )


def test_users_may_push_and_anonymous_clients_may_not(token_upstream: FakeUpstream, http: httpx.Client) -> None:
    anonymous = _token(http, "repository:team/new:pull,push")
    oci_error(
        http.post("/v2/team/new/blobs/uploads/", headers={"Authorization": f"Bearer {anonymous}"}), 401, "UNAUTHORIZED"
    )
    alice = _token(http, "repository:team/new:pull,push", auth=("alice", "secret"))
    started = http.post("/v2/team/new/blobs/uploads/", headers={"Authorization": f"Bearer {alice}"})
    assert started.status_code == 202
    entry = token_upstream.journal()[-1]
    assert (entry.auth, entry.client) == ("bearer", "alice")


def test_the_oauth2_password_grant_gives_a_token(http: httpx.Client) -> None:
    form = {
        "grant_type": "password",
        "username": "bob",
        "password": "hunter2",
        "service": "pullthrough-fake-upstream",
        "scope": "repository:library/alpine:pull repository:team/x:push",
        "client_id": "containerd",
    }
    response = http.post("/token", data=form)
    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {response.json()['access_token']}", **ACCEPT}
    assert http.get("/v2/library/alpine/manifests/3", headers=headers).status_code == 200
    oci_error(http.post("/token", data={**form, "password": "no"}), 401, "UNAUTHORIZED")


def test_wrong_credentials_at_the_token_endpoint(http: httpx.Client) -> None:
    oci_error(
        http.get("/token", params={"scope": "repository:library/alpine:pull"}, auth=("alice", "no")),
        401,
        "UNAUTHORIZED",
    )
    oci_error(http.get("/token", auth=("mallory", "secret")), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("token", ["garbage", "x" * 4000, "a b c"])
def test_an_unknown_token_is_invalid(http: httpx.Client, token: str) -> None:
    response = http.get("/v2/library/alpine/manifests/3", headers={"Authorization": f"Bearer {token}"})
    oci_error(response, 401, "UNAUTHORIZED")
    assert _challenge(response.headers["www-authenticate"])["error"] == "invalid_token"


def test_tokens_expire() -> None:
    with FakeUpstream(auth="token", token_ttl=0.3) as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_image("library/alpine", "3")
        token = _token(http, "repository:library/alpine:pull")
        headers = {"Authorization": f"Bearer {token}", **ACCEPT}
        assert http.get("/v2/library/alpine/manifests/3", headers=headers).status_code == 200

        def expired() -> httpx.Response | None:
            response = http.get("/v2/library/alpine/manifests/3", headers=headers)
            return response if response.status_code == 401 else None

        response = wait_until(expired, timeout=5)
        assert _challenge(response.headers["www-authenticate"])["error"] == "invalid_token"
        fresh = {"Authorization": f"Bearer {_token(http, 'repository:library/alpine:pull')}", **ACCEPT}
        assert http.get("/v2/library/alpine/manifests/3", headers=fresh).status_code == 200


def test_a_challenged_request_spends_no_fault(token_upstream: FakeUpstream, http: httpx.Client) -> None:
    fault = token_upstream.add_fault("503", Match(kind="manifest", repository="library/alpine"), times=1)
    try:
        assert http.get("/v2/library/alpine/manifests/3", headers=ACCEPT).status_code == 401  # no token yet
        headers = {**ACCEPT, "Authorization": f"Bearer {_token(http, 'repository:library/alpine:pull')}"}
        assert http.get("/v2/library/alpine/manifests/3", headers=headers).status_code == 503
        assert http.get("/v2/library/alpine/manifests/3", headers=headers).status_code == 200
    finally:
        token_upstream.clear_faults(fault)


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_non_ascii_passwords_are_compared_not_crashed_on() -> None:
    """compare_digest refuses str with non-ASCII characters: a 500 (issue 10, item 4)."""
    users = {"alice": "secret", "élodie": "mot-de-passe-é"}
    with FakeUpstream(auth="basic", users=users) as upstream, httpx.Client(base_url=upstream.url) as http:
        oci_error(http.get("/v2/", headers=_basic("alice", "é")), 401, "UNAUTHORIZED")
        oci_error(http.get("/v2/", headers=_basic("élodie", "mot-de-passe-e")), 401, "UNAUTHORIZED")
        assert http.get("/v2/", headers=_basic("élodie", "mot-de-passe-é")).status_code == 200
        latin1 = {"Authorization": b"Basic " + base64.b64encode("alice:é".encode("latin-1"))}
        oci_error(http.get("/v2/", headers=latin1), 401, "UNAUTHORIZED")


def test_a_non_ascii_password_in_the_token_form(http: httpx.Client) -> None:
    form = "grant_type=password&username=alice&password=%C3%A9&service=x&scope=repository:library/alpine:pull"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    oci_error(http.post("/token", content=form, headers=headers), 401, "UNAUTHORIZED")
    oci_error(http.post("/token", content=form.replace("%C3%A9", "%FF"), headers=headers), 401, "UNAUTHORIZED")
    oci_error(http.get("/token", headers=_basic("alice", "é")), 401, "UNAUTHORIZED")
