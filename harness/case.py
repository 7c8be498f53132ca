"""One scenario case: its building blocks (images, warming, requests, observations) and its verdict."""

from __future__ import annotations

import time
from typing import Literal

import pytest

from fake_upstream import Image, JournalEntry, PlatformInfo
from harness.client import Answer
from harness.expect import ProfileExpect, for_profile, served
from harness.observe import classify
from harness.rules import Rule
from harness.verdict import Check, CheckMissed, Outcome
from harness.world import World
from reports.model import CaseResult, Observation, Transcripts, UpstreamRequest

What = Literal["tag", "digest", "config", "layer", "child"]


class Case:
    def __init__(self, world: World, rule: Rule, case_id: str, params: dict[str, str]) -> None:
        self.world = world
        self.rule = rule
        self.id = case_id
        self.params = params
        self.client = world.client()
        self.started = time.time()
        self.checks: list[Check] = []
        self.skipped: str | None = None
        self._mark = self.started

    @property
    def upstream(self):  # type: ignore[no-untyped-def]  # FakeUpstream or RemoteUpstream, same methods
        return self.world.upstream

    @property
    def gating(self) -> bool:
        return self.rule.gating(self.world.spec.strict)

    # ---- content --------------------------------------------------------------------------------

    def image(
        self,
        *,
        tag: str = "v1",
        layers: tuple[int, ...] = (3072, 20480),
        media_type: str = "oci",
        platforms: tuple[str, ...] | None = None,
        repository: str | None = None,
    ) -> Image:
        """A new image in a repository of its own, so cases never see each other's cache."""
        name = repository or self.world.new_repository(self.rule.id)
        image: Image = self.upstream.add_image(name, tag, layers=layers, media_type=media_type, platforms=platforms)
        return image

    def path(self, image: Image | str) -> str:
        return self.world.target.path(image if isinstance(image, str) else image.repository)

    def require(self, capability: str, why: str) -> None:
        if capability not in self.world.target.capabilities:
            self.skipped = f"target {self.world.target.name} lacks {capability}: {why}"
            pytest.skip(self.skipped)

    def warm(self, image: Image, platform: str | None = None) -> None:
        """Pull the whole image through the proxy, then let the target settle: now it is cached."""
        platform = platform or image.platforms[0].platform
        answers = self.client.pull(self.path(image), image.tag or image.digest, platform)
        info = image.platform(platform)
        expected = 2 + (1 if image.platforms and len(image.platforms) > 1 else 0) + 1 + len(info.layers)
        last = answers[-1]
        if len(answers) < expected or classify(last, asked=_asked(last)).kind != "served":
            observation = classify(last, asked=_asked(last), upstream=self.upstream_requests())
            self.check(observation, served(), note="warming the cache: a healthy cold pull through the proxy")
        self.settle(image, platform)

    def settle(self, image: Image, platform: str | None = None, *, only: list[str] | None = None) -> None:
        """Let the target finish caching what was just pulled (some cache in the background)."""
        info = _platform(image, platform)
        digests = only or [image.digest, info.manifest, info.config.digest, *(layer.digest for layer in info.layers)]
        self.world.target.settle(self.client, self.path(image), digests)

    # ---- observing ------------------------------------------------------------------------------

    def mark(self) -> None:
        """Start of the step being observed: upstream requests are counted from here."""
        self._mark = time.time()

    def journal(self) -> list[JournalEntry]:
        """The fake upstream's journal from the mark on."""
        entries: list[JournalEntry] = self.upstream.journal(self._mark)
        return entries

    def upstream_requests(self, since: float | None = None) -> list[UpstreamRequest]:
        entries = self.upstream.journal(since if since is not None else self._mark)
        return [
            UpstreamRequest(
                time=e.time,
                method=e.method,
                path=e.path,
                status=e.status,
                bytes=e.bytes,
                auth=e.auth,
                client=e.client,
                fault=e.fault,
            )
            for e in entries
        ]

    def request(
        self,
        image: Image,
        what: What,
        method: str = "GET",
        *,
        platform: str | None = None,
        accept: str | None = None,
        byte_range: str | None = None,
    ) -> Answer:
        path = self.path(image)
        if what in ("tag", "digest", "child"):
            reference = {
                "tag": image.tag or image.digest,
                "digest": image.digest,
                "child": _platform(image, platform).manifest,
            }[what]
            if accept is not None:
                return self.client.manifest(path, reference, method=method, accept=accept)
            return self.client.manifest(path, reference, method=method)
        return self.client.blob(path, digest_of(image, what, platform), method=method, byte_range=byte_range)

    def observe(
        self, image: Image, what: What, method: str = "GET", *, fresh: Image | None = None, platform: str | None = None
    ) -> Observation:
        """One request of the given shape, classified against what is cached (and what is new upstream)."""
        answer = self.request(image, what, method, platform=platform)
        cached = digest_of(image, what, platform)
        fresh_digest = digest_of(fresh, what, platform) if fresh is not None else None
        asked = None if what == "tag" else cached
        return classify(answer, asked=asked, cached=cached, fresh=fresh_digest, upstream=self.upstream_requests())

    # ---- verdict --------------------------------------------------------------------------------

    def check(self, observation: Observation, expect: ProfileExpect, *, note: str = "") -> None:
        """Judge an observation against what the profile expects; a miss ends the case (see harness.verdict)."""
        chosen = for_profile(expect, self.world.spec.profile)
        check = Check(observation, chosen.text, chosen.accepts(observation), note)
        self.checks.append(check)
        if not check.accepted:
            raise CheckMissed(check.message)

    def result(self, outcome: Outcome, duration: float) -> CaseResult:
        decisive = outcome.decisive
        return CaseResult(
            id=self.id,
            rule=self.rule.id,
            family=self.rule.family,
            level=self.rule.level,
            title=self.rule.situation,
            params=self.params,
            expected=decisive.expected if decisive else self.rule.expected,
            verdict=outcome.verdict,
            gating=self.gating,
            duration=round(duration, 3),
            message=outcome.message,
            observation=decisive.observation if decisive else None,
            transcripts=Transcripts(
                client=list(self.client.exchanges), upstream=self.upstream_requests(since=self.started)
            ),
        )

    def close(self) -> None:
        self.client.close()


def digest_of(image: Image, what: str, platform: str | None = None) -> str:
    info = _platform(image, platform)
    return {
        "tag": image.digest,
        "digest": image.digest,
        "child": info.manifest,
        "config": info.config.digest,
        "layer": info.layers[0].digest if info.layers else info.config.digest,
    }[what]


def _platform(image: Image, platform: str | None) -> PlatformInfo:
    return image.platform(platform) if platform else image.platforms[0]


def _asked(answer: Answer) -> str | None:
    tail = answer.url.rsplit("/", 1)[-1]
    return tail if tail.startswith("sha256:") else None
