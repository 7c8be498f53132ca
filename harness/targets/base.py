"""What a target is: one proxy implementation, started (or reached) in front of the fake upstream."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from harness.settle import Settled

if TYPE_CHECKING:
    from fake_upstream import Upstream
    from harness.client import OciClient
    from harness.spec import RunSpec


class TargetError(RuntimeError):
    """The target cannot run here; the message is a one-line fix (the CLI exits 2 with it)."""


@dataclass(frozen=True)
class UpstreamInfo:
    """How a target reaches the fake upstream, and as whom."""

    url: str
    username: str | None = None
    password: str | None = None
    upstream: Upstream | None = None  # the fake upstream itself, for a target that reads its journal


class Target(ABC):
    """One proxy implementation under test.

    Capabilities say which cases can run: `credentials` (it can pull from an upstream that needs a login),
    `restart` (the harness may kill -9 and restart it), `logs` (its log text can be searched for secrets),
    `defects` (deliberate defects can be switched on), `storage` (the harness can read its cache on disk).
    """

    name: ClassVar[str]
    capabilities: frozenset[str] = frozenset()
    default_settle: ClassVar[str] = "probe"  # how cases wait for its cache, unless --settle says otherwise
    runs_binary: ClassVar[bool] = False  # it runs the program --peer-binary names
    slack: ClassVar[float] = 0.0  # the target's own time on top of its upstream timeout, before an answer is late
    # Cases that refuse the whole upstream port run after all others (Harbor: its endpoint's health checks must have
    # been seen by then, so that an outage can be placed between them).
    whole_upstream_last: ClassVar[bool] = False

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec

    @classmethod
    def check(cls, spec: RunSpec) -> None:
        """Raise TargetError if `spec` asks this target for something it cannot do (run once, from RunSpec)."""
        if (spec.defects or spec.variants) and "defects" not in cls.capabilities:
            raise TargetError(f"--defect and --variant apply to --target reference only, not {cls.name}")
        if spec.peer_binary is not None and not cls.runs_binary:
            raise TargetError(f"--peer-binary applies to --target distribution or zot, not {cls.name}")

    @classmethod  # noqa: B027
    def preflight(cls, spec: RunSpec) -> None:
        """Raise TargetError if this machine cannot run the target (a missing peer binary), before any worker."""

    @property
    @abstractmethod
    def url(self) -> str:
        """The proxy's base URL (scheme://host:port)."""

    @property
    @abstractmethod
    def upstream_timeout(self) -> float | None:
        """How long the proxy waits for the upstream before giving up; None if it never does."""

    @abstractmethod
    def start(self, upstream: UpstreamInfo) -> None:
        """Start (or reach) the proxy, pointed at `upstream`; return once it answers."""

    @abstractmethod
    def stop(self) -> None: ...

    def path(self, repository: str) -> str:
        """The proxy's repository path for an upstream repository (Harbor: `<project>/<repository>`)."""
        return self.spec.path_template.format(repository=repository)

    def settle(self, client: OciClient, path: str, digests: Sequence[str]) -> Settled:
        """Wait until content just pulled (through `path`) is really cached; most proxies cache before answering.

        A probe that runs out says so (`complete` False): what never settles is for the case to observe."""
        return Settled("probe", True, 0.0)

    def forget_upstream_failures(self) -> None:  # noqa: B027
        """Called after a case that made the upstream fail: a proxy that remembers failures beyond the request
        (zot's upstream client backs off per host) starts afresh here, so that no case meets another's faults."""

    def cache_dir(self) -> Path | None:
        """The directory the proxy caches in, where the harness can read it (capability `storage`)."""
        return None

    def unverified(self) -> list[str]:
        """Digests of cached files whose bytes do not match them (capability `storage`); empty when all verify."""
        return []

    def version(self) -> str | None:
        return None

    def options(self) -> dict[str, str]:
        """The target's own settings as it holds them (a Harbor project's options), for the results."""
        return {}

    def between_cases(self) -> None:  # noqa: B027
        """Put the target back in the state every case starts from (Harbor: its endpoint healthy)."""

    def before_outage(self, mode: str) -> str | None:
        """Called before a case takes its upstream down (`refused`: the whole port); may wait for a safe moment, and
        return a note for the case when it could not find one."""
        return None

    def state(self) -> str | None:
        """What an observation depended on besides the request (Harbor: its endpoint's health), or None."""
        return None

    @property
    def pid(self) -> int | None:
        """The proxy's process, where the harness started one (its memory and descriptors are read from it)."""
        return None

    def restart(self, *, kill: bool) -> None:
        raise TargetError(f"target {self.name} cannot be restarted by the harness")

    def logs(self) -> str:
        return ""
