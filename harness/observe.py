"""What the client got, in the catalogue's words: served cached, not found, a clean error, visibly aborted, a hang…

RULES.md's words, as this module applies them:
- *served cached*: 200, the body's sha256 is the cached digest and `Docker-Content-Digest` says so;
- *visibly aborted*: the transfer broke before its declared end, as every HTTP client sees it (`aborted`);
- a body that ends cleanly with fewer bytes than the content it stands for is `short`, other wrong bytes
  are `wrong-bytes`: both are a success the client cannot tell from the real thing;
- *hang*: no complete answer within T, whether nothing came or the body stopped after the headers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from harness.client import Answer
from oci_wire import parse_error_body
from reports.model import Kind, Observation

_CONNECTION_ERRORS = {"refused", "connect", "reset", "closed"}


@dataclass(frozen=True)
class Known:
    """What the harness knows about the content asked for: the digest requested (None for a tag), its size,
    and the digests that count as the cached and as the new upstream content."""

    asked: str | None = None
    size: int | None = None
    cached: str | None = None
    fresh: str | None = None


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
    size: int | None = None,
    upstream: Iterable[object] = (),
) -> Observation:
    """Classify one answer. `asked` is the digest requested (None for tags); `size` the content's true size."""
    known = Known(asked, size, cached, fresh)
    make = _Make(answer, upstream_counts(upstream))
    if answer.status is None:
        if answer.error == "timeout":
            return make(Kind.HANG, "hang", f"no answer within {answer.seconds:.1f}s")
        how = answer.error if answer.error in _CONNECTION_ERRORS else "error"
        return make(Kind.CONNECTION_ERROR, f"connection-error({how})", f"connection {how}")
    if 200 <= answer.status < 300:
        return _success(answer, known, make)
    if 300 <= answer.status < 400:
        location = answer.headers.get("location", "")
        return make(Kind.REDIRECT, f"redirect({answer.status})", f"{answer.status} to {location!r}")
    return _error(answer, make)


def _error(answer: Answer, make: _Make) -> Observation:
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


def _success(answer: Answer, known: Known, make: _Make) -> Observation:
    header = answer.digest_header
    if answer.method == "HEAD":
        digest = header
    else:
        digest = answer.body_digest
        broken = _broken(answer, known, make)
        if broken is not None:
            return broken
        if known.asked is not None and digest != known.asked:
            return _wrong(answer, known, make)
        if known.size is not None and answer.body_bytes < known.size and digest not in (known.cached, known.fresh):
            return _wrong(answer, known, make)
        if header is not None and header != digest:
            wrong = f"Docker-Content-Digest says {header}, the body is {digest}"
            return make(Kind.WRONG_BYTES, "wrong-bytes", wrong, digest=digest)
    if digest is None:
        return make(Kind.SERVED_WITHOUT_DIGEST, "served-without-digest", "200 without Docker-Content-Digest")
    if known.asked is not None and digest != known.asked:
        return make(Kind.WRONG_BYTES, "wrong-bytes", f"header says {digest}, asked {known.asked}", digest=digest)
    if header is None:
        what = "the cached content" if digest == known.cached else "the content"
        return make(
            Kind.SERVED_WITHOUT_DIGEST,
            "served-without-digest",
            f"{what}, without Docker-Content-Digest",
            digest=digest,
        )
    if digest == known.cached:
        return make(Kind.SERVED_CACHED, "served-cached", "the cached content", digest=digest)
    if digest == known.fresh:
        return make(Kind.SERVED_FRESH, "served-fresh", "the new upstream content", digest=digest)
    return make(Kind.SERVED, "served", f"{answer.status}, {answer.body_bytes} bytes", digest=digest)


def _broken(answer: Answer, known: Known, make: _Make) -> Observation | None:
    """A transfer that did not end: stalled (a hang within T) or cut off where every client sees it."""
    if answer.complete:
        return None
    declared = answer.headers.get("content-length")
    of = f" of {declared}" if declared else ""
    if answer.error == "timeout":
        return make(Kind.HANG, "hang", f"the body stopped after {answer.body_bytes}{of} bytes (no end within T)")
    return make(
        Kind.ABORTED,
        "aborted",
        f"visibly aborted after {answer.body_bytes}{of} bytes ({answer.error})",
        digest=answer.body_digest,
    )


def _wrong(answer: Answer, known: Known, make: _Make) -> Observation:
    """A complete 200 whose bytes are not the content asked for: cut short, or different."""
    digest = answer.body_digest
    if known.size is not None and answer.body_bytes < known.size:
        detail = f"ended cleanly after {answer.body_bytes} of {known.size} bytes"
        return make(Kind.SHORT, "short", detail, digest=digest)
    return make(Kind.WRONG_BYTES, "wrong-bytes", f"body is {digest}, asked {known.asked}", digest=digest)


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
