"""`pullthrough run` as users call it: exit codes, one-line errors, baselines, and external targets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fake_upstream import FakeUpstream
from proxy_under_test import ProxyConfig, ReferenceProxy
from reports.model import Results, Verdict


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _one_line_usage_error(process: subprocess.CompletedProcess[str], *words: str) -> None:
    assert process.returncode == 2, process.stderr
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in process.stderr, process.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_missing_peer_is_exit_2_with_the_fix(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    (empty / "python").symlink_to(sys.executable)
    process = _run("--target", "distribution", "--report-dir", str(tmp_path), env={"PATH": str(empty)})
    _one_line_usage_error(process, "docker-registry", "apt-get install")


def test_bad_options_are_exit_2(tmp_path: Path) -> None:
    report = ("--report-dir", str(tmp_path))
    _one_line_usage_error(_run("-n", "zero", *report), "-n")
    _one_line_usage_error(_run("--baseline", str(tmp_path / "missing.json"), *report), "no such file")
    _one_line_usage_error(_run("--target", "external", *report), "--proxy-url")
    _one_line_usage_error(_run("--defect", "no-such-defect", *report), "no-such-defect")
    _one_line_usage_error(_run("-k", "NO-SUCH-RULE", "--in-process", "-n", "1", *report), "no scenario matches")
    _one_line_usage_error(_run("--target", "nginx", "--peer-binary", sys.executable, *report), "--peer-binary", "nginx")
    _one_line_usage_error(_run("--target", "zot", *report), "--peer-binary PATH")
    missing = str(tmp_path / "no-such-registry")
    _one_line_usage_error(_run("--target", "distribution", "--peer-binary", missing, *report), missing, "no executable")
    assert not (tmp_path / "results.json").exists(), "a refused run writes nothing"


def test_unreachable_upstream_is_exit_2(tmp_path: Path) -> None:
    process = _run(
        "--target",
        "external",
        "--proxy-url",
        "http://127.0.0.1:9",
        "--upstream-url",
        "http://127.0.0.1:9",
        "--upstream-control-url",
        "http://127.0.0.1:9",
        "--report-dir",
        str(tmp_path),
    )
    _one_line_usage_error(process, "unreachable")


def test_baseline_gates_on_changed_observations(tmp_path: Path) -> None:
    first = _run("-k", "STALE-404", "--in-process", "-n", "1", "--report-dir", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    baseline = str(tmp_path / "a" / "results.json")
    same = _run(
        "-k", "STALE-404", "--in-process", "-n", "1", "--baseline", baseline, "--report-dir", str(tmp_path / "b")
    )
    assert same.returncode == 0, same.stderr
    changed = _run(
        "-k",
        "STALE-404",
        "--in-process",
        "-n",
        "1",
        "--defect",
        "delete-on-404",
        "--baseline",
        baseline,
        "--report-dir",
        str(tmp_path / "c"),
    )
    assert changed.returncode == 1
    assert "served-cached" in changed.stderr and "not-found" in changed.stderr


def test_an_external_proxy_and_upstream_are_checked_over_their_apis(tmp_path: Path) -> None:
    with (
        FakeUpstream() as upstream,
        ReferenceProxy(ProxyConfig(upstream=upstream.url, cache_dir=tmp_path / "cache", upstream_timeout=1.0)) as proxy,
    ):
        process = _run(
            "--target",
            "external",
            "--proxy-url",
            proxy.url,
            "--upstream-url",
            upstream.url,
            "--upstream-control-url",
            upstream.control_url,
            "--upstream-timeout",
            "1",
            "-k",
            "FRESH or STALE-5XX",
            "-n",
            "1",
            "--report-dir",
            str(tmp_path / "report"),
        )
    assert process.returncode == 0, process.stderr
    results = Results.read(tmp_path / "report" / "results.json")
    assert results.run.target == "external"
    assert {c.verdict for c in results.cases} == {Verdict.PASS}
    assert {c.family for c in results.cases} == {"FRESH", "STALE"}
