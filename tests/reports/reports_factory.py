"""Realistic `Results` for report tests and benchmarks: every verdict, every observation kind, the
suite's shape (~300 cases with transcripts), plus hostile strings and credentials to prove escaping
and redaction."""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from faker import Faker

from reports.model import (
    CaseResult,
    Exchange,
    Kind,
    Observation,
    Results,
    RunInfo,
    Transcripts,
    UpstreamRequest,
    Verdict,
)

# Secrets planted in the generated results; no report may contain any of them.
SECRETS = (
    "s3cr3t-bearer-9f8e7d",
    "hunter2-upstream",
    "tok-query-4242abcd",
    "json-token-77aa55",
    "alice-pw-xyz",
    "dXNlcjpwYXNzd29yZA==",
)
HOSTILE = '<script>alert("x")</script>'

KINDS = (
    "served-cached",
    "served-fresh",
    "served",
    "not-found",
    "clean-error",
    "unclean-error",
    "wrong-bytes",
    "partial",
    "hang",
    "connection-error",
    "upstream-requests",
    "tags-wrong",
)

_CELLS = ("tag-GET", "tag-HEAD", "digest-GET", "config-GET", "layer-GET", "layer-HEAD")
# rule: (family, level, title, expected, fault values)
_RULES: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "FRESH-1": (
        "FRESH",
        "documented",
        "tag cached, upstream unchanged",
        "served cached; no blob fetched again",
        ("none",),
    ),
    "FRESH-2": ("FRESH", "documented", "upstream re-pointed the tag", "the new manifest is served", ("none",)),
    "FRESH-3": ("FRESH", "documented", "cold pull of a whole image", "served, then served from cache", ("none",)),
    "FRESH-4": ("FRESH", "documented", "freshness check of a cached tag", "a manifest HEAD, never a GET", ("none",)),
    "FRESH-5": ("FRESH", "spec", "pull by digest of cached content", "no upstream request at all", ("none",)),
    "STALE-REFUSED": ("STALE", "documented", "upstream refuses connections", "served cached", ("refused",)),
    "STALE-RESET": ("STALE", "documented", "upstream resets connections", "served cached", ("reset",)),
    "STALE-BLACKHOLE": ("STALE", "documented", "upstream never answers", "served cached within T", ("blackhole",)),
    "STALE-5XX": ("STALE", "documented", "upstream answers 5xx", "served cached", ("500", "502", "503", "504")),
    "STALE-404": ("STALE", "documented", "deleted upstream", "served cached, cache keeps it", ("tag", "repository")),
    "STALE-429": ("STALE", "recommended", "upstream rate-limits", "served cached, no retry loop", ("429",)),
    "STALE-AUTH": (
        "STALE",
        "recommended",
        "upstream refuses credentials",
        "served cached",
        ("401", "403", "token-fail"),
    ),
    "STALE-HALF": ("STALE", "recommended", "HEAD ok, GET fails", "the old copy is still served", ("head-ok-get-fail",)),
    "COLD-404": ("COLD", "spec", "nothing cached, upstream 404", "404 MANIFEST_UNKNOWN/BLOB_UNKNOWN", ("404",)),
    "COLD-429": ("COLD", "recommended", "nothing cached, upstream 429", "429 with Retry-After", ("429",)),
    "COLD-DOWN": (
        "COLD",
        "recommended",
        "nothing cached, upstream down",
        "clean 502/503/504",
        ("refused", "reset", "503"),
    ),
    "COLD-BLACKHOLE": ("COLD", "recommended", "nothing cached, no answer", "clean 504 within T", ("blackhole",)),
    "COLD-AUTH": (
        "COLD",
        "recommended",
        "nothing cached, creds refused",
        "clean error naming the upstream",
        ("401", "403"),
    ),
    "COLD-NEVER-PARTIAL": ("COLD", "spec", "fault mid-body", "never a short 200", ("truncate", "reset")),
    "INTEG-CORRUPT": ("INTEG", "spec", "bytes differ from digest", "never a 200 under that digest", ("corrupt",)),
    "INTEG-TRUNCATE": ("INTEG", "spec", "blob cut short", "transfer fails visibly", ("truncate",)),
    "INTEG-LENGTH": ("INTEG", "spec", "Content-Length missing or wrong", "true Content-Length", ("omit", "lie")),
    "PROTO-HEAD": ("PROTO", "spec", "HEAD manifest and blob", "same headers as GET, no body", ("none",)),
    "PROTO-DIGEST-HEADER": ("PROTO", "spec", "any 200", "Docker-Content-Digest equals the body's", ("none",)),
    "PROTO-MEDIATYPE": (
        "PROTO",
        "spec",
        "four media types",
        "byte-identical",
        ("docker", "docker-list", "oci", "oci-index"),
    ),
    "PROTO-NO-PUSH": ("PROTO", "documented", "push and delete", "clean 405 or 403", ("POST", "PUT", "DELETE")),
    "INDEX-1": (
        "INDEX",
        "documented",
        "index and one platform",
        "both served from cache",
        ("linux/amd64", "linux/arm64"),
    ),
    "ECON-COALESCE": ("ECON", "recommended", "20 clients, one cold blob", "exactly 1 upstream GET", ("20",)),
    "ECON-TOKEN": ("ECON", "recommended", "token-auth upstream", "tokens reused", ("token",)),
    "SEC-CREDS": ("SEC", "recommended", "upstream credentials", "never shown", ("basic", "token")),
    "SEC-PATH": ("SEC", "spec", "hostile names", "clean 400/404", ("dotdot", "bad-digest")),
}


def make_results(
    *,
    seed: int = 5,
    target: str = "reference",
    size: int | None = None,
    hostile: bool = True,
    credentials: bool = True,
    fail_rate: float = 0.08,
) -> Results:
    """A run of every rule x cell (~300 cases), or the first `size` cases, reproducibly from `seed`."""
    fake = Faker()
    fake.seed_instance(seed)
    rng = random.Random(seed)
    cells = [
        (rule, fault, cell)
        for rule, (_, _, _, _, faults) in _RULES.items()
        for fault, cell in itertools.product(faults, _CELLS)
    ]
    if size is not None:
        cells = list(itertools.islice(itertools.cycle(cells), size)) if size > len(cells) else cells[:size]
    started = datetime(2025, 3, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=rng.randrange(86400))
    cases: list[CaseResult] = []
    seen: dict[str, int] = {}
    for n, (rule, fault, cell) in enumerate(cells):
        verdict = _verdict(rng, n, fail_rate, _RULES[rule][1])
        case_id = f"{rule}[{fault}-{cell}]"
        seen[case_id] = seen.get(case_id, 0) + 1
        if seen[case_id] > 1:
            case_id = f"{rule}[{fault}-{cell}-{seen[case_id]}]"
        cases.append(_case(fake, rng, n, rule, case_id, fault, cell, verdict, credentials))
    if hostile and cases:
        cases[-1] = _hostile(cases[-1])
    finished = started + timedelta(seconds=sum(case.duration for case in cases) + 1.5)
    password = f" --upstream-user alice --upstream-password {SECRETS[1]}" if credentials else ""
    run = RunInfo(
        target=target,
        profile="documented",
        strict=False,
        pullthrough_version="0.1.0",
        started_at=started.isoformat(),
        finished_at=finished.isoformat(),
        host=fake.hostname(),
        target_version=rng.choice(["2.8.2", "v2.14.1", None]),
        target_url=f"http://alice:{SECRETS[4]}@127.0.0.1:{rng.randrange(20000, 60000)}" if credentials else None,
        defects=[],
        python="3.11.2",
        command=f"pullthrough run --target {target}{password}",
    )
    return Results(run=run, cases=cases)


def with_labels(results: Results, labels: dict[str, str]) -> Results:
    """The same run with some cases' observation labels replaced (a behaviour change)."""
    cases = [
        replace(case, observation=replace(case.observation, label=labels[case.id]))
        if case.id in labels and case.observation
        else case
        for case in results.cases
    ]
    return replace(results, cases=cases)


def _verdict(rng: random.Random, n: int, fail_rate: float, level: str) -> Verdict:
    if n < len(Verdict):
        return list(Verdict)[n]  # every verdict at least once
    roll = rng.random()
    if roll < fail_rate:
        return Verdict.DEVIATION if level == "recommended" else Verdict.FAIL
    if roll < fail_rate + 0.01:
        return Verdict.ERROR
    if roll < fail_rate + 0.04:
        return Verdict.SKIP
    return Verdict.PASS


def _case(
    fake: Faker,
    rng: random.Random,
    n: int,
    rule: str,
    case_id: str,
    fault: str,
    cell: str,
    verdict: Verdict,
    credentials: bool,
) -> CaseResult:
    family, level, title, expected, _ = _RULES[rule]
    ref, _, method = cell.partition("-")
    repository = f"{fake.word()}/{fake.word()}"
    digest = "sha256:" + hashlib.sha256(f"{case_id}".encode()).hexdigest()
    kind = KINDS[n % len(KINDS)] if n < 3 * len(KINDS) else _kind_for(verdict, rng)
    observation = None if verdict is Verdict.SKIP and n % 2 else _observation(kind, digest, rng, fake)
    client = [_exchange(fake, rng, repository, ref, m, digest, credentials, i) for i, m in enumerate(("HEAD", method))]
    if kind in ("clean-error", "unclean-error"):
        client.append(_error_exchange(repository, digest, credentials))
    upstream = _journal(rng, repository, ref, digest, fault)
    return CaseResult(
        id=case_id,
        rule=rule,
        family=family,
        level=level,
        title=title,
        params={"fault": fault, "ref": ref, "method": method},
        expected=expected,
        verdict=verdict,
        gating=level != "recommended",
        duration=round(rng.uniform(0.01, 0.9), 4),
        message=fake.sentence() if verdict is not Verdict.PASS else "",
        observation=observation,
        transcripts=Transcripts(client=client, upstream=upstream),
    )


def _kind_for(verdict: Verdict, rng: random.Random) -> str:
    if verdict is Verdict.PASS:
        return rng.choice(["served-cached", "served-fresh", "served", "not-found", "upstream-requests"])
    return rng.choice(["not-found", "clean-error", "unclean-error", "wrong-bytes", "partial", "hang"])


def _observation(kind: str, digest: str, rng: random.Random, fake: Faker) -> Observation:
    status = {"served-cached": 200, "served-fresh": 200, "served": 200, "not-found": 404, "clean-error": 503}
    code = {"not-found": "MANIFEST_UNKNOWN", "clean-error": "UNAVAILABLE"}.get(kind)
    upstream = {"HEAD manifest": rng.randrange(3), "GET blob": rng.randrange(3)}
    qualifier = {
        "clean-error": "(503 UNAVAILABLE)",
        "not-found": "(404 MANIFEST_UNKNOWN)",
        "upstream-requests": f"(GET blob={upstream['GET blob']})",
    }.get(kind, "")
    return Observation(
        kind=kind,
        label=kind + qualifier,
        status=status.get(kind),
        error_code=code,
        digest=digest if kind.startswith("served") else None,
        bytes=rng.randrange(200, 1 << 20) if kind.startswith("served") else None,
        seconds=round(rng.uniform(0.001, 0.3), 4),
        detail=fake.sentence(),
        upstream=upstream,
    )


def _exchange(
    fake: Faker, rng: random.Random, repository: str, ref: str, method: str, digest: str, credentials: bool, i: int
) -> Exchange:
    kind = "blobs" if ref in ("config", "layer") else "manifests"
    reference = "latest" if ref == "tag" else digest
    query = f"?access_token={SECRETS[2]}" if credentials and i == 1 else ""
    headers = {"Accept": "application/vnd.oci.image.manifest.v1+json", "User-Agent": "pullthrough/0.1.0"}
    if credentials:
        headers["Authorization"] = f"Bearer {SECRETS[0]}"
    return Exchange(
        method=method,
        url=f"http://127.0.0.1:{5000 + rng.randrange(1000)}/v2/{repository}/{kind}/{reference}{query}",
        request_headers=headers,
        status=200,
        response_headers={
            "Content-Type": "application/vnd.oci.image.manifest.v1+json",
            "Docker-Content-Digest": digest,
            "Content-Length": str(rng.randrange(400, 4000)),
            "Date": fake.date_time(tzinfo=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        },
        body_bytes=0 if method == "HEAD" else rng.randrange(400, 4000),
        body_excerpt=None
        if method == "HEAD" or kind == "blobs"
        else '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}',
        seconds=round(rng.uniform(0.0005, 0.05), 5),
    )


def _error_exchange(repository: str, digest: str, credentials: bool) -> Exchange:
    token = f', "token": "{SECRETS[3]}"' if credentials else ""
    return Exchange(
        method="GET",
        url=f"http://127.0.0.1:5001/v2/{repository}/manifests/latest",
        request_headers={"Authorization": f"Basic {SECRETS[5]}"} if credentials else {},
        status=503,
        response_headers={"Content-Type": "application/json", "Retry-After": "1"},
        body_bytes=120,
        body_excerpt='{"errors":[{"code":"UNAVAILABLE","message":"upstream unavailable"' + token + "}]}",
        error=None,
        seconds=0.012,
    )


def _journal(rng: random.Random, repository: str, ref: str, digest: str, fault: str) -> list[UpstreamRequest]:
    t = 1_700_000_000 + rng.random() * 1000
    entries = []
    for i in range(rng.randrange(2, 7)):
        t += rng.uniform(0.0005, 0.02)
        path = f"/v2/{repository}/manifests/latest" if i % 2 == 0 else f"/v2/{repository}/blobs/{digest}"
        injected = fault if i == 1 and fault not in ("none", "tag") else None
        entries.append(
            UpstreamRequest(
                time=round(t, 6),
                method="HEAD" if i == 0 else "GET",
                path=path,
                status=503 if injected else 200,
                bytes=0 if i == 0 else rng.randrange(400, 1 << 16),
                auth=rng.choice(["none", "basic", "bearer"]),
                client="127.0.0.1",
                fault=injected,
            )
        )
    return entries


def _hostile(case: CaseResult) -> CaseResult:
    """Markup, quotes and shell metacharacters wherever a string goes."""
    assert case.observation is not None or case.verdict is Verdict.SKIP
    observation = case.observation or Observation(kind=Kind.SERVED, label="x")
    return replace(
        case,
        id=f"{case.rule}[{HOSTILE}-'quote\"]",
        title=f"title {HOSTILE}",
        verdict=Verdict.FAIL,
        gating=True,
        message=f"message </pre></code>{HOSTILE} & <b>bold</b> | pipe `tick` *star*",
        params={**case.params, "evil": f"\"'{HOSTILE}$(rm -rf /)"},
        expected=f"expected {HOSTILE} | pipe",
        observation=replace(observation, kind=Kind.CLEAN_ERROR, label=f"clean-error(<i>{HOSTILE}</i>)", detail=HOSTILE),
        transcripts=replace(
            case.transcripts,
            client=[
                *case.transcripts.client,
                Exchange(
                    method="GET",
                    url="http://127.0.0.1:5001/v2/evil/manifests/%3Cscript%3E?q='$(id)'",
                    request_headers={"X-Evil": f"{HOSTILE}'\"", "Accept": "*/*"},
                    status=400,
                    body_excerpt=f"{HOSTILE}\x00\x1b[31m",
                    error=f"error {HOSTILE}",
                ),
            ],
        ),
    )


@functools.cache
def suite_results() -> Results:
    """A whole suite's worth of cases (300): every verdict and kind, hostile strings, planted credentials."""
    return make_results()


@functools.cache
def few_results() -> Results:
    """Forty cases, still covering every verdict and observation kind, with the hostile case."""
    return make_results(size=40, seed=11)
