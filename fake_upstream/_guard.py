"""Who may use the control API: the holder of the control token, or else loopback clients, and never a web page.

Without a token the API trusts whoever is on this machine, and a browser is on it: a page could arm
faults with a cross-site POST of `text/plain` (no CORS preflight is needed for that), or read the
journal through a domain of its own that resolves to 127.0.0.1 (DNS rebinding). So a request body
must be declared JSON (always), and without a token a request must come from a loopback address,
name a loopback Host, and carry no Origin but a loopback one.
"""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlsplit

from starlette.responses import JSONResponse, Response
from starlette.types import Scope

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def deny(scope: Scope, token: str | None) -> Response | None:
    """The refusal this request gets, or None to let it through."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", []):
        headers.setdefault(name, value)
    if token is not None:
        sent = headers.get(b"authorization", b"")
        if not secrets.compare_digest(sent, f"Bearer {token}".encode()):
            return _refuse(401, "send the control token as 'Authorization: Bearer …'")
    else:
        if not _loopback_address((scope.get("client") or ("",))[0]):
            return _refuse(403, "the control API answers loopback clients only without --control-token")
        host = headers.get(b"host")
        if host is not None and not _loopback_name(_host_name(host.decode("latin-1"))):
            return _refuse(403, "the Host must be a loopback name or address without --control-token")
        origin = headers.get(b"origin")
        if origin is not None and not _loopback_origin(origin.decode("latin-1")):
            return _refuse(403, "requests from web pages (a foreign Origin) are refused without --control-token")
    content_type = headers.get(b"content-type")
    if scope.get("method") in _BODY_METHODS and content_type is not None and not _json_type(content_type):
        return _refuse(415, "a request body must be application/json (Content-Type)")
    return None


def _refuse(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status)


def _json_type(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


def _host_name(host: str) -> str:
    """The name in a Host value: without its port, and without the brackets of an IPv6 address."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _loopback_name(name: str) -> bool:
    name = name.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or _loopback_address(name)


def _loopback_address(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _loopback_origin(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        name = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and name is not None and _loopback_name(name)
