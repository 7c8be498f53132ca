"""A proxy the harness does not know is judged as one it knows: `--target external`, pointed at a peer started
by hand in front of a `pullthrough upstream`, gets the verdicts that the peer's own target records, case by case;
and an external run gives the same verdicts with several workers as with one.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import need_peer
from scenario_runs import EXPECTATIONS, pullthrough_run

from harness.poll import wait_until
from harness.rules import RULES
from harness.spec import RunSpec
from harness.targets import UpstreamInfo, make_target
from reports.model import Results, Verdict

USER = "pullthrough"
_LISTENING = re.compile(r"registry (http://\S+) control (http://\S+?)/_control/")
# What an external target cannot do, and the cases that need it: skipped there, by design.
_NEEDS_RESTART = {"INTEG-RESTART"}


@dataclass(frozen=True)
class _Upstream:
    url: str
    control_url: str


@contextmanager
def _upstream(tmp_path: Path, password: str | None) -> Iterator[_Upstream]:
    """`pullthrough upstream` as a user runs it, on ephemeral loopback ports."""
    command = [sys.executable, "-m", "harness.cli", "upstream", "--port", "0", "--control-port", "0"]
    if password is not None:
        command += ["--auth", "token", "--users", f"{USER}:{password}"]
    log = tmp_path / "upstream.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        found = wait_until(lambda: _LISTENING.search(log.read_text()), timeout=30, what="the fake upstream")
        yield _Upstream(found.group(1), found.group(2))
    finally:
        process.terminate()
        process.wait(timeout=30)


def _external(tmp_path: Path, upstream: _Upstream, proxy_url: str, *args: str, password: str | None = None) -> Results:
    env = {"PULLTHROUGH_UPSTREAM_PASSWORD": password} if password else {}
    run = pullthrough_run(
        tmp_path / "report",
        "--target",
        "external",
        "--proxy-url",
        proxy_url,
        "--upstream-url",
        upstream.url,
        "--upstream-control-url",
        upstream.control_url,
        *args,
        env=env,
    )
    assert run.results is not None, run.stderr[-3000:]
    return run.results


def _disagreements(external: Results, record: Results) -> list[str]:
    recorded = {case.id: case for case in record.cases}
    found = []
    for case in external.cases:
        was = recorded.get(case.id)
        if was is None:
            found.append(f"{case.id}: not in the record")
        elif case.verdict is Verdict.SKIP and case.rule in _NEEDS_RESTART:
            continue
        elif (case.verdict, case.label) != (was.verdict, was.label):
            found.append(
                f"{case.id}: external {case.verdict.value} {case.label}, recorded {was.verdict.value} {was.label}"
            )
    return found


@pytest.mark.parametrize("peer", ["distribution", "nginx"])
def test_a_peer_started_by_hand_is_judged_as_its_own_target_records(tmp_path: Path, peer: str) -> None:
    need_peer({"distribution": "docker-registry", "nginx": "nginx"}[peer])
    record = Results.read(EXPECTATIONS / f"{peer}.json")
    password = secrets.token_urlsafe(12) if peer == "distribution" else None  # nginx cannot log in upstream
    target = make_target(RunSpec(target=peer))
    with _upstream(tmp_path, password) as upstream:
        target.start(UpstreamInfo(upstream.url, USER if password else None, password))
        try:
            timeout = target.upstream_timeout
            args = ["--upstream-timeout", str(timeout if timeout is not None else 5.0), "-n", "4"]
            if password:
                args += ["--upstream-user", USER]
            external = _external(tmp_path, upstream, target.url, *args, password=password)
        finally:
            target.stop()
    assert _disagreements(external, record) == []
    assert {case.id for case in external.cases} == {case.id for case in record.cases}


def test_an_external_run_with_several_workers_judges_as_one_worker_does(tmp_path: Path) -> None:
    """Workers sharing one upstream must not judge each other's cases. With one worker the reference proxy passes
    every case (it did when this was written, and the proofs' clean run shows it), so several workers must too:
    a case that meets another's outage or fault fails or deviates here. (The serial run itself cost CI minutes.)"""
    with _upstream(tmp_path, None) as upstream:
        proxy = make_target(RunSpec(target="reference", in_process=False))
        proxy.start(UpstreamInfo(upstream.url))
        try:
            args = ["--upstream-timeout", "1", "--settle", "quiet:0.3"]
            several = _external(
                tmp_path / "several", upstream, proxy.url, *args, "-n", str(max(2, min(4, os.cpu_count() or 2)))
            )
        finally:
            proxy.stop()
    assert {case.rule for case in several.cases} == set(RULES), "the suite ran to the end"
    judged = [f"{c.id}: {c.verdict} {c.label}" for c in several.cases if c.verdict not in (Verdict.PASS, Verdict.SKIP)]
    assert judged == [], "with one worker, the reference proxy passes every case (or it does not apply)"
