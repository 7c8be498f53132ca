"""A proxy the user runs, already pointed at a fake upstream they run (`pullthrough upstream`)."""

from __future__ import annotations

from typing import ClassVar

from harness.targets.base import Target, TargetError, TargetOptions, UpstreamInfo

DEFAULT_TIMEOUT = 30.0


class ExternalTarget(Target):
    name = "external"
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: TargetOptions) -> None:
        super().__init__(options)
        if not options.proxy_url:
            raise TargetError("--target external needs --proxy-url URL (the proxy, pointed at your fake upstream)")
        if "{repository}" not in options.path_template:
            raise TargetError("--path-template must contain {repository}, e.g. 'myproject/{repository}'")

    @property
    def url(self) -> str:
        return (self.options.proxy_url or "").rstrip("/")

    @property
    def upstream_timeout(self) -> float:
        return self.options.upstream_timeout or DEFAULT_TIMEOUT

    def start(self, upstream: UpstreamInfo) -> None:
        """Nothing to start; reachability is checked by the world before the first case."""

    def stop(self) -> None:
        """Nothing to stop: the user owns the proxy."""
