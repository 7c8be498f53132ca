"""Credentials out of everything a report shows.

The harness redacts transcripts already; reports redact again, because a report is published and
must never carry a password or a token, whoever produced the results file.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reports.model import CaseResult, Exchange, Observation, Results, RunInfo, Transcripts, UpstreamRequest

REDACTED = "REDACTED"

_SECRET_NAME = re.compile(
    r"authorization|token|secret|passw|api[-_]?key|cookie|credential|signature|^sig$|^auth$|x-registry-auth",
    re.IGNORECASE,
)
_SCHEMES = ("bearer", "basic", "token", "negotiate", "digest", "aws4-hmac-sha256")
# A token after an auth scheme; the trailing guard keeps `Bearer realm="…"` (a challenge, not a secret) intact.
_SCHEME_TOKEN = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]+=*(?![A-Za-z0-9._~+/=\"-])", re.IGNORECASE)
_JSON_FIELD = re.compile(
    r"(\"(?:[a-z_]*token|password|passwd|secret|client_secret|auth|identitytoken|registrytoken)\"\s*:\s*)\"[^\"]*\"",
    re.IGNORECASE,
)
_PAIR = re.compile(
    r"\b([a-z_-]*token|password|passwd|secret|client_secret|api[-_]?key|signature)(\s*[=:]\s*)"
    r"(?!REDACTED\b)(?!\d{1,6}\b)(?!\")[^\s&\"',;]+",
    re.IGNORECASE,
)
_FLAG = re.compile(r"(--?[a-z-]*(?:password|token|secret)[a-z-]*)(=|\s+)(\S+)", re.IGNORECASE)
_CURL_USER = re.compile(r"(\s(?:-u|--user)\s+)(\S+)")
_USERS_FLAG = re.compile(r"--users?((?:=|\s+)[^\s:-][^\s:]*:\S+)+")
_USER_PASSWORD = re.compile(r"(^|=|\s)([^\s:=-][^\s:]*):\S+")
_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
# Every pattern above needs one of these; one search decides whether the others run at all.
_MAYBE = re.compile(r"bearer|basic|token|passw|secret|auth|api.?key|signature|-u\s|--user|://[^/@\s]+@", re.IGNORECASE)


def text(value: str) -> str:
    """Free text (bodies, error messages, command lines): secrets in any common spelling become REDACTED."""
    if not _MAYBE.search(value):
        return value
    value = _USERINFO.sub(rf"\1{REDACTED}@", value)
    value = _SCHEME_TOKEN.sub(rf"\1 {REDACTED}", value)
    value = _JSON_FIELD.sub(rf'\1"{REDACTED}"', value)
    value = _FLAG.sub(rf"\1\2{REDACTED}", value)
    value = _CURL_USER.sub(rf"\1{REDACTED}", value)
    value = _USERS_FLAG.sub(lambda match: _USER_PASSWORD.sub(rf"\1\2:{REDACTED}", match.group(0)), value)
    return _PAIR.sub(rf"\1\2{REDACTED}", value)


def url(value: str) -> str:
    """A URL without user info and without secret query parameters."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return text(value)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_NAME.search(name) for name, _ in pairs):
            query = urlencode([(name, REDACTED if _SECRET_NAME.search(name) else v) for name, v in pairs], safe="/:")
    return text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def header(name: str, value: str) -> str:
    if name.lower() == "www-authenticate":
        return text(value)  # a challenge names a realm, not a secret
    if _SECRET_NAME.search(name):
        scheme, _, rest = value.partition(" ")
        if rest and scheme.lower() in _SCHEMES:
            return f"{scheme} {REDACTED}"
        return REDACTED
    return text(value)


def headers(values: dict[str, str]) -> dict[str, str]:
    return {name: header(name, value) for name, value in values.items()}


def results(value: Results) -> Results:
    """The same results with every credential-bearing field redacted."""
    return replace(value, run=_run(value.run), cases=[_case(case) for case in value.cases])


def _run(run: RunInfo) -> RunInfo:
    return replace(
        run,
        command=text(run.command),
        target_url=url(run.target_url) if run.target_url else run.target_url,
        target_version=text(run.target_version) if run.target_version else run.target_version,
    )


def _case(case: CaseResult) -> CaseResult:
    return replace(
        case,
        message=text(case.message),
        params={name: text(v) for name, v in case.params.items()},
        observation=_observation(case.observation) if case.observation else None,
        transcripts=Transcripts(
            client=[_exchange(exchange) for exchange in case.transcripts.client],
            upstream=[_upstream(request) for request in case.transcripts.upstream],
        ),
    )


def _observation(observation: Observation) -> Observation:
    # The label is a classification made by the harness (what diffs compare), so it is left as it is.
    return replace(observation, detail=text(observation.detail))


def _exchange(exchange: Exchange) -> Exchange:
    return replace(
        exchange,
        url=url(exchange.url),
        request_headers=headers(exchange.request_headers),
        response_headers=headers(exchange.response_headers),
        body_excerpt=text(exchange.body_excerpt) if exchange.body_excerpt is not None else None,
        error=text(exchange.error) if exchange.error is not None else None,
    )


def _upstream(request: UpstreamRequest) -> UpstreamRequest:
    return replace(request, path=url(request.path), client=text(request.client))
