"""What every test package checks HTTP with: OCI error bodies, digests, and raw requests no client normalises."""

from __future__ import annotations

import hashlib
import socket
from urllib.parse import urlsplit

import httpx

from oci_wire import MANIFEST_ACCEPT, parse_error_body

ACCEPT = {"Accept": MANIFEST_ACCEPT}


def oci_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    """Assert a clean OCI error with this status (and code); returns the message."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    errors = parse_error_body(response.content)
    assert errors is not None, response.text[:300]
    if code is not None:
        assert errors[0][0] == code, errors
    return errors[0][1]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def raw_http(url: str, request: bytes, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as is (no client normalises its path) and read one response with a Content-Length."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body


def raw_request(url: str, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host = urlsplit(url).netloc
    return raw_http(url, f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
