from __future__ import annotations

import pytest
from reports_factory import SECRETS, suite_results

from reports import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOi.payload.sig-x", "eyJhbGciOi.payload.sig-x"),
        ("Basic YWxpY2U6c2VjcmV0", "YWxpY2U6c2VjcmV0"),
        ('{"token": "abc123", "expires_in": 300}', "abc123"),
        ('{"access_token":"zz-top","refresh_token": "rr-1"}', "zz-top"),
        ("GET /token?account=a&access_token=qq77&scope=x", "qq77"),
        ("password: hunter2", "hunter2"),
        ("pullthrough proxy --upstream-password hunter2 --port 1", "hunter2"),
        ("pullthrough upstream --control-token=tok-42", "tok-42"),
        ("pullthrough upstream --users alice:pw-a bob:pw-b --auth basic", "pw-b"),
        ("curl -u bob:pw9 http://x", "pw9"),
        ("fetching https://alice:pw-in-url@registry.example/v2/", "pw-in-url"),
    ],
)
def test_text_removes_secrets(text: str, secret: str) -> None:
    cleaned = redact.text(text)
    assert secret not in cleaned
    assert redact.REDACTED in cleaned
    assert redact.text(cleaned) == cleaned  # idempotent: the harness may have redacted already


@pytest.mark.parametrize(
    "text",
    [
        'Bearer realm="http://127.0.0.1:5000/token",service="registry",scope="repository:a:pull"',
        "upstream-requests(GET blob=2) token=3",
        "clean-error(401 UNAUTHORIZED)",
        "--auth token --defect token-per-request",
        "sha256:0123456789abcdef",
    ],
)
def test_text_keeps_what_is_not_a_secret(text: str) -> None:
    assert redact.text(text) == text


def test_headers_keep_the_scheme_and_the_challenge() -> None:
    cleaned = redact.headers(
        {
            "Authorization": "Bearer abc.def",
            "Proxy-Authorization": "Basic xyz=",
            "WWW-Authenticate": 'Bearer realm="http://x/token"',
            "Cookie": "session=1",
            "X-Registry-Auth": "e30=",
            "Accept": "application/json",
        }
    )
    assert cleaned == {
        "Authorization": f"Bearer {redact.REDACTED}",
        "Proxy-Authorization": f"Basic {redact.REDACTED}",
        "WWW-Authenticate": 'Bearer realm="http://x/token"',
        "Cookie": redact.REDACTED,
        "X-Registry-Auth": redact.REDACTED,
        "Accept": "application/json",
    }


def test_url_drops_user_info_and_secret_parameters() -> None:
    cleaned = redact.url("https://alice:pw@reg.example:5000/v2/a/tags/list?n=2&token=t0k&last=b")
    assert cleaned == f"https://{redact.REDACTED}@reg.example:5000/v2/a/tags/list?n=2&token={redact.REDACTED}&last=b"
    assert redact.url("http://127.0.0.1:5000/v2/") == "http://127.0.0.1:5000/v2/"


def test_results_carry_no_planted_secret() -> None:
    results = suite_results()
    text = redact.results(results).to_json()
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked
    assert all(secret in results.to_json() for secret in SECRETS)  # they were there to begin with


def test_results_keep_labels_and_structure() -> None:
    results = suite_results()
    cleaned = redact.results(results)
    assert [case.id for case in cleaned.cases] == [case.id for case in results.cases]
    assert [case.label for case in cleaned.cases] == [case.label for case in results.cases]
