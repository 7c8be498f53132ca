"""Live progress during `pullthrough run`: a bar, the rule family being checked, and running counts."""

from __future__ import annotations

from collections import Counter
from types import TracebackType

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.plugin import read_result


class LiveProgress:
    """A pytest plugin object and a context manager around the run."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.counts: Counter[str] = Counter()
        self.exit_message: str | None = None
        self._progress = Progress(
            TextColumn("[bold]{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tally]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("collecting", total=None, tally="")

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._progress.update(self._task, total=len(session.items), description="starting")

    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        self._progress.update(self._task, total=len(ids), description="starting")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = read_result(report)
        if result is None:
            return
        self.counts[result.verdict.value] += 1
        tally = "  ".join(
            f"{name} {self.counts[name]}"
            for name in ("pass", "fail", "deviation", "error", "skip")
            if self.counts[name]
        )
        self._progress.update(self._task, advance=1, description=result.family, tally=tally)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus == 2 and session.shouldstop:
            self.exit_message = str(session.shouldstop)
