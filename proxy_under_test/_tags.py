"""tags/list and _catalog: the upstream's answer when it gives one, else what the cache holds (PROTO-TAGS)."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.responses import JSONResponse, Response

from oci_wire import ErrorCode
from proxy_under_test._context import Context, log
from proxy_under_test._defects import Defect
from proxy_under_test._errors import API_VERSION, ProxyError
from proxy_under_test._routes import Target
from proxy_under_test._upstream import NETWORK_FAILURES, UpstreamFailure

MAX_PAGE = 10000
_PAGE_SIZE = re.compile(r"[0-9]{1,5}")


class Tags:
    def __init__(self, context: Context) -> None:
        self.context = context

    async def list(self, target: Target, n: str | None, last: str | None) -> Response:
        context = self.context
        _check_n(n)
        try:
            tags, more = await context.upstream.get_tags(target, n, last)
        except UpstreamFailure as failure:
            cached = await context.blocking(context.cache.tags, target.name)
            if cached is None or not self._serve_cached(failure):
                raise context.failures.cold_error(failure, "tags") from None
            log.warning("serving the cached tags of %s: %s", target.name, failure.message)
            tags, more = paginate(cached, n, last)
        return _page({"name": target.name, "tags": tags}, f"/v2/{target.name}/tags/list", tags, n, more)

    async def catalog(self, n: str | None, last: str | None) -> Response:
        _check_n(n)
        names = await self.context.blocking(self.context.cache.repositories)
        page, more = paginate(names, n, last)
        return _page({"repositories": page}, "/v2/_catalog", page, n, more)

    def _serve_cached(self, failure: UpstreamFailure) -> bool:
        if failure.kind == "not-found":
            return self.context.config.not_found_policy == "serve-cached"
        down = failure.kind in NETWORK_FAILURES or failure.kind == "server-error"
        return not (down and self.context.config.has(Defect.TAGS_DOWN_5XX))


def paginate(items: list[str], n: str | None, last: str | None) -> tuple[list[str], bool]:
    if last:
        items = [item for item in items if item > last]
    if n is None:
        return items, False
    count = int(n)
    return items[:count], 0 < count < len(items)


def _check_n(n: str | None) -> None:
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses (and "٣", which it takes).
    if n is not None and (_PAGE_SIZE.fullmatch(n) is None or int(n) > MAX_PAGE):
        raise ProxyError(ErrorCode.PAGINATION_NUMBER_INVALID, f"n must be an integer from 0 to {MAX_PAGE}")


def _page(document: dict[str, object], path: str, page: list[str], n: str | None, more: bool) -> Response:
    headers = {API_VERSION[0].decode(): API_VERSION[1].decode()}
    if more and page and n is not None:
        headers["Link"] = f'<{path}?n={n}&last={quote(page[-1])}>; rel="next"'
    return JSONResponse(document, headers=headers)
