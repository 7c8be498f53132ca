"""The error a handler raises, and how it is answered: an OCI error body with the right status."""

from __future__ import annotations

from starlette.responses import Response

from oci_wire import ErrorCode, error_body

API_VERSION = (b"docker-distribution-api-version", b"registry/2.0")


class ProxyError(Exception):
    """A clean error answer. `status` defaults to the code's own status."""

    def __init__(
        self, code: ErrorCode, message: str, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or code.status
        self.headers = headers or {}

    def response(self, *, head: bool, plain: bool = False) -> Response:
        if plain:  # the `plain-errors` defect
            body = f"{self.code.value}: {self.message}\n".encode()
            media_type = "text/plain; charset=utf-8"
        else:
            body = error_body(self.code, self.message)
            media_type = "application/json"
        response = Response(b"" if head else body, status_code=self.status, headers=self.headers, media_type=media_type)
        if head:
            response.headers["content-length"] = str(len(body))
        response.raw_headers.append(API_VERSION)
        return response
