from __future__ import annotations

from harness.redact import REDACTED, Redactor


def test_known_secrets_and_credential_shapes_are_scrubbed() -> None:
    redactor = Redactor(["hunter2-secret"])
    headers = redactor.headers({"Authorization": "Basic YWxpY2U6aHVudGVyMg==", "X-Note": "pw hunter2-secret"})
    assert headers == {"Authorization": f"Basic {REDACTED}", "X-Note": f"pw {REDACTED}"}
    assert "abc.def" not in redactor.text('{"token": "abc.def", "expires_in": 300}')
    assert "hunter2-secret" not in redactor.url("http://alice:hunter2-secret@host/token?password=x")


def test_challenges_are_not_secrets() -> None:
    challenge = 'Bearer realm="http://127.0.0.1:5000/token",service="fake"'
    assert Redactor().headers({"WWW-Authenticate": challenge}) == {"WWW-Authenticate": challenge}
