"""A server's memory and descriptors, read from /proc: for a process and everything it started (nginx's workers)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_PROC = Path("/proc")
MIB = 1 << 20
_TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0A": "LISTEN",
    "0B": "CLOSING",
}


@dataclass(frozen=True)
class Reading:
    rss: int  # bytes resident now, summed over the processes
    peak: int  # each process's peak resident bytes (VmHWM), summed
    fds: int  # open descriptors, summed
    processes: int
    cpu: float = 0.0  # CPU seconds used so far (user and system), summed
    # What each descriptor is: a path, "pipe", or "tcp :local->:remote STATE" (so a leak says what leaked).
    descriptors: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def leftover(self, before: Reading) -> list[str]:
        """The descriptors open now that were not open at `before` (by what they are), most common first."""
        extra = Counter(self.descriptors) - Counter(before.descriptors)
        return [f"{count} x {what}" if count > 1 else what for what, count in extra.most_common()]


def read(pid: int) -> Reading | None:
    """`pid` and its descendants, now; None when the process is gone or /proc cannot be read."""
    pids = [pid, *descendants(pid)]
    rss = peak = fds = 0
    cpu = 0.0
    counted = 0
    described: list[str] = []
    sockets = _sockets()
    for each in pids:
        status = _status(each)
        if status is None:
            continue
        try:
            numbers = os.listdir(_PROC / str(each) / "fd")
        except OSError:
            continue
        fds += len(numbers)
        described += [_describe(_PROC / str(each) / "fd" / number, sockets) for number in numbers]
        rss += status.get("VmRSS", 0)
        peak += status.get("VmHWM", 0)
        cpu += _cpu(each)
        counted += 1
    return Reading(rss, peak, fds, counted, cpu, tuple(sorted(described))) if counted else None


def _cpu(pid: int) -> float:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()  # state ppid ... utime (12th) stime (13th)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if len(fields) > 12 else 0.0


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


def _describe(link: Path, sockets: dict[str, str]) -> str:
    try:
        target = os.readlink(link)
    except OSError:
        return "(closed)"
    if target.startswith("socket:["):
        return sockets.get(target[len("socket:[") : -1], "socket")
    return "pipe" if target.startswith("pipe:[") else target


def _sockets() -> dict[str, str]:
    """TCP sockets by inode: "tcp :local->:remote STATE" (everything here is on loopback; ports tell them apart)."""
    found = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9:
                local, remote = (int(address.rpartition(":")[2], 16) for address in fields[1:3])
                state = _TCP_STATES.get(fields[3], fields[3])
                found[fields[9]] = f"tcp :{local}->:{remote} {state}" if remote else f"tcp :{local} {state}"
    return found
