"""Responses the registry sends: streamed content with exact lengths, and registry headers."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from fake_upstream._content import Content

API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}


class ContentResponse(Response):
    """Bytes [start, end) of a Content, streamed straight to the ASGI server; headers only for HEAD."""

    def __init__(
        self,
        content: Content,
        *,
        status_code: int = 200,
        headers: dict[str, str],
        start: int = 0,
        end: int | None = None,
        head: bool = False,
    ) -> None:
        self.content = content
        self.start = start
        self.end = content.size if end is None else end
        self.head = head
        super().__init__(status_code=status_code, headers={**headers, "Content-Length": str(self.end - self.start)})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if not self.head:
            for chunk in self.content.chunks(self.start, self.end):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def json_response(
    document: Any,
    *,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
    status_code: int = 200,
) -> Response:
    body = json.dumps(document).encode()
    return Response(body, status_code=status_code, headers={**API_VERSION, **(headers or {})}, media_type=media_type)


def empty_response(status_code: int, headers: dict[str, str]) -> Response:
    return Response(status_code=status_code, headers={**API_VERSION, **headers, "Content-Length": "0"})
