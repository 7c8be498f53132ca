"""The upstream client: an exchange cut off by the proxy's bound leaves no connection stuck in the pool."""

from __future__ import annotations

import asyncio
import time

import httpcore

from fake_upstream import FakeUpstream, Match
from proxy_under_test._routes import Target
from proxy_under_test._upstream import Upstream, UpstreamFailure

_REPOSITORIES = 8
_AT_ONCE = 200
_ROUNDS = 3


def _stuck(upstream: Upstream) -> list[httpcore.AsyncConnectionInterface]:
    """Connections no request holds that are neither idle nor closed: such a one is never used or closed again."""
    pool: httpcore.AsyncConnectionPool = upstream._client._transport._pool  # type: ignore[attr-defined]
    return [c for c in pool.connections if not c.is_idle() and not c.is_closed()]


async def _cut_off_often(fake: FakeUpstream, upstream: Upstream) -> list[httpcore.AsyncConnectionInterface]:
    targets = [Target(f"r{i}", fake.url, f"lib/r{i}") for i in range(_REPOSITORIES)]

    async def pull(target: Target) -> None:
        try:
            await upstream.get_manifest(target, "t")
        except UpstreamFailure:
            pass

    for _ in range(_ROUNDS):
        await asyncio.gather(*(pull(targets[i % _REPOSITORIES]) for i in range(_AT_ONCE)))
    fake.clear_faults()
    await asyncio.gather(*(pull(target) for target in targets))
    deadline = time.monotonic() + 3
    while (stuck := _stuck(upstream)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await upstream.aclose()
    return stuck


def test_exchanges_cut_off_by_the_bound_leave_no_connection_stuck() -> None:
    # asyncio.timeout's cancellation broke httpcore's shielded clean-up (encode/httpcore#658, #830): with this
    # bound, 33 to 110 connections stayed active for ever, each a socket in CLOSE_WAIT once the upstream hung up.
    with FakeUpstream(auth="token", users={"alice": "secret"}) as fake:
        for i in range(_REPOSITORIES):
            fake.add_image(f"lib/r{i}", "t", layers=[100], gzip=False)
        fake.add_fault("blackhole", Match(kind="manifest"), fraction=0.5, seed=1)
        upstream = Upstream(timeout=0.3, user="alice", password="secret")
        assert asyncio.run(_cut_off_often(fake, upstream)) == []
