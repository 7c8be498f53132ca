"""`pullthrough soak`: a short soak in CI, the invariants it gates on, proved by proxies that break them.

Each soak here runs a few seconds: a few clients, cycles of one second, the reference proxy (and Debian's
docker-registry). The long soak is a documented command (docs/reliability.md).
"""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from conftest import need_peer

from fake_upstream import FakeUpstream
from harness.cli import main
from harness.peers import in_ci


@pytest.fixture(autouse=True)
def _locust() -> None:
    """Locust comes with the test extra; a venv made before it was added skips (CI, which installs it, fails)."""
    if find_spec("locust") is None:
        message = "Locust is not installed: pip install -e '.[test]'"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)


# Bounded by the count (the time bound is a safety net): the images come in as the pulls go on, so faults keep
# meeting cold content until the end; a fault lasts a quarter of a second, since a quiet machine pulls the 160 in
# three seconds.
SHORT = ["--users", "4", "--pulls", "160", "--images", "40", "--duration", "40", "--cycle", "0.25"]


def _soak(tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    summary = tmp_path / "soak.json"
    code = main(["soak", *argv, "--json", str(summary)])
    return code, json.loads(summary.read_text()) if summary.exists() else {}


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--users", "0"], "--users takes a positive number"),
        (["--duration", "0"], "--duration takes a positive number"),
        (["--faults", "503,teapot"], "unknown fault 'teapot'"),
        (["--healthy", "1.5"], "--healthy takes a share"),
        (["--processes", "2", "--users", "3"], "--users must be a multiple of the 2 Locust workers"),
        (["--expect-workers", "1", "--master-port", "70000"], "--master-port takes a port number"),
        (["--target", "nginx", "--defect", "no-coalesce"], "--defect and --variant apply to --target reference"),
        (["--target", "external"], "--target external needs --proxy-url"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["soak", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err


def test_the_reference_proxy_holds_every_invariant_under_every_fault(tmp_path: Path) -> None:
    code, summary = _soak(tmp_path, *SHORT, "--healthy", "0", "--seed", "11", "--max-rss", "200")
    assert code == 0, summary.get("broken")
    invariants = summary["invariants"]
    assert invariants == {
        "wrong_bytes": 0,
        "short": 0,
        "corrupt_entries": 0,
        "unexplained_errors": 0,
        "descriptors_back": True,
    }
    clients, stats = summary["clients"], summary["stats"]
    assert clients["pulls"] > 10 and clients["requests"] == stats["requests"] > 0
    assert stats["rps"] > 0 and stats["ms"]["p50"] <= stats["ms"]["p99"]
    names = [cycle["name"] for cycle in summary["schedule"]]
    assert len(names) >= 4 and "healthy" not in names  # faults all the way
    assert clients["errors"] > 0  # the faults reached the clients: the invariants were tested, not idle
    resources = summary["resources"]
    assert resources["rss_mib"]["peak"] >= resources["rss_mib"]["before"] > 0
    assert resources["fds"]["after"] <= resources["fds"]["before"]


# One fault held the whole soak (one cycle longer than the pulls take) on one of the two repositories: every cold
# blob of its meets it, however fast or slow the machine. Seed 24 draws it on blobs, on every request (corrupt
# from byte 0, lengths 100 bytes short).
PROOF = ["--users", "4", "--pulls", "40", "--images", "10", "--duration", "60", "--cycle", "60", "--seed", "24"]


@pytest.mark.parametrize(
    ("fault", "defects", "invariant", "words"),
    [
        # The proxy streams what the upstream sends, unverified, and caches it.
        ("corrupt", ["no-digest-verify"], "wrong_bytes", "wrong bytes served as a success"),
        # The proxy forwards the upstream's Content-Length (100 bytes too few): a 200 that ends early, cleanly.
        ("wrong-length", ["forward-upstream-length"], "short", "cleanly short 200s"),
    ],
)
def test_a_proxy_that_serves_wrong_or_short_bodies_breaks_the_soak(
    tmp_path: Path, fault: str, defects: list[str], invariant: str, words: str
) -> None:
    flags = [flag for defect in defects for flag in ("--defect", defect)]
    code, summary = _soak(tmp_path, *PROOF, "--faults", fault, "--healthy", "0", *flags)
    assert code == 1
    invariants = summary["invariants"]
    assert invariants[invariant] > 0, invariants
    assert any(words in line for line in summary["broken"]), summary["broken"]
    assert summary["clients"]["outcomes"].get("served", 0) > 0  # the other repositories were pulled whole


def test_the_same_soaks_hold_on_the_reference_proxy_without_its_defects(tmp_path: Path) -> None:
    code, summary = _soak(tmp_path, *PROOF, "--faults", "corrupt", "--healthy", "0")
    assert code == 0, summary.get("broken")
    assert summary["invariants"]["wrong_bytes"] == summary["invariants"]["corrupt_entries"] == 0
    assert summary["clients"]["errors"] > 0  # the fault reached the clients, as clean errors


def test_errors_that_no_fault_explains_break_the_soak(tmp_path: Path, upstream: FakeUpstream) -> None:
    """An external "proxy" that is an empty registry: every pull fails while nothing is disturbed."""
    with FakeUpstream() as empty:
        code, summary = _soak(
            tmp_path,
            "--target",
            "external",
            "--proxy-url",
            empty.url,
            "--upstream-url",
            upstream.url,
            "--upstream-control-url",
            upstream.control_url,
            "--faults",
            "none",
            "--users",
            "2",
            "--duration",
            "30",  # a safety net: the 20 pulls end it (a busy machine may take seconds to start the clients)
            "--pulls",
            "20",
        )
    assert code == 1
    assert summary["invariants"]["unexplained_errors"] == summary["clients"]["errors"] == 20
    assert summary["invariants"]["corrupt_entries"] is None and summary["resources"] is None
    assert summary["clients"]["outcomes"] == {"not-found": 20}  # HEAD of each image's tag: 404


def test_locust_master_and_workers_add_their_clients_up(tmp_path: Path) -> None:
    """Each worker's clients take their own slots: 42 pulls over 4 clients is 11, 11, 10, 10, whoever runs them."""
    code, summary = _soak(
        tmp_path, "--processes", "2", "--users", "4", "--pulls", "42", "--duration", "40", "--faults", "none"
    )
    assert code == 0, summary.get("broken")
    assert summary["clients"]["pulls"] == 42 and summary["clients"]["done_users"] == 4
    assert summary["clients"]["requests"] == summary["stats"]["requests"]


def test_debian_docker_registry_soaks_under_faults_it_answers_cleanly(tmp_path: Path) -> None:
    need_peer("docker-registry")
    code, summary = _soak(
        tmp_path, "--target", "distribution", *SHORT, "--faults", "404,503,refused,reset,token-fail", "--seed", "3"
    )
    assert code == 0, summary.get("broken")
    assert summary["invariants"]["corrupt_entries"] == 0 and summary["invariants"]["descriptors_back"] is True
    assert summary["clients"]["pulls"] > 10
