"""What a target is: one proxy implementation, started (or reached) in front of the fake upstream."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
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


class Target(ABC):
    """One proxy implementation under test.

    Capabilities say which cases can run: `credentials` (it can pull from an upstream that needs a login),
    `restart` (the harness may kill -9 and restart it), `logs` (its log text can be searched for secrets).
    """

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec

    @classmethod
    def check(cls, spec: RunSpec) -> None:
        """Raise TargetError if `spec` asks this target for something it cannot do (run once, from RunSpec)."""
        if spec.defects and "defects" not in cls.capabilities:
            raise TargetError(f"--defect applies to --target reference only, not {cls.name}")

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

    def settle(self, client: OciClient, repository: str, digests: Sequence[str]) -> None:  # noqa: B027
        """Wait until content just pulled is really cached; most proxies cache before answering."""

    def version(self) -> str | None:
        return None

    def restart(self, *, kill: bool) -> None:
        raise TargetError(f"target {self.name} cannot be restarted by the harness")

    def logs(self) -> str:
        return ""
