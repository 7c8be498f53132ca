"""Profile: where the reference proxy's CPU goes per cached manifest GET by digest, by kind of work.

    python -m bench.profile_manifest [--quick]

One fake upstream and one reference proxy that has pulled one manifest (now cached and in memory); `wrk
-t2 -c32` asks for it by digest while py-spy (pip install -e '.[bench]'; it needs ptrace rights) samples
the proxy without pausing it (--nonblocking: pausing it adds system CPU of its own). The proxy's user and
system CPU per request come from /proc. The system CPU is the kernel's (the socket write and read,
polling); the user CPU is split in the shares of the samples outside the socket write, each under one
kind of work by its innermost Python frame (the C code a Python line calls counts under that line):
- HTTP parsing: httptools' callbacks building the request (uvicorn's protocol, its ASGI scope);
- response head: uvicorn turning the ASGI start message into the head's bytes;
- ASGI task and cycle: the task uvicorn starts per request and its cycle (the serving layer's limits);
- validation: the path classified and the name, reference and digest checked (SEC-PATH);
- manifest lookup: the cache's memory, the Accept header matched, the prepared answer;
- Starlette Request: the Request and Headers objects the application reads the request through;
- event loop: uvloop's own C code (accepting, receiving, polling, switching between tasks), where no
  Python frame is on top.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench._proc import Cpu, cpu, thread_cpu
from bench._report import Section, Timer, table
from bench._servers import MANIFEST_ACCEPT, fake_upstream, manifest_digest, reference_proxy, require, which
from bench.profile_cold import sampling, split_samples
from bench.proxy_manifest import measure

KINDS = (
    "socket write",
    "HTTP parsing",
    "response head",
    "ASGI task and cycle",
    "validation",
    "manifest lookup",
    "Starlette Request",
    "event loop",
    "other Python",
)
_VALIDATION = ("_routes.py", "oci_wire/", "re/__init__")
_LOOKUP = ("_manifests.py", "_cache.py", "_memo.py", "_bodies.py", "_variants.py")


def kind(thread: str, frames: list[str], line: str) -> str:
    """The kind of work of one sample, by its innermost frame (and that frame's source line)."""
    leaf = frames[-1] if frames else ""
    if not frames or leaf.startswith(("Runner.run", "run (uvloop")):
        return "event loop"
    if "transport.write" in line or "transport.writelines" in line:
        return "socket write"
    if "RequestResponseCycle.send " in leaf or "_get_status_line" in leaf:
        return "response head"
    if "Protocol.on_" in leaf or "Protocol.data_received" in leaf:
        return "HTTP parsing"
    if any(part in leaf for part in _VALIDATION):
        return "validation"
    if any(part in leaf for part in _LOOKUP):
        return "manifest lookup"
    if "starlette/" in leaf:
        return "Starlette Request"
    if "uvicorn/" in leaf or "serving/" in leaf or "_app.py" in leaf:
        return "ASGI task and cycle"
    return "other Python"


def profile(seconds: int) -> tuple[dict[str, float], float, float]:
    """(the proxy's CPU µs per request: in the kernel, and in user space by kind of work; req/s while sampled)."""
    spy = str(which("py-spy"))
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream = stack.enter_context(fake_upstream(workdir, [("bench/app", 4096)]))
        proxy = stack.enter_context(reference_proxy(workdir, upstream.url))
        path = f"/v2/bench/app/manifests/{manifest_digest(upstream.url, 'bench/app')}"
        httpx.get(proxy.url + path, headers={"Accept": MANIFEST_ACCEPT}, timeout=30).raise_for_status()
        measure(proxy, path, 1)  # warm-up
        raw = workdir / "profile.txt"
        with sampling(spy, proxy.pid, raw, rate=250):
            before, whole = thread_cpu(proxy.pid), cpu(proxy.pid)
            rate, cost = measure(proxy, path, seconds)
            after, used = thread_cpu(proxy.pid), cpu(proxy.pid) - whole
        zero = Cpu(0, 0)
        user = {tid: (now - before.get(tid, (name, zero))[1]).user for tid, (name, now) in after.items()}
        shares = split_samples(raw, Path(__file__).resolve().parents[1], user, kind, KINDS)
        # The samples in the write are the kernel's work (system CPU, below), not user space's.
        in_user = sum(seconds for name, seconds in shares.items() if name != "socket write") or 1.0
        per_request = cost / used.total  # µs per request per CPU-second of the run
        found = {name: used.user * per_request * shares[name] / in_user for name in KINDS if name != "socket write"}
        return {"kernel": used.system * per_request, **found}, rate, shares["socket write"] / sum(shares.values())


def run(quick: bool = False) -> Section:
    seconds = 3 if quick else 10
    section = Section(
        "manifest-profile",
        "Reference proxy: a cached manifest's profile",
        "python -m bench.profile_manifest" + (" --quick" if quick else ""),
    )
    with Timer() as timer:
        found, rate, write_share = profile(seconds)
    section.load_before, section.load_after = timer.before, timer.after
    total = sum(found.values())
    labels = {"kernel": "kernel (system CPU): the socket write and read, polling"}
    rows = [[labels.get(name, name), f"{value:.1f}", f"{value / total * 100:.0f}%"] for name, value in found.items()]
    rows.append(["**total**", f"**{total:.1f}**", ""])
    section.markdown = "\n".join(
        [
            f"The proxy's CPU µs per cached manifest GET by digest, `wrk -t2 -c32 -d{seconds}s` with py-spy "
            f"sampling it ({rate:,.0f} req/s while sampled). User and system CPU from /proc; user CPU split "
            f"by py-spy's samples outside the socket write (where {write_share * 100:.0f}% of all samples were).",
            "",
            table(["kind of work", "CPU µs per request", "share"], rows),
        ]
    )
    return section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 3-second run")
    args = parser.parse_args()
    missing = require("wrk", "py-spy")
    if missing:
        print(missing)
        return 2
    print(run(args.quick).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
