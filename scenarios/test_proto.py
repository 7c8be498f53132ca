"""PROTO: the distribution protocol, faithfully, through the proxy."""

from __future__ import annotations

import json

import pytest

from harness.case import Case
from harness.client import Answer
from harness.content import digest_of
from harness.expect import kinds, label, predicate
from harness.observe import classify, upstream_counts
from oci_wire import DOCKER_MANIFEST, OCI_MANIFEST
from reports.model import Kind, Observation
from scenarios._cells import Cell, cells

_HEAD_HEADERS = ("content-type", "content-length", "docker-content-digest")
_CODES_FOR_STATUS = {
    400: {"DIGEST_INVALID", "NAME_INVALID", "MANIFEST_INVALID", "TAG_INVALID", "SIZE_INVALID", "UNSUPPORTED"},
    401: {"UNAUTHORIZED"},
    403: {"DENIED"},
    404: {"MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN"},
    405: {"UNSUPPORTED"},
    429: {"TOOMANYREQUESTS"},
}
_FORMATS = {
    "docker": ("docker", None),
    "docker-list": ("docker", ("linux/amd64", "linux/arm64")),
    "oci": ("oci", None),
    "oci-index": ("oci", ("linux/amd64", "linux/arm64")),
}


def _observation(kind: Kind, detail: str, answer: Answer | None = None) -> Observation:
    return Observation(kind, kind, status=answer.status if answer else None, detail=detail)


@pytest.mark.rule("PROTO-HEAD")
@pytest.mark.parametrize("state", ["cold", "cached"])
@pytest.mark.parametrize("cell", cells("tag-HEAD", "digest-HEAD", "layer-HEAD"))
def test_head_matches_get(case: Case, cell: Cell, state: str) -> None:
    image = case.image()
    if state == "cached":
        case.warm(image)
    head = case.request(image, cell.what, "HEAD")
    get = case.request(image, cell.what, "GET")
    differing = [h for h in _HEAD_HEADERS if head.headers.get(h) != get.headers.get(h)]
    if head.status != get.status:
        differing.insert(0, "status")
    if head.body_bytes:
        differing.append("body")
    if get.status != 200:
        observation = classify(get, asked=None if cell.what == "tag" else digest_of(image, cell.what))
    elif differing:
        observation = _observation(Kind.HEAD_MISMATCH, f"HEAD and GET differ in {', '.join(differing)}", head)
        observation = Observation(
            Kind.HEAD_MISMATCH, f"head-mismatch({', '.join(differing)})", status=head.status, detail=observation.detail
        )
    else:
        observation = _observation(Kind.HEAD_PARITY, "HEAD answers as GET does, without a body", head)
    case.check(observation, label("head-parity"))


@pytest.mark.rule("PROTO-DIGEST-HEADER")
@pytest.mark.parametrize("state", ["cold", "cached"])
@pytest.mark.parametrize("cell", cells("tag-GET", "digest-GET", "config-GET", "layer-GET"))
def test_digest_header(case: Case, cell: Cell, state: str) -> None:
    image = case.image()
    if state == "cached":
        case.warm(image)
    answer = case.request(image, cell.what, "GET")
    header = answer.digest_header
    if answer.status != 200 or not answer.complete:
        observation = classify(answer)
    elif header is None:
        observation = _observation(Kind.DIGEST_HEADER_MISSING, "200 without Docker-Content-Digest", answer)
    elif header != answer.body_digest:
        observation = _observation(Kind.DIGEST_HEADER_WRONG, f"header {header}, body {answer.body_digest}", answer)
    else:
        observation = _observation(Kind.DIGEST_HEADER_OK, f"Docker-Content-Digest {header}", answer)
    case.check(observation, label("digest-header-ok"))


@pytest.mark.rule("PROTO-MEDIATYPE")
@pytest.mark.parametrize("state", ["cold", "cached"])
@pytest.mark.parametrize("fmt", list(_FORMATS))
def test_media_type_and_bytes_unchanged(case: Case, fmt: str, state: str) -> None:
    media_type, platforms = _FORMATS[fmt]
    image = case.image(media_type=media_type, platforms=platforms)
    if state == "cached":
        case.warm(image)
        case.outage("reset")
    answer = case.request(image, "tag", "GET")
    content_type = answer.headers.get("content-type", "").split(";")[0].strip()
    if answer.status != 200 or not answer.complete:
        observation = classify(answer)
    elif content_type != image.media_type:
        observation = _observation(Kind.CHANGED, f"Content-Type {content_type}, upstream {image.media_type}", answer)
        observation = Observation(Kind.CHANGED, "changed(content-type)", status=200, detail=observation.detail)
    elif answer.body_digest != image.digest:
        observation = Observation(
            Kind.CHANGED, "changed(bytes)", status=200, detail=f"body {answer.body_digest}, upstream {image.digest}"
        )
    else:
        observation = _observation(Kind.BYTE_IDENTICAL, f"{content_type}, {image.digest}", answer)
    case.check(observation, label("byte-identical"))


@pytest.mark.rule("PROTO-ACCEPT")
@pytest.mark.parametrize("state", ["cold", "cached"])
@pytest.mark.parametrize(
    ("fmt", "accept"),
    [
        pytest.param("oci", DOCKER_MANIFEST, id="oci-for-docker-client"),
        pytest.param("docker", OCI_MANIFEST, id="docker-for-oci-client"),
        pytest.param("oci-index", f"{OCI_MANIFEST}, {DOCKER_MANIFEST}", id="index-for-single-platform-client"),
    ],
)
def test_accept_excludes_stored_type(case: Case, fmt: str, accept: str, state: str) -> None:
    media_type, platforms = _FORMATS[fmt]
    image = case.image(media_type=media_type, platforms=platforms)
    if state == "cached":
        case.warm(image)
    answer = case.request(image, "tag", "GET", accept=accept)
    content_type = answer.headers.get("content-type", "").split(";")[0].strip()
    if answer.status == 200 and answer.complete:
        unchanged = content_type == image.media_type and answer.body_digest == image.digest
        observation = (
            _observation(Kind.STORED_BYTES, "the stored manifest, unconverted", answer)
            if unchanged
            else Observation(
                Kind.CONVERTED,
                "converted",
                status=200,
                detail=f"{content_type} {answer.body_digest} for stored {image.media_type} {image.digest}",
            )
        )
    else:
        observation = classify(answer)
    case.check(
        observation,
        predicate(
            "404 MANIFEST_UNKNOWN or the stored bytes unconverted",
            lambda o: o.kind == Kind.STORED_BYTES or o.label == "not-found(MANIFEST_UNKNOWN)",
        ),
    )


@pytest.mark.rule("PROTO-RANGE")
@pytest.mark.parametrize("requested", ["bytes=10-99", "bytes=1000-", "bytes=-50", "bytes=999999999-"])
def test_range_on_cached_blob(case: Case, requested: str) -> None:
    image = case.image(layers=(100_000,))
    case.warm(image)
    whole = case.request(image, "layer", "GET").body
    answer = case.request(image, "layer", "GET", byte_range=requested)
    size = len(whole)
    first, _, last = requested.removeprefix("bytes=").partition("-")
    if first == "":
        start, end = size - int(last), size - 1
    else:
        start, end = int(first), (int(last) if last else size - 1)
    if start >= size:
        ok = answer.status == 416
        expected = "416"
    else:
        expected = f"206 bytes {start}-{end}/{size}"
        ok = (
            answer.status == 206
            and answer.headers.get("content-range") == f"bytes {start}-{end}/{size}"
            and answer.body == whole[start : end + 1]
        )
    got = f"{answer.status} {answer.headers.get('content-range', '')}".strip()
    observation = Observation(
        Kind.RANGED if ok else Kind.RANGE_WRONG,
        f"{'ranged' if ok else 'range-wrong'}({got})",
        status=answer.status,
        detail=f"asked {requested}, expected {expected}, got {got}",
    )
    case.check(observation, kinds(Kind.RANGED))


@pytest.mark.rule("PROTO-TAGS")
@pytest.mark.parametrize("upstream", ["down", "paginated"])
def test_tags_list(case: Case, upstream: str) -> None:
    first = case.image(tag="a", layers=(1024,))
    names = ["a", "b", "c"]
    for tag in names[1:]:
        case.upstream.add_image(first.repository, tag, layers=(1024,))
    path = case.path(first)
    for tag in names:
        case.client.pull(path, tag)
    if upstream == "down":
        case.outage("reset")
        answer = case.client.request("GET", f"/v2/{path}/tags/list")
        tags = _tags(answer)
        ok = answer.status == 200 and set(names) <= set(tags)
        detail = f"{answer.status}, tags {tags}"
    else:
        answer = case.client.request("GET", f"/v2/{path}/tags/list?n=2")
        link = answer.headers.get("link", "")
        page = _tags(answer)
        rest = case.client.request("GET", f"/v2/{path}/tags/list?n=2&last={page[-1]}") if page else answer
        ok = answer.status == 200 and page == names[:2] and 'rel="next"' in link and _tags(rest) == names[2:]
        detail = f"page 1 {page} (Link {link!r}), page 2 {_tags(rest)}"
    if answer.status != 200:
        observation = classify(answer)
    else:
        observation = Observation(
            Kind.TAGS_OK if ok else Kind.TAGS_WRONG,
            "tags-ok" if ok else "tags-wrong",
            status=answer.status,
            detail=detail,
        )
    case.check(observation, label("tags-ok"))


def _tags(answer: Answer) -> list[str]:
    try:
        return list(json.loads(answer.body).get("tags") or [])
    except (ValueError, AttributeError):
        return []


@pytest.mark.rule("PROTO-NO-PUSH")
@pytest.mark.parametrize("operation", ["POST-upload", "PUT-manifest", "DELETE-manifest", "DELETE-blob"])
def test_push_is_refused(case: Case, operation: str) -> None:
    image = case.image()
    case.warm(image)
    path = case.path(image)
    case.mark()
    method, what = operation.split("-")
    if what == "upload":
        answer = case.client.request("POST", f"/v2/{path}/blobs/uploads/")
    elif method == "PUT":
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST}).encode()
        answer = case.client.request(
            "PUT", f"/v2/{path}/manifests/pushed", {"Content-Type": OCI_MANIFEST}, content=body
        )
    elif what == "manifest":
        answer = case.client.request("DELETE", f"/v2/{path}/manifests/{image.digest}")
    else:
        answer = case.client.request("DELETE", f"/v2/{path}/blobs/{digest_of(image, 'layer')}")
    counts = upstream_counts(case.upstream_requests())
    writes = {k: v for k, v in counts.items() if k.split()[0] in ("POST", "PUT", "PATCH", "DELETE")}
    observation = classify(answer, upstream=case.upstream_requests())
    if writes:
        observation = Observation(
            Kind.FORWARDED,
            f"forwarded({', '.join(writes)})",
            status=answer.status,
            detail=f"the upstream received {writes}",
            upstream=counts,
        )
    case.check(
        observation,
        predicate(
            "405 UNSUPPORTED or 403 DENIED, nothing upstream",
            lambda o: o.label in ("clean-error(405 UNSUPPORTED)", "clean-error(403 DENIED)"),
        ),
    )


@pytest.mark.rule("PROTO-ERRORS")
@pytest.mark.parametrize("error", ["unknown-tag", "unknown-blob", "bad-digest", "bad-name", "push"])
def test_error_bodies(case: Case, error: str) -> None:
    image = case.image()
    case.warm(image)
    path = case.path(image)
    answer = {
        "unknown-tag": lambda: case.client.manifest(path, "no-such-tag"),
        "unknown-blob": lambda: case.client.blob(path, "sha256:" + "0" * 63 + "2"),
        "bad-digest": lambda: case.client.manifest(path, "sha256:not-hex"),
        "bad-name": lambda: case.client.manifest("UPPER/Case", "latest"),
        "push": lambda: case.client.request("POST", f"/v2/{path}/blobs/uploads/"),
    }[error]()
    observation = classify(answer)
    case.check(
        observation,
        predicate(
            "an OCI error body whose code fits the status",
            lambda o: (
                o.kind in (Kind.CLEAN_ERROR, Kind.NOT_FOUND)
                and o.status is not None
                and (o.status >= 500 or o.error_code in _CODES_FOR_STATUS.get(o.status, {o.error_code}))
            ),
        ),
    )
