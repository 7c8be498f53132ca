"""A Harbor that is already running (installer, compose, Helm, or built by hand): the `harbor` target.

Each worker gets its own `docker-registry` endpoint pointed at its own fake upstream and its own proxy-cache
project (names unique per run and worker), so that a case that takes its upstream down reaches no other worker's
endpoint. The project's options come from `--harbor-option NAME=VALUE` and are read back, because Harbor drops the
ones it does not know. Everything created is removed at the end, the run failed or interrupted (SIGTERM and Ctrl-C
end a run through its teardown): repositories, then the project, then the endpoint, in the order Harbor allows.
Endpoints a killed run left behind (its process gone) are removed by the next run on the same host.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import httpx

from harness.poll import Timeout, wait_until
from harness.settle import Settled
from harness.targets import harbor_settle
from harness.targets.base import Target, TargetError, UpstreamInfo
from harness.targets.harbor_api import HarborApi
from harness.targets.harbor_health import HealthClock
from harness.targets.harbor_reaper import Reaper

if TYPE_CHECKING:
    from harness.client import OciClient
    from harness.spec import RunSpec

PASSWORD_ENV = "PULLTHROUGH_HARBOR_PASSWORD"
# REGISTRY_HTTP_CLIENT_TIMEOUT is whole minutes: 1 is the shortest Harbor can be told to wait for its upstream.
MINIMUM_TIMEOUT = 60.0
# The longest a case keeps its upstream's port down (a pull from the cache with it refused), with room to spare.
OUTAGE_WINDOW = 45.0
TEARDOWN_DEADLINE = 60.0
_MARK = "pullthrough run"  # endpoint descriptions start with this, then the host and the process


class HarborTarget(Target):
    name = "harbor"
    capabilities = frozenset({"credentials"})
    # A request held by the upstream for the whole timeout comes after Harbor's own probe and token requests,
    # which take seconds when many cases run at once.
    slack = 15.0
    # The first health check of a new endpoint comes up to 300 s after it is made: by the end of a run (10 minutes or
    # more) every worker has seen one, and a refused port waits at most for the one that is due.
    whole_upstream_last = True

    def __init__(self, spec: RunSpec) -> None:
        super().__init__(spec)
        self._api: HarborApi | None = None
        self._clock: HealthClock | None = None
        self._registry_id: int | None = None
        self._name: str | None = None  # the endpoint's and the project's, known before Harbor makes either
        self.project: str | None = None
        self._options: dict[str, str] = {}
        self._version: str | None = None
        self._healthy_since_case = False  # the endpoint seen healthy, and no case has used Harbor since
        self._reaper: Reaper | None = None
        self._used: set[str] = set()  # repositories the current case asked for

    @classmethod
    def check(cls, spec: RunSpec) -> None:
        super().check(spec)
        if not spec.harbor_url:
            raise TargetError("--target harbor needs --harbor-url URL (a running Harbor, e.g. https://harbor.example)")
        if not os.environ.get(PASSWORD_ENV):
            raise TargetError(f"--target harbor needs the password of --harbor-user in ${PASSWORD_ENV}")
        if spec.path_template != "{repository}":
            raise TargetError("--path-template is for --target external: the harbor target makes its own project")
        if spec.upstream_timeout is not None and spec.upstream_timeout < MINIMUM_TIMEOUT:
            raise TargetError(
                "Harbor's upstream timeout (REGISTRY_HTTP_CLIENT_TIMEOUT) is in whole minutes: "
                "--upstream-timeout 60 or more"
            )
        parse_options(spec.harbor_options)

    @property
    def url(self) -> str:
        return (self.spec.harbor_url or "").rstrip("/")

    @property
    def upstream_timeout(self) -> float:
        return self.spec.upstream_timeout or MINIMUM_TIMEOUT

    def path(self, repository: str) -> str:
        project = self._running_project()
        self._used.add(repository)
        return f"{project}/{repository}"

    # ---- start and stop -----------------------------------------------------------------------------

    def start(self, upstream: UpstreamInfo) -> None:
        if self._api is not None:
            raise TargetError("the harbor target is already started")
        api = self._api = HarborApi(self.url, self.spec.harbor_user, os.environ.get(PASSWORD_ENV, ""))
        try:
            api.check_login()
            self._version = api.version()
            _sweep(api)
            name = self._name = _name()
            if upstream.upstream is not None:
                self._clock = HealthClock(upstream.upstream, self.url)
            with self._own_check():
                self._registry_id = api.create_registry(
                    name,
                    upstream.url,
                    username=upstream.username,
                    password=upstream.password,
                    description=f"{_MARK} on {socket.gethostname()} pid {os.getpid()}",
                )
            wanted = {"public": "true", **parse_options(self.spec.harbor_options)}
            self.project = name  # before it exists: an interrupt may land after Harbor made it, before we know
            api.create_project(name, self._registry_id, wanted)
            held = api.project_metadata(name)
            self._options = _held(wanted, held)
            self._reaper = Reaper(HarborApi(self.url, self.spec.harbor_user, os.environ.get(PASSWORD_ENV, "")), name)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Remove what this target made, in the order Harbor allows; what it cannot remove is one line of error."""
        api, project, registry_id, name = self._api, self.project, self._registry_id, self._name
        reaper = self._reaper
        self._api = self._clock = self._reaper = None
        self.project = self._registry_id = self._name = None
        if api is None:
            return
        if reaper is not None:
            reaper.stop(timeout=TEARDOWN_DEADLINE)
        try:
            if registry_id is None and name is not None:  # interrupted while Harbor was making it, perhaps
                registry_id = next((int(r["id"]) for r in api.registries() if r.get("name") == name), None)
            teardown(api, project, registry_id)
        finally:
            api.close()

    # ---- the endpoint's health --------------------------------------------------------------------

    def between_cases(self) -> None:
        """The repositories of the case before are deleted in the background (harbor_reaper), and the endpoint is
        healthy: after a refused port Harbor may have marked it unhealthy, and only the next check (up to 300 s away)
        or `PUT {}` marks it healthy again."""
        api, registry_id = self._running()
        if self._reaper is not None and self._used:
            self._reaper.delete(sorted(self._used))  # no case uses another's repositories
            self._used.clear()
        if self._healthy_since_case:  # called after a case and again before the next: nothing happened between
            return
        if api.registry_status(registry_id) != "healthy":
            with self._own_check():
                if not api.recheck_registry(registry_id):
                    raise TargetError(
                        f"Harbor's endpoint {registry_id} stays unhealthy: it cannot reach the fake upstream"
                    )
        self._healthy_since_case = True

    def before_outage(self, mode: str) -> str | None:
        """A whole-port outage only where no health check falls in it (a check then would mark the endpoint
        unhealthy, and Harbor would answer the case from its storage alone)."""
        self._healthy_since_case = False
        if mode == "refused" and self._clock is not None:
            return self._clock.clear_of_checks(OUTAGE_WINDOW)
        return None

    def state(self) -> str | None:
        api, registry_id = self._running()
        self._healthy_since_case = False
        return f"endpoint {api.registry_status(registry_id)}"

    # ---- settling ---------------------------------------------------------------------------------

    def settle(self, client: OciClient, path: str, digests: Sequence[str]) -> Settled:
        api, _ = self._running()
        project, _, repository = path.partition("/")
        pulled = harbor_settle.what_was_pulled(client.exchanges, path, digests)
        return harbor_settle.settle(
            pulled, lambda: api.artifacts(project, repository), lambda digest: self._blob_exists(path, digest)
        )

    def version(self) -> str | None:
        return self._version

    def options(self) -> dict[str, str]:
        return dict(self._options)

    # ---- internals ----------------------------------------------------------------------------------

    def _running(self) -> tuple[HarborApi, int]:
        if self._api is None or self._registry_id is None:
            raise TargetError("the harbor target is not started")
        return self._api, self._registry_id

    def _running_project(self) -> str:
        if self.project is None:
            raise TargetError("the harbor target is not started")
        return self.project

    def _own_check(self) -> _OwnCheck:
        return _OwnCheck(self._clock)

    def _blob_exists(self, path: str, digest: str) -> bool:
        """A HEAD of the blob as the admin: Harbor answers it from its storage alone (it never proxies a blob HEAD)."""
        try:
            response = httpx.head(
                f"{self.url}/v2/{path}/blobs/{digest}",
                auth=(self.spec.harbor_user, os.environ.get(PASSWORD_ENV, "")),
                timeout=30,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200


class _OwnCheck:
    def __init__(self, clock: HealthClock | None) -> None:
        self._context = clock.own_check() if clock is not None else None

    def __enter__(self) -> None:
        if self._context is not None:
            self._context.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)


def teardown(api: HarborApi, project: str | None, registry_id: int | None) -> None:
    """Repositories, then the project (412 while it has any: Harbor may store one a moment after they were
    listed), then the endpoint (412 while a project uses it)."""
    if project is not None:

        def project_gone() -> bool:
            for repository in api.repositories(project) if api.project(project) else []:
                api.delete_repository(project, repository)
            return api.delete_project(project)

        _until(project_gone, f"deleting Harbor project {project}")
    if registry_id is not None:
        _until(lambda: api.delete_registry(registry_id), f"deleting Harbor endpoint {registry_id}")


def _until(step: Callable[[], bool], what: str) -> None:
    try:
        wait_until(step, timeout=TEARDOWN_DEADLINE, what=what, interval=1.0)
    except Timeout as error:
        raise TargetError(f"{error} (Harbor kept answering 412); remove it by hand") from None


def _sweep(api: HarborApi) -> None:
    """Endpoints (and their projects) left by runs on this host whose process is gone: killed with -9."""
    host = socket.gethostname()
    projects = None
    for registry in api.registries():
        description = str(registry.get("description") or "")
        words = description.split()
        if not description.startswith(f"{_MARK} on {host} pid ") or not words[-1].isdecimal():
            continue
        if _alive(int(words[-1])):
            continue
        if projects is None:
            projects = api.projects()
        used_by = [str(p["name"]) for p in projects if p.get("registry_id") == registry["id"]]
        try:
            for project in used_by:
                teardown(api, project, None)
            teardown(api, None, int(registry["id"]))
        except TargetError:
            continue  # every worker of a run sweeps at once: another is removing it; what is left, the next run removes


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _name() -> str:
    """Unique per run and worker, and a valid name for both an endpoint and a project."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "w0")
    return f"pullthrough-{secrets.token_hex(3)}-{worker}"


def parse_options(given: Sequence[str]) -> dict[str, str]:
    """`NAME=VALUE` pairs, as project metadata (Harbor's metadata values are strings)."""
    options: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise TargetError(f"--harbor-option {item!r}: NAME=VALUE, e.g. proxy_cache_local_on_not_found=true")
        options[name.strip()] = value.strip()
    return options


def _held(wanted: dict[str, str], held: dict[str, str]) -> dict[str, str]:
    """What Harbor holds (its own keys such as `retention_id` left out), and what it dropped of what was asked."""
    options = {name: value for name, value in held.items() if name in wanted or name.startswith("proxy")}
    dropped = [f"{name}={value}" for name, value in wanted.items() if held.get(name) != value]
    if dropped:
        options["dropped"] = ", ".join(dropped)
    return options
