"""Debian's docker-registry (CNCF distribution 2.8) in proxy mode, configured and run in a temp dir.

The generated config.yml: filesystem storage in the temp dir with `delete: enabled` (its TTL expiry needs it),
an in-memory blob descriptor cache, http on 127.0.0.1 and a free port, `proxy.remoteurl` the upstream, and the
upstream login when there is one. It has no upstream timeout: a black-holed upstream makes it hang.
"""

from __future__ import annotations

import json
import secrets
import shutil
import string
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.peers import PeerMissing, require_peer
from harness.poll import Timeout, wait_until
from harness.settle import Settled
from harness.targets._process import ServerProcess, free_port
from harness.targets._verify import unverified
from harness.targets.base import Target, TargetError, UpstreamInfo

if TYPE_CHECKING:
    from harness.client import OciClient
    from harness.spec import RunSpec

_BINARY = "docker-registry"
_SETTLE_TIMEOUT = 30.0  # generous: it only costs time when a write is really pending
_COMMIT_FAILED = "Error committing to storage"

# JSON strings are YAML double-quoted scalars, so every value goes in through json.dumps.
_CONFIG = string.Template(
    """\
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $addr
  secret: $secret
proxy:
  remoteurl: $remoteurl
"""
)


class DistributionTarget(Target):
    name = "distribution"
    capabilities = frozenset({"credentials", "restart", "logs", "storage"})

    @classmethod
    def preflight(cls, spec: RunSpec) -> None:
        _require_binary()

    def __init__(self, spec: RunSpec) -> None:
        super().__init__(spec)
        self._directory: Path | None = None
        self._server: ServerProcess | None = None
        self._last_logs = ""
        self._settled_log = 0

    @property
    def url(self) -> str:
        return self._running().url

    @property
    def upstream_timeout(self) -> float | None:
        return None

    @property
    def storage(self) -> Path:
        """The registry's storage root: its cache."""
        if self._directory is None:
            raise TargetError("the distribution target is not started")
        return self._directory / "storage"

    def start(self, upstream: UpstreamInfo) -> None:
        binary = _require_binary()
        if self._server is not None:
            raise TargetError("the distribution target is already started")
        self._directory = Path(tempfile.mkdtemp(prefix="pullthrough-distribution-"))
        port = free_port()
        config = self._directory / "config.yml"
        config.write_text(render_config(upstream, self.storage, port))
        self._server = ServerProcess([binary, "serve", str(config)], port=port, log=self._directory / "registry.log")
        self._settled_log = 0
        try:
            self._start_server()
        except TargetError:
            self.stop()
            raise

    def stop(self) -> None:
        server, directory = self._server, self._directory
        self._server = self._directory = None
        if server is not None:
            server.stop()
            self._last_logs = server.logs()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def restart(self, *, kill: bool) -> None:
        """Stop (kill -9 with `kill`) and start again on the same storage and port.

        If it cannot start (it panics when the upstream is down), the storage stays for another restart.
        """
        self._running().stop(kill=kill)
        self._start_server()

    def cache_dir(self) -> Path:
        return self.storage

    def unverified(self) -> list[str]:
        blobs = self.storage / "docker" / "registry" / "v2" / "blobs"
        return unverified((f"{data.parts[-4]}:{data.parts[-2]}", data) for data in blobs.glob("*/*/*/data"))

    def settle(self, client: OciClient, repository: str, digests: Sequence[str]) -> Settled:
        """Wait until each digest is committed to storage, or its commit has failed.

        2.8 stores a cold blob from a second, background fetch that can end after the client has every byte. A
        commit that fails (bytes that do not match the digest, a cut body) leaves nothing but a log line, so the
        log written since the previous settle is searched for one naming the digest.
        """
        server = self._running()
        pending = list(digests)

        def settled() -> bool:
            pending[:] = [digest for digest in pending if not self._committed(repository, digest)]
            if pending:
                failed = [line for line in server.logs()[self._settled_log :].splitlines() if _COMMIT_FAILED in line]
                pending[:] = [digest for digest in pending if not any(digest in line for line in failed)]
            return not pending

        started = time.monotonic()
        try:
            wait_until(settled, timeout=_SETTLE_TIMEOUT, what="distribution's cache writes")
        except Timeout:
            return Settled("probe", False, time.monotonic() - started, f"not in storage: {', '.join(pending)}")
        finally:
            self._settled_log = len(server.logs())
        return Settled("probe", True, time.monotonic() - started)

    def version(self) -> str | None:
        try:
            done = subprocess.run([_require_binary(), "--version"], capture_output=True, text=True, timeout=10)
        except (TargetError, OSError, subprocess.TimeoutExpired):
            return None
        words = done.stdout.split()  # "docker-registry github.com/docker/distribution 2.8.2+ds1"
        return words[-1] if words else None

    def logs(self) -> str:
        return self._server.logs() if self._server is not None else self._last_logs

    # ---- internals ------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._server.pid if self._server is not None else None

    def _running(self) -> ServerProcess:
        if self._server is None:
            raise TargetError("the distribution target is not started")
        return self._server

    def _start_server(self) -> None:
        """Start; a Go panic ends its log with a stack trace, so the error quotes the panic line instead."""
        server = self._running()
        written = len(server.logs())
        try:
            server.start()
        except TargetError as error:
            lines = server.logs()[written:].splitlines()
            panic = next((line for line in lines if line.startswith("panic: ")), None)
            if panic is None:
                raise
            raise TargetError(f"{_BINARY} exited at start: {panic}") from error

    def _committed(self, repository: str, digest: str) -> bool:
        """The blob's data is in place and the repository links it, as a layer or as a manifest revision."""
        algorithm, _, hex_digest = digest.partition(":")
        root = self.storage / "docker" / "registry" / "v2"
        data = root / "blobs" / algorithm / hex_digest[:2] / hex_digest / "data"
        links = root / "repositories" / repository
        return data.is_file() and any(
            (links / kind / algorithm / hex_digest / "link").is_file() for kind in ("_layers", "_manifests/revisions")
        )


def render_config(upstream: UpstreamInfo, storage: Path, port: int) -> str:
    text = _CONFIG.substitute(
        storage=json.dumps(str(storage)),
        addr=json.dumps(f"127.0.0.1:{port}"),
        secret=json.dumps(secrets.token_hex(16)),
        remoteurl=json.dumps(upstream.url),
    )
    if upstream.username is not None:
        text += f"  username: {json.dumps(upstream.username)}\n  password: {json.dumps(upstream.password or '')}\n"
    return text


def _require_binary() -> str:
    try:
        return require_peer(_BINARY)
    except PeerMissing as missing:
        raise TargetError(str(missing)) from None
