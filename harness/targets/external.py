"""A proxy the user runs, already pointed at a fake upstream they run (`pullthrough upstream`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.targets.base import Target, TargetError, UpstreamInfo

if TYPE_CHECKING:
    from harness.spec import RunSpec

DEFAULT_TIMEOUT = 30.0


class ExternalTarget(Target):
    name = "external"
    default_settle = "quiet"

    def __init__(self, spec: RunSpec) -> None:
        super().__init__(spec)
        # The user's proxy logs in to their upstream when they say as whom (the password comes from the environment).
        self.capabilities = frozenset({"credentials"}) if spec.upstream_user else frozenset()

    @classmethod
    def check(cls, spec: RunSpec) -> None:
        super().check(spec)
        if not spec.proxy_url:
            raise TargetError("--target external needs --proxy-url URL (the proxy, pointed at your fake upstream)")
        if not (spec.upstream_url and spec.upstream_control_url):
            raise TargetError(
                "--target external needs --upstream-url and --upstream-control-url: the fake upstream "
                "your proxy is pointed at (start one with `pullthrough upstream`)"
            )
        if "{repository}" not in spec.path_template:
            raise TargetError("--path-template must contain {repository}, e.g. 'myproject/{repository}'")

    @property
    def url(self) -> str:
        return (self.spec.proxy_url or "").rstrip("/")

    @property
    def upstream_timeout(self) -> float:
        return self.spec.upstream_timeout or DEFAULT_TIMEOUT

    def start(self, upstream: UpstreamInfo) -> None:
        """Nothing to start; reachability is checked by the world before the first case."""

    def stop(self) -> None:
        """Nothing to stop: the user owns the proxy."""
