"""A target whose proxy is one server process in a temp directory: what distribution, nginx and zot do alike."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from harness.poll import Timeout, wait_until
from harness.targets._process import ServerProcess
from harness.targets.base import Target, TargetError

PORT_TIMEOUT = 5.0  # a restarted server's port, once its old process is gone


class ServedTarget(Target):
    """Its URL, process, logs, start-or-clean-up, stop and restart on the same port, for a subclass's server."""

    _server: ServerProcess | None = None
    _directory: Path | None = None
    _last_logs: str = ""  # the log of a stopped server

    @property
    def url(self) -> str:
        return self._running().url

    @property
    def pid(self) -> int | None:
        return self._server.pid if self._server is not None else None

    def logs(self) -> str:
        return self._server.logs() if self._server is not None else self._last_logs

    def stop(self) -> None:
        """Stop the server, keep its log, remove its directory."""
        server, directory = self._server, self._directory
        if server is not None:
            server.stop()
        self._last_logs = self.logs()
        self._server = self._directory = None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def _launch(self, server: ServerProcess) -> None:
        """Start `server` as this target's; if it cannot start, remove what the start made."""
        self._server = server
        try:
            self._start_server()
        except TargetError:
            self.stop()
            raise

    def _start_server(self) -> None:
        self._running().start()

    def _restart_on_same_port(self, *, kill: bool) -> None:
        server = self._running()
        server.stop(kill=kill)
        try:
            wait_until(lambda: _port_free(server.port), timeout=PORT_TIMEOUT, what=f"port {server.port} freed")
        except Timeout as error:
            raise TargetError(str(error)) from None
        server.start()

    def _running(self) -> ServerProcess:
        if self._server is None:
            raise TargetError(f"the {self.name} target is not started")
        return self._server


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
