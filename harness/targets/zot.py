"""zot with its on-demand `sync` extension, the program --peer-binary names, configured and run in a temp dir.

The generated config.json: storage in the temp dir, http on 127.0.0.1 and a free port with `compat: docker2s2`
(without it, zot converts Docker images to OCI and a pull by the upstream's digest is 404), and one sync registry:
the upstream, on demand, every repository under its own name (`prefix: **`), `preserveDigest`, the credentials
file when the upstream needs a login, and the declared upstream timeout as `syncTimeout` (how long one request may
spend on the upstream) with a quarter of it as `responseHeaderTimeout`, so that zot's client retries a silent
upstream a few times within it. `writeTimeout` is raised a minute above: zot's default of 60 s cuts any slower
answer into an empty reply.

zot's upstream client (regclient) remembers failures per host: a Retry-After, or a backoff that grows with each
refused or failed request and shrinks one step per six successes. A case's faults would slow the cases after it,
so the harness restarts zot after every case that made the upstream fail (`forget_upstream_failures`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from harness.poll import Timeout, wait_until
from harness.settle import Settled
from harness.targets._binary import given_binary
from harness.targets._process import ServerProcess, free_port
from harness.targets._served import ServedTarget
from harness.targets._verify import unverified
from harness.targets.base import TargetError, UpstreamInfo

if TYPE_CHECKING:
    from harness.client import OciClient
    from harness.spec import RunSpec

DEFAULT_UPSTREAM_TIMEOUT = 10.0
_WRITE_MARGIN = 60.0  # zot's answer comes after the upstream's; the server's write deadline must outlast both
_SETTLE_TIMEOUT = 30.0  # as the other probes: it only costs time when a sync is really running
_STAGING = (".sync", ".uploads")  # where zot writes what is not in the cache yet
_RELEASE = re.compile(r"v?(\d+\.\d+\.\d+)-0-g[0-9a-f]+")  # `git describe` of a tagged commit: its tag


class ZotTarget(ServedTarget):
    name = "zot"
    capabilities = frozenset({"credentials", "restart", "logs", "storage"})
    runs_binary = True

    @classmethod
    def check(cls, spec: RunSpec) -> None:
        super().check(spec)
        if spec.peer_binary is None:
            raise TargetError("--target zot needs --peer-binary PATH: a zot built with the sync extension")

    @classmethod
    def preflight(cls, spec: RunSpec) -> None:
        binary = given_binary(spec.peer_binary or "")
        build = build_info(binary)
        if build is None:
            raise TargetError(f"{binary} -v does not say which zot it is: is it zot?")
        if "sync" not in build.get("binary-type", "").split("-"):
            raise TargetError(f"{binary} was built without the sync extension (build it with the `sync` tag)")

    def __init__(self, spec: RunSpec) -> None:
        super().__init__(spec)
        self._timeout = spec.upstream_timeout or DEFAULT_UPSTREAM_TIMEOUT
        self._version: str | None = None

    @property
    def upstream_timeout(self) -> float:
        return self._timeout

    @property
    def storage(self) -> Path:
        """zot's storage root: its cache, one OCI layout per repository."""
        if self._directory is None:
            raise TargetError("the zot target is not started")
        return self._directory / "storage"

    def start(self, upstream: UpstreamInfo) -> None:
        binary = given_binary(self.spec.peer_binary or "")
        if self._server is not None:
            raise TargetError("the zot target is already started")
        directory = self._directory = Path(tempfile.mkdtemp(prefix="pullthrough-zot-"))
        credentials = None
        if upstream.username is not None:
            credentials = directory / "credentials.json"
            credentials.write_text(json.dumps(credentials_file(upstream)))
            credentials.chmod(0o600)
        port = free_port()
        config = directory / "config.json"
        config.write_text(json.dumps(render_config(upstream, self.storage, port, self._timeout, credentials)))
        self._launch(ServerProcess([binary, "serve", str(config)], port=port, log=directory / "zot.log"))

    def restart(self, *, kill: bool) -> None:
        """Stop (kill -9 with `kill`) and start again on the same storage and port: a fresh upstream client."""
        self._restart_on_same_port(kill=kill)

    def forget_upstream_failures(self) -> None:
        """A new process: the only way to clear the per-host backoff and Retry-After that zot's client keeps."""
        if self._server is not None:
            self.restart(kill=False)

    def cache_dir(self) -> Path:
        return self.storage

    def unverified(self) -> list[str]:
        return unverified((f"{path.parent.name}:{path.name}", path) for path in self._blob_files())

    def settle(self, client: OciClient, repository: str, digests: Sequence[str]) -> Settled:
        """Wait until each digest is in the repository's storage, or no sync is running for it any more.

        zot answers a tag only once the whole image is committed, so there is mostly nothing to wait for; but a
        sync goes on after its client gave up (or got an empty reply), in `<repository>/.sync/` until it ends.
        """
        pending = list(digests)

        def settled() -> bool:
            pending[:] = [digest for digest in pending if not self._stored(repository, digest)]
            return not pending or not self._syncing(repository)

        started = time.monotonic()
        try:
            wait_until(settled, timeout=_SETTLE_TIMEOUT, what="zot's syncs")
        except Timeout:
            return Settled("probe", False, time.monotonic() - started, f"still syncing: {', '.join(pending)}")
        return Settled("probe", True, time.monotonic() - started)

    def version(self) -> str | None:
        if self._version is None:
            try:
                build = build_info(given_binary(self.spec.peer_binary or ""))
            except TargetError:
                return None
            self._version = release(build) if build is not None else None
        return self._version

    # ---- internals ------------------------------------------------------------------------------

    def _stored(self, repository: str, digest: str) -> bool:
        algorithm, _, hex_digest = digest.partition(":")
        return (self.storage / repository / "blobs" / algorithm / hex_digest).is_file()

    def _blob_files(self) -> Iterator[Path]:
        """Every `<repository>/blobs/<algorithm>/<hex>`, not looking into staging, which zot removes as we walk."""
        for root, directories, files in os.walk(self.storage):
            directories[:] = [name for name in directories if name not in _STAGING]
            here = Path(root)
            if here.parent.name == "blobs":
                yield from (here / name for name in files)

    def _syncing(self, repository: str) -> bool:
        staging = self.storage / repository / ".sync"
        return staging.is_dir() and any(staging.iterdir())


def render_config(
    upstream: UpstreamInfo, storage: Path, port: int, timeout: float, credentials: Path | None = None
) -> dict[str, Any]:
    """zot's configuration (its loader rejects unknown keys, so nothing goes in that zot v2.1 does not know)."""
    registry: dict[str, Any] = {
        "urls": [upstream.url],
        "onDemand": True,
        "tlsVerify": False,
        "preserveDigest": True,
        "syncTimeout": _duration(timeout),
        "responseHeaderTimeout": _duration(timeout / 4),
        "content": [{"prefix": "**"}],
    }
    sync: dict[str, Any] = {"enable": True, "registries": [registry]}
    if credentials is not None:
        sync["credentialsFile"] = str(credentials)
    return {
        "distSpecVersion": "1.1.1",
        "storage": {"rootDirectory": str(storage)},
        "http": {
            "address": "127.0.0.1",
            "port": str(port),
            "compat": ["docker2s2"],
            "writeTimeout": _duration(timeout + _WRITE_MARGIN),
        },
        "log": {"level": "info"},
        "extensions": {"sync": sync},
    }


def credentials_file(upstream: UpstreamInfo) -> dict[str, dict[str, str]]:
    """zot's credentials file: logins by the upstream's host:port, without a scheme."""
    host = httpx.URL(upstream.url).netloc.decode("ascii")
    return {host: {"username": upstream.username or "", "password": upstream.password or ""}}


def build_info(binary: str) -> dict[str, str] | None:
    """What `zot -v` says of the build (one JSON log line: commit, binary-type, go version), or None."""
    try:
        done = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in (done.stdout + done.stderr).splitlines():
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and found.get("message") == "version":
            return {str(key): str(value) for key, value in found.items()}
    return None


def release(build: dict[str, str]) -> str | None:
    """`2.1.20` for a build of the tag (commit `v2.1.20-0-g3b5796d`); otherwise the commit as it stands."""
    commit = build.get("commit", "")
    found = _RELEASE.fullmatch(commit)
    if found is not None:
        return found.group(1)
    return commit.removeprefix("v") or None


def _duration(seconds: float) -> str:
    """A Go duration: whole milliseconds."""
    return f"{round(seconds * 1000)}ms"
