"""The pull side of the distribution API: ping, manifests, blobs, tags, catalog, referrers."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from fake_upstream._content import BytesContent
from fake_upstream._errors import RegistryError
from fake_upstream._responses import API_VERSION, ContentResponse, json_response
from fake_upstream._store import Store, check_repository
from oci_wire import OCI_INDEX, ErrorCode, RangeNotSatisfiable, accepts, content_range, parse_range

_NUMBER_RE = re.compile(r"^[0-9]{1,9}$")
MAX_PAGE = 10000


def ping(request: Request) -> Response:
    return json_response({})


def manifest(
    request: Request, store: Store, name: str, reference: str, strict_accept: bool, extra_headers: dict[str, str]
) -> Response:
    found = store.manifest(name, reference)
    if strict_accept and not accepts(request.headers.getlist("accept"), found.media_type):
        raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, f"{found.media_type} is not in the request's Accept")
    headers = {
        **API_VERSION,
        **extra_headers,
        "Content-Type": found.media_type,
        "Docker-Content-Digest": found.digest,
        "ETag": f'"{found.digest}"',
    }
    return ContentResponse(BytesContent(found.body), headers=headers, head=request.method == "HEAD")


def blob(request: Request, store: Store, name: str, digest: str) -> Response:
    found = store.blob(name, digest)
    headers = {
        **API_VERSION,
        "Content-Type": "application/octet-stream",
        "Docker-Content-Digest": found.digest,
        "ETag": f'"{found.digest}"',
        "Accept-Ranges": "bytes",
    }
    head = request.method == "HEAD"
    try:
        byte_range = parse_range(request.headers.get("range"), found.size)
    except RangeNotSatisfiable as error:
        raise RegistryError(
            ErrorCode.RANGE_INVALID, str(error), headers={"Content-Range": error.content_range}
        ) from None
    if byte_range is None:
        return ContentResponse(found.content, headers=headers, head=head)
    start, end = byte_range
    headers["Content-Range"] = content_range(start, end, found.size)
    return ContentResponse(found.content, status_code=206, headers=headers, start=start, end=end, head=head)


def tags(request: Request, store: Store, name: str) -> Response:
    names = store.tags(name)
    page, link = _paginate(request, names, f"/v2/{name}/tags/list")
    return json_response({"name": name, "tags": page}, headers=link)


def catalog(request: Request, store: Store) -> Response:
    page, link = _paginate(request, store.catalog(), "/v2/_catalog")
    return json_response({"repositories": page}, headers=link)


def referrers(request: Request, store: Store, name: str, digest: str) -> Response:
    check_repository(name)
    artifact_type = request.query_params.get("artifactType")
    found = store.referrers(name, digest, artifact_type)
    headers = {"OCI-Filters-Applied": "artifactType"} if artifact_type else {}
    document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found}
    return json_response(document, headers=headers, media_type=OCI_INDEX)


def _paginate(request: Request, items: list[str], path: str) -> tuple[list[str], dict[str, str]]:
    raw_n = request.query_params.get("n")
    last = request.query_params.get("last")
    if last:
        items = [item for item in items if item > last]
    if raw_n is None:
        return items, {}
    if _NUMBER_RE.fullmatch(raw_n) is None or int(raw_n) > MAX_PAGE:
        raise RegistryError(ErrorCode.PAGINATION_NUMBER_INVALID, f"n must be an integer from 0 to {MAX_PAGE}")
    n = int(raw_n)
    page = items[:n]
    if n == 0 or len(items) <= n:
        return page, {}
    return page, {"Link": f'<{path}?n={n}&last={quote(page[-1])}>; rel="next"'}
