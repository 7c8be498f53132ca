"""What each request is journalled and matched as: a token request belongs to the repository of its scope."""

from __future__ import annotations

import httpx
import pytest

from fake_upstream import FakeUpstream, Match
from fake_upstream._faults import RequestInfo
from fake_upstream._routes import classify, scope_repository


@pytest.mark.parametrize(
    ("query", "repository"),
    [
        ("scope=repository:team/app:pull&service=x", "team/app"),
        ("service=x&scope=repository:team/app:pull,push", "team/app"),
        ("scope=repository:team/a:pull&scope=repository:team/b:pull", "team/a"),
        ("scope=repository%3Ateam%2Fapp%3Apull", "team/app"),
        ("scope=registry:catalog:*+repository:team/c:pull", "team/c"),
        ("scope=registry:catalog:*", None),
        ("scope=repository::pull", None),
        ("scope=repository:team/app", None),
        ("service=x", None),
        ("", None),
    ],
)
def test_a_token_request_names_the_repository_of_its_first_scope(query: str, repository: str | None) -> None:
    assert classify("GET", "/token", query) == RequestInfo("GET", "token", repository)


def test_scopes_split_on_spaces() -> None:
    assert scope_repository(["registry:catalog:* repository:team/d:pull"]) == "team/d"
    assert scope_repository([]) is None


def test_a_ping_has_no_repository() -> None:
    assert classify("GET", "/v2/") == RequestInfo("GET", "ping", None, None)


def test_token_requests_are_journalled_and_faulted_by_repository() -> None:
    with FakeUpstream(auth="token", users={"alice": "secret"}) as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_fault("token-fail", Match(kind="token", repository="team/a"), status=503)
        assert http.get("/token", params={"scope": "repository:team/b:pull"}).status_code == 200
        assert http.get("/token", params={"scope": "repository:team/a:pull"}).status_code == 503
        form = {"grant_type": "password", "username": "alice", "password": "secret", "service": "x"}
        assert http.post("/token", data={**form, "scope": "repository:team/b:pull"}).status_code == 200
        assert http.post("/token", data={**form, "scope": "repository:team/a:pull"}).status_code == 503
        assert http.get("/v2/").status_code == 401
        journalled = [(e.method, e.repository, e.fault) for e in upstream.journal()]
        assert journalled == [
            ("GET", "team/b", None),
            ("GET", "team/a", "token-fail"),
            ("POST", "team/b", None),
            ("POST", "team/a", "token-fail"),
            ("GET", None, None),
        ]
        assert [e.method for e in upstream.journal(repository="team/a")] == ["GET", "POST"]
