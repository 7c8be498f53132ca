"""The control API (`/_control/…`): the Python API over HTTP, on its own port so outages cannot reach it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from fake_upstream._errors import ControlError, RegistryError
from fake_upstream._faults import Fault, FaultError
from fake_upstream._guard import deny
from fake_upstream._journal import Journal, JournalEntry
from fake_upstream._openapi import openapi
from fake_upstream._outages import OUTAGES

if TYPE_CHECKING:
    from fake_upstream._server import FakeUpstream

_MAX_JSON = 1 << 20
# No request of the control API nests its JSON deeper than 4 levels; past this, it is not a request.
_MAX_DEPTH = 32
# Journal entries serialised between two turns of the event loop the registry shares (a few ms' work).
_JOURNAL_SLICE = 200
_SEQ_RE = re.compile(r"^[0-9]{1,18}$")


class ControlApp:
    def __init__(self, upstream: FakeUpstream, token: str | None, journal: Journal) -> None:
        self.upstream = upstream
        self.token = token
        self._journal = journal
        self.app = Starlette(
            routes=[
                Route("/_control/", self.info, methods=["GET"]),
                Route("/_control/images", self.add_image, methods=["POST"]),
                Route("/_control/manifests", self.add_manifest, methods=["POST"]),
                Route("/_control/blobs", self.add_blob, methods=["POST"]),
                Route("/_control/repositories/{name:path}/tags/{tag}", self.tag, methods=["PUT", "DELETE"]),
                Route("/_control/repositories/{name:path}/tags", self.tags, methods=["GET"]),
                Route("/_control/repositories", self.repositories, methods=["GET"]),
                Route("/_control/inventory", self.inventory, methods=["GET"]),
                Route("/_control/repositories/{name:path}", self.delete_repository, methods=["DELETE"]),
                Route("/_control/faults", self.faults, methods=["GET", "POST", "DELETE"]),
                Route("/_control/faults/{fault_id}", self.delete_fault, methods=["DELETE"]),
                Route("/_control/outage", self.outage, methods=["GET", "POST"]),
                Route("/_control/journal", self.journal, methods=["GET", "DELETE"]),
                Route("/_control/journal/cursor", self.cursor, methods=["GET"]),
                Route("/_control/activity", self.activity, methods=["GET"]),
                Route("/_control/quota", self.quota, methods=["GET"]),
                Route("/_control/tokens/expire", self.expire_tokens, methods=["POST"]),
                Route("/_control/reset", self.reset, methods=["POST"]),
                Route("/_control/openapi.json", self.openapi, methods=["GET"]),
            ],
            exception_handlers={
                HTTPException: _http_error,
                ControlError: _control_error,
                FaultError: _bad_request,
                ValueError: _bad_request,
                KeyError: _bad_request,
                TypeError: _bad_request,
                RegistryError: _registry_error,
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        denied = deny(scope, self.token)
        if denied is not None:
            await denied(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            pass  # the client left mid-body: no one to answer

    async def info(self, request: Request) -> Response:
        return JSONResponse(
            {"registry": self.upstream.url, "control": self.upstream.control_url, "outage": self.upstream.outage}
        )

    async def add_image(self, request: Request) -> Response:
        body = await _json(request, {"repository", "tag", "layers", "media_type", "platforms", "gzip", "seed"})
        tag, platforms, seed = body.get("tag", "latest"), body.get("platforms"), body.get("seed")
        if tag is not None and not isinstance(tag, str):
            raise ControlError("tag must be a string or null")
        if platforms is not None and (
            not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms)
        ):
            raise ControlError("platforms must be a list of os/arch[/variant] strings")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ControlError("seed must be an integer")
        if not isinstance(body.get("gzip", True), bool):
            raise ControlError("gzip must be true or false")
        # Hashing a large synthetic layer takes a while: not on the loop that serves the registry.
        image = await run_in_threadpool(
            self.upstream.add_image,
            _str(body, "repository"),
            tag,
            layers=_int_list(body.get("layers", [2048])),
            media_type=body.get("media_type", "oci"),
            platforms=platforms,
            gzip=body.get("gzip", True),
            seed=seed,
        )
        return JSONResponse(image.to_dict(), status_code=201)

    async def add_manifest(self, request: Request) -> Response:
        body = await _json(request, {"repository", "reference", "media_type", "body"})
        manifest = _str(body, "body").encode()
        digest = self.upstream.add_manifest(
            _str(body, "repository"), _str(body, "reference"), manifest, _str(body, "media_type")
        )
        return JSONResponse({"digest": digest}, status_code=201)

    async def add_blob(self, request: Request) -> Response:
        body = await _json(request, {"repository", "data_base64", "media_type"})
        try:
            data = base64.b64decode(_str(body, "data_base64"), validate=True)
        except binascii.Error:
            raise ControlError("data_base64 is not base64") from None
        digest = self.upstream.add_blob(
            _str(body, "repository"), data, body.get("media_type", "application/octet-stream")
        )
        return JSONResponse({"digest": digest}, status_code=201)

    async def tag(self, request: Request) -> Response:
        name, tag = request.path_params["name"], request.path_params["tag"]
        if request.method == "PUT":
            self.upstream.tag(name, tag, _str(await _json(request, {"digest"}), "digest"))
        else:
            self.upstream.delete_tag(name, tag)
        return Response(status_code=204)

    async def tags(self, request: Request) -> Response:
        return JSONResponse(self.upstream.tags(request.path_params["name"]))

    async def repositories(self, request: Request) -> Response:
        return JSONResponse(self.upstream.repositories())

    async def inventory(self, request: Request) -> Response:
        return JSONResponse(self.upstream.inventory())

    async def delete_repository(self, request: Request) -> Response:
        self.upstream.delete_repository(request.path_params["name"])
        return Response(status_code=204)

    async def faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([{"id": fid, **fault.to_dict()} for fid, fault in self.upstream.faults()])
        if request.method == "DELETE":
            self.upstream.clear_faults()
            return Response(status_code=204)
        fault = Fault.from_dict(await _json(request, None))
        return JSONResponse({"id": self.upstream.add_fault(fault)}, status_code=201)

    async def delete_fault(self, request: Request) -> Response:
        try:
            self.upstream.clear_faults(request.path_params["fault_id"])
        except FaultError as error:
            raise ControlError(str(error), 404) from None
        return Response(status_code=204)

    async def outage(self, request: Request) -> Response:
        if request.method == "POST":
            mode = (await _json(request, {"mode"})).get("mode")
            if mode not in OUTAGES:
                raise ControlError(f"mode must be one of {', '.join(OUTAGES)}")
            await self.upstream.set_outage_async(mode)
        return JSONResponse({"mode": self.upstream.outage})

    async def journal(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.upstream.clear_journal()
            return Response(status_code=204)
        raw_since, raw_after = request.query_params.get("since"), request.query_params.get("after")
        try:
            since = float(raw_since) if raw_since is not None else None
        except ValueError:
            raise ControlError("since must be a UNIX time in seconds") from None
        if raw_after is not None and _SEQ_RE.fullmatch(raw_after) is None:
            raise ControlError("after must be a journal sequence number (an integer >= 0)")
        after = int(raw_after) if raw_after is not None else None
        repository = request.query_params.get("repository")
        # The live entries, serialised a slice at a time: a long journal must not stall the registry's loop.
        entries = self._journal.select(since, after=after, repository=repository)
        return StreamingResponse(_journal_json(entries), media_type="application/json")

    async def cursor(self, request: Request) -> Response:
        return JSONResponse({"cursor": self.upstream.cursor()})

    async def activity(self, request: Request) -> Response:
        repository = request.query_params.get("repository")
        if not repository:
            raise ControlError("repository is required: GET /_control/activity?repository=NAME")
        return JSONResponse(self.upstream.activity(repository).to_dict())

    async def expire_tokens(self, request: Request) -> Response:
        repository = (await _json(request, {"repository"})).get("repository")
        if repository is not None and (not isinstance(repository, str) or not repository):
            raise ControlError("repository must be a non-empty string or null")
        return JSONResponse({"expired": self.upstream.expire_tokens(repository)})

    async def quota(self, request: Request) -> Response:
        return JSONResponse(self.upstream.quota_usage())

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi())

    async def reset(self, request: Request) -> Response:
        await self.upstream.reset_async()
        return Response(status_code=204)


async def _journal_json(entries: Sequence[JournalEntry]) -> AsyncIterator[bytes]:
    yield b"["
    for start in range(0, len(entries), _JOURNAL_SLICE):
        text = json.dumps([entry.to_dict() for entry in entries[start : start + _JOURNAL_SLICE]])[1:-1]
        yield (("," if start else "") + text).encode()
        await asyncio.sleep(0)
    yield b"]"


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=error.headers)


async def _control_error(request: Request, error: Exception) -> Response:
    status = (error.status or 400) if isinstance(error, ControlError) else 400
    return JSONResponse({"error": str(error)}, status_code=status)


async def _bad_request(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": str(error).strip("'\"")}, status_code=400)


async def _registry_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RegistryError)
    return JSONResponse({"error": error.message, "code": error.code.value}, status_code=error.status)


async def _json(request: Request, allowed: set[str] | None) -> dict[str, Any]:
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > _MAX_JSON:
            raise ControlError("request body too large", 413)
    try:
        body = json.loads(bytes(raw) or b"{}")
    except RecursionError:
        raise ControlError(f"invalid JSON: nested deeper than {_MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ControlError(f"invalid JSON: {error}") from None
    if _deeper_than(body, _MAX_DEPTH):
        raise ControlError(f"invalid JSON: nested deeper than {_MAX_DEPTH} levels")
    if not isinstance(body, dict):
        raise ControlError("expected a JSON object")
    if allowed is not None and set(body) - allowed:
        raise ControlError(f"unknown fields: {', '.join(sorted(set(body) - allowed))}")
    return body


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest past `limit` (walked without recursion: the point is deep input)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key} must be a non-empty string")
    return value


def _int_list(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ControlError("layers must be a list of sizes in bytes")
    return value
