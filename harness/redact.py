"""Credentials never leave a run: what the client records is scrubbed before anything is kept.

The patterns are the reports' (one definition of what a secret looks like); the harness adds the literal
secrets it knows, such as the upstream password of this run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reports import redact

REDACTED = redact.REDACTED


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self._literal(redact.header(name, value)) for name, value in headers.items()}

    def url(self, url: str) -> str:
        return self._literal(redact.url(url))

    def text(self, text: str) -> str:
        return self._literal(redact.text(text))

    def _literal(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text
