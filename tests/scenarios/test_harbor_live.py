"""The harbor target against a real Harbor, when one is given: PULLTHROUGH_HARBOR_URL and the admin's password in
PULLTHROUGH_HARBOR_PASSWORD (and PULLTHROUGH_HARBOR_USER, default admin). CI cannot start a Harbor, so there these
tests skip, saying so: Harbor is the one peer CI may skip.

`test_harbor_behaves_as_recorded` runs the whole suite (10-12 minutes here with 16 workers) against the record of
the Harbor's version and PULLTHROUGH_HARBOR_OPTION (e.g. proxy_cache_local_on_not_found=true); with
PULLTHROUGH_REFRESH_EXPECTATIONS=1 it writes that record first.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scenario_runs import EXPECTATIONS, pullthrough_run
from test_peer_expectations import write_record

from harness.poll import wait_until
from harness.profiles import harbor_profile
from harness.rules import RULES
from harness.targets.harbor import PASSWORD_ENV
from harness.targets.harbor_api import HarborApi, parse_version
from reports.model import Results

WORKERS = os.environ.get("PULLTHROUGH_HARBOR_WORKERS", "16")
WHOLE_RUN_DEADLINE = 1800


@dataclass(frozen=True)
class Harbor:
    url: str
    user: str
    password: str

    def args(self, *more: str) -> list[str]:
        return ["--target", "harbor", "--harbor-url", self.url, "--harbor-user", self.user, *more]

    @property
    def env(self) -> dict[str, str]:
        return {PASSWORD_ENV: self.password}

    def made_by_runs(self) -> tuple[set[str], set[str]]:
        """The projects and endpoints that pullthrough runs made and still exist."""
        with HarborApi(self.url, self.user, self.password) as api:
            projects = {str(p["name"]) for p in api.projects() if str(p["name"]).startswith("pullthrough-")}
            endpoints = {str(r["name"]) for r in api.registries() if str(r["name"]).startswith("pullthrough-")}
        return projects, endpoints


@pytest.fixture(scope="module")
def harbor() -> Iterator[Harbor]:
    url, password = os.environ.get("PULLTHROUGH_HARBOR_URL"), os.environ.get(PASSWORD_ENV)
    if not url or not password:
        pytest.skip(
            f"no Harbor given: set PULLTHROUGH_HARBOR_URL and {PASSWORD_ENV} to run the harbor target against one "
            "(CI cannot start a Harbor)"
        )
    yield Harbor(url.rstrip("/"), os.environ.get("PULLTHROUGH_HARBOR_USER", "admin"), password)


def test_a_run_reports_harbors_version_and_options_and_leaves_nothing(harbor: Harbor, tmp_path: Path) -> None:
    before = harbor.made_by_runs()
    run = pullthrough_run(
        tmp_path,
        *harbor.args("-k", "FRESH-1 or COLD-404", "-n", "4", "--harbor-option", "max_upstream_conn=8"),
        env=harbor.env,
    )
    assert run.results is not None, run.stderr[-3000:]
    assert {case.rule for case in run.cases()} == {"FRESH-1", "COLD-404"}
    info = run.results.run
    assert parse_version(info.target_version) is not None
    with HarborApi(harbor.url, harbor.user, harbor.password) as api:
        assert info.target_version == api.version()
    assert info.options.get("public") == "true"
    # 2.14.1 and later hold max_upstream_conn; older releases drop it, and the results say so.
    assert info.options.get("max_upstream_conn") == "8" or "max_upstream_conn=8" in info.options.get("dropped", "")
    for case in run.cases():
        assert case.notes[-1].startswith("target at each check: endpoint healthy"), case.notes
    assert harbor.made_by_runs() == before, "the run removed its projects and endpoints"
    assert harbor.password not in (tmp_path / "results.json").read_text()


def test_an_interrupted_run_leaves_nothing(harbor: Harbor, tmp_path: Path) -> None:
    before = harbor.made_by_runs()
    command = [sys.executable, "-m", "harness.cli", "run", "--report-dir", str(tmp_path), "-k", "FRESH", "-n", "2"]
    process = subprocess.Popen(
        [*command, *harbor.args()],
        env={**os.environ, **harbor.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: len(harbor.made_by_runs()[0] - before[0]) == 2, timeout=120, what="both workers' projects")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert "Traceback" not in stderr, stderr[-3000:]
    assert harbor.made_by_runs() == before, "the interrupted run removed its projects and endpoints"


def test_harbor_behaves_as_recorded(harbor: Harbor, tmp_path: Path) -> None:
    with HarborApi(harbor.url, harbor.user, harbor.password) as api:
        version = parse_version(api.version())
    assert version is not None
    option = os.environ.get("PULLTHROUGH_HARBOR_OPTION", "")
    options = dict([option.split("=", 1)]) if option else {}
    suffix = "-" + re.sub(r"[^a-z0-9]+", "-", option.removeprefix("proxy_cache_").lower()) if option else ""
    record = EXPECTATIONS / f"harbor-{'.'.join(map(str, version))}{suffix}.json"
    args = harbor.args("-n", WORKERS, "--profile", harbor_profile(version, options))
    if option:
        args += ["--harbor-option", option]
    if os.environ.get("PULLTHROUGH_REFRESH_EXPECTATIONS"):
        run = pullthrough_run(tmp_path / "record", *args, env=harbor.env, timeout=WHOLE_RUN_DEADLINE)
        assert run.results is not None, run.stderr[-3000:]
        write_record(run.results, record)
    if not record.exists():
        pytest.skip(f"no record of {record.name}: run with PULLTHROUGH_REFRESH_EXPECTATIONS=1 to make one")
    run = pullthrough_run(
        tmp_path / "check", *args, "--baseline", str(record), env=harbor.env, timeout=WHOLE_RUN_DEADLINE
    )
    assert run.results is not None, run.stderr[-3000:]
    assert {case.rule for case in run.cases()} == set(RULES), "the suite ran to the end"
    assert run.code == 0, f"Harbor no longer behaves as recorded in {record.name}:\n{run.stderr[-4000:]}"
    recorded = {case.id: case.verdict for case in Results.read(record).cases}
    changed = [f"{c.id}: {recorded.get(c.id)} -> {c.verdict}" for c in run.cases() if recorded.get(c.id) != c.verdict]
    assert changed == [], f"Harbor's verdicts changed since {record.name}"
