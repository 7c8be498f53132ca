"""CNCF distribution in proxy mode (Debian's docker-registry 2.8, or the registry program --peer-binary names),
configured and run in a temp dir.

The generated config.yml: filesystem storage in the temp dir with `delete: enabled` (its TTL expiry needs it),
an in-memory blob descriptor cache, http on 127.0.0.1 and a free port, `proxy.remoteurl` the upstream, and the
upstream login when there is one. Per major version where the keys differ: 2.8 gets an `http.secret` (it warns
without one) and hard-codes a 7-day TTL; v3 ignores the secret in proxy mode and takes `proxy.ttl`, set to the
same 7 days, and runs with `OTEL_TRACES_EXPORTER=none` (otherwise it exports traces to localhost:4318). Neither
has an upstream timeout: a black-holed upstream makes it hang.
"""

from __future__ import annotations

import json
import re
import secrets
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
from harness.targets._binary import given_binary
from harness.targets._process import ServerProcess, free_port
from harness.targets._served import ServedTarget
from harness.targets._verify import unverified
from harness.targets.base import TargetError, UpstreamInfo

if TYPE_CHECKING:
    from harness.client import OciClient
    from harness.spec import RunSpec

_DEBIAN_BINARY = "docker-registry"
_SETTLE_TIMEOUT = 30.0  # generous: it only costs time when a write is really pending
_COMMIT_FAILED = "Error committing to storage"  # 2.8's background store; v3 stores inside the request
_TTL = "168h"  # 2.8's hard-coded expiry, for v3 too
# "docker-registry github.com/docker/distribution 2.8.2+ds1", "registry github.com/.../v3 3.1.1", "v3.1.1+unknown"
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+~][0-9A-Za-z.+~-]*)?")

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
${secret}\
proxy:
  remoteurl: $remoteurl
${ttl}\
"""
)


class DistributionTarget(ServedTarget):
    name = "distribution"
    capabilities = frozenset({"credentials", "restart", "logs", "storage"})
    runs_binary = True

    @classmethod
    def preflight(cls, spec: RunSpec) -> None:
        binary = _require_binary(spec)
        if major_version(_version_of(binary)) is None:
            raise TargetError(f"{binary} --version does not say which distribution it is (2.x or 3.x expected)")

    def __init__(self, spec: RunSpec) -> None:
        super().__init__(spec)
        self._settled_log = 0
        self._version: str | None = None
        self._major = 2

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
        binary = _require_binary(self.spec)
        if self._server is not None:
            raise TargetError("the distribution target is already started")
        self._major = major_version(self.version()) or 2
        self._directory = Path(tempfile.mkdtemp(prefix="pullthrough-distribution-"))
        port = free_port()
        config = self._directory / "config.yml"
        config.write_text(render_config(upstream, self.storage, port, major=self._major))
        self._settled_log = 0
        log = self._directory / "registry.log"
        self._launch(ServerProcess([binary, "serve", str(config)], port=port, log=log, env=environment(self._major)))

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

        A commit that fails (bytes that do not match the digest, a cut body) leaves nothing but log lines, so the
        log written since the previous settle is searched for them. 2.8 stores a cold blob from a second, background
        fetch that can end after the client has every byte, and logs a failed one as such. v3 tees the one fetch
        into storage and commits inside the request, with other words for a failure: its request's access-log line
        means the commit is done, or will never be.
        """
        server = self._running()
        pending = list(digests)
        finished = _finished_v3 if self._major >= 3 else _finished_2

        def settled() -> bool:
            pending[:] = [digest for digest in pending if not self._committed(repository, digest)]
            if pending:
                lines = server.logs()[self._settled_log :].splitlines()
                pending[:] = [digest for digest in pending if not finished(lines, repository, digest)]
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
        if self._version is None:
            try:
                self._version = _version_of(_require_binary(self.spec))
            except TargetError:
                return None
        return self._version

    # ---- internals ------------------------------------------------------------------------------

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
            raise TargetError(f"{Path(server.command[0]).name} exited at start: {panic}") from error

    def _committed(self, repository: str, digest: str) -> bool:
        """The blob's data is in place and the repository links it, as a layer or as a manifest revision."""
        algorithm, _, hex_digest = digest.partition(":")
        root = self.storage / "docker" / "registry" / "v2"
        data = root / "blobs" / algorithm / hex_digest[:2] / hex_digest / "data"
        links = root / "repositories" / repository
        return data.is_file() and any(
            (links / kind / algorithm / hex_digest / "link").is_file() for kind in ("_layers", "_manifests/revisions")
        )


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """The release in a version string: `2.8.2+ds1` (Debian), `3.1.1` (a release build), `v3.1.1+unknown`
    (a `make` build, which loses the version it was given)."""
    found = _VERSION.fullmatch(text.strip()) if text else None
    if found is None:
        return None
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def major_version(text: str | None) -> int | None:
    """2 or 3 (a later major is configured as 3, the newest this target knows); None if not a version."""
    parsed = parse_version(text)
    return None if parsed is None or parsed[0] < 2 else parsed[0]


def render_config(upstream: UpstreamInfo, storage: Path, port: int, *, major: int = 2) -> str:
    text = _CONFIG.substitute(
        storage=json.dumps(str(storage)),
        addr=json.dumps(f"127.0.0.1:{port}"),
        secret=f"  secret: {json.dumps(secrets.token_hex(16))}\n" if major < 3 else "",
        remoteurl=json.dumps(upstream.url),
        ttl=f"  ttl: {_TTL}\n" if major >= 3 else "",
    )
    if upstream.username is not None:
        text += f"  username: {json.dumps(upstream.username)}\n  password: {json.dumps(upstream.password or '')}\n"
    return text


def environment(major: int) -> dict[str, str]:
    """What the registry needs in its environment besides ours."""
    return {"OTEL_TRACES_EXPORTER": "none"} if major >= 3 else {}


def _finished_2(lines: list[str], repository: str, digest: str) -> bool:
    """2.8's background store of the digest failed."""
    return any(_COMMIT_FAILED in line and digest in line for line in lines)


def _finished_v3(lines: list[str], repository: str, digest: str) -> bool:
    """A request for the digest has been answered (v3's access-log line comes after its commit, or its failure)."""
    answered = re.compile(rf'"(?:GET|HEAD) /v2/{re.escape(repository)}/(?:blobs|manifests)/{re.escape(digest)} HTTP/')
    return any(answered.search(line) for line in lines)


def _version_of(binary: str) -> str | None:
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()  # "<program> <module path> <version>"
    return words[-1] if words else None


def _require_binary(spec: RunSpec) -> str:
    if spec.peer_binary is not None:
        return given_binary(spec.peer_binary)
    try:
        return require_peer(_DEBIAN_BINARY)
    except PeerMissing as missing:
        raise TargetError(str(missing)) from None
