"""A copy-paste `curl` command that repeats a client request against the proxy (credentials redacted)."""

from __future__ import annotations

import shlex

from reports import redact
from reports.model import Exchange

# Headers curl sets by itself, or that only describe the original connection: left out for readability.
_IMPLICIT = frozenset({"host", "content-length", "user-agent", "accept-encoding", "connection", "transfer-encoding"})


def command(exchange: Exchange) -> str:
    """`curl` for one exchange: HEAD as `-I`, blob GETs with the body discarded (it is binary)."""
    method = exchange.method.upper()
    parts = ["curl", "-sS", "-g"]  # -g: brackets in a URL are literal, not a curl range
    if method == "HEAD":
        parts.append("-I")
    elif method == "GET" and "/blobs/" in exchange.url:
        parts += ["-D", "-", "-o", "/dev/null"]
    else:
        parts.append("-i")
        if method != "GET":
            parts += ["-X", method]
    for name, value in redact.headers(exchange.request_headers).items():
        if name.lower() not in _IMPLICIT:
            parts += ["-H", f"{name}: {value}" if value else f"{name};"]
    parts.append(redact.url(exchange.url))
    return " ".join(_quote(part) for part in parts)


def _quote(part: str) -> str:
    # Printable text is shell-quoted; anything else cannot be pasted safely, so it is shown escaped.
    if not part.isprintable():
        part = part.encode("unicode_escape").decode("ascii")
    return shlex.quote(part)
