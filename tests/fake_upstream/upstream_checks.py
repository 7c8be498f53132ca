"""What the fake upstream's tests share: OCI error checks, raw HTTP for paths clients would normalise, polling."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from oci_wire import MANIFEST_ACCEPT, parse_error_body

ACCEPT = {"Accept": MANIFEST_ACCEPT}

T = TypeVar("T")


def oci_error(response: httpx.Response, status: int, code: str) -> str:
    """Assert a clean OCI error with this status and code; the message."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    errors = parse_error_body(response.content)
    assert errors is not None, response.text
    assert errors[0][0] == code, errors
    return errors[0][1]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def raw_http(url: str, request: bytes, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as is (no client normalises its path) and read one response with a Content-Length."""
    parts = urlsplit(url)
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


def get_raw_path(url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    host = urlsplit(url).netloc
    return raw_http(url, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())


def eventually(probe: Callable[[], T | None], timeout: float = 5.0, interval: float = 0.01) -> T:
    """Poll `probe` until it returns something other than None, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        # Polling interval of a deadline-bounded wait, not synchronisation by sleeping.
        time.sleep(interval)
