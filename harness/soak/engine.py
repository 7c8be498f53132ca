"""Locust as a subprocess: started on a plan, watched until its clients are pulling, stopped, its result read.

A process of its own because Locust monkey-patches the process it runs in (gevent): the fake upstream's
asyncio loop and the targets' subprocesses stay in a process it never touches. Headless, on this machine;
with `processes`, Locust's master and that many workers (its `--processes`), the master on loopback.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.soak.plan import Plan
from harness.targets._process import free_port

# A path, never an import: importing Locust monkey-patches the importing process.
LOCUSTFILE = Path(__file__).with_name("locustfile.py")

_STOP_DEADLINE = 30.0


class EngineError(RuntimeError):
    """Locust could not run, or ended without a result; the message says what its log said."""


@dataclass(frozen=True)
class EngineSettings:
    duration: float  # Locust's --run-time: the time bound
    processes: int = 0  # 0: one process; N: a master and N workers
    expect_workers: int = 0  # > 0: a master on --master-bind-host waits for this many workers started elsewhere
    master_host: str = "127.0.0.1"
    master_port: int = 0  # 0: a free port (workers on this machine are told it)


class Engine:
    def __init__(self, plan: Plan, directory: Path, settings: EngineSettings) -> None:
        self.plan = plan
        self.settings = settings
        self.directory = directory
        self.plan_path = directory / "plan.json"
        self.result_path = directory / "result.json"
        self.ready_path = directory / "ready"
        self.log_path = directory / "locust.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.master_port: int | None = None

    def command(self) -> list[str]:
        users = str(self.plan.users)
        # Clients that are mid-pull when time is up finish it: a pull is at most a few requests of T each.
        stop_timeout = math.ceil(self.plan.timeout * 2)
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            users,
            "--spawn-rate",
            users,
            "--run-time",
            f"{math.ceil(self.settings.duration)}s",
            "--stop-timeout",
            str(stop_timeout),
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--soak-plan",
            str(self.plan_path),
            "--soak-result",
            str(self.result_path),
            "--soak-ready",
            str(self.ready_path),
        ]
        if self.settings.processes or self.settings.expect_workers:
            if self.master_port is None:
                self.master_port = self.settings.master_port or free_port(self.settings.master_host)
            port = str(self.master_port)
            command += ["--master-bind-host", self.settings.master_host, "--master-bind-port", port]
            command += ["--master-host", self.settings.master_host, "--master-port", port]
            if self.settings.processes:
                command += ["--processes", str(self.settings.processes)]
            else:
                command += ["--master", "--expect-workers", str(self.settings.expect_workers)]
        return command

    def start(self) -> None:
        self.plan_path.write_text(self.plan.to_json())
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def started(self) -> bool:
        """The clients are pulling (Locust's test has started); raises if Locust exited before."""
        if self.ready_path.exists():
            return True
        if self.exited():
            raise EngineError(f"Locust exited before its clients started: {self._last_lines()}")
        return False

    def exited(self) -> bool:
        return self._process is None or self._process.poll() is not None

    def wait(self, timeout: float) -> bool:
        """Until Locust exits or `timeout` passes; whether it has exited."""
        if self._process is None:
            return True
        try:
            self._process.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        """SIGINT (Locust stops its clients and writes its result), then SIGKILL after a deadline."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=_STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def result(self) -> dict[str, Any]:
        try:
            found: dict[str, Any] = json.loads(self.result_path.read_text())
        except (OSError, ValueError):
            raise EngineError(f"Locust left no result: {self._last_lines()}") from None
        return found

    def _last_lines(self) -> str:
        try:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:])[-600:] if lines else "(no output)"
