"""How each fault acts on a request: an error answer, a broken connection, or a damaged body or length."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace

from starlette.responses import Response
from starlette.types import Message, Receive, Send

from fake_upstream._errors import RegistryError
from fake_upstream._faults import Fault, RequestInfo
from oci_wire import ErrorCode
from serving import Connections

RETRY_AFTER = "30"
HAP429 = b"Too Many Requests (HAP429).\n"
_NOT_FOUND = {"manifest": ErrorCode.MANIFEST_UNKNOWN, "blob": ErrorCode.BLOB_UNKNOWN}
_STATUS_CODES = {
    "401": ErrorCode.UNAUTHORIZED,
    "403": ErrorCode.DENIED,
    "429": ErrorCode.TOOMANYREQUESTS,
    "500": ErrorCode.UNKNOWN,
    "502": ErrorCode.UNKNOWN,
    "503": ErrorCode.UNAVAILABLE,
    "504": ErrorCode.UNKNOWN,
}
_MESSAGES = {
    "401": "authentication required",
    "403": "requested access to the resource is denied",
    "429": "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: "
    "https://www.docker.com/increase-rate-limits",
    "500": "internal server error",
    "502": "bad gateway",
    "503": "service unavailable",
    "504": "gateway timeout",
}


class Cut(Exception):
    """Raised through the response to stop sending a body the fault has cut short."""


def error_for(fault: Fault, request: RequestInfo, challenge: str) -> RegistryError:
    """The answer of a status fault, `token-fail`, or the GET of `head-ok-get-fail`."""
    name = fault.fault
    if name in ("token-fail", "head-ok-get-fail"):
        status = str(fault.status or 500)
        if status in _STATUS_CODES or status == "404":
            return error_for(replace(fault, fault=status), request, challenge)  # type: ignore[arg-type]
        return RegistryError(ErrorCode.UNKNOWN, f"{name} (injected)", status=int(status))
    if name == "404":
        code = _NOT_FOUND.get(request.kind, ErrorCode.NAME_UNKNOWN)
        return RegistryError(code, f"{request.kind} unknown (injected)")
    headers = {}
    if name == "401":
        headers["WWW-Authenticate"] = challenge
    if name in ("429", "503"):
        headers["Retry-After"] = RETRY_AFTER
    return RegistryError(_STATUS_CODES[name], _MESSAGES[name], status=int(name), headers=headers)


def fault_response(fault: Fault, request: RequestInfo, challenge: str, *, head: bool) -> Response:
    """The whole answer of an error fault: the OCI error body, or plain text when the fault says `plain`."""
    error = error_for(fault, request, challenge)
    if not fault.plain:
        return error.response(head=head)
    reason = _MESSAGES.get(fault.fault, error.message)
    body = HAP429 if error.status == 429 else f"{error.status} {reason}\n".encode()
    headers = {**error.headers, "Content-Length": str(len(body))}
    return Response(b"" if head else body, status_code=error.status, headers=headers, media_type="text/plain")


class BlackholeGate:
    """Holds black-holed requests until released (their fault cleared, reset, shutdown) or their client leaves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: set[tuple[str, asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    async def hold(self, receive: Receive, fault_id: str) -> None:
        loop = asyncio.get_running_loop()
        released: asyncio.Future[None] = loop.create_future()
        entry = (fault_id, loop, released)
        with self._lock:
            self._waiting.add(entry)
        left = asyncio.ensure_future(wait_disconnect(receive))
        try:
            await asyncio.wait([released, left], return_when=asyncio.FIRST_COMPLETED)
        finally:
            left.cancel()
            with self._lock:
                self._waiting.discard(entry)

    def release(self, fault_id: str | None = None) -> None:
        """Let go of the requests one fault holds, or of all of them."""
        with self._lock:
            waiting = [(loop, future) for held, loop, future in self._waiting if fault_id in (None, held)]
        for loop, future in waiting:
            loop.call_soon_threadsafe(_settle, future)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def damage_body(
    fault: Fault,
    send: Send,
    control: Connections,
    peer: tuple[str, int],
    *,
    head: bool,
    hold: Callable[[], Awaitable[None]],
) -> Send:
    """A `send` that truncates, corrupts or slows the body, or drops or falsifies its Content-Length.

    `hold` waits until a stalled request is let go (its fault cleared, or its client gone).
    """
    if fault.fault == "wrong-length":
        return _wrong_length(fault.delta or 0, send, control, peer, head=head)
    state = {"length": 0, "sent": 0}

    async def damaged(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            for key, value in headers:
                if key.lower() == b"content-length":
                    state["length"] = int(value)
            if fault.fault == "no-length":
                # Without Content-Length the server frames the body with chunked encoding.
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            await send({**message, "headers": headers})
            return
        body: bytes = message.get("body", b"")
        offset = state["sent"]
        state["sent"] += len(body)
        target = fault.after_bytes if fault.after_bytes is not None else state["length"] // 2
        if fault.fault == "truncate" and state["sent"] > target:
            if target > offset:
                await send({"type": "http.response.body", "body": body[: target - offset], "more_body": True})
            await _cut(fault.how, control, peer, hold)
            raise Cut
        if fault.fault == "corrupt" and offset <= target < offset + len(body):
            flipped = bytearray(body)
            flipped[target - offset] ^= 0xFF
            body = bytes(flipped)
        if fault.fault == "slow" and body:
            await _dribble(body, fault.rate or 1, send)
            body = b""
        await send({**message, "body": body})

    return damaged


async def _cut(how: str, control: Connections, peer: tuple[str, int], hold: Callable[[], Awaitable[None]]) -> None:
    if how == "reset":
        await control.flush(peer)
        control.reset(peer)
        return
    if how == "stall":
        await hold()
    control.close(peer)


def _wrong_length(delta: int, send: Send, control: Connections, peer: tuple[str, int], *, head: bool) -> Send:
    """A 200 that declares its length plus `delta`: all of the body and then a closed connection when that
    is more, the body cut to the declared length and a clean end when it is less. Other answers pass."""
    state = {"active": False, "budget": 0}

    async def lying(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if message["status"] == 200:
                for index, (key, value) in enumerate(headers):
                    if key.lower() == b"content-length":
                        declared = max(0, int(value) + delta)
                        headers[index] = (key, str(declared).encode())
                        state.update(active=not head, budget=declared)
            await send({**message, "headers": headers})
            return
        if not state["active"]:
            await send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if delta < 0:
            body = body[: state["budget"]]
            state["budget"] -= len(body)
            await send({**message, "body": body})
            return
        await send({"type": "http.response.body", "body": body, "more_body": True})
        if not more:
            control.close(peer)
            raise Cut

    return lying


async def _dribble(body: bytes, rate: int, send: Send) -> None:
    """Send `body` at `rate` bytes per second, in tenth-of-a-second slices."""
    step = max(1, rate // 10)
    for offset in range(0, len(body), step):
        await send({"type": "http.response.body", "body": body[offset : offset + step], "more_body": True})
        await asyncio.sleep(step / rate)
