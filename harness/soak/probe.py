"""A server's memory and descriptors, read from /proc: for a process and everything it started (nginx's workers)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
MIB = 1 << 20


@dataclass(frozen=True)
class Reading:
    rss: int  # bytes resident now, summed over the processes
    peak: int  # each process's peak resident bytes (VmHWM), summed
    fds: int  # open descriptors, summed
    processes: int


def read(pid: int) -> Reading | None:
    """`pid` and its descendants, now; None when the process is gone or /proc cannot be read."""
    pids = [pid, *descendants(pid)]
    rss = peak = fds = 0
    counted = 0
    for each in pids:
        status = _status(each)
        if status is None:
            continue
        try:
            fds += len(os.listdir(_PROC / str(each) / "fd"))
        except OSError:
            continue
        rss += status.get("VmRSS", 0)
        peak += status.get("VmHWM", 0)
        counted += 1
    return Reading(rss, peak, fds, counted) if counted else None


def descendants(pid: int) -> list[int]:
    """Every process whose chain of parents leads to `pid`."""
    parents: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            parent = _parent(entry)
            if parent is not None:
                parents[int(entry.name)] = parent
    found: list[int] = []
    frontier = {pid}
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = set(children)
    return found


def _parent(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    fields = stat.rpartition(")")[2].split()
    return int(fields[1]) if len(fields) > 1 else None


def _status(pid: int) -> dict[str, int] | None:
    try:
        lines = (_PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return None
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024  # kB
    return found
