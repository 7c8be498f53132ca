"""The push side: blob uploads (monolithic, chunked, mounted), manifest PUT, deletes."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from fake_upstream._errors import RegistryError
from fake_upstream._responses import empty_response
from fake_upstream._store import MAX_MANIFEST, Store, check_digest
from oci_wire import ErrorCode, parse_content_range

MAX_UPLOAD_CHUNK = 1 << 30


async def start_upload(request: Request, store: Store, name: str) -> Response:
    mount, source = request.query_params.get("mount"), request.query_params.get("from")
    if mount and store.mount(name, mount, source):
        return empty_response(201, {"Location": f"/v2/{name}/blobs/{mount}", "Docker-Content-Digest": mount})
    digest = request.query_params.get("digest")
    if digest:
        check_digest(digest)
        body = await _read_body(request, MAX_UPLOAD_CHUNK)
        session = store.start_upload(name)
        try:
            store.finish_upload(name, session, digest, body)
        except RegistryError:
            store.cancel_upload(name, session)
            raise
        return empty_response(201, {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})
    return _upload_status(202, name, store.start_upload(name), 0)


async def patch_upload(request: Request, store: Store, name: str, session: str) -> Response:
    byte_range = None
    content_range = request.headers.get("content-range")
    if content_range is not None:
        try:
            byte_range = parse_content_range(content_range.strip())
        except ValueError as error:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_INVALID, str(error), status=416) from None
    store.upload(name, session)
    body = await _read_body(request, MAX_UPLOAD_CHUNK)
    if byte_range is not None and byte_range[1] - byte_range[0] + 1 != len(body):
        raise RegistryError(
            ErrorCode.BLOB_UPLOAD_INVALID,
            f"Content-Range {content_range} does not cover the {len(body)} bytes sent",
            status=416,
        )
    size = store.append_upload(name, session, body, byte_range[0] if byte_range else None)
    return _upload_status(202, name, session, size)


async def finish_upload(request: Request, store: Store, name: str, session: str) -> Response:
    digest = request.query_params.get("digest")
    if not digest:
        raise RegistryError(ErrorCode.DIGEST_INVALID, "the digest query parameter is required")
    check_digest(digest)
    store.upload(name, session)
    store.finish_upload(name, session, digest, await _read_body(request, MAX_UPLOAD_CHUNK))
    return empty_response(201, {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})


def upload_status(store: Store, name: str, session: str) -> Response:
    return _upload_status(204, name, session, len(store.upload(name, session).data))


def cancel_upload(store: Store, name: str, session: str) -> Response:
    store.cancel_upload(name, session)
    return empty_response(204, {})


async def put_manifest(request: Request, store: Store, name: str, reference: str) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip()
    body = await _read_body(request, MAX_MANIFEST)
    if not media_type:
        try:
            media_type = str(json.loads(body).get("mediaType", ""))
        except (ValueError, AttributeError, UnicodeDecodeError):
            media_type = ""
    stored = store.put_manifest(name, reference, body, media_type)
    headers = {"Location": f"/v2/{name}/manifests/{stored.digest}", "Docker-Content-Digest": stored.digest}
    subject = json.loads(body).get("subject")
    if isinstance(subject, dict) and isinstance(subject.get("digest"), str):
        headers["OCI-Subject"] = subject["digest"]
    return empty_response(201, headers)


def delete_manifest(store: Store, name: str, reference: str) -> Response:
    store.delete_manifest(name, reference)
    return empty_response(202, {})


def delete_blob(store: Store, name: str, digest: str) -> Response:
    store.delete_blob(name, digest)
    return empty_response(202, {})


def _upload_status(status: int, name: str, session: str, size: int) -> Response:
    return empty_response(
        status,
        {
            "Location": f"/v2/{name}/blobs/uploads/{session}",
            "Range": f"0-{max(0, size - 1)}",
            "Docker-Upload-UUID": session,
        },
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> RegistryError:
    return RegistryError(ErrorCode.SIZE_INVALID, f"body exceeds {limit} bytes", status=413)
