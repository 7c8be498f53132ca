"""Benchmark: N clients GET the same cold blob at once; how many GETs reach the upstream?

    python bench/proxy_coalesce.py [--clients N] [--size BYTES]

One fake upstream; the reference proxy and docker-registry (proxy mode) in front of it, each asked
for a blob of its own that neither has seen, by N concurrent clients (httpx, every body's sha256
checked). The fake upstream's journal counts the GETs of each blob. Target: 1 for the reference proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench._servers import (
    Server,
    distribution_proxy,
    fake_upstream,
    layer_digest,
    machine,
    reference_proxy,
    require,
    upstream_gets,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--size", type=int, default=32 << 20, help="blob size in bytes (default 32 MiB)")
    args = parser.parse_args()
    missing = require("docker-registry")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        images = [("bench/reference", args.size), ("bench/distribution", args.size)]
        upstream = stack.enter_context(fake_upstream(workdir, images))
        proxies = [
            (stack.enter_context(reference_proxy(workdir, upstream.url)), "bench/reference"),
            (stack.enter_context(distribution_proxy(workdir, upstream.url)), "bench/distribution"),
        ]
        for proxy, repository in proxies:
            digest = layer_digest(upstream.url, repository)
            seconds, good = asyncio.run(_pull_together(proxy, repository, digest, args.clients))
            rows.append((proxy.name, upstream_gets(upstream.control_url, digest), good, seconds))
    print(f"# {args.clients} concurrent cold GETs of one {args.size}-byte blob through each proxy")
    print(f"# {machine(load_before)}")
    print("| proxy | upstream GETs of the blob | clients with the whole, right blob | seconds | target |")
    print("|---|---|---|---|---|")
    for name, gets, good, seconds in rows:
        target = "1" if name == "reference proxy" else ""
        print(f"| {name} | {gets} | {good}/{args.clients} | {seconds:.2f} | {target} |")
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
