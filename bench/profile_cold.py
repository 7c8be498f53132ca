"""Profile: where the reference proxy's CPU goes on the cold blob path, by kind of work.

    python -m bench.profile_cold [--source DIR] [--quick]

One fake upstream and one reference proxy (from the checkout at DIR when given, e.g. an older commit
unpacked with `git archive`, to compare), cold GETs as a client pulls (manifest, then the blob, curl to
/dev/null) while py-spy (pip install -e '.[bench]'; it needs ptrace rights) samples every thread of the
proxy without pausing it (--nonblocking: pausing it adds system CPU of its own). Each sample is put
under one kind of work by its thread and innermost Python frame, and the proxy's CPU-seconds per GiB
from /proc are split in those shares:
- hash: the hashing thread (sha256 over every byte);
- file write: the writing thread's O_DIRECT system calls;
- copy: bytes copied in user space (the reader's pieces, the writer's staging buffer);
- socket send / socket receive and event loop: uvicorn's writes to the client; uvloop's own C code
  (reading the upstream's socket, polling) under the event loop;
- file read: pieces re-read from the temp file by a client behind the memory window;
- Python: everything else the interpreter does (the fetch's and the readers' bookkeeping).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from bench._proc import Cpu, thread_cpu
from bench._report import Section, Timer, table
from bench._servers import (
    MANIFEST_ACCEPT,
    Server,
    curl_speed,
    fake_upstream,
    free_port,
    layer_digest,
    running,
    wait_idle,
    wait_ping,
    which,
)

_GIB = 1 << 30
_HERE = Path(__file__).resolve().parents[1]
Classifier = Callable[[str, list[str], str], str]
KINDS = ("hash", "file write", "copy", "socket send", "socket receive and event loop", "file read", "Python")


def kind(thread: str, frames: list[str], line: str) -> str:
    """The kind of work of one sample: its thread's name, its frames (outermost first) and the source
    line of the innermost one (what C call it was in: a copy, a system call)."""
    leaf = frames[-1] if frames else ""
    if "proxy-hash" in thread:
        return "hash"
    if "pwrite" in line or "_write_all" in leaf:
        return "file write"
    if "pread" in line:
        return "file read"
    if 'b"".join' in line or "bytes(" in line or "] = " in line or ("Spool.piece" in leaf and "[" in line):
        return "copy"
    if "transport.write" in line or leaf.startswith(("CorkedTransport.", "RequestResponseCycle.send")):
        return "socket send"
    if leaf.startswith("Runner.run"):
        return "socket receive and event loop"
    return "Python"


def split(raw: Path, source: Path, spent: dict[int, float]) -> dict[str, float]:
    """CPU-seconds by kind of work of the cold path (see split_samples)."""
    return split_samples(raw, source, spent, kind, KINDS)


@contextmanager
def sampling(spy: str, pid: int, out: Path, *, rate: int) -> Iterator[None]:
    """py-spy samples every thread of `pid` into `out` (raw format) while the block runs, without pausing it."""
    command = [spy, "record", "-p", str(pid), "-o", str(out), "-f", "raw", "--threads", "--nonblocking"]
    sampler = subprocess.Popen([*command, "-r", str(rate)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # py-spy attaches; it says nothing when it has, so this is a margin, not a synchronisation
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)


def split_samples(
    raw: Path, source: Path, spent: dict[int, float], classify: Classifier, kinds: Sequence[str]
) -> dict[str, float]:
    """CPU-seconds by kind of work: each thread's CPU (from /proc, `spent` by thread id) divided in the
    shares of its samples in py-spy's raw output, each sample's kind by `classify` (a thread py-spy never
    caught busy goes under the last kind). py-spy's samples alone would count a thread waiting for the
    disk in pwrite as busy; /proc counts only the CPU it used."""
    counts: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for text in raw.read_text().splitlines():
        stack, _, number = text.rpartition(" ")
        thread, *frames = stack.split(";")
        tid = int(thread.split("(", 1)[1].split(")", 1)[0], 0)
        counts[tid][classify(thread, frames, _source_line(frames[-1] if frames else "", source))] += int(number)
    found = dict.fromkeys(kinds, 0.0)
    for tid, seconds in spent.items():
        samples = counts.get(tid)
        if not samples:
            found[kinds[-1]] += seconds  # too little to tell
            continue
        total = sum(samples.values())
        for name, count in samples.items():
            found[name] += seconds * count / total
    return found


@functools.cache
def _source_line(frame: str, source: Path) -> str:
    """The text of a frame's line ("function (path/file.py:42)"), for files of the checkout; else ""."""
    location = frame.rpartition("(")[2].rstrip(")")
    path, _, number = location.rpartition(":")
    file = source / path
    if not number.isdigit() or not file.is_file():
        return ""
    lines = file.read_text().splitlines()
    return lines[int(number) - 1] if int(number) <= len(lines) else ""


@contextmanager
def proxy_from(source: Path | None, workdir: Path, upstream: str) -> Iterator[Server]:
    """`pullthrough proxy`, its code from `source` (a checkout) when given, else this one."""
    port = free_port()
    environment = dict(os.environ, PYTHONPATH=str(source)) if source else None
    command = [sys.executable, "-m", "harness.cli", "proxy", "--upstream", upstream, "--port", str(port)]
    command += ["--cache-dir", str(workdir / "reference-cache")]
    process = subprocess.Popen(
        command, env=environment, cwd=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    with running(process):
        url = f"http://127.0.0.1:{port}"
        wait_ping(process, url)
        yield Server("reference proxy", process.pid, url, storage=workdir / "reference-cache")


def profile(source: Path | None, size: int, rounds: int) -> tuple[dict[str, float], list[float], float]:
    """(the proxy's CPU-s per GiB by kind of work, GB/s per round, its system CPU-s per GiB: the kernel's)."""
    spy = str(which("py-spy"))
    images = [(f"bench/cold{n}", size) for n in range(rounds)]
    with tempfile.TemporaryDirectory(prefix="pullthrough-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        upstream = stack.enter_context(fake_upstream(workdir, images))
        proxy = stack.enter_context(proxy_from(source, workdir, upstream.url))
        for repository, _ in images:  # as a client pulls: the manifest first (untimed, unprofiled)
            headers = {"Accept": MANIFEST_ACCEPT}
            httpx.get(f"{proxy.url}/v2/{repository}/manifests/v1", headers=headers, timeout=60).raise_for_status()
        digests = {repository: layer_digest(upstream.url, repository) for repository, _ in images}
        wait_idle(upstream.control_url)
        raw = workdir / "profile.txt"
        rates = []
        with sampling(spy, proxy.pid, raw, rate=200):
            before = thread_cpu(proxy.pid)
            for repository, _ in images:
                wait_idle(upstream.control_url)
                rates.append(curl_speed(f"{proxy.url}/v2/{repository}/blobs/{digests[repository]}", size))
            wait_idle(upstream.control_url)
            after = thread_cpu(proxy.pid)
        zero = Cpu(0, 0)
        spent = {tid: (used - before.get(tid, (name, zero))[1]).total for tid, (name, used) in after.items()}
        gib = size * rounds / _GIB
        kernel = sum((used - before.get(tid, (name, zero))[1]).system for tid, (name, used) in after.items())
        found = {name: seconds / gib for name, seconds in split(raw, source or _HERE, spent).items()}
        return found, rates, kernel / gib


def run(quick: bool = False, source: Path | None = None) -> Section:
    size, rounds = (256 << 20, 2) if quick else (_GIB, 3)
    command = "python -m bench.profile_cold" + (" --quick" if quick else "") + (f" --source {source}" if source else "")
    section = Section("cold-profile", "Reference proxy: the cold path's profile", command)
    with Timer() as timer:
        found, rates, kernel = profile(source, size, rounds)
    section.load_before, section.load_after = timer.before, timer.after
    total = sum(found.values())
    rows = [[name, f"{found[name]:.2f}", f"{found[name] / total * 100:.0f}%"] for name in KINDS]
    rows.append(["**total**", f"**{total:.2f}**", ""])
    section.markdown = "\n".join(
        [
            f"The proxy's CPU-seconds per GiB over {rounds} cold GETs of {size >> 20} MiB (GB/s per GET, with "
            "py-spy attached: " + " ".join(f"{rate / 1e9:.2f}" for rate in rates) + ").",
            "",
            table(["kind of work", "CPU-s per GiB", "share"], rows),
            "",
            f"Of the total, {kernel:.2f} CPU-s per GiB were the kernel's (system CPU from /proc: socket and file "
            "system calls), the rest user space. py-spy samples a thread where it is, running or waiting for a "
            "CPU: on a loaded machine a thread preempted as it wakes another (a socket write waking the client) "
            "is sampled on that line, so within a thread the kinds follow the samples; the system CPU is exact.",
        ]
    )
    return section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help="a checkout whose proxy to profile (default: this one)")
    parser.add_argument("--quick", action="store_true", help="256 MiB, 2 GETs")
    args = parser.parse_args()
    print(run(args.quick, args.source).markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
