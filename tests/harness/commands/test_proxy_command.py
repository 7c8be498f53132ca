"""`pullthrough proxy`: bad options are one line and exit 2; it serves, reads its password from the environment,
and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fake_upstream import FakeUpstream
from harness.cli import main
from harness.commands.proxy import default_cache_dir
from oci_wire import MANIFEST_ACCEPT


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["proxy"], "give an upstream URL or at least one project"),
        (["proxy", "--upstream", "localhost:5000"], "must be an http:// or https:// URL"),
        (["proxy", "--project", "hub"], "--project takes NAME=URL"),
        (["proxy", "--project", "a=http://h", "--project", "a=http://i"], "project 'a' is given twice"),
        (["proxy", "--upstream", "http://h", "--defect", "nope"], "unknown defect(s) nope"),
        (["proxy", "--upstream", "http://h", "--variant", "nope"], "unknown variant(s) nope; known: refetch-on"),
        (["proxy", "--upstream", "http://h", "--upstream-timeout", "-1"], "positive"),
        (["proxy", "--upstream", "http://h", "--upstream-user", "alice"], "both upstream_user and upstream_password"),
        (
            ["proxy", "--upstream", "http://h", "--upstream-password", "p", "--upstream-password-file", "f"],
            "not both",
        ),
        (["proxy", "--upstream", "http://h", "--upstream-password-file", "/nonexistent"], "No such file"),
        (["proxy", "--upstream", "http://h", "--upstream-password-file", "/dev/null"], "no password on its first"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULLTHROUGH_UPSTREAM_PASSWORD", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err


def test_unparseable_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["proxy", "--upstream", "http://h", "--port", "http"])
    assert raised.value.code == 2
    assert "invalid int value" in capsys.readouterr().err


def test_a_taken_port_says_how_to_fix_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["proxy", "--upstream", "http://h", "--port", str(port), "--cache-dir", str(tmp_path)]
        assert main(argv) == 2
    assert f"port {port} on 127.0.0.1 is taken; pass --port (0 picks a free one)" in capsys.readouterr().err


def test_the_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "pullthrough" / "proxy"


@pytest.mark.parametrize("source", ["environment", "file"])
def test_it_serves_with_a_password_kept_out_of_the_process_list_and_stops_on_sigterm(
    tmp_path: Path, source: str
) -> None:
    with FakeUpstream(auth="basic", users={"alice": "s3cret"}) as upstream:
        image = upstream.add_image("team/app", "v1")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [sys.executable, "-m", "harness.cli", "proxy", "--upstream", upstream.url, "--port", str(port),
                   "--cache-dir", str(tmp_path / "cache"), "--upstream-user", "alice"]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "PULLTHROUGH_UPSTREAM_PASSWORD"}
        if source == "environment":
            env["PULLTHROUGH_UPSTREAM_PASSWORD"] = "s3cret"
        else:
            (tmp_path / "password").write_text("s3cret\n")
            command += ["--upstream-password-file", str(tmp_path / "password")]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while not _answers(url + "/v2/"):
                assert process.poll() is None and time.monotonic() < deadline, "the proxy did not come up"
                _wait_briefly(process)
            got = httpx.get(f"{url}/v2/team/app/manifests/v1", headers={"Accept": MANIFEST_ACCEPT}, timeout=5)
            assert got.headers["docker-content-digest"] == image.digest
            assert b"s3cret" not in Path(f"/proc/{process.pid}/cmdline").read_bytes()
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert f"reference proxy {url}" in err and "s3cret" not in err


def _wait_briefly(process: subprocess.Popen[str]) -> None:
    """A poll interval that also notices an early exit."""
    try:
        process.wait(timeout=0.05)
    except subprocess.TimeoutExpired:
        pass


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
