"""The registry's ASGI application: journal, faults, auth and quota around the distribution API."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial
from urllib.parse import parse_qsl, unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from fake_upstream import _pull, _push
from fake_upstream._auth import Authenticator, Identity
from fake_upstream._errors import RegistryError
from fake_upstream._faults import BODY_FAULTS, HEAD_FAULTS, STATUS_FAULTS, Fault, FaultTable, RequestInfo
from fake_upstream._inject import BlackholeGate, Cut, damage_body, fault_response, wait_disconnect
from fake_upstream._journal import Journal, JournalEntry
from fake_upstream._quota import Quota
from fake_upstream._responses import json_response
from fake_upstream._routes import classify, scope_repository
from fake_upstream._store import Store
from oci_wire import ErrorCode
from serving import Connections

_PUSH_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_TOKEN_FORM = 64 << 10
_DAMAGING = BODY_FAULTS | HEAD_FAULTS
# What a token POST's form holds: its fields, or the error reading it gave.
_Form = dict[str, str] | RegistryError


@dataclass
class RegistryParts:
    store: Store
    faults: FaultTable
    journal: Journal
    auth: Authenticator
    quota: Quota
    gate: BlackholeGate
    strict_accept: bool = False


class RegistryApp:
    def __init__(self, parts: RegistryParts, connections: Connections) -> None:
        self.parts = parts
        self.connections = connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        query = scope.get("query_string", b"").decode("latin-1")
        info = classify(scope["method"], scope["path"], query)
        form: _Form = {}
        if info.kind == "token" and info.method == "POST":
            # The form names the scope, and so the repository this token request is for: read it first.
            form = await _token_form(request)
            if isinstance(form, dict) and info.repository is None:
                info = replace(info, repository=scope_repository([form.get("scope", "")]))
        peer = scope.get("client") or ("unknown", 0)
        identity = self.parts.auth.identify(request.headers.get("authorization"), peer[0])
        entry = JournalEntry(
            time=time.time(),
            method=info.method,
            path=scope["path"] + (f"?{query}" if query else ""),
            kind=info.kind,
            repository=info.repository,
            reference=info.reference,
            status=0,
            bytes=0,
            auth=identity.kind,
            client=identity.name,
            range=request.headers.get("range"),
            complete=False,
            user_agent=request.headers.get("user-agent"),
        )
        # A request the registry would challenge for credentials spends no fault: `times=1` means one request
        # that got past authentication, as a client that logs in expects.
        fired = None if self._challenged(request, info) else self.parts.faults.fire(info)
        entry.fault = fired[1].fault if fired else None
        self.parts.journal.record(entry)

        async def recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            else:
                entry.bytes += len(message.get("body", b""))
                entry.complete = not message.get("more_body", False)
            await send(message)

        try:
            await self._handle(request, info, identity, fired, peer, recorded, form)
        except ClientDisconnect:
            pass  # the client left mid-body (or was dropped for sending it too slowly): no one to answer
        finally:
            entry.duration = time.time() - entry.time
            self.parts.journal.finish(entry)

    async def _handle(
        self,
        request: Request,
        info: RequestInfo,
        identity: Identity,
        fired: tuple[str, Fault] | None,
        peer: tuple[str, int],
        send: Send,
        form: _Form,
    ) -> None:
        head = request.method == "HEAD"
        fault_id, fault = fired if fired is not None else ("", None)
        if fault is not None and fault.fault == "reset":
            self.connections.reset(peer)
            await wait_disconnect(request.receive)
            return
        if fault is not None and fault.fault == "blackhole":
            await self.parts.gate.hold(request.receive, fault_id)
            self.connections.close(peer)
            return
        if fault is not None and fault.fault in STATUS_FAULTS | {"token-fail", "head-ok-get-fail"}:
            challenge = self.parts.auth.challenge_header(_realm(request), info.repository, "pull", None)
            response: Response = fault_response(fault, info, challenge, head=head)
        else:
            try:
                response = await self._dispatch(request, info, identity, form)
            except RegistryError as error:
                response = error.response(head=head)
        if fault is not None and fault.fault in _DAMAGING:
            hold = partial(self.parts.gate.hold, request.receive, fault_id)
            send = damage_body(fault, send, self.connections, peer, head=head, hold=hold)
        try:
            await response(request.scope, request.receive, send)
        except Cut:
            await wait_disconnect(request.receive)

    def _challenged(self, request: Request, info: RequestInfo) -> bool:
        if info.kind in ("token", "ping"):
            return False
        try:
            self._authorize(request, info)
        except RegistryError:
            return True
        return False

    def _authorize(self, request: Request, info: RequestInfo) -> None:
        action = "push" if request.method in _PUSH_METHODS else "pull"
        self.parts.auth.authorize(request.headers.get("authorization"), info.repository, action, _realm(request))

    async def _dispatch(self, request: Request, info: RequestInfo, identity: Identity, form: _Form) -> Response:
        store, method = self.parts.store, request.method
        if info.kind == "token":
            return self._token(request, identity, form)
        self._authorize(request, info)
        name, reference = info.repository or "", info.reference or ""
        route = (info.kind, method)
        if route in (("ping", "GET"), ("ping", "HEAD")):
            return _pull.ping(request)
        if route == ("catalog", "GET"):
            return _pull.catalog(request, store)
        if route in (("manifest", "GET"), ("manifest", "HEAD")):
            return _pull.manifest(
                request, store, name, reference, self.parts.strict_accept, self._quota(identity, method == "GET")
            )
        if route in (("blob", "GET"), ("blob", "HEAD")):
            return _pull.blob(request, store, name, reference)
        if route == ("tags", "GET"):
            return _pull.tags(request, store, name)
        if route == ("referrers", "GET"):
            return _pull.referrers(request, store, name, reference)
        if route == ("manifest", "PUT"):
            return await _push.put_manifest(request, store, name, reference)
        if route == ("manifest", "DELETE"):
            return _push.delete_manifest(store, name, reference)
        if route == ("blob", "DELETE"):
            return _push.delete_blob(store, name, reference)
        if info.kind == "upload":
            return await self._upload(request, store, name, reference)
        if info.kind == "unknown":
            raise RegistryError(ErrorCode.NAME_UNKNOWN, "no such endpoint", status=404)
        raise RegistryError(ErrorCode.UNSUPPORTED, f"{method} is not supported here")

    async def _upload(self, request: Request, store: Store, name: str, session: str) -> Response:
        method = request.method
        if method == "POST" and not session:
            return await _push.start_upload(request, store, name)
        if not session:
            raise RegistryError(ErrorCode.UNSUPPORTED, f"{method} needs an upload session")
        if method == "PATCH":
            return await _push.patch_upload(request, store, name, session)
        if method == "PUT":
            return await _push.finish_upload(request, store, name, session)
        if method == "GET":
            return _push.upload_status(store, name, session)
        if method == "DELETE":
            return _push.cancel_upload(store, name, session)
        raise RegistryError(ErrorCode.UNSUPPORTED, f"{method} is not supported on uploads")

    def _quota(self, identity: Identity, counts: bool) -> dict[str, str]:
        state = self.parts.quota.check(identity.name, counts)
        if state is None:
            return {}
        headers = {**state.headers(), "docker-ratelimit-source": identity.name}
        if state.exceeded:
            raise RegistryError(
                ErrorCode.TOOMANYREQUESTS,
                "You have reached your pull rate limit. You may increase the limit by authenticating and "
                "upgrading: https://www.docker.com/increase-rate-limits",
                headers={**headers, "Retry-After": str(state.retry_after)},
            )
        return headers

    def _token(self, request: Request, identity: Identity, form: _Form) -> Response:
        if request.method not in ("GET", "POST"):
            raise RegistryError(ErrorCode.UNSUPPORTED, "the token endpoint takes GET or POST")
        if isinstance(form, RegistryError):
            raise form
        scopes = request.query_params.getlist("scope") or str(form.get("scope", "")).split()
        user = self.parts.auth.token_user(request.headers.get("authorization"), form)
        names = {scope.split(":")[1] for scope in scopes if scope.count(":") >= 2}
        catalog = set(self.parts.store.catalog())
        issued = self.parts.auth.issue(user, scopes, {name: name in catalog for name in names}, identity.name)
        return json_response(issued)


async def _token_form(request: Request) -> _Form:
    """OAuth2 password grant (containerd): a urlencoded form, parsed here to need no extra package."""
    try:
        raw = await _read_limited(request, _MAX_TOKEN_FORM)
    except RegistryError as error:
        return error
    except ClientDisconnect:
        return RegistryError(ErrorCode.UNKNOWN, "the client left before sending its form")
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


async def _read_limited(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise RegistryError(ErrorCode.SIZE_INVALID, f"body exceeds {limit} bytes", status=413)
    return bytes(body)


def _realm(request: Request) -> str:
    host = request.headers.get("host") or "{}:{}".format(*(request.scope.get("server") or ("127.0.0.1", 80)))
    return f"{request.url.scheme}://{host}/token"


def record_outage(parts: RegistryParts, mode: str, data: bytes, peer: tuple[str, int]) -> None:
    """Journal a request that a `reset` or `blackhole` outage took, from the bytes it got to send."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    request_line = head[0].split(" ")
    if len(request_line) != 3 or not request_line[2].startswith("HTTP/"):
        return  # not HTTP (a TLS hello, say): nothing to journal
    method, (raw_path, mark, query) = request_line[0], request_line[1].partition("?")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    path = unquote(raw_path)
    info = classify(method, path, query)
    identity = parts.auth.identify(headers.get("authorization"), peer[0])
    entry = JournalEntry(
        time=time.time(),
        method=method,
        path=path + mark + query,
        kind=info.kind,
        repository=info.repository,
        reference=info.reference,
        status=0,
        bytes=0,
        auth=identity.kind,
        client=identity.name,
        range=headers.get("range"),
        complete=False,
        user_agent=headers.get("user-agent"),
        outage=mode,
    )
    parts.journal.record(entry, finished=True)
