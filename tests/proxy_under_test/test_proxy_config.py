"""ProxyConfig: what a proxy may be told, checked once at construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy_under_test import Defect, ProxyConfig, Variant

GOOD: dict[str, Any] = {"upstream": "http://127.0.0.1:5000", "cache_dir": Path("cache")}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"upstream": None}, "give an upstream URL or at least one project"),
        ({"upstream": "ftp://host"}, "http:// or https://"),
        ({"upstream": "http://"}, "with a host"),
        ({"upstream": "http://alice:secret@host"}, "not in the URL"),
        ({"upstream": "http://host/v2"}, "root, with no path"),
        ({"projects": {"Hub": "http://host"}}, "one lowercase path component"),
        ({"projects": {"a/b": "http://host"}}, "one lowercase path component"),
        ({"projects": {"hub": "host:5000"}}, "http:// or https://"),
        ({"upstream_timeout": 0}, "positive"),
        ({"on_upstream_not_found": "sometimes"}, "serve-cached, not-found, not-found-and-evict"),
        ({"defects": frozenset({"no-such-bug"})}, "unknown defect(s) no-such-bug; known: no-stale-on-404, "),
        ({"variants": ["terse-errors", "chatty"]}, "unknown variant(s) chatty; known: refetch-on-corrupt, "),
        ({"upstream_user": "alice"}, "both upstream_user and upstream_password"),
        ({"port": 70000}, "between 0 and 65535"),
        ({"manifest_memory": -1}, "manifest_memory must be a number of bytes"),
    ],
)
def test_bad_configurations_are_refused_with_a_reason(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError) as raised:
        ProxyConfig(**{**GOOD, **changes})
    assert words in str(raised.value)


def test_defaults_and_normalisation() -> None:
    config = ProxyConfig(upstream="https://registry-1.docker.io/", cache_dir="cache", defects=["plain-errors"])  # type: ignore[arg-type]
    assert config.cache_dir == Path("cache") and config.defects == frozenset({Defect.PLAIN_ERRORS})
    assert (config.host, config.port, config.upstream_timeout) == ("127.0.0.1", 0, 5.0)
    assert config.not_found_policy == "serve-cached"
    assert ProxyConfig(**GOOD, projects={"hub": "http://h"}).projects == {"hub": "http://h"}


@pytest.mark.parametrize(
    ("defects", "option", "policy"),
    [
        (set(), "not-found", "not-found"),
        ({"no-stale-on-404"}, "serve-cached", "not-found"),
        ({"delete-on-404"}, "serve-cached", "not-found-and-evict"),
    ],
)
def test_the_not_found_policy(defects: set[str], option: str, policy: str) -> None:
    config = ProxyConfig(**GOOD, defects=frozenset(defects), on_upstream_not_found=option)  # type: ignore[arg-type]
    assert config.not_found_policy == policy


def test_the_password_is_not_in_the_repr() -> None:
    assert "hunter2" not in repr(ProxyConfig(**GOOD, upstream_user="alice", upstream_password="hunter2"))


def test_defects_and_variants_are_asked_for_by_member() -> None:
    config = ProxyConfig(**GOOD, defects=("plain-errors",), variants=[Variant.TERSE_ERRORS, "isolation-denied"])
    assert config.has(Defect.PLAIN_ERRORS) and not config.has(Defect.ALLOW_PUSH)
    assert config.has(Variant.TERSE_ERRORS) and config.has(Variant.ISOLATION_DENIED)
    assert not config.has(Variant.REFETCH_ON_CORRUPT)
    assert all(isinstance(d, Defect) for d in config.defects) and all(isinstance(v, Variant) for v in config.variants)
    with pytest.raises(TypeError):
        ProxyConfig(**GOOD, defects="plain-errors")
