"""A peer server run as a subprocess: started, polled until it answers, stopped (or killed), its log kept."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from harness.targets.base import TargetError

START_DEADLINE = 20.0
_PR_SET_PDEATHSIG = 1
STOP_DEADLINE = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int,
        log: Path,
        env: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        ready_path: str = "/v2/",
    ) -> None:
        self.command = list(command)
        self.port = port
        self.host = host
        self.log_path = log
        self.env = {**os.environ, **(env or {})}
        self.ready_path = ready_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + START_DEADLINE
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise TargetError(f"{Path(self.command[0]).name} exited at start: {self._last_line()}")
                try:
                    client.get(self.url + self.ready_path)
                    return
                except httpx.TransportError:
                    _wait_briefly(self._process)
        self.stop(kill=True)
        raise TargetError(f"{Path(self.command[0]).name} did not answer on {self.url} within {START_DEADLINE:.0f}s")

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (or, with `kill`, SIGKILL) to the whole process group: servers with workers (nginx) included."""
        process, self._process = self._process, None
        if process is None:
            return
        _signal_group(process, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _last_line(self) -> str:
        lines = [line for line in self.logs().splitlines() if line.strip()]
        return lines[-1][:300] if lines else "(no output)"


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the harness dies, however it dies (Linux; a no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # started with start_new_session: its pid is its group's
    except ProcessLookupError:
        pass


def _wait_briefly(process: subprocess.Popen[bytes]) -> None:
    """Block until the process exits or 50 ms pass: a poll interval that also notices an early exit."""
    try:
        process.wait(timeout=0.05)
    except subprocess.TimeoutExpired:
        pass
