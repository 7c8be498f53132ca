"""The fake upstream's memory stays flat under a long run of requests once its journal is capped.

`pullthrough upstream` in a subprocess, its RSS read from /proc while requests of every common kind
come in. CI sends 3,000; PULLTHROUGH_SOAK_REQUESTS=100000 is the long run (docs/reliability.md).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx
from http_checks import ACCEPT

REQUESTS = int(os.environ.get("PULLTHROUGH_SOAK_REQUESTS", "3000"))
LIMIT = int(os.environ.get("PULLTHROUGH_SOAK_JOURNAL_LIMIT", "1000"))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _start(config: Path) -> tuple[subprocess.Popen[str], str, str]:
    script = Path(sys.executable).with_name("pullthrough")
    command = [str(script), "upstream", "--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 1.0)
        if ready:
            words = process.stderr.readline().split()
            if "registry" in words and "control" in words:
                return process, words[words.index("registry") + 1], words[words.index("control") + 1]
    process.kill()
    raise AssertionError("the fake upstream did not start")


def test_rss_is_flat_with_the_journal_capped(tmp_path: Path) -> None:
    config = tmp_path / "upstream.toml"
    config.write_text(f"port = 0\ncontrol_port = 0\njournal_limit = {LIMIT}\n")
    process, registry, control = _start(config)
    samples: list[tuple[int, int]] = []
    try:
        image = httpx.post(f"{control}images", json={"repository": "team/app", "layers": [4096]}, timeout=30).json()
        layer = image["platforms"][0]["layers"][0]["digest"]
        paths = [
            "/v2/team/app/manifests/latest",
            f"/v2/team/app/blobs/{layer}",
            "/v2/team/app/tags/list",
            "/v2/x/y/manifests/v9",
        ]
        with httpx.Client(base_url=registry, headers=ACCEPT, timeout=30) as http:
            for number in range(REQUESTS):
                http.request("HEAD" if number % 5 == 4 else "GET", paths[number % len(paths)])
                if number % max(1, REQUESTS // 20) == 0:
                    samples.append((number, _rss_kib(process.pid)))
        samples.append((REQUESTS, _rss_kib(process.pid)))
        journal = httpx.get(f"{control}journal", timeout=60).json()
        cursor = httpx.get(f"{control}journal/cursor", timeout=30).json()["cursor"]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
    print("requests -> RSS KiB:", ", ".join(f"{n}:{kib}" for n, kib in samples))
    assert len(journal) == min(LIMIT, cursor) and cursor >= REQUESTS
    after_warm_up = samples[len(samples) // 4][1]
    assert samples[-1][1] - after_warm_up < 16 * 1024, samples  # flat: well under the journal's own size
