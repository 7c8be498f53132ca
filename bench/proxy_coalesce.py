"""Benchmark: N clients GET the same cold blob at once; how many GETs reach the upstream?

    python -m bench.proxy_coalesce [--quick]

One fake upstream; the reference proxy and docker-registry (proxy mode) in front of it, each asked
for a blob of its own that neither has seen, by N concurrent clients (httpx, every body's sha256
checked). The fake upstream's journal counts the GETs of each blob. Target: 1 for the reference proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench._report import Section, Timer, table
from bench._servers import (
    Server,
    distribution_proxy,
    fake_upstream,
    layer_digest,
    reference_proxy,
    require,
    upstream_gets,
)

CLIENTS = 20


def run(quick: bool = False) -> Section:
    size = (8 << 20) if quick else (32 << 20)
    section = Section(
        "proxy-coalesce",
        "Reference proxy: concurrent cold GETs",
        "python -m bench.proxy_coalesce" + (" --quick" if quick else ""),
    )
    rows = []
    with Timer() as timer, tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        images = [("bench/reference", size), ("bench/distribution", size)]
        upstream = stack.enter_context(fake_upstream(workdir, images))
        proxies = [
            (stack.enter_context(reference_proxy(workdir, upstream.url)), "bench/reference"),
            (stack.enter_context(distribution_proxy(workdir, upstream.url)), "bench/distribution"),
        ]
        for proxy, repository in proxies:
            digest = layer_digest(upstream.url, repository)
            seconds, good = asyncio.run(_pull_together(proxy, repository, digest, CLIENTS))
            rows.append((proxy.name, upstream_gets(upstream.control_url, digest), good, seconds))
    section.load_before, section.load_after = timer.before, timer.after
    cells = [
        [name, gets, f"{good}/{CLIENTS}", f"{seconds:.2f}", ("1 " + ("✓" if gets == 1 else "✗")) if n == 0 else ""]
        for n, (name, gets, good, seconds) in enumerate(rows)
    ]
    section.markdown = "\n".join(
        [
            f"{CLIENTS} concurrent cold GETs of one {size >> 20} MiB blob through each proxy (httpx, every body's "
            "sha256 checked); the fake upstream's journal counts the GETs of the blob.",
            "",
            table(
                ["proxy", "upstream GETs of the blob", "clients with the whole, right blob", "seconds", "target"], cells
            ),
        ]
    )
    return section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="an 8 MiB blob")
    args = parser.parse_args()
    missing = require("docker-registry")
    if missing:
        print(missing)
        return 2
    print(run(args.quick).markdown)
    return 0


async def _pull_together(proxy: Server, repository: str, digest: str, clients: int) -> tuple[float, int]:
    url = f"{proxy.url}/v2/{repository}/blobs/{digest}"
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def pull() -> bool:
            hasher = hashlib.sha256()
            try:
                async with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        return False
                    async for chunk in response.aiter_raw():
                        hasher.update(chunk)
            except httpx.HTTPError:
                return False
            return f"sha256:{hasher.hexdigest()}" == digest

        started = time.monotonic()
        results = await asyncio.gather(*(pull() for _ in range(clients)))
        return time.monotonic() - started, sum(results)


if __name__ == "__main__":
    raise SystemExit(main())
