"""Credentials never leave a run: headers, URLs and bodies are scrubbed before anything is recorded."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "[redacted]"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth"})
_BODY_PATTERNS = [
    re.compile(r'("(?:token|access_token|refresh_token|password|secret)"\s*:\s*")[^"]*(")', re.IGNORECASE),
    re.compile(r"((?:token|access_token|password|secret)=)[^&\s\"']+", re.IGNORECASE),
    re.compile(r"(\b(?:Basic|Bearer)\s+)[A-Za-z0-9._~+/=-]+"),
]


class Redactor:
    """Scrubs well-known credential shapes, plus any literal secret it is told about."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (REDACTED if k.lower() in _SECRET_HEADERS else self.text(v)) for k, v in headers.items()}

    def text(self, text: str) -> str:
        for pattern in _BODY_PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED + (m.group(2) if m.lastindex == 2 else ""), text)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text
