"""One pull, as docker does it, each answer classified in the harness's words against what the plan knows.

HEAD the tag, GET it, GET the platform's manifest when the tag is an index, then the config and every layer;
the pull stops at the first answer that is not the right content, served whole. Every answer is judged
against the digest and size the plan knows, so a wrong or cleanly short body is seen wherever it comes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from harness.client import OciClient
from harness.observe import classify
from harness.soak.plan import Blob, PlanImage
from reports.model import Kind, Observation

SUCCESS = frozenset({Kind.SERVED, Kind.SERVED_CACHED, Kind.SERVED_FRESH, Kind.SERVED_WITHOUT_DIGEST})
# A success the client cannot tell from the real thing, though the content is not what it asked for.
BROKEN = frozenset({Kind.WRONG_BYTES, Kind.SHORT})


@dataclass(frozen=True)
class Step:
    """One request of a pull: what it was, for which repository, when it started (wall clock), what came."""

    name: str
    repository: str
    started: float
    observation: Observation

    @property
    def ok(self) -> bool:
        return self.observation.kind in SUCCESS

    @property
    def ended(self) -> float:
        return self.started + (self.observation.seconds or 0.0)


def pull(client: OciClient, image: PlanImage) -> Iterator[Step]:
    """The requests of one pull of `image`, each yielded as it completes; stops after the first that fails."""
    path = image.path
    steps = [
        ("HEAD manifest by tag", "HEAD", "manifests", image.tag, image.top),
        ("GET manifest by tag", "GET", "manifests", image.tag, image.top),
    ]
    if image.child is not None:
        steps.append(("GET manifest by digest", "GET", "manifests", image.child.digest, image.child))
    steps += [("GET blob", "GET", "blobs", blob.digest, blob) for blob in image.blobs]
    try:
        for name, method, what, reference, blob in steps:
            step = _request(client, image.repository, path, name, method, what, reference, blob)
            yield step
            if not step.ok:
                return
    finally:
        # The client keeps every answer for transcripts; a soak has no use for them and must not grow.
        client.exchanges.clear()
        client.raw_answers.clear()


def _request(
    client: OciClient, repository: str, path: str, name: str, method: str, what: str, reference: str, blob: Blob
) -> Step:
    started = time.time()
    if what == "manifests":
        answer = client.manifest(path, reference, method=method)
    else:
        answer = client.blob(path, reference, method=method)
    return Step(name, repository, started, classify(answer, asked=blob.digest, size=blob.size))
