"""Benign variants: each differs from the reference proxy in a way the rules accept, and does what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_checks import ACCEPT, oci_error, sha256
from proxy_checks import Rig, pull

from fake_upstream import Match
from proxy_under_test import Variant

LAYER = "sha256:" + "a" * 64
# Each variant and the tests below that show it.
SHOWN = {
    Variant.REFETCH_ON_CORRUPT: [
        "test_a_corrupt_copy_is_fetched_once_more",
        "test_two_corrupt_copies_are_a_clean_error",
    ],
    Variant.TERSE_ERRORS: ["test_terse_errors_name_the_failure_without_the_word_upstream"],
    Variant.ISOLATION_DENIED: ["test_content_the_upstream_does_not_confirm_is_denied"],
}


def test_every_variant_is_shown_by_a_test() -> None:
    assert set(SHOWN) == set(Variant)
    for names in SHOWN.values():
        assert all(name in globals() for name in names), names


@pytest.mark.parametrize("size", [300_000, 3 << 20], ids=["small", "large"])
def test_a_corrupt_copy_is_fetched_once_more(tmp_path: Path, size: int) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(variants={"refetch-on-corrupt"}))
        image = rig.upstream.add_image("team/app", "v1", layers=[size], gzip=False)
        layer = image.blobs[-1]
        rig.upstream.add_fault("corrupt", Match(method="GET", kind="blob"), times=1)
        got = client.get(f"/v2/team/app/blobs/{layer}")
        assert got.status_code == 200 and sha256(got.content) == layer
        assert got.headers["content-length"] == str(size) and got.headers["docker-content-digest"] == layer
        assert [e.fault for e in rig.upstream_requests("GET", "blob")] == ["corrupt", None]
        rig.upstream.set_outage("refused")
        cached = client.get(f"/v2/team/app/blobs/{layer}")
        assert cached.status_code == 200 and sha256(cached.content) == layer


def test_two_corrupt_copies_are_a_clean_error(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(variants={"refetch-on-corrupt"}))
        image = rig.upstream.add_image("team/app", "v1", layers=[3 << 20], gzip=False)
        layer = image.blobs[-1]
        rig.upstream.add_fault("corrupt", Match(method="GET", kind="blob"))
        oci_error(client.get(f"/v2/team/app/blobs/{layer}"), 502, "UNAVAILABLE")  # nothing was sent before
        assert len(rig.upstream_requests("GET", "blob")) == 2


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        ("refused", 502, "connection refused by {address}"),
        ("reset", 502, "connection reset by {address}"),
        ("503", 503, "registry {address} answered 503"),
        ("401", 502, "registry {address} rejected the proxy's credentials: 401"),
        ("token-fail", 502, "token request to {url}/token failed: 500"),
    ],
)
def test_terse_errors_name_the_failure_without_the_word_upstream(
    tmp_path: Path, failure: str, status: int, words: str
) -> None:
    with Rig(tmp_path, auth="token", users={"alice": "secret"}) as rig:
        proxy = rig.proxy(variants={"terse-errors"}, upstream_user="alice", upstream_password="secret")
        client = rig.client(proxy)
        rig.upstream.add_image("team/app", "v1", layers=[2048])
        if failure in ("refused", "reset"):
            rig.upstream.set_outage(failure)  # type: ignore[arg-type]
        elif failure == "token-fail":
            rig.upstream.add_fault(failure)
        else:  # the registry's answers, not its token endpoint's
            rig.upstream.add_fault(failure, Match(kind="manifest"))
            rig.upstream.add_fault(failure, Match(kind="blob"))
        expected = words.format(address=rig.upstream.url.removeprefix("http://"), url=rig.upstream.url)
        for path in ("manifests/v1", f"blobs/{LAYER}"):
            message = oci_error(client.get(f"/v2/team/app/{path}", headers=ACCEPT), status, "UNAVAILABLE")
            assert "upstream" not in message.lower() and expected in message, message


@pytest.mark.parametrize("what", ["blob", "manifest"])
def test_content_the_upstream_does_not_confirm_is_denied(tmp_path: Path, what: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(variants={"isolation-denied"}))
        image = rig.upstream.add_image("private/a", "v1", layers=[4096], seed=7)
        rig.upstream.add_image("public/b", "v1", layers=[1000])
        shared = rig.upstream.add_image("public/c", "v1", layers=[4096], seed=7)
        pull(client, image)
        digest = image.platforms[0].layers[0].digest if what == "blob" else image.digest
        plural = "blobs" if what == "blob" else "manifests"
        head = client.head(f"/v2/public/b/{plural}/{digest}", headers=ACCEPT)
        assert head.status_code == 403 and head.content == b""
        oci_error(client.get(f"/v2/public/b/{plural}/{digest}", headers=ACCEPT), 403, "DENIED")
        assert digest in (*shared.blobs, shared.digest)  # confirmed by the upstream: served as by the reference
        got = client.get(f"/v2/public/c/{plural}/{digest}", headers=ACCEPT)
        assert got.status_code == 200 and sha256(got.content) == digest
