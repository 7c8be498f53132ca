"""The machine and the versions a run measured: what docs/benchmarks.md states beside every figure."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from bench._servers import which

_PACKAGES = ("uvicorn", "uvloop", "httptools", "starlette", "httpx")


def describe() -> str:
    """One paragraph: CPU, cores, memory, kernel, Python and the libraries, and each peer's version."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    libraries = ", ".join(f"{name} {_version(name)}" for name in _PACKAGES)
    peers = ", ".join(f"{name} {version}" for name, version in peers_versions().items())
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {memory:.0f} GiB, Linux {platform.release()}; "
        f"Python {platform.python_version()} ({libraries}); {peers}"
    )


def peers_versions() -> dict[str, str]:
    found = {}
    for name, command, pattern in (
        ("docker-registry", ["docker-registry", "--version"], r"(\d+\.\d+\.\d+\S*)"),
        ("nginx", ["nginx", "-v"], r"nginx/(\S+)"),
        ("wrk", ["wrk", "-v"], r"wrk (\S+)"),
        ("curl", ["curl", "--version"], r"curl (\S+)"),
    ):
        binary = which(name)
        if binary is None:
            found[name] = "missing"
            continue
        done = subprocess.run([binary, *command[1:]], capture_output=True, text=True, timeout=30, check=False)
        match = re.search(pattern, done.stdout + done.stderr)
        found[name] = match.group(1) if match else "unknown"
    return found


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"
