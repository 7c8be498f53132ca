"""The error a handler raises, and how it is answered: an OCI error body with the right status."""

from __future__ import annotations

from starlette.responses import Response

from serving import API_VERSION, OciError

__all__ = ["API_VERSION", "ProxyError"]


class ProxyError(OciError):
    """A clean error answer. `status` defaults to the code's own status."""

    def response(self, *, head: bool = False, plain: bool = False) -> Response:
        if not plain:
            return super().response(head=head)
        # The `plain-errors` defect: the same words, but not the OCI error body clients parse.
        body = f"{self.code.value}: {self.message}\n".encode()
        response = Response(b"" if head else body, self.status, self.headers, media_type="text/plain; charset=utf-8")
        if head:
            response.headers["content-length"] = str(len(body))
        response.raw_headers.append(API_VERSION)
        return response
