"""The world a scenario runs in: the fake upstream and the target in front of it, and how cases share them."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import ssl
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

import httpx
from faker import Faker

from fake_upstream import ControlError, FakeUpstream, RemoteUpstream, Upstream
from harness.client import OciClient
from harness.isolation import UpstreamLock
from harness.redact import Redactor
from harness.settle import Settle, Settled, delay, quiet
from harness.spec import RunSpec
from harness.targets import Target, TargetError, UpstreamInfo, make_target

# A proxy that never gives up on its upstream is called hung after this long.
HANG_BOUND = 5.0
MARGIN = 2.0
USER = "pullthrough"
PASSWORD_ENV = "PULLTHROUGH_UPSTREAM_PASSWORD"


class World:
    """Starts the fake upstream (in-process, one per worker, or reaches the user's), then the target in front."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.target: Target = make_target(spec)
        self.credentials = self._credentials()
        self.upstream: Upstream
        self.redactor = Redactor([self.credentials[1]] if self.credentials else [])
        self.settling = Settle.parse(spec.settle or self.target.default_settle)
        self._faker = Faker()
        self._faker.seed_instance(spec.seed)
        self._numbers = itertools.count(1)
        self._worker = os.environ.get("PYTEST_XDIST_WORKER", "w0")
        self._run = secrets.token_hex(3)  # runs against one long-lived upstream never share a repository
        self._lock: UpstreamLock | None = None
        self._tls = ssl.create_default_context()  # one for every client of the run (the system's trust store)

    @property
    def timeout(self) -> float:
        """T: the target's upstream timeout plus a margin; how long a request may take before it is a hang."""
        declared = self.target.upstream_timeout
        return (declared if declared is not None else HANG_BOUND) + MARGIN + self.target.slack

    @property
    def shared(self) -> bool:
        """Whether other workers drive the same upstream (then a whole-port outage must run alone)."""
        return self.spec.upstream_url is not None

    def start(self) -> None:
        if self.spec.upstream_url and self.spec.upstream_control_url:
            remote = RemoteUpstream(self.spec.upstream_url, self.spec.upstream_control_url, self.spec.control_token)
            try:
                remote.check()
            except ControlError as error:
                raise TargetError(str(error)) from None
            self.upstream = remote
            self._lock = UpstreamLock(self.spec.upstream_control_url)
        else:
            users = {self.credentials[0]: self.credentials[1]} if self.credentials else None
            self.upstream = FakeUpstream(
                host=self.spec.upstream_host, auth="token" if users else "none", users=users, seed=self.spec.seed
            ).start()
        user, password = self.credentials or (None, None)
        try:
            self.target.start(UpstreamInfo(self.upstream.url, user, password, self.upstream))
            self._check_reachable()
        except BaseException:
            self._stop_upstream()
            raise

    def stop(self) -> None:
        try:
            self.target.stop()
        finally:
            self._stop_upstream()

    def describe_target(self) -> dict[str, object]:
        if not hasattr(self, "_version"):
            self._version = self.target.version()
        target = self.target
        return {"name": target.name, "version": self._version, "url": target.url, "options": target.options()}

    def hold(self, *, exclusive: bool) -> AbstractContextManager[None]:
        """Room for one case: shared with other cases, or the whole upstream for itself when it is shared."""
        if self._lock is None:
            return nullcontext()
        return self._lock.hold(exclusive=exclusive)

    def between_cases(self, *, disturbed: bool = False) -> None:
        """An upstream of this worker's own is made healthy whatever a case left behind; after a case that made the
        upstream fail (`disturbed`), the target forgets those failures too."""
        if not self.shared:
            self.upstream.clear_faults()
            self.upstream.set_outage("none")
        if disturbed:
            self.target.forget_upstream_failures()
        self.target.between_cases()

    def new_namespace(self, rule_id: str) -> str:
        """A namespace of repositories for one case, unique across workers and runs on the same upstream."""
        return f"{_slug(rule_id)}/{self._run}-{self._worker}-{next(self._numbers)}"

    def new_name(self) -> str:
        return re.sub(r"[^a-z0-9]", "", self._faker.word().lower()) or "repo"

    def client(self) -> OciClient:
        return OciClient(self.target.url, timeout=self.timeout, redactor=self.redactor, tls=self._tls)

    def settle(self, client: OciClient, path: str, repository: str, digests: Sequence[str]) -> Settled:
        """Wait, by the run's strategy, until the target has cached what was just pulled from `repository`."""
        how = self.settling
        if how.mode == "none":
            return Settled("none", True, 0.0)
        if how.mode == "delay":
            return delay(how.seconds or 0.0)
        if how.mode == "quiet":
            return quiet(self.upstream.activity, [repository], period=how.seconds or 1.0, deadline=how.deadline)
        return self.target.settle(client, path, digests)

    def _credentials(self) -> tuple[str, str] | None:
        """The upstream login the target uses: ours for an upstream we start, the user's for theirs."""
        if "credentials" not in self.target.capabilities:
            return None
        if self.spec.upstream_url is None:
            return USER, secrets.token_urlsafe(18)
        password = os.environ.get(PASSWORD_ENV)
        return (self.spec.upstream_user, password) if self.spec.upstream_user and password else None

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
