"""Readings from /proc: CPU-seconds of a process (stable on a shared machine, unlike wall time), peak and
current RSS, and the load average."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Cpu:
    """User and system CPU-seconds a process has used so far (all its threads, not its children)."""

    user: float
    system: float

    @property
    def total(self) -> float:
        return self.user + self.system

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.user - other.user, self.system - other.system)


def cpu(pid: int) -> Cpu:
    return _stat_cpu(Path(f"/proc/{pid}/stat").read_text())


def thread_cpu(pid: int) -> dict[int, tuple[str, Cpu]]:
    """Each thread's name and CPU so far, by thread id (threads that ended are gone)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except FileNotFoundError:
            continue
        found[int(task.name)] = (stat[stat.index("(") + 1 : stat.rindex(")")], _stat_cpu(stat))
    return found


def run_queue_wait(pid: int) -> float:
    """Seconds the process's threads have spent runnable but waiting for a CPU, so far (the second field of
    each thread's schedstat): on a loaded machine, the wall time a process lost to the others."""
    waited = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            waited += int((task / "schedstat").read_text().split()[1])
        except (FileNotFoundError, IndexError, ValueError):
            continue
    return waited / 1e9


def vm_hwm(pid: int) -> int:
    """Peak resident memory in bytes."""
    return _status_kib(pid, "VmHWM") * 1024


def vm_rss(pid: int) -> int:
    """Resident memory now, in bytes."""
    return _status_kib(pid, "VmRSS") * 1024


def load() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def _stat_cpu(stat: str) -> Cpu:
    # The command name may hold spaces and parentheses: the fields start after the last ")".
    fields = stat.rsplit(")", 1)[1].split()
    return Cpu(int(fields[11]) / _TICK, int(fields[12]) / _TICK)


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/{pid}/status")
