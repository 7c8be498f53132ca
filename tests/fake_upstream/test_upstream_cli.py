"""`pullthrough upstream` as users run it: a subprocess that serves until stopped, or exits 2 with one line."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from http_checks import ACCEPT


def _command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("pullthrough")
    prefix = [str(script)] if script.exists() else [sys.executable, "-m", "harness.cli"]
    return [*prefix, "upstream", *args]


def _read_banner(process: subprocess.Popen[str], timeout: float = 20.0) -> tuple[str, str]:
    """The registry and control URLs from the line printed once both ports serve."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = process.stderr.readline()
        if not line:
            pytest.fail(f"exited early ({process.wait()}): {''.join(seen)}")
        seen.append(line)
        words = line.split()
        if "registry" in words and "control" in words:
            return words[words.index("registry") + 1], words[words.index("control") + 1].removesuffix("/_control/")
    pytest.fail(f"no banner within {timeout} s: {''.join(seen)}")


@contextmanager
def _running(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    process = subprocess.Popen(_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        yield _read_banner(process)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0, "SIGTERM stops it cleanly"
        assert process.stderr is not None and process.stdout is not None
        rest = process.stderr.read()
        process.stderr.close()
        process.stdout.close()
        assert "Traceback" not in rest


def test_demo_serves_until_stopped() -> None:
    with _running("--demo", "--port", "0", "--control-port", "0") as (registry, control):
        with httpx.Client(base_url=registry, timeout=5) as http:
            assert http.get("/v2/").status_code == 200
            index = http.get("/v2/library/alpine/manifests/latest", headers=ACCEPT)
            assert index.status_code == 200 and len(index.json()["manifests"]) == 3
            assert http.get("/v2/team/app/tags/list").json()["tags"] == ["latest", "v1.0", "v1.1", "v2.0"]
        assert httpx.get(f"{control}/_control/journal", timeout=5).json()[0]["path"] == "/v2/"


def test_config_file_with_faults_and_an_outage_at_start(tmp_path: Path) -> None:
    config = tmp_path / "upstream.toml"
    config.write_text(
        'port = 0\ncontrol_port = 0\nauth = "basic"\noutage = "refused"\n[users]\nalice = "pw"\n'
        '[[images]]\nrepository = "team/app"\ntag = "v1"\n'
        '[[faults]]\nfault = "429"\nmatch = { kind = "manifest" }\ntimes = 1\n'
    )
    with _running("--config", str(config)) as (registry, control):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{registry}/v2/", timeout=5)
        assert httpx.post(f"{control}/_control/outage", json={"mode": "none"}, timeout=5).status_code == 200
        with httpx.Client(base_url=registry, auth=("alice", "pw"), timeout=5) as http:
            assert http.get("/v2/team/app/manifests/v1").status_code == 429
            assert http.get("/v2/team/app/manifests/v1").status_code == 200
            assert http.get("/v2/team/app/manifests/v1", auth=("alice", "no")).status_code == 401


def test_flags_override_the_config(tmp_path: Path) -> None:
    config = tmp_path / "upstream.toml"
    config.write_text('auth = "token"\nport = 1\ncontrol_port = 1\n')
    with _running("--config", str(config), "--auth", "none", "--port", "0", "--control-port", "0") as (registry, _):
        assert httpx.get(f"{registry}/v2/", timeout=5).status_code == 200


def test_control_token(tmp_path: Path) -> None:
    with _running("--port", "0", "--control-port", "0", "--control-token", "t0k") as (_, control):
        assert httpx.get(f"{control}/_control/", timeout=5).status_code == 401
        assert httpx.get(f"{control}/_control/", headers={"Authorization": "Bearer t0k"}, timeout=5).status_code == 200


def _exit_2(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(_command(*args), capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def test_a_taken_port_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for args in (["--port", str(port), "--control-port", "0"], ["--port", "0", "--control-port", str(port)]):
            message = _exit_2(*args)
            assert f"taken: Address already in use (127.0.0.1:{port})" in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--config", "/nonexistent/upstream.toml"], "no such file"),
        (["--users", "alice"], "USER:PASSWORD"),
        (["--auth", "kerberos"], "invalid choice"),
        (["--port", "http"], "invalid int value"),
        (["--port", "0", "--control-port", "0", "--host", "192.0.2.1"], "cannot listen on 192.0.2.1"),
    ],
)
def test_bad_command_lines(args: list[str], expected: str) -> None:
    assert expected in _exit_2(*args)


def test_a_config_that_cannot_be_seeded(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('port = 0\ncontrol_port = 0\n[[images]]\nrepository = "Not/Valid"\n')
    assert "NAME_INVALID" in _exit_2("--config", str(config))
    config.write_text('port = 0\ncontrol_port = 0\n[[images]]\nrepository = "a"\nplatforms = ["linux"]\n')
    assert "os/arch" in _exit_2("--config", str(config))


def _environment(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PULLTHROUGH_")}, **extra}


def test_secrets_from_files_keep_them_out_of_the_process_list(tmp_path: Path) -> None:
    users, token = tmp_path / "users", tmp_path / "token"
    users.write_text("# accounts\nalice:pass word\n\nbob:é:x\n")
    token.write_text("t0k-from-file\n")
    args = ["--port", "0", "--control-port", "0", "--auth", "basic"]
    with _running(*args, "--users-file", str(users), "--control-token-file", str(token)) as (registry, control):
        assert httpx.get(f"{registry}/v2/", auth=("alice", "pass word"), timeout=5).status_code == 200
        assert httpx.get(f"{registry}/v2/", auth=("bob", "é:x"), timeout=5).status_code == 200
        good = {"Authorization": "Bearer t0k-from-file"}
        assert httpx.get(f"{control}/_control/", headers=good, timeout=5).status_code == 200


def test_secrets_from_the_environment(tmp_path: Path) -> None:
    env = _environment(PULLTHROUGH_UPSTREAM_USERS="alice:one bob:two", PULLTHROUGH_CONTROL_TOKEN="t0k-env")
    args = ["--port", "0", "--control-port", "0", "--auth", "basic"]
    with _running(*args, env=env) as (registry, control):
        assert httpx.get(f"{registry}/v2/", auth=("bob", "two"), timeout=5).status_code == 200
        assert httpx.get(f"{control}/_control/", timeout=5).status_code == 401
        good = {"Authorization": "Bearer t0k-env"}
        assert httpx.get(f"{control}/_control/", headers=good, timeout=5).status_code == 200
    with _running(*args, "--control-token", "t0k-flag", env=env) as (_, control):  # a flag wins
        good = {"Authorization": "Bearer t0k-flag"}
        assert httpx.get(f"{control}/_control/", headers=good, timeout=5).status_code == 200


def test_the_help_names_the_other_forms() -> None:
    text = subprocess.run(_command("--help"), capture_output=True, text=True, timeout=30).stdout
    for form in ("--users-file", "$PULLTHROUGH_UPSTREAM_USERS", "--control-token-file", "$PULLTHROUGH_CONTROL_TOKEN"):
        assert form in text


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--users-file", "/nonexistent/users"], {}, "--users-file /nonexistent/users: cannot read it"),
        (["--control-token-file", "/nonexistent/token"], {}, "cannot read it"),
        (["--users", "a:b", "--users-file", "x"], {}, "not allowed with argument"),
        ([], {"PULLTHROUGH_UPSTREAM_USERS": "alice"}, "$PULLTHROUGH_UPSTREAM_USERS takes USER:PASSWORD pairs"),
        (["--control-token", " "], {}, "the control token is empty"),
    ],
)
def test_bad_secrets(args: list[str], env: dict[str, str], expected: str) -> None:
    assert expected in _exit_2(*args, env=_environment(**env))


def test_an_empty_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    assert "the control token is empty" in _exit_2("--control-token-file", str(tmp_path / "token"))
