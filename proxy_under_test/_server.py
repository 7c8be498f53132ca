"""ReferenceProxy: run the proxy in a background thread (`with`), or in the current loop (`await serve()`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from proxy_under_test._app import ProxyApp
from proxy_under_test._cache import Cache
from proxy_under_test._config import ProxyConfig
from proxy_under_test._context import Context
from proxy_under_test._defects import Defect
from proxy_under_test._failures import Failures
from proxy_under_test._fetch import Fetches
from proxy_under_test._routes import Router
from proxy_under_test._upstream import Upstream
from serving import Listener, ServerThread

_WORKERS = 8
_GRACE = 1.0  # seconds requests in flight get to end after their connections are cut
SERVER_HEADER = "pullthrough-proxy"


class ReferenceProxy:
    """The reference pull-through proxy. `url` is valid once it accepts connections."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self._port = config.port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread = ServerThread("reference-proxy")

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = self.config.host
        return f"http://[{host}]:{self._port}" if ":" in host else f"http://{host}:{self._port}"

    # ---- foreground -----------------------------------------------------------------------------

    async def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the running loop until `stop()` or cancellation; `on_ready` runs once it accepts connections."""
        config = self.config
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        cache = Cache(
            config.cache_dir, atomic=not config.has(Defect.NO_ATOMIC_WRITE), manifest_memory=config.manifest_memory
        )
        executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix="proxy-io")
        hashing = ThreadPoolExecutor(1, thread_name_prefix="proxy-hash")
        writing = ThreadPoolExecutor(1, thread_name_prefix="proxy-write")
        upstream: Upstream | None = None
        try:
            await self._loop.run_in_executor(executor, cache.open)
            upstream = Upstream(
                timeout=600.0 if config.has(Defect.NO_UPSTREAM_TIMEOUT) else config.upstream_timeout,
                user=config.upstream_user,
                password=config.upstream_password,
                reuse_tokens=not config.has(Defect.TOKEN_PER_REQUEST),
            )
            context = Context(
                config=config,
                cache=cache,
                upstream=upstream,
                failures=Failures(config),
                router=Router(config.upstream, config.projects, check=not config.has(Defect.NO_PATH_CHECK)),
                executor=executor,
                hashing=hashing,
                writing=writing,
            )
            fetches = Fetches(context)
            app = ProxyApp(context, fetches)
            listener = Listener(app, config.host, config.port, server_header=SERVER_HEADER, limits=config.limits)
            app.listener = listener
            try:
                await listener.start()
                self._port = listener.port
                if on_ready is not None:
                    on_ready()
                await self._stopped.wait()
            finally:
                await listener.close()
                await fetches.stop()
                await listener.drain(_GRACE)
        finally:
            if upstream is not None:
                await upstream.aclose()
            for pool in (executor, hashing, writing):
                pool.shutdown(wait=True)
            cache.close()

    # ---- background thread ----------------------------------------------------------------------

    def start(self) -> ReferenceProxy:
        """Serve from a background thread; returns once the port accepts connections."""
        self._thread.start(self.serve)
        return self

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is None or stopped is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(stopped.set)
        self._thread.join()

    def __enter__(self) -> ReferenceProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
