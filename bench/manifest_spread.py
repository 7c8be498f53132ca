"""A/B at one moment: the cost of a cached manifest when requests spread over N images against 1,000.

    python -m bench.manifest_spread [--count 100000] [--rounds 3]

One reference proxy with memory for every manifest (`--manifest-memory 256`), its cache filled with
`count` images' manifests as the scaling benchmark fills it, all of them asked for once (in memory
after that); then, interleaved, `wrk -t2 -c32 -d5s` asks for manifests at random among all of them
or among the first 1,000. The same process, the same memory, minutes apart at most: what differs is
only how far the requests spread. Prints req/s and the proxy's CPU µs per request (from /proc) of
each run; `perf record -g -p PID` beside it shows where the difference goes.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench._proc import vm_rss
from bench._report import median
from bench._servers import fake_upstream, reference_proxy, require
from bench.proxy_manifest import measure
from bench.scaling import _WRK_EVERY, _WRK_SCRIPT, _fill

FEW = 1_000


def spread(count: int, rounds: int, seconds: int = 5) -> dict[str, list[tuple[float, float]]]:
    """(req/s, CPU µs per request) of each run, for requests among all `count` and among FEW."""
    found: dict[str, list[tuple[float, float]]] = {"all": [], "few": []}
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        paths = _fill(workdir / "reference-cache", count)
        for name, chosen in (("all", paths), ("few", paths[:FEW])):
            (workdir / f"{name}.txt").write_text("\n".join(chosen) + "\n")
            (workdir / f"{name}.lua").write_text(_WRK_SCRIPT % (workdir / f"{name}.txt"))
        (workdir / "every.lua").write_text(_WRK_EVERY % (workdir / "all.txt"))
        upstream = stack.enter_context(fake_upstream(workdir, []))
        proxy = stack.enter_context(reference_proxy(workdir, upstream.url, options=("--manifest-memory", "256")))
        measure(proxy, "/", max(2, -(-count // 1500)), workdir / "every.lua")  # every one once: in memory
        measure(proxy, "/", 2, workdir / "all.lua")
        for round_ in range(rounds):
            for name in ("all", "few") if round_ % 2 == 0 else ("few", "all"):
                found[name].append(measure(proxy, "/", seconds, workdir / f"{name}.lua"))
        print(f"the proxy's RSS after: {vm_rss(proxy.pid) >> 20} MiB")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="images cached (default 100,000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    missing = require("wrk")
    if missing:
        print(missing)
        return 2
    found = spread(args.count, args.rounds)
    for name, label in (("all", f"among all {args.count:,}"), ("few", f"among {FEW:,} of them")):
        runs = found[name]
        costs = " ".join(f"{cost:.0f}" for _, cost in runs)
        print(
            f"at random {label}: {median([rate for rate, _ in runs]):,.0f} req/s, "
            f"{median([cost for _, cost in runs]):.0f} µs per request (runs: {costs})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
