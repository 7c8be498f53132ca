"""A whole image pulled as docker pulls it, summarised as one observation.

HEAD and GET the tag, resolve an index to the platform asked for, then the config and every layer, each digest
verified. The summary is `served-cached` (or `-fresh`) only if every step was; otherwise it is the first step
that was not, with where it happened, e.g. `connection-error(refused) at layer 3 of 3`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fake_upstream import Image
from harness.client import Answer
from harness.observe import classify, upstream_counts
from reports.model import Kind, Observation

_WHOLE = frozenset({Kind.SERVED_CACHED, Kind.SERVED_FRESH, Kind.SERVED})


@dataclass(frozen=True)
class _Known:
    name: str
    size: int
    fresh: bool  # part of the new upstream image, not of the cached one


def summarise(
    answers: Sequence[Answer],
    image: Image,
    fresh: Image | None,
    upstream: Sequence[object],
    platform: str | None = None,
) -> Observation:
    """One observation for the answers of `OciClient.pull` of `image`'s tag (`fresh`: what upstream has now)."""
    known = _index(image, fresh)
    tag = (image.digest, fresh.digest if fresh else None)
    observations: list[tuple[str, Observation]] = []
    for number, answer in enumerate(answers):
        reference = answer.url.rsplit("/", 1)[-1]
        if number < 2:  # HEAD and GET of the tag
            name = "tag (HEAD)" if number == 0 else "tag"
            size = (fresh or image).size if number else None
            observation = classify(answer, size=size, cached=tag[0], fresh=tag[1])
        else:
            found = known.get(reference)
            name = found.name if found else reference
            cached, new = (None, reference) if found and found.fresh else (reference, None)
            observation = classify(
                answer, asked=reference, size=found.size if found else None, cached=cached, fresh=new
            )
        observations.append((name, observation))
    for name, observation in observations:  # a real failure first, then a step without its digest header
        if observation.kind not in _WHOLE and observation.kind is not Kind.SERVED_WITHOUT_DIGEST:
            return _at(observation, name, upstream)
    for name, observation in observations:
        if observation.kind is Kind.SERVED_WITHOUT_DIGEST:
            return _at(observation, name, upstream)
    served = fresh if fresh is not None and observations[-1][1].kind is Kind.SERVED_FRESH else image
    if len(observations) < expected_steps(served, platform):
        missing = "the platform asked for is not in the index" if len(observations) == 2 else "the pull stopped"
        return _at(replace(observations[-1][1], kind=Kind.INCOMPLETE, label="incomplete"), missing, upstream)
    kind = _whole_kind({observation.kind for _, observation in observations})
    first = observations[1][1] if len(observations) > 1 else observations[0][1]
    names = ", ".join(name for name, _ in observations[1:])
    return replace(
        first,
        kind=kind,
        label=kind.value,
        detail=f"the whole image ({names}), each step {kind.value}",
        bytes=sum(answer.body_bytes for answer in answers),
        seconds=round(sum(answer.seconds for answer in answers), 3),
        upstream=upstream_counts(upstream),
    )


def expected_steps(image: Image, platform: str | None) -> int:
    """How many answers a whole pull of `image` has: HEAD and GET of the tag, a platform manifest, config, layers."""
    info = image.platform(platform) if platform else image.platforms[0]
    return 2 + (1 if len(image.platforms) > 1 else 0) + 1 + len(info.layers)


def _index(image: Image, fresh: Image | None) -> dict[str, _Known]:
    found: dict[str, _Known] = {}
    for each, is_fresh in ((image, False), (fresh, True)):
        if each is None:
            continue
        for info in each.platforms:
            found[info.manifest] = _Known(f"{info.platform} manifest", info.manifest_size, is_fresh)
            found[info.config.digest] = _Known("config", info.config.size, is_fresh)
            for number, layer in enumerate(info.layers, 1):
                found[layer.digest] = _Known(f"layer {number} of {len(info.layers)}", layer.size, is_fresh)
    return found


def _whole_kind(kinds: set[Kind]) -> Kind:
    """All from the cache, all new, or (a cold pull, or old and new mixed) just served."""
    if kinds == {Kind.SERVED_CACHED}:
        return Kind.SERVED_CACHED
    if Kind.SERVED_FRESH in kinds and Kind.SERVED_CACHED not in kinds:
        return Kind.SERVED_FRESH
    return Kind.SERVED


def _at(observation: Observation, step: str, upstream: Sequence[object]) -> Observation:
    return replace(
        observation,
        label=f"{observation.label} at {step}",
        detail=f"{step}: {observation.detail}",
        upstream=upstream_counts(upstream),
    )
