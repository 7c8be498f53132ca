"""FakeUpstream: the registry, its control API and the Python API, run in a thread or in the foreground."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, cast

from fake_upstream._activity import Activity
from fake_upstream._auth import Authenticator, AuthMode
from fake_upstream._content import BytesContent, Content, synthetic_layer
from fake_upstream._control import ControlApp
from fake_upstream._faults import Fault, FaultTable, Match
from fake_upstream._images import BuiltImage, ImageFormat, build_image
from fake_upstream._inject import BlackholeGate
from fake_upstream._journal import DEFAULT_JOURNAL_LIMIT, Journal, JournalEntry
from fake_upstream._model import Image, LayerInfo, PlatformInfo
from fake_upstream._outages import LOGGER, OUTAGES, SERVER_HEADER, Outage, OutageListener
from fake_upstream._quota import Quota, QuotaConfig
from fake_upstream._registry import RegistryApp, RegistryParts, record_outage
from fake_upstream._store import Store
from oci_wire import sha256_digest
from serving import Connections, Limits, Listener, ServerThread

# A synthetic layer costs no memory, but its digest is computed once: about 1 s per GiB.
MAX_LAYER = 64 << 30


class FakeUpstream:
    """A faithful OCI registry that fails on command.

    Use as a context manager (`with FakeUpstream() as up:`) to run it in a background thread on
    ephemeral loopback ports, or `await up.serve()` to run it in the current event loop.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int = 0,
        auth: AuthMode = "none",
        users: Mapping[str, str] | None = None,
        token_ttl: float = 300.0,
        quota: QuotaConfig | None = None,
        control_token: str | None = None,
        strict_accept: bool = False,
        seed: int = 0,
        journal_limit: int = DEFAULT_JOURNAL_LIMIT,
        limits: Limits | None = None,
    ) -> None:
        self.host = host
        self.seed = seed
        self.control_token = control_token
        self._parts = RegistryParts(
            store=Store(),
            faults=FaultTable(),
            journal=Journal(journal_limit),
            auth=Authenticator(auth, users or {}, token_ttl),
            quota=Quota(quota),
            gate=BlackholeGate(),
            strict_accept=strict_accept,
        )
        self._layers: dict[tuple[int, int, bool], tuple[Content, str, str]] = {}
        self._generations: dict[tuple[str, str | None], int] = {}
        self._lock = threading.Lock()
        limits = limits or Limits()
        connections = Connections()
        self._registry = OutageListener(
            RegistryApp(self._parts, connections),
            host,
            port,
            connections=connections,
            limits=limits,
            on_outage=lambda mode, data, peer: record_outage(self._parts, mode, data, peer),
        )
        self._control = Listener(
            ControlApp(self, control_token, self._parts.journal),
            host,
            control_port,
            server_header=SERVER_HEADER,
            limits=limits,
            logger=LOGGER,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = ServerThread("fake-upstream")
        self._stopped: asyncio.Event | None = None

    # ---- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._netloc(self._registry.port)}"

    @property
    def control_url(self) -> str:
        return f"http://{self._netloc(self._control.port)}"

    @property
    def port(self) -> int:
        return self._registry.port

    @property
    def control_port(self) -> int:
        return self._control.port

    def start(self) -> FakeUpstream:
        """Serve from a background thread; returns once both ports accept connections."""
        self._thread.start(self.serve)
        return self

    async def open(self) -> None:
        """Bind both ports in the running loop; `run()` then serves until `stop()`."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        await self._registry.start()
        try:
            await self._control.start()
        except BaseException:
            await self._registry.stop()
            raise

    async def run(self) -> None:
        assert self._stopped is not None, "open() first"
        try:
            await self._stopped.wait()
        finally:
            self._parts.gate.release()
            await self._registry.stop()
            await self._control.close()
            await self._control.drain(0)

    async def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the running loop until `stop()` (or cancellation); `on_ready` runs once both ports serve."""
        await self.open()
        if on_ready is not None:
            on_ready()
        await self.run()

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is None or stopped is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(stopped.set)
        self._thread.join()

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # ---- content --------------------------------------------------------------------------------

    def add_image(
        self,
        repository: str,
        tag: str | None = "latest",
        *,
        layers: Sequence[int] = (2048,),
        media_type: str = "oci",
        platforms: Sequence[str] | None = None,
        gzip: bool = True,
        seed: int | None = None,
    ) -> Image:
        """Make a synthetic image and tag it. Without `seed`, each call for the same tag makes a new image."""
        if media_type not in ("oci", "docker"):
            raise ValueError("media_type must be 'oci' or 'docker'")
        image_format = cast(ImageFormat, media_type)
        if any(isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_LAYER for size in layers):
            raise ValueError(f"layer sizes must be integers from 0 to {MAX_LAYER} bytes")
        if seed is None:
            with self._lock:
                generation = self._generations.get((repository, tag), 0)
                self._generations[(repository, tag)] = generation + 1
            seed = _mix(self.seed, f"{repository}:{tag}:{generation}")
        built = build_image(
            layers=layers, image_format=image_format, platforms=platforms, seed=seed, gzip=gzip, make_layer=self._layer
        )
        self._parts.store.add_image(repository, tag, built)
        return _describe(repository, tag, built)

    def add_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """Store manifest bytes as given (its blobs or children must be there already)."""
        return self._parts.store.put_manifest(repository, reference, body, media_type).digest

    def add_blob(self, repository: str, data: bytes, media_type: str = "application/octet-stream") -> str:
        digest = sha256_digest(data)
        self._parts.store.put_blob(repository, BytesContent(data), digest, media_type)
        return digest

    def tag(self, repository: str, tag: str, digest: str) -> None:
        """Point `tag` at a manifest the repository already has."""
        self._parts.store.tag(repository, tag, digest)

    def delete_tag(self, repository: str, tag: str) -> None:
        self._parts.store.delete_tag(repository, tag)

    def delete_repository(self, repository: str) -> None:
        self._parts.store.delete_repository(repository)

    def tags(self, repository: str) -> list[str]:
        return self._parts.store.tags(repository)

    def repositories(self) -> list[str]:
        return self._parts.store.catalog()

    def inventory(self) -> dict[str, Any]:
        """What the registry holds: `{"repositories": {name: {"tags", "manifests", "blobs"}}, "uploads": {…}}`."""
        return self._parts.store.inventory()

    # ---- faults and outages ---------------------------------------------------------------------

    def add_fault(self, fault: Fault | str, match: Match | None = None, **options: Any) -> str:
        """Arm a fault: `add_fault("503", Match(kind="manifest"), times=2)` or `add_fault(Fault(...))`."""
        if isinstance(fault, str):
            fault = Fault(fault, match or Match(), **options)  # type: ignore[arg-type]
        return self._parts.faults.arm(fault)

    def clear_faults(self, fault_id: str | None = None) -> None:
        """Disarm one fault, or all; the requests they hold (`blackhole`) are let go.

        Clearing a fault that has spent its `times` does nothing more; an id never issued is a FaultError.
        """
        self._parts.faults.disarm(fault_id)
        self._parts.gate.release(fault_id)

    def faults(self) -> list[tuple[str, Fault]]:
        return self._parts.faults.armed()

    @property
    def outage(self) -> Outage:
        return self._registry.mode

    def set_outage(self, mode: Outage | str) -> None:
        """Switch the whole registry port: "refused", "reset", "blackhole", or "none"; ValueError for others."""
        self._on_loop(self._registry.set_mode(_outage(mode)))

    async def set_outage_async(self, mode: Outage | str) -> None:
        await self._registry.set_mode(_outage(mode))

    # ---- journal, quota, reset ------------------------------------------------------------------

    def journal(
        self, since: float | None = None, *, after: int | None = None, repository: str | None = None
    ) -> list[JournalEntry]:
        """Requests in arrival order: from UNIX time `since`, after sequence number `after`, of `repository` only."""
        return self._parts.journal.entries(since, after=after, repository=repository)

    def cursor(self) -> int:
        """The sequence number of the latest request (0: none yet); `journal(after=cursor)` is what came next."""
        return self._parts.journal.cursor()

    def activity(self, repository: str) -> Activity:
        """When `repository` last saw a request, and how many of its requests are still running."""
        return self._parts.journal.activity(repository)

    def clear_journal(self) -> None:
        self._parts.journal.clear()

    def expire_tokens(self, repository: str | None = None) -> int:
        """Every token issued so far (whose scope names `repository`, when given) is expired from now on:
        requests bearing one get 401 with the usual challenge. Returns how many were still live."""
        return self._parts.auth.expire(repository)

    def quota_usage(self) -> dict[str, int]:
        return self._parts.quota.usage()

    def reset(self) -> None:
        """Back to empty and healthy: no content, faults, outage, journal, tokens or quota use."""
        self.set_outage("none")
        self._clear_state()

    async def reset_async(self) -> None:
        await self._registry.set_mode("none")
        self._clear_state()

    # ---- internals ------------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self.clear_faults()
        self._parts.store.reset()
        self._parts.journal.clear()
        self._parts.quota.reset()
        self._parts.auth.reset()
        with self._lock:
            self._generations.clear()
            self._layers.clear()

    def _layer(self, seed: int, size: int, gzip: bool) -> tuple[Content, str, str]:
        key = (seed, size, gzip)
        with self._lock:
            cached = self._layers.get(key)
        if cached is None:
            cached = synthetic_layer(seed, size, gzip)
            with self._lock:
                self._layers[key] = cached
        return cached

    def _on_loop(self, coroutine: Any) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            coroutine.close()
            raise RuntimeError("the fake upstream is not running")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coroutine.close()
            raise RuntimeError("call the *_async variant from the fake upstream's own event loop")
        asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)

    def _netloc(self, port: int) -> str:
        return f"[{self.host}]:{port}" if ":" in self.host else f"{self.host}:{port}"


def _describe(repository: str, tag: str | None, built: BuiltImage) -> Image:
    platforms = tuple(
        PlatformInfo(
            platform=image.platform,
            manifest=image.manifest.digest,
            manifest_size=len(image.manifest.body),
            config=LayerInfo(image.config.digest, image.config.size, image.config.media_type),
            layers=tuple(LayerInfo(layer.digest, layer.size, layer.media_type) for layer in image.layers),
        )
        for image in built.platforms
    )
    top = built.top
    return Image(repository, tag, top.digest, top.media_type, len(top.body), platforms)


def _outage(mode: str) -> Outage:
    if mode not in OUTAGES:
        raise ValueError(f"outage must be one of {', '.join(OUTAGES)}, not {mode!r}")
    return mode  # type: ignore[return-value]


def _mix(seed: int, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{salt}".encode()).digest()[:8], "big")
