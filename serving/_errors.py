"""The OCI error answer both servers give: `{"errors":[{"code","message","detail"}]}` with the code's status."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from oci_wire import ErrorCode, error_body

API_VERSION = (b"docker-distribution-api-version", b"registry/2.0")


class OciError(Exception):
    """A clean error answer; each server raises its own subclass. `status` defaults to the code's own."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int | None = None,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or code.status
        self.detail = detail
        self.headers = headers or {}

    def response(self, *, head: bool = False) -> Response:
        """The answer; for HEAD, no body but the Content-Length of the one a GET would get."""
        body = error_body(self.code, self.message, self.detail)
        response = Response(b"" if head else body, self.status, self.headers, media_type="application/json")
        if head:
            response.headers["content-length"] = str(len(body))
        response.raw_headers.append(API_VERSION)
        return response


def raw_error(status: int, code: ErrorCode, message: str, server_header: bytes) -> bytes:
    """A whole HTTP/1.1 error answer that closes the connection, for a server that has no request to hand to
    its application (a head too long, or too slow to arrive)."""
    body = error_body(code, message)
    reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}.get(status, b"Error")
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"server: %s\r\n" % server_header,
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"%s: %s\r\n" % API_VERSION,
            b"connection: close\r\n\r\n",
            body,
        ]
    )
