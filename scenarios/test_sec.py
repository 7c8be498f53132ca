"""SEC: who may see what: the proxy's upstream credentials, other repositories' blobs, the file system."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from fake_upstream import Match
from harness.case import Case
from harness.client import Answer
from harness.content import digest_of
from harness.expect import kinds, label, predicate
from harness.observe import classify
from reports.model import Kind, Observation


@pytest.mark.rule("SEC-CREDS")
def test_credentials_never_leak(case: Case) -> None:
    case.require("credentials", "only a proxy that logs in to its upstream has credentials to leak")
    user, secret = case.world.credentials or ("", "")
    image = case.image()
    case.warm(image)
    refused = case.image()
    case.fault("401", Match(repository=refused.repository))
    case.request(refused, "tag", "GET")
    no_token = case.image()
    case.fault("token-fail", Match(kind="token", repository=no_token.repository))
    case.request(no_token, "tag", "GET")
    unreachable = case.image()
    case.fault("reset", Match(repository=unreachable.repository))
    case.request(unreachable, "layer", "GET")
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    places = {"responses": "".join(_raw(e) for e in case.client.raw_answers), "proxy log": case.world.target.logs()}
    leaks = sorted(where for where, text in places.items() if secret in text or basic in text)
    observation = Observation(
        Kind.LEAKED if leaks else Kind.NO_LEAK,
        f"leaked({', '.join(leaks)})" if leaks else "no-leak",
        detail=f"searched {len(case.client.raw_answers)} responses and {len(places['proxy log'])} bytes of log",
    )
    case.check(observation, label("no-leak"))


def _raw(answer: Answer) -> str:
    return " ".join(f"{k}: {v}" for k, v in answer.headers.items()) + answer.body.decode("latin-1")


@pytest.mark.rule("SEC-ISOLATION")
@pytest.mark.parametrize("upstream", ["unconfirmed", "confirmed"])
def test_blob_cached_via_one_repository_is_served_via_another_only_if_upstream_has_it(
    case: Case, upstream: str
) -> None:
    seed = secrets.randbits(32)
    private = case.image(layers=(40_000,), seed=seed)
    case.warm(private)
    # The same bytes in b (same seed and sizes) only where the upstream confirms b has the blob.
    other = case.image(layers=(40_000,) if upstream == "confirmed" else (41_000,), seed=seed)
    blob = digest_of(private, "layer")
    case.mark()
    answer = case.client.blob(case.path(other), blob)
    observation = classify(answer, asked=blob, upstream=case.upstream_requests())
    if upstream == "confirmed":
        case.check(observation, kinds(Kind.SERVED, Kind.SERVED_CACHED))
        return
    if observation.kind in (Kind.SERVED, Kind.SERVED_CACHED, Kind.SERVED_WITHOUT_DIGEST):
        observation = Observation(
            Kind.SERVED_ACROSS,
            "served-across",
            status=answer.status,
            detail="a blob the upstream has only in another repository was served",
        )
    case.check(
        observation,
        predicate(
            "a clean refusal (404, 401 or 403)",
            lambda o: o.kind in (Kind.NOT_FOUND, Kind.CLEAN_ERROR) and o.status in (401, 403, 404),
        ),
    )


_BAD = {
    "dotdot-name": "/v2/../../../etc/manifests/latest",
    "encoded-dotdot": "/v2/%2e%2e/%2e%2e/etc/manifests/latest",
    "absolute-name": "/v2//etc/passwd/manifests/latest",
    "dotdot-digest": "/v2/{repo}/blobs/sha256:..%2f..%2f..%2fetc%2fpasswd",
    "bad-digest": "/v2/{repo}/manifests/sha256:xyz",
    "unknown-algorithm": "/v2/{repo}/blobs/md5:d41d8cd98f00b204e9800998ecf8427e",
    "canary-name": "/v2/../../{canary}/manifests/latest",
    "canary-tag": "/v2/{repo}/manifests/..%2f..%2f..%2f..%2f{canary}",
}


@pytest.mark.rule("SEC-PATH")
@pytest.mark.parametrize("shape", list(_BAD))
def test_hostile_paths(case: Case, shape: str) -> None:
    image = case.image()
    case.warm(image)
    canary = _Canary.plant(case.world.target.cache_dir())
    answer = case.client.request("GET", _BAD[shape].format(repo=case.path(image), canary=canary.name), raw_path=True)
    observation = canary.judge(classify(answer), answer)
    case.check(
        observation,
        predicate(
            "clean 400 or 404 error; nothing outside the cache read or written",
            lambda o: o.kind in (Kind.CLEAN_ERROR, Kind.NOT_FOUND) and o.status in (400, 404),
        ),
    )


class _Canary:
    """A file beside the cache (for targets whose storage the harness knows): no answer may show its bytes, and
    nothing new may appear outside the cache."""

    def __init__(self, cache: Path | None, name: str, token: str) -> None:
        self.cache, self.name, self.token = cache, name, token
        self._before = self._outside()

    @classmethod
    def plant(cls, cache: Path | None) -> _Canary:
        name, token = f"canary-{secrets.token_hex(4)}", secrets.token_hex(16)
        if cache is not None:
            (cache.parent / name).write_text(token)
        return cls(cache, name, token)

    def judge(self, observation: Observation, answer: Answer) -> Observation:
        if self.token.encode() in answer.body:
            return Observation(
                Kind.TOUCHED_OUTSIDE, "touched-outside(read)", answer.status, detail="answered a file outside the cache"
            )
        written = sorted(set(self._outside()) - set(self._before))
        if written:
            return Observation(
                Kind.TOUCHED_OUTSIDE, "touched-outside(written)", answer.status, detail=f"new files: {written}"
            )
        return observation

    def _outside(self) -> list[str]:
        if self.cache is None or not self.cache.parent.is_dir():
            return []
        root = self.cache.parent
        return [
            str(p.relative_to(root))
            for p in root.rglob("*")
            if self.cache not in (p, *p.parents) and not p.name.endswith(".log")
        ]
