"""Running `pullthrough run` as a user does (a subprocess), and reading what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from reports.model import CaseResult, Results

RUN_DEADLINE = 600
EXPECTATIONS = Path(__file__).parent / "expectations"


@dataclass(frozen=True)
class Run:
    code: int
    stderr: str
    results: Results | None

    def cases(self, rule: str | None = None) -> list[CaseResult]:
        assert self.results is not None, f"no results.json; stderr:\n{self.stderr[-2000:]}"
        return [c for c in self.results.cases if rule is None or c.rule == rule]


def pullthrough_run(
    report_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = RUN_DEADLINE
) -> Run:
    command = [sys.executable, "-m", "harness.cli", "run", "--report-dir", str(report_dir), *args]
    process = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    path = report_dir / "results.json"
    return Run(process.returncode, process.stderr, Results.read(path) if path.exists() else None)
