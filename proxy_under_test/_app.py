"""The proxy's ASGI application: validate, dispatch, and answer every failure with a clean OCI error."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from oci_wire import Endpoint as Route, ErrorCode
from proxy_under_test._blobs import Blobs
from proxy_under_test._bodies import Connection
from proxy_under_test._cache import UnsafePath
from proxy_under_test._context import Context, log
from proxy_under_test._defects import Defect
from proxy_under_test._errors import API_VERSION, ProxyError
from proxy_under_test._fetch import Fetches
from proxy_under_test._manifests import Manifests
from proxy_under_test._routes import classify
from proxy_under_test._tags import Tags
from proxy_under_test._upstream import UpstreamFailure
from serving import Listener

_READ = frozenset({"GET", "HEAD"})
_PUSH_KINDS = frozenset({"manifest", "blob", "upload"})


class ProxyApp:
    def __init__(self, context: Context, fetches: Fetches) -> None:
        self.context = context
        self.listener: Listener | None = None
        self.manifests = Manifests(context)
        self.blobs = Blobs(context, fetches)
        self.tags = Tags(context)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            await self._answer(scope, receive, send)
        except asyncio.CancelledError:  # the proxy is stopping and has cut this connection already
            return

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"
        try:
            response = await self._dispatch(Request(scope, receive), classify(scope["path"]), head)
        except ProxyError as error:
            response = error.response(head=head, plain=self.context.config.has(Defect.PLAIN_ERRORS))
        except UnsafePath as error:  # validation was skipped (`no-path-check`); the cache refused the path
            log.error("refused an unsafe path: %s", error)
            response = ProxyError(ErrorCode.UNKNOWN, "internal error").response(head=head)
        except UpstreamFailure as failure:
            response = self.context.failures.cold_error(failure, "manifest").response(head=head)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            response = ProxyError(ErrorCode.UNKNOWN, "internal error").response(head=head)
        await response(scope, receive, send)

    async def _dispatch(self, request: Request, route: Route, head: bool) -> ASGIApp:
        context, method = self.context, request.method
        if method not in _READ:
            if context.config.has(Defect.ALLOW_PUSH) and route.kind in _PUSH_KINDS and route.name:
                return await self._forward(request, route)
            raise ProxyError(
                ErrorCode.UNSUPPORTED,
                "this is a pull-through cache: push, upload and delete go to the upstream registry",
                headers={"Allow": "GET, HEAD"},
            )
        if route.kind == "ping":
            return _ping()
        if route.kind == "catalog":
            params = request.query_params
            return await self.tags.catalog(params.get("n"), params.get("last"))
        if route.kind == "unknown" or route.name is None:
            raise ProxyError(ErrorCode.NAME_UNKNOWN, "no such endpoint", status=404)
        target = context.router.target(route.name)
        reference = route.reference or ""
        if route.kind == "manifest":
            reference = context.router.manifest_reference(reference)
            return await self.manifests.get(target, reference, request.headers.getlist("accept"), head)
        if route.kind == "blob":
            digest = context.router.digest(reference)
            return await self.blobs.get(target, digest, request.headers.get("range"), head, self._connection(request))
        if route.kind == "tags":
            params = request.query_params
            return await self.tags.list(target, params.get("n"), params.get("last"))
        if route.kind == "referrers":
            raise ProxyError(ErrorCode.NAME_UNKNOWN, "the referrers API is not proxied", status=404)
        raise ProxyError(ErrorCode.UNSUPPORTED, "uploads go to the upstream registry")

    def _connection(self, request: Request) -> Connection:
        listener, peer = self.listener, request.scope.get("client")
        if listener is None:
            return Connection(lambda: False, lambda: None)
        return Connection(lambda: listener.connections.is_closing(peer), lambda: listener.connections.reset(peer))

    async def _forward(self, request: Request, route: Route) -> Response:
        """The `allow-push` defect: hand a write to the upstream as if this were not a cache."""
        assert route.name is not None
        context = self.context
        target = context.router.target(route.name)
        suffix = request.url.path.split(f"/{route.name}/", 1)[1]
        headers = {k: v for k, v in request.headers.items() if k in ("content-type", "content-range")}
        response = await context.upstream.bounded(
            context.upstream.send(
                request.method, target, suffix, headers, params=dict(request.query_params), content=await request.body()
            )
        )
        body = await response.aread()
        await response.aclose()
        kept = {k: v for k, v in response.headers.items() if k in ("content-type", "docker-content-digest")}
        return Response(body, status_code=response.status_code, headers=kept)


def _ping() -> Response:
    response = JSONResponse({})
    response.raw_headers.append(API_VERSION)
    return response
