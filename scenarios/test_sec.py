"""SEC: who may see what: the proxy's upstream credentials, other repositories' blobs, the file system."""

from __future__ import annotations

import base64

import pytest

from fake_upstream import Match
from harness.case import Case, digest_of
from harness.expect import kinds, label, predicate
from harness.observe import classify
from reports.model import Kind, Observation


@pytest.mark.rule("SEC-CREDS")
def test_credentials_never_leak(case: Case) -> None:
    case.require("credentials", "only a proxy that logs in to its upstream has credentials to leak")
    user, secret = case.world.credentials or ("", "")
    image = case.image()
    case.warm(image)
    cold = case.image()
    case.upstream.add_fault("401", Match(repository=cold.repository))
    case.request(cold, "tag", "GET")
    case.upstream.add_fault("token-fail", Match(kind="token"))
    case.request(case.image(), "tag", "GET")
    case.upstream.clear_faults()
    case.upstream.set_outage("refused")
    case.request(case.image(), "layer", "GET")
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    places = {"responses": "".join(_raw(e) for e in case.client.raw_answers), "proxy log": case.world.target.logs()}
    leaks = sorted(where for where, text in places.items() if secret in text or basic in text)
    observation = Observation(
        Kind.LEAKED if leaks else Kind.NO_LEAK,
        f"leaked({', '.join(leaks)})" if leaks else "no-leak",
        detail=f"searched {len(case.client.raw_answers)} responses and {len(places['proxy log'])} bytes of log",
    )
    case.check(observation, label("no-leak"))


def _raw(answer: object) -> str:
    headers = getattr(answer, "headers", {})
    body = getattr(answer, "body", b"")
    return " ".join(f"{k}: {v}" for k, v in headers.items()) + body.decode("latin-1")


@pytest.mark.rule("SEC-ISOLATION")
def test_blob_cached_via_one_repository_is_not_served_via_another(case: Case) -> None:
    private = case.image(layers=(40_000,))
    case.warm(private)
    other = case.image(layers=(41_000,))
    answer = case.client.blob(case.path(other), digest_of(private, "layer"))
    observation = classify(answer, asked=digest_of(private, "layer"))
    if observation.kind in (Kind.SERVED, Kind.SERVED_CACHED):
        observation = Observation(
            Kind.SERVED_ACROSS,
            "served-across",
            status=answer.status,
            detail="a blob the upstream has only in another repository was served",
        )
    case.check(observation, kinds(Kind.NOT_FOUND))


_BAD = {
    "dotdot-name": "/v2/../../../etc/manifests/latest",
    "encoded-dotdot": "/v2/%2e%2e/%2e%2e/etc/manifests/latest",
    "absolute-name": "/v2//etc/passwd/manifests/latest",
    "dotdot-digest": "/v2/{repo}/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd",
    "bad-digest": "/v2/{repo}/manifests/sha256:xyz",
    "unknown-algorithm": "/v2/{repo}/blobs/md5:d41d8cd98f00b204e9800998ecf8427e",
}


@pytest.mark.rule("SEC-PATH")
@pytest.mark.parametrize("shape", list(_BAD))
def test_hostile_paths(case: Case, shape: str) -> None:
    image = case.image()
    case.warm(image)
    answer = case.client.request("GET", _BAD[shape].format(repo=case.path(image)), raw_path=True)
    observation = classify(answer)
    case.check(
        observation,
        predicate(
            "clean 400 or 404 error", lambda o: o.kind in (Kind.CLEAN_ERROR, Kind.NOT_FOUND) and o.status in (400, 404)
        ),
    )
