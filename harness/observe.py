"""Turning what the client got into an Observation: served-cached, not-found, clean-error(503 …), partial, hang…"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from harness.client import Answer
from oci_wire import parse_error_body
from reports.model import Kind, Observation

_CONNECTION_ERRORS = {"refused", "connect", "reset", "closed"}


@dataclass(frozen=True)
class _Make:
    answer: Answer
    upstream: dict[str, int]

    def __call__(
        self, kind: Kind, label: str, detail: str, *, digest: str | None = None, code: str | None = None
    ) -> Observation:
        return Observation(
            kind=kind,
            label=label,
            status=self.answer.status,
            error_code=code,
            digest=digest,
            bytes=self.answer.body_bytes,
            seconds=round(self.answer.seconds, 3),
            detail=detail,
            upstream=self.upstream,
        )


def classify(
    answer: Answer,
    *,
    asked: str | None = None,
    cached: str | None = None,
    fresh: str | None = None,
    upstream: Iterable[object] = (),
) -> Observation:
    """Classify one answer. `asked` is the digest requested (None for tags); `cached`/`fresh` name known digests."""
    make = _Make(answer, upstream_counts(upstream))
    if answer.status is None:
        if answer.error == "timeout":
            return make(Kind.HANG, "hang", f"no answer within {answer.seconds:.1f}s")
        how = answer.error if answer.error in _CONNECTION_ERRORS else "error"
        return make(Kind.CONNECTION_ERROR, f"connection-error({how})", f"connection {how}")
    if 200 <= answer.status < 300:
        return _success(answer, asked, cached, fresh, make)
    if 300 <= answer.status < 400:
        location = answer.headers.get("location", "")
        return make(Kind.REDIRECT, f"redirect({answer.status})", f"{answer.status} to {location!r}")
    codes = parse_error_body(answer.body) if answer.method != "HEAD" else None
    code = codes[0][0] if codes else None
    message = codes[0][1] if codes else answer.body[:200].decode("utf-8", "replace")
    if answer.method != "HEAD" and codes is None:
        return make(
            Kind.UNCLEAN_ERROR,
            f"unclean-error({answer.status})",
            f"{answer.status} without an OCI error body: {message!r}",
        )
    if answer.status == 404:
        return make(Kind.NOT_FOUND, f"not-found({code})" if code else "not-found", message, code=code)
    label = f"clean-error({answer.status} {code})" if code else f"clean-error({answer.status})"
    return make(Kind.CLEAN_ERROR, label, message, code=code)


def _success(answer: Answer, asked: str | None, cached: str | None, fresh: str | None, make: _Make) -> Observation:
    header = answer.digest_header
    if answer.method == "HEAD":
        digest = header
    else:
        digest = answer.body_digest
        if not answer.complete:
            return make(
                Kind.PARTIAL,
                "partial",
                f"transfer broke after {answer.body_bytes} bytes ({answer.error})",
                digest=digest,
            )
        length = answer.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) != answer.body_bytes:
            return make(
                Kind.PARTIAL, "partial", f"Content-Length {length} but {answer.body_bytes} bytes", digest=digest
            )
        if (asked is not None and digest != asked) or (header is not None and header != digest):
            return make(
                Kind.WRONG_BYTES, "wrong-bytes", f"body is {digest}, asked {asked}, header says {header}", digest=digest
            )
    if digest is not None and digest == cached:
        return make(Kind.SERVED_CACHED, "served-cached", "the cached content", digest=digest)
    if digest is not None and digest == fresh:
        return make(Kind.SERVED_FRESH, "served-fresh", "the new upstream content", digest=digest)
    if asked is not None and digest is not None and digest != asked:
        return make(Kind.WRONG_BYTES, "wrong-bytes", f"header says {digest}, asked {asked}", digest=digest)
    return make(Kind.SERVED, "served", f"{answer.status}, {answer.body_bytes} bytes", digest=digest)


def upstream_counts(entries: Iterable[object]) -> dict[str, int]:
    """Upstream requests by "METHOD kind", e.g. {"HEAD manifest": 1, "GET blob": 2}."""
    counter: Counter[str] = Counter()
    for entry in entries:
        kind = getattr(entry, "kind", None) or kind_of(str(getattr(entry, "path", "")))
        counter[f"{getattr(entry, 'method', '?')} {kind}"] += 1
    return dict(sorted(counter.items()))


def kind_of(path: str) -> str:
    if "/manifests/" in path:
        return "manifest"
    if "/blobs/uploads" in path:
        return "upload"
    if "/blobs/" in path:
        return "blob"
    if path.endswith("/tags/list") or "/tags/list?" in path:
        return "tags"
    if path.startswith("/token"):
        return "token"
    return "ping" if path.split("?")[0].rstrip("/") == "/v2" else "other"
