"""The exceptions of the registry (rendered as an OCI error body) and of its control API."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from oci_wire import ErrorCode, error_body


class RegistryError(Exception):
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
        body = error_body(self.code, self.message, self.detail)
        headers = {"Docker-Distribution-API-Version": "registry/2.0", **self.headers}
        if head:
            headers["Content-Length"] = str(len(body))
            return Response(status_code=self.status, headers=headers, media_type="application/json")
        return Response(body, status_code=self.status, headers=headers, media_type="application/json")


class ControlError(Exception):
    """A control API request that failed: bad input (the server side), or an answer that is not a success
    (RemoteUpstream's side). `status` is the HTTP status; None when the control API could not be reached."""

    def __init__(self, message: str, status: int | None = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
