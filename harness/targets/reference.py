"""The reference proxy, in-process (a thread) or as a `pullthrough proxy` subprocess (for kill -9)."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.poll import Timeout, wait_until
from harness.settle import Settled
from harness.targets._process import ServerProcess, free_port
from harness.targets._verify import unverified
from harness.targets.base import Target, TargetError, UpstreamInfo

if TYPE_CHECKING:
    from harness.client import OciClient
    from harness.spec import RunSpec

DEFAULT_TIMEOUT = 1.0
_SETTLE_TIMEOUT = 30.0  # generous: it only costs time when a write is really pending


class ReferenceTarget(Target):
    name = "reference"
    capabilities = frozenset({"credentials", "restart", "logs", "defects", "storage"})

    @classmethod
    def check(cls, spec: RunSpec) -> None:
        """Defects and variants are the proxy's own types: it says which names it knows."""
        from proxy_under_test import parse_defects, parse_variants

        try:
            parse_defects(spec.defects)
            parse_variants(spec.variants)
        except ValueError as error:
            raise TargetError(str(error)) from None

    def __init__(self, spec: RunSpec) -> None:
        super().__init__(spec)
        self._timeout = spec.upstream_timeout or DEFAULT_TIMEOUT
        self._dir = Path(tempfile.mkdtemp(prefix="pullthrough-reference-"))
        self._proxy: object | None = None
        self._process: ServerProcess | None = None
        self._upstream: UpstreamInfo | None = None
        self._url = ""

    @property
    def url(self) -> str:
        return self._url

    @property
    def upstream_timeout(self) -> float:
        return self._timeout

    def start(self, upstream: UpstreamInfo) -> None:
        self._upstream = upstream
        if not self.spec.in_process:
            self._start_process(free_port())
        else:
            self._start_thread()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._proxy is not None:
            self._proxy.stop()  # type: ignore[attr-defined]
            self._proxy = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def restart(self, *, kill: bool) -> None:
        if self._process is None:
            raise TargetError("restart needs the reference proxy as a subprocess (not --in-process)")
        port = self._process.port
        self._process.stop(kill=kill)
        self._start_process(port)

    def cache_dir(self) -> Path:
        return self._dir / "cache"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def settle(self, client: OciClient, path: str, digests: Sequence[str]) -> Settled:
        """Until every digest's file is in the cache: verified blobs land there just after the client's last byte."""
        started = time.monotonic()
        pending = list(digests)

        def landed() -> bool:
            pending[:] = [digest for digest in pending if not self._cached(path, digest)]
            return not pending

        try:
            wait_until(landed, timeout=_SETTLE_TIMEOUT, what="the reference proxy's cache writes")
        except Timeout:
            return Settled("probe", False, time.monotonic() - started, f"not in the cache: {', '.join(pending)}")
        return Settled("probe", True, time.monotonic() - started)

    def _cached(self, path: str, digest: str) -> bool:
        """The content is on disk and linked to the repository (as the proxy's cache layout documents)."""
        algorithm, _, hex_digest = digest.partition(":")
        root = self.cache_dir()
        links = root / "repositories" / path
        return (root / "blobs" / algorithm / hex_digest[:2] / hex_digest).is_file() and any(
            (links / kind / algorithm / hex_digest).exists() for kind in ("_blobs", "_manifests")
        )

    def unverified(self) -> list[str]:
        blobs = self.cache_dir() / "blobs"
        return unverified((f"{path.parts[-3]}:{path.name}", path) for path in blobs.glob("*/*/*") if path.is_file())

    def logs(self) -> str:
        return self._process.logs() if self._process is not None else ""

    def version(self) -> str:
        from importlib.metadata import version

        return f"pullthrough {version('pullthrough')}"

    def _start_thread(self) -> None:
        from proxy_under_test import ProxyConfig, ReferenceProxy

        assert self._upstream is not None
        config = ProxyConfig(
            upstream=self._upstream.url,
            cache_dir=self._dir / "cache",
            upstream_user=self._upstream.username,
            upstream_password=self._upstream.password,
            upstream_timeout=self._timeout,
            defects=frozenset(self.spec.defects),
            variants=frozenset(self.spec.variants),
        )
        proxy = ReferenceProxy(config)
        proxy.start()
        self._proxy = proxy
        self._url = proxy.url

    def _start_process(self, port: int) -> None:
        assert self._upstream is not None
        command = [
            sys.executable,
            "-m",
            "harness.cli",
            "proxy",
            "--upstream",
            self._upstream.url,
            "--port",
            str(port),
            "--cache-dir",
            str(self._dir / "cache"),
            "--upstream-timeout",
            str(self._timeout),
        ]
        if self._upstream.username is not None:
            command += ["--upstream-user", self._upstream.username]
        for defect in self.spec.defects:
            command += ["--defect", defect]
        for variant in self.spec.variants:
            command += ["--variant", variant]
        env = {"PULLTHROUGH_UPSTREAM_PASSWORD": self._upstream.password or ""}
        self._process = ServerProcess(command, port=port, log=self._dir / "proxy.log", env=env)
        self._process.start()
        self._url = self._process.url
