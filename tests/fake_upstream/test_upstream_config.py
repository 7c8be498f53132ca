"""A fake upstream declared in TOML."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from http_checks import ACCEPT

from fake_upstream import ConfigError, Fault, Match, QuotaConfig, load_config
from fake_upstream._config import DEMO_IMAGES, parse_config
from serving import Limits

EXAMPLE = """
port = 0
control_port = 0
auth = "token"
token_ttl = 120
seed = 42
journal_limit = 500
limits = { max_head_bytes = 8192, head_timeout = 2.5 }
quota = { limit = 100, window = 3600 }

[users]
alice = "secret"

[[images]]
repository = "library/alpine"
tag = "3.20"
tags = ["latest"]
layers = [3000]
platforms = ["linux/amd64", "linux/arm64"]

[[images]]
repository = "team/app"
tag = "v1"
layers = [2048, 4096]
media_type = "docker"
gzip = false
seed = 7

[[faults]]
fault = "503"
match = { kind = "manifest", repository = "team/*" }
times = 2

[[faults]]
fault = "slow"
rate = 100000
"""


def test_a_full_config(tmp_path: Path) -> None:
    path = tmp_path / "upstream.toml"
    path.write_text(EXAMPLE)
    config = load_config(path)
    assert (config.port, config.control_port, config.auth, config.token_ttl, config.seed) == (0, 0, "token", 120, 42)
    assert config.users == {"alice": "secret"} and config.journal_limit == 500
    assert config.limits == Limits(max_head_bytes=8192, head_timeout=2.5)
    assert config.quota == QuotaConfig(limit=100, window=3600)
    assert [image.repository for image in config.images] == ["library/alpine", "team/app"]
    assert config.images[1].layers == (2048, 4096) and config.images[1].gzip is False
    assert config.faults == (
        Fault("503", Match(kind="manifest", repository="team/*"), times=2),
        Fault("slow", rate=100000),
    )
    upstream = config.build()
    config.populate(upstream)
    with upstream, httpx.Client(base_url=upstream.url, auth=("alice", "secret")) as http:
        assert upstream._parts.journal.limit == 500
        assert upstream.tags("library/alpine") == ["3.20", "latest"]
        assert upstream.tags("team/app") == ["v1"]
        assert [fault.fault for _, fault in upstream.faults()] == ["503", "slow"]
        challenge = http.get("/v2/").headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="')
        token = http.get("/token", params={"scope": "repository:team/app:pull"}).json()
        assert token["expires_in"] == 120


def test_the_seed_makes_the_same_images_every_time(tmp_path: Path) -> None:
    path = tmp_path / "upstream.toml"
    path.write_text(EXAMPLE)
    digests = []
    for _ in range(2):
        config = load_config(path)
        upstream = config.build()
        config.populate(upstream)
        digests.append(upstream.inventory())
    assert digests[0] == digests[1]


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "upstream.toml"
    path.write_text('auth = "basic"\nport = 5999\n')
    config = load_config(path, auth="none", port=None, demo=True)
    assert (config.auth, config.port, config.demo) == ("none", 5999, True)


def test_demo_images() -> None:
    config = parse_config({"demo": True, "port": 0, "control_port": 0})
    upstream = config.build()
    config.populate(upstream)
    with upstream, httpx.Client(base_url=upstream.url) as http:
        index = http.get("/v2/library/alpine/manifests/latest", headers=ACCEPT).json()
        assert len(index["manifests"]) == 3
        assert upstream.tags("team/app") == ["latest", "v1.0", "v1.1", "v2.0"]
        assert {spec.repository for spec in DEMO_IMAGES} == set(upstream.repositories())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'red'", "unknown keys colour"),
        ("port = 'x'", "port must be int"),
        ("port = 70000", "port must be a port number"),
        ("demo = 1", "demo must be bool"),
        ("strict_accept = 'yes'", "strict_accept must be bool"),
        ("auth = 'kerberos'", "auth must be none, basic or token"),
        ("outage = 'flaky'", "outage must be one of"),
        ("users = { alice = 1 }", "users maps each user name to a password string"),
        ("users = ['alice']", "users must be dict"),
        ("quota = { limit = 1, burst = 2 }", "burst"),
        ("[[images]]\ntag = 'v1'", "needs a repository"),
        ("[[images]]\nrepository = 'a'\nlayers = ['big']", "layers must be a list of int"),
        ("[[images]]\nrepository = 'a'\ntag = 1", "tag must be str"),
        ("[[images]]\nrepository = 'a'\ncolour = 'red'", "colour"),
        ("[[faults]]\nfault = 'flaky'", "unknown fault"),
        ("[[faults]]\nfault = '503'\nmatch = { kind = 'everything' }", "unknown kind"),
        ("port = ", "not valid TOML"),
        ("journal_limit = 0", "journal_limit must be at least 1"),
        ("limits = { head_timeout = 0 }", "head_timeout must be a positive number"),
        ("limits = { colour = 1 }", "colour"),
        ("limits = 5", "limits must be dict"),
        ("journal_limit = 1.5", "journal_limit must be int"),
        ("[[faults]]\nfault = 'wrong-length'", "non-zero delta"),
    ],
)
def test_bad_configs_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(path)
    assert str(raised.value).startswith(str(path)) or "images" in str(raised.value)
    assert "\n" not in str(raised.value).strip()


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")
