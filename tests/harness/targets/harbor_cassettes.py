"""Exchanges with a real Harbor, recorded once and replayed in CI (VCR.py through pytest-recording).

Recording (a Harbor at hand; the admin's password in the environment):

    PULLTHROUGH_HARBOR_URL=http://127.0.0.1:21580 PULLTHROUGH_HARBOR_PASSWORD=... \
        pytest tests/harness/targets/test_harbor_api.py --record-mode=rewrite

Replaying needs neither. What is recorded is cleaned first: Harbor's address becomes `HARBOR`, credentials
(Authorization headers, the endpoint's `access_secret`, Harbor's session cookie, bearer tokens) are replaced by
`<redacted>`, so a cassette holds no secret, only what Harbor said.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

import pytest

HARBOR = "http://harbor.test"  # Harbor's address in every cassette
REDACTED = "<redacted>"
_SECRETS = re.compile(r'("(?:access_secret|token|access_token|password)"\s*:\s*)"[^"]*"')


def recording(config: pytest.Config) -> bool:
    return config.getoption("--record-mode", default=None) not in (None, "none", "")


def harbor_url(config: pytest.Config) -> str:
    """The real Harbor when recording (PULLTHROUGH_HARBOR_URL), the cassettes' name for it when replaying."""
    if not recording(config):
        return HARBOR
    url = os.environ.get("PULLTHROUGH_HARBOR_URL")
    if not url:
        pytest.fail("recording Harbor cassettes needs PULLTHROUGH_HARBOR_URL and PULLTHROUGH_HARBOR_PASSWORD")
    return url.rstrip("/")


def harbor_password(config: pytest.Config) -> str:
    return os.environ.get("PULLTHROUGH_HARBOR_PASSWORD", "") if recording(config) else "replayed"


def vcr_settings(real_url: str) -> dict[str, Any]:
    """The VCR configuration: requests matched on method, path and query; everything recorded cleaned."""
    return {
        "filter_headers": [("authorization", REDACTED), ("cookie", REDACTED)],
        "match_on": ["method", "path", "query"],
        "decode_compressed_response": True,
        "before_record_request": _clean_request(real_url),
        "before_record_response": _clean_response(real_url),
    }


def _clean_request(real_url: str) -> Callable[[Any], Any]:
    def clean(request: Any) -> Any:
        request.uri = request.uri.replace(real_url, HARBOR)
        if request.body:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
            request.body = _SECRETS.sub(rf'\1"{REDACTED}"', body).encode()
        return request

    return clean


def _clean_response(real_url: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def clean(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in ("set-cookie", "www-authenticate", "location"):
                headers[name] = [value.replace(real_url, HARBOR) for value in headers[name]]
            if name.lower() == "set-cookie":
                headers[name] = [re.sub(r"=[^;]*", f"={REDACTED}", value, count=1) for value in headers[name]]
        body = response.get("body", {}).get("string")
        if body:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            if _looks_json(text):
                text = _SECRETS.sub(rf'\1"{REDACTED}"', text.replace(real_url, HARBOR))
                response["body"]["string"] = text.encode()
        return response

    return clean


def _looks_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
