"""Waiting until Harbor has stored what a case pulled, by asking Harbor itself.

Harbor streams a cold pull to the client and stores it in the background: a blob 0.3-0.9 s later; an image
manifest after a 20 s wait (its tag up to 1 s after the digest; on 2.13 a tag only through the HEAD that came
first, about 30 s later); an index pulled for one platform after 20 rounds of 20 s (about 400 s), re-serialised
with only the children pulled, so never under the upstream's digest. Each kind has its own deadline, and what the
pull was is read from the client's own transcript: a digest asked at `/blobs/` is a blob, at `/manifests/` a
manifest (an index by its media type); the digest a tag stood for is the first one the case names.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.poll import wait_until
from harness.settle import Settled
from harness.targets.harbor_api import Artifact
from oci_wire import INDEX_MEDIA_TYPES
from reports.model import Exchange

Kind = Literal["blob", "manifest", "index"]
# An index pulled for one platform is stored only after about 400 s, untagged and re-serialised: a client never
# finds it again by its tag, so waiting for it would change nothing a case observes. It is given the time a fully
# pulled index takes (about 40 s), and the case notes that it had not settled.
DEADLINES: dict[Kind, float] = {"blob": 15.0, "manifest": 75.0, "index": 45.0}
# Polls start fast (a blob is stored within a second) and back off (a manifest takes 20 s): Harbor's API is not
# asked more than needed while many cases settle at once.
_FIRST, _BACKOFF, _SLOWEST = 0.5, 1.5, 4.0


@dataclass(frozen=True)
class Pulled:
    """One digest a case pulled, and what it was."""

    digest: str
    kind: Kind
    tag: str | None = None  # the tag it was pulled by, if it was


def what_was_pulled(exchanges: Sequence[Exchange], path: str, digests: Sequence[str]) -> list[Pulled]:
    """The kind of each digest, from the client's requests under `path` (Harbor's `<project>/<repository>`)."""
    prefix = f"/v2/{path}/"
    kinds: dict[str, Kind] = {}
    tag: tuple[str, Kind] | None = None
    for exchange in exchanges:  # answered or not: Harbor may fetch and store in the background all the same
        if prefix not in exchange.url:
            continue
        section, _, reference = exchange.url.split(prefix, 1)[1].partition("/")
        reference = reference.split("?")[0]
        media_type = exchange.response_headers.get("content-type", "").split(";")[0].strip()
        kind: Kind = "index" if media_type in INDEX_MEDIA_TYPES else "manifest"
        if section == "blobs":
            kinds[reference] = "blob"
        elif section == "manifests" and ":" in reference:
            kinds[reference] = kind
        elif section == "manifests" and (tag is None or exchange.status == 200):
            tag = (reference, kind)
    found: list[Pulled] = []
    for digest in digests:
        if digest in kinds:
            found.append(Pulled(digest, kinds[digest]))
        elif tag is not None and not any(p.tag for p in found):
            found.append(Pulled(digest, tag[1], tag[0]))
        else:
            found.append(Pulled(digest, "manifest"))
    return found


def stored(
    pulled: Pulled, artifacts: Sequence[Artifact], children: set[str], blob_exists: Callable[[str], bool]
) -> bool:
    """Whether Harbor holds `pulled` as a client would find it again (a tag included, if it came by one)."""
    if pulled.kind == "blob":
        return blob_exists(pulled.digest)
    if pulled.kind == "index":
        # Stored re-serialised: an index artifact that references every child the case pulled.
        matches = [a for a in artifacts if a.media_type in INDEX_MEDIA_TYPES and children <= set(a.references)]
        return any(pulled.tag is None or pulled.tag in a.tags for a in matches)
    for artifact in artifacts:
        if artifact.digest == pulled.digest:
            return pulled.tag is None or pulled.tag in artifact.tags
        if pulled.digest in artifact.references:
            return True
    return False


def settle(
    pulled: Sequence[Pulled],
    artifacts: Callable[[], list[Artifact]],
    blob_exists: Callable[[str], bool],
    *,
    deadlines: dict[Kind, float] = DEADLINES,
) -> Settled:
    """Poll until everything pulled is stored; each kind is given up at its own deadline."""
    started = time.monotonic()
    pending = list(pulled)
    children = {p.digest for p in pulled if p.kind == "manifest" and p.tag is None}
    given_up: list[Pulled] = []
    schedule = [started + _FIRST, _FIRST]  # the next poll, and the interval after it

    def done() -> bool:
        now = time.monotonic()
        if now < schedule[0]:
            return False
        schedule[1] = min(schedule[1] * _BACKOFF, _SLOWEST)
        schedule[0] = now + schedule[1]
        listed = artifacts() if any(p.kind != "blob" for p in pending) else []
        pending[:] = [p for p in pending if not stored(p, listed, children, blob_exists)]
        elapsed = time.monotonic() - started
        given_up.extend(p for p in pending if elapsed >= deadlines[p.kind])
        pending[:] = [p for p in pending if elapsed < deadlines[p.kind]]
        return not pending

    longest = max((deadlines[p.kind] for p in pulled), default=0.0)
    wait_until(done, timeout=longest + _SLOWEST * 2, what="Harbor's storage", interval=0.1)
    waited = time.monotonic() - started
    if given_up:
        missing = "; ".join(_describe(p) for p in given_up)
        return Settled("probe", False, waited, f"Harbor had not stored {missing}")
    return Settled("probe", True, waited)


def _describe(pulled: Pulled) -> str:
    short = pulled.digest.split(":")[-1][:12]
    if pulled.tag is not None:
        return f"the {pulled.kind} of tag {pulled.tag} ({short})"
    return f"{pulled.kind} {short}"
