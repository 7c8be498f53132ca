"""One scenario case: its own content upstream, warming, requests, observations, and the checks it records."""

from __future__ import annotations

import time

import pytest

from fake_upstream import Image, Match
from harness.case_upstream import CaseUpstream
from harness.client import Answer, OciClient
from harness.content import MANIFESTS, What, digest_of, reference_of, size_of
from harness.expect import ProfileExpect, for_profile, served
from harness.observe import classify
from harness.pull import summarise
from harness.rules import Rule
from harness.settle import DEADLINE, Settled, quiet
from harness.verdict import Check, CheckMissed, Outcome
from harness.world import World
from reports.model import CaseResult, Observation, Transcripts, UpstreamRequest

# Two layers, the last over 16 KiB: a whole pull moves small and large blobs alike.
LAYERS = (3072, 20480)
WARMING = "warming the cache"
QUIESCE = 0.5  # seconds of upstream silence after which a proxy's background work is taken to be done


class Case:
    def __init__(self, world: World, rule: Rule, case_id: str, params: dict[str, str], *, exclusive: bool) -> None:
        self.world = world
        self.rule = rule
        self.id = case_id
        self.params = params
        self.client = world.client()
        self.upstream = CaseUpstream(world.upstream, world.new_namespace(rule.id), exclusive=exclusive)
        self.started = time.time()
        self.checks: list[Check] = []
        self.notes: list[str] = []
        self.states: list[str] = []  # the target's state at each check (Harbor: its endpoint's health)
        self.skipped: str | None = None
        self._start = self._mark = self.upstream.cursor()

    @property
    def gating(self) -> bool:
        return self.rule.gating(self.world.spec.strict)

    @property
    def profile(self) -> str:
        return self.world.spec.profile

    # ---- content --------------------------------------------------------------------------------

    def image(
        self,
        *,
        tag: str = "v1",
        layers: tuple[int, ...] = LAYERS,
        media_type: str = "oci",
        platforms: tuple[str, ...] | None = None,
        name: str | None = None,
        seed: int | None = None,
    ) -> Image:
        """A new image upstream in a repository of the case's own (`name` picks one; new by default)."""
        repository = self.upstream.repository(name or self.world.new_name())
        return self.upstream.add_image(
            repository, tag, layers=layers, media_type=media_type, platforms=platforms, seed=seed
        )

    def path(self, image: Image | str) -> str:
        return self.world.target.path(image if isinstance(image, str) else image.repository)

    def require(self, capability: str, why: str) -> None:
        if capability not in self.world.target.capabilities:
            self.skipped = f"target {self.world.target.name} lacks {capability}: {why}"
            pytest.skip(self.skipped)

    # ---- the upstream's failures, for this case only ----------------------------------------------

    def fault(self, name: str, match: Match | None = None, **options: object) -> str:
        return self.upstream.fault(name, match, **options)

    def outage(self, mode: str) -> None:
        """`refused` (the whole port: the scenario needs @pytest.mark.whole_upstream), `reset`, `blackhole`, `none`."""
        note = self.world.target.before_outage(mode)
        if note:
            self.notes.append(note)
        self.upstream.outage(mode)

    # ---- warming and settling --------------------------------------------------------------------

    def warm(self, image: Image, platform: str | None = None) -> None:
        """Pull the whole image through the proxy, then let the target settle: now it is cached."""
        observation = self.pull(image, platform=platform)
        self.check(observation, served(), note=WARMING)
        self.settle(image, platform)

    def settle(self, image: Image, platform: str | None = None, *, only: list[str] | None = None) -> Settled:
        digests = only or [image.digest, *_platform_digests(image, platform)]
        settled = self.world.settle(self.client, self.path(image), image.repository, digests)
        if not settled.complete:
            self.notes.append(settled.note)
        return settled

    def quiesce(self) -> Settled:
        """Until the upstream has heard nothing from this case's repositories for a moment and nothing is running:
        what a proxy does in the background (a second fetch, a HEAD turned into a GET) is then counted. Unlike
        `settle`, it waits for the upstream, not for the cache, so it also ends when nothing gets cached."""
        settled = quiet(self.world.upstream.activity, self.upstream.repositories, period=QUIESCE, deadline=DEADLINE)
        if not settled.complete:
            self.notes.append(settled.note)
        return settled

    # ---- observing ------------------------------------------------------------------------------

    def mark(self) -> None:
        """Start of the step being observed: upstream requests are counted from here (the upstream's sequence)."""
        self._mark = self.upstream.cursor()

    @property
    def mark_at(self) -> int:
        """The journal cursor of the last mark."""
        return self._mark

    def upstream_requests(self, *, since_start: bool = False) -> list[UpstreamRequest]:
        entries = self.upstream.journal(self._start if since_start else self._mark)
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
        client: OciClient | None = None,
    ) -> Answer:
        client = client or self.client
        path, reference = self.path(image), reference_of(image, what, platform)
        if what in MANIFESTS:
            if accept is not None:
                return client.manifest(path, reference, method=method, accept=accept)
            return client.manifest(path, reference, method=method)
        return client.blob(path, reference, method=method, byte_range=byte_range)

    def observe(
        self,
        image: Image,
        what: What,
        method: str = "GET",
        *,
        fresh: Image | None = None,
        platform: str | None = None,
        cold: bool = False,
    ) -> Observation:
        """One request of the given shape, classified against what is cached (and what is new upstream); content
        asked for `cold` was never pulled, so the right bytes are just `served`."""
        answer = self.request(image, what, method, platform=platform)
        digest = digest_of(image, what, platform)
        return classify(
            answer,
            asked=None if what == "tag" else digest,
            size=size_of(fresh or image, what, platform),
            cached=None if cold else digest,
            fresh=digest_of(fresh, what, platform) if fresh is not None else None,
            upstream=self.upstream_requests(),
        )

    def pull(self, image: Image, *, fresh: Image | None = None, platform: str | None = None) -> Observation:
        """A whole pull of the image's tag, as docker pulls (see harness.pull); counted from the mark."""
        self.mark()
        platform = platform or image.platforms[0].platform
        answers = self.client.pull(self.path(image), image.tag or image.digest, platform)
        return summarise(answers, image, fresh, self.upstream_requests(), platform)

    # ---- verdict --------------------------------------------------------------------------------

    def check(self, observation: Observation, expect: ProfileExpect, *, note: str = "") -> None:
        """Judge an observation against what the profile expects; a miss ends the case (see harness.verdict)."""
        chosen = for_profile(expect, self.profile)
        check = Check(observation, chosen.text, chosen.accepts(observation), note)
        self.checks.append(check)
        state = self.world.target.state()
        if state is not None:
            self.states.append(state)
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
                client=list(self.client.exchanges), upstream=self.upstream_requests(since_start=True)
            ),
            step=decisive.step if decisive else "",
            notes=[*self.notes, *([f"target at each check: {', '.join(self.states)}"] if self.states else [])],
        )

    def close(self) -> None:
        try:
            self.upstream.restore()
        finally:
            self.client.close()


def _platform_digests(image: Image, platform: str | None) -> list[str]:
    info = image.platform(platform) if platform else image.platforms[0]
    manifests = [info.manifest] if len(image.platforms) > 1 else []
    return [*manifests, info.config.digest, *(layer.digest for layer in info.layers)]
