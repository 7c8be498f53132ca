"""Plain-text renderings of a case: its exchanges, its upstream requests, and the whole of it.

HTML shows them in `<pre>` blocks; JUnit and Allure carry them as text. Input is expected redacted
(`reports.redact.results`), as every writer does first.
"""

from __future__ import annotations

import re

from reports import curl
from reports.model import CaseResult, Exchange, Observation, UpstreamRequest

# Control characters other than tab and newlines: shown as \xNN, never passed to a terminal or a page.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def exchange_text(exchange: Exchange) -> str:
    """One request and its answer, `curl -v` style: `>` what was sent, `<` what came back."""
    lines = [f"> {exchange.method} {exchange.url}"]
    lines += [f"> {name}: {value}" for name, value in exchange.request_headers.items()]
    timing = f"{exchange.seconds * 1000:.1f} ms"
    if exchange.status is not None:
        lines.append(f"< {exchange.status}  ({timing}, {exchange.body_bytes} body bytes)")
        lines += [f"< {name}: {value}" for name, value in exchange.response_headers.items()]
    if exchange.error:
        lines.append(f"! {exchange.error}  ({timing})")
    if exchange.body_excerpt:
        lines += ["", exchange.body_excerpt]
    return "\n".join(lines)


def upstream_lines(requests: list[UpstreamRequest]) -> list[str]:
    """What the upstream received, one line each, times relative to the first request."""
    if not requests:
        return []
    start = requests[0].time
    return [
        f"+{request.time - start:7.3f}s {request.method:<6} {request.path}  {request.status}  {request.bytes} B"
        f"  auth={request.auth}" + (f"  fault={request.fault}" if request.fault else "")
        for request in requests
    ]


def observation_facts(observation: Observation) -> list[tuple[str, str]]:
    """The observation's measured values that are present, as (name, value) pairs."""
    facts: list[tuple[str, str]] = [("kind", observation.kind)]
    if observation.status is not None:
        facts.append(("status", str(observation.status)))
    if observation.error_code:
        facts.append(("error code", observation.error_code))
    if observation.digest:
        facts.append(("digest", observation.digest))
    if observation.bytes is not None:
        facts.append(("bytes", str(observation.bytes)))
    if observation.seconds is not None:
        facts.append(("seconds", f"{observation.seconds:.3f}"))
    if observation.upstream:
        facts.append(("upstream", " ".join(f"{name}={n}" for name, n in observation.upstream.items())))
    return facts


def reproduce(case: CaseResult) -> str | None:
    """The curl command for the last client request of the case, if it made any."""
    return curl.command(case.transcripts.client[-1]) if case.transcripts.client else None


def case_summary(case: CaseResult) -> str:
    """The verdict, the expectation and the observation, as plain text."""
    gating = "gating" if case.gating else "not gating"
    lines = [
        f"{case.id}: {case.verdict.value} ({case.level}, {gating})",
        f"expected: {case.expected}",
        f"observed: {case.label}",
    ]
    if case.message:
        lines.append(f"message: {case.message}")
    if case.step:
        lines.append(f"at: {case.step}")
    lines += [f"note: {note}" for note in case.notes]
    if case.observation:
        lines += [f"  {name}: {value}" for name, value in observation_facts(case.observation)]
        if case.observation.detail:
            lines.append(f"  detail: {case.observation.detail}")
    return "\n".join(lines)


def case_text(case: CaseResult) -> str:
    """Everything about one case as plain text: for JUnit failures and Allure details."""
    lines = [case_summary(case)]
    command = reproduce(case)
    if command:
        lines += ["", "reproduce (last client request):", f"  {command}"]
    if case.transcripts.client:
        lines += ["", "client <-> proxy:"]
        for exchange in case.transcripts.client:
            lines += ["  " + line for line in exchange_text(exchange).splitlines()]
    if case.transcripts.upstream:
        lines += ["", "proxy <-> upstream:"]
        lines += ["  " + line for line in upstream_lines(case.transcripts.upstream)]
    return "\n".join(lines)
