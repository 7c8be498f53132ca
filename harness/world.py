"""The world a scenario runs in: the fake upstream and the target in front of it."""

from __future__ import annotations

import itertools
import os
import re
import secrets

import httpx
from faker import Faker

from fake_upstream import ControlError, FakeUpstream, RemoteUpstream
from harness.client import OciClient
from harness.redact import Redactor
from harness.spec import RunSpec
from harness.targets import Target, TargetError, UpstreamInfo, make_target

# A proxy that never gives up on its upstream is called hung after this long.
HANG_BOUND = 5.0
MARGIN = 2.0
USER = "pullthrough"


class World:
    """Starts the fake upstream (in-process, or reaches an external one), then the target pointed at it."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.target: Target = make_target(spec)
        self.secret = secrets.token_urlsafe(18)
        self.credentials: tuple[str, str] | None = (
            (USER, self.secret) if "credentials" in self.target.capabilities and not spec.upstream_url else None
        )
        self.upstream: FakeUpstream | RemoteUpstream
        self.redactor = Redactor([self.secret])
        self._faker = Faker()
        self._faker.seed_instance(spec.seed)
        self._names = itertools.count(1)
        self._worker = os.environ.get("PYTEST_XDIST_WORKER", "w0")

    @property
    def timeout(self) -> float:
        """T: the target's upstream timeout plus a margin; how long a request may take before it is a hang."""
        declared = self.target.upstream_timeout
        return (declared if declared is not None else HANG_BOUND) + MARGIN

    def start(self) -> None:
        if self.spec.upstream_url:
            if not self.spec.upstream_control_url:
                raise TargetError("--upstream-url needs --upstream-control-url (the fake upstream's control API)")
            remote = RemoteUpstream(self.spec.upstream_url, self.spec.upstream_control_url, self.spec.control_token)
            try:
                remote.check()
            except ControlError as error:
                raise TargetError(str(error)) from None
            self.upstream = remote
        else:
            users = {USER: self.secret} if self.credentials else None
            self.upstream = FakeUpstream(
                auth="token" if self.credentials else "none", users=users, seed=self.spec.seed
            ).start()
        user, password = self.credentials or (None, None)
        try:
            self.target.start(UpstreamInfo(self.upstream.url, user, password))
            self._check_reachable()
        except BaseException:
            self._stop_upstream()
            raise

    def stop(self) -> None:
        try:
            self.target.stop()
        finally:
            self._stop_upstream()

    def describe_target(self) -> dict[str, str | None]:
        if not hasattr(self, "_version"):
            self._version = self.target.version()
        return {"name": self.target.name, "version": self._version, "url": self.target.url}

    def between_cases(self) -> None:
        self.upstream.clear_faults()
        self.upstream.set_outage("none")

    def new_repository(self, stem: str) -> str:
        word = re.sub(r"[^a-z0-9]", "", self._faker.word().lower()) or "repo"
        return f"{_slug(stem)}/{word}-{self._worker}-{next(self._names)}"

    def client(self) -> OciClient:
        return OciClient(self.target.url, timeout=self.timeout, redactor=self.redactor)

    def _check_reachable(self) -> None:
        try:
            httpx.get(self.target.url + "/v2/", timeout=self.timeout)
        except httpx.TransportError as error:
            raise TargetError(f"the proxy at {self.target.url} is unreachable: {error}") from None

    def _stop_upstream(self) -> None:
        upstream = getattr(self, "upstream", None)
        if isinstance(upstream, FakeUpstream):
            upstream.stop()
        elif isinstance(upstream, RemoteUpstream):
            upstream.close()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "case"
