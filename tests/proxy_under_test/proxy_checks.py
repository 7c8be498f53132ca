"""What the reference proxy's tests share: a fake upstream with proxies in front, rule tests over defects, raw HTTP.

A rule test runs once with no defect (the rule must hold) and once per defect that breaks it (the
test must then fail with an AssertionError: strict xfail), so every defect is proven to be caught.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
import pytest
from http_checks import ACCEPT, sha256

from fake_upstream import FakeUpstream, Image
from harness.poll import wait_until
from proxy_under_test import DEFECTS, Cache, ProxyConfig, ReferenceProxy

TIMEOUT = 1.0  # the proxies' upstream timeout in these tests
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Covered:
    rule: str
    test: str


COVERED: dict[str, Covered] = {}


def rule_test(rule: str, *defects: str) -> Callable[[F], F]:
    """Parametrise a test over `defects`: [] must pass, each defect must make it fail an assertion."""
    for name in defects:
        assert DEFECTS[name].rule == rule, f"{name} breaks {DEFECTS[name].rule}, not {rule}"

    def decorate(test: F) -> F:
        for name in defects:
            COVERED[name] = Covered(rule, test.__name__)
        params = [pytest.param(frozenset(), id="holds")] + [
            pytest.param(
                frozenset({name}),
                id=name,
                marks=pytest.mark.xfail(raises=AssertionError, strict=True, reason=f"{name} breaks {rule}"),
            )
            for name in defects
        ]
        return pytest.mark.parametrize("defects", params)(test)  # type: ignore[no-any-return]

    return decorate


class Rig:
    """A fake upstream, and reference proxies in front of it; everything stops on exit."""

    def __init__(self, tmp_path: Path, **upstream_options: Any) -> None:
        self.tmp_path = tmp_path
        self.upstream = FakeUpstream(**upstream_options)
        self._proxies: list[ReferenceProxy] = []
        self._clients: list[httpx.Client] = []

    def __enter__(self) -> Rig:
        self.upstream.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for client in self._clients:
            client.close()
        for proxy in self._proxies:
            proxy.stop()
        self.upstream.stop()

    def proxy(self, defects: frozenset[str] = frozenset(), **options: Any) -> ReferenceProxy:
        options.setdefault("upstream", self.upstream.url)
        options.setdefault("cache_dir", self.tmp_path / f"cache{len(self._proxies)}")
        options.setdefault("upstream_timeout", TIMEOUT)
        proxy = ReferenceProxy(ProxyConfig(defects=defects, **options)).start()
        self._proxies.append(proxy)
        return proxy

    def client(self, proxy: ReferenceProxy, timeout: float = 10.0) -> httpx.Client:
        client = httpx.Client(base_url=proxy.url, timeout=timeout)
        self._clients.append(client)
        return client

    def upstream_requests(self, method: str | None = None, kind: str | None = None) -> list[Any]:
        return [
            entry
            for entry in self.upstream.journal()
            if (method is None or entry.method == method) and (kind is None or entry.kind == kind)
        ]


def pull(client: httpx.Client, image: Image, *, platforms: int | None = None) -> dict[str, str]:
    """GET the tag, the platform manifests and every blob; path -> sha256 of what came back (all 200)."""
    got: dict[str, str] = {}
    paths = [f"manifests/{image.tag}"]
    for platform in image.platforms[:platforms]:
        if len(image.platforms) > 1:
            paths.append(f"manifests/{platform.manifest}")
        paths += [f"blobs/{blob.digest}" for blob in (platform.config, *platform.layers)]
    for path in paths:
        response = client.get(f"/v2/{image.repository}/{path}", headers=ACCEPT)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        got[path] = sha256(response.content)
    assert got[f"manifests/{image.tag}"] == image.digest
    return got


@contextmanager
def timed(limit: float) -> Iterator[None]:
    """Assert the block finishes within `limit` seconds (client timeouts become assertion failures)."""
    started = time.monotonic()
    try:
        yield
    except httpx.TimeoutException:
        raise AssertionError(f"no answer within {limit} s") from None
    assert time.monotonic() - started < limit, f"took {time.monotonic() - started:.1f} s, limit {limit} s"


class ProxyProcess:
    """`pullthrough proxy` as a subprocess on a free port, polled until it answers; killed on exit."""

    def __init__(
        self, upstream: str, cache_dir: Path, defects: frozenset[str] = frozenset(), *, wrapper: Sequence[str] = ()
    ) -> None:
        """`wrapper` runs the proxy through another command (e.g. `unshare` with a mount)."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            *wrapper, sys.executable, "-m", "harness.cli", "proxy", "--upstream", upstream, "--port", str(self.port),
            "--cache-dir", str(cache_dir), "--upstream-timeout", str(TIMEOUT),
        ]  # fmt: skip
        for name in sorted(defects):
            self.command += ["--defect", name]
        self.log = cache_dir.parent / f"proxy-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ProxyProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, timeout=20, what=f"the proxy on {self.url} (log: {self.log})")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the proxy exited: {self.log.read_text()[-500:]}")
        try:
            return httpx.get(self.url + "/v2/", timeout=1).status_code == 200
        except httpx.TransportError:
            return False


def unverified(root: Path) -> list[str]:
    """Every cache entry that does not verify: content that does not hash to its name, a tag record that
    is torn or points at no manifest, a link to content that is not there. Empty for a sound cache."""
    cache = Cache(root)  # read only: not opened, so no lock and nothing cleaned up
    bad = cache.verify()
    for name in cache.repositories():
        for tag in cache.tags(name) or []:
            pointer = cache.tag(name, tag)
            if pointer is None or cache.manifest(name, pointer[0]) is None:
                bad.append(f"{name}:{tag} -> {pointer}")
        for digest in cache.linked_manifests(name):
            if cache.content_size(digest) is None:
                bad.append(f"{name} manifest link {digest}")
        for digest in cache.linked_blobs(name):
            if cache.content_size(digest) is None:
                bad.append(f"{name} blob link {digest}")
    return bad
