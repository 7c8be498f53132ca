"""Manifests through the reference proxy: freshness (FRESH-2/4/5), the cached copy on every failure (STALE-*),
byte-identical media types (PROTO-MEDIATYPE, PROTO-ACCEPT) and indexes (INDEX-1)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from http_checks import ACCEPT, oci_error, sha256
from proxy_checks import TIMEOUT, Rig, pull, rule_test, timed

from fake_upstream import Image, Match
from oci_wire import DOCKER_MANIFEST, OCI_MANIFEST


def served_cached(client: httpx.Client, image: Image) -> None:
    """The tag (GET and HEAD), the manifest by digest and every blob come back whole and right."""
    repository = image.repository
    tag = client.get(f"/v2/{repository}/manifests/{image.tag}", headers=ACCEPT)
    assert tag.status_code == 200, (tag.status_code, tag.text[:200])
    assert sha256(tag.content) == image.digest == tag.headers["docker-content-digest"]
    head = client.head(f"/v2/{repository}/manifests/{image.tag}", headers=ACCEPT)
    assert head.status_code == 200 and head.headers["docker-content-digest"] == image.digest
    by_digest = client.get(f"/v2/{repository}/manifests/{image.digest}", headers=ACCEPT)
    assert by_digest.status_code == 200 and sha256(by_digest.content) == image.digest
    for blob in image.blobs:
        got = client.get(f"/v2/{repository}/blobs/{blob}")
        assert got.status_code == 200 and sha256(got.content) == blob


def cached_image(rig: Rig, client: httpx.Client, **options: object) -> Image:
    image = rig.upstream.add_image("team/app", "v1", layers=[2048, 70_000], **options)  # type: ignore[arg-type]
    pull(client, image)
    return image


# ---- FRESH ----------------------------------------------------------------------------------------


@rule_test("FRESH-2", "ignore-upstream-update")
def test_a_moved_tag_serves_the_new_image_and_caches_it(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        old = cached_image(rig, client)
        new = rig.upstream.add_image("team/app", "v1", layers=[3000, 50_000])
        assert new.digest != old.digest
        got = client.get("/v2/team/app/manifests/v1", headers=ACCEPT)
        assert sha256(got.content) == new.digest == got.headers["docker-content-digest"]
        pull(client, new)
        rig.upstream.set_outage("refused")
        served_cached(client, new)


@rule_test("FRESH-4", "get-for-freshness")
def test_freshness_costs_one_manifest_head(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = cached_image(rig, client)
        rig.upstream.clear_journal()
        for method in ("GET", "HEAD"):
            assert client.request(method, "/v2/team/app/manifests/v1", headers=ACCEPT).status_code == 200
        manifests = [(e.method, e.reference) for e in rig.upstream_requests(kind="manifest")]
        assert manifests == [("HEAD", "v1"), ("HEAD", "v1")], manifests
        assert sha256(client.get("/v2/team/app/manifests/v1", headers=ACCEPT).content) == image.digest


@rule_test("FRESH-5", "digest-freshness")
def test_pulls_by_digest_of_cached_content_never_reach_the_upstream(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", layers=[2048], platforms=["linux/amd64", "linux/arm64"])
        pull(client, image)
        rig.upstream.clear_journal()
        for path in [f"manifests/{image.digest}", *(f"manifests/{m}" for m in image.manifests.values())]:
            for method in ("GET", "HEAD"):
                assert client.request(method, f"/v2/team/app/{path}", headers=ACCEPT).status_code == 200
        for blob in image.blobs:
            assert client.get(f"/v2/team/app/blobs/{blob}").status_code == 200
        assert rig.upstream_requests() == []


# ---- STALE ----------------------------------------------------------------------------------------


@rule_test("STALE-5XX", "no-stale-on-5xx")
@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
def test_upstream_5xx_serves_the_cache(tmp_path: Path, defects: frozenset[str], status: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = cached_image(rig, client)
        rig.upstream.add_fault(status)
        served_cached(client, image)


@rule_test("STALE-REFUSED", "no-stale-on-refused")
def test_upstream_refusing_connections_serves_the_cache(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = cached_image(rig, client)
        rig.upstream.set_outage("refused")
        served_cached(client, image)


@rule_test("STALE-RESET", "no-stale-on-reset")
@pytest.mark.parametrize("how", ["outage", "fault"])
def test_upstream_resetting_connections_serves_the_cache(tmp_path: Path, defects: frozenset[str], how: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = cached_image(rig, client)
        if how == "outage":
            rig.upstream.set_outage("reset")
        else:
            rig.upstream.add_fault("reset")
        served_cached(client, image)


@rule_test("STALE-BLACKHOLE", "no-upstream-timeout")
def test_upstream_that_never_answers_serves_the_cache_in_time(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects), timeout=TIMEOUT + 2)
        image = cached_image(rig, client)
        rig.upstream.set_outage("blackhole")
        with timed(TIMEOUT + 2):
            got = client.get("/v2/team/app/manifests/v1", headers=ACCEPT)
        assert got.status_code == 200 and sha256(got.content) == image.digest


@rule_test("STALE-429", "no-stale-on-429")
def test_upstream_rate_limit_serves_the_cache_without_retrying(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = cached_image(rig, client)
        rig.upstream.add_fault("429")
        rig.upstream.clear_journal()
        served_cached(client, image)
        assert len(rig.upstream_requests()) <= 2, "one freshness check per tag request, no retry loop"


@rule_test("STALE-AUTH", "no-stale-on-auth")
@pytest.mark.parametrize("fault", ["401", "403", "token-fail"])
def test_upstream_refusing_the_proxy_serves_the_cache(tmp_path: Path, defects: frozenset[str], fault: str) -> None:
    with Rig(tmp_path, auth="token", users={"alice": "secret"}) as rig:
        proxy = rig.proxy(defects, upstream_user="alice", upstream_password="secret")
        client = rig.client(proxy)
        image = cached_image(rig, client)
        rig.upstream.add_fault(fault, Match(kind="token" if fault == "token-fail" else "manifest"))
        if fault == "token-fail":  # the proxy's token must run out for the token endpoint to matter
            rig.upstream.reset()
            rig.upstream.add_fault(fault)
        served_cached(client, image)


@rule_test("STALE-404", "no-stale-on-404", "delete-on-404")
@pytest.mark.parametrize("deleted", ["tag", "repository"])
def test_deleted_upstream_serves_the_cache_and_keeps_it(tmp_path: Path, defects: frozenset[str], deleted: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = cached_image(rig, client)
        if deleted == "tag":
            rig.upstream.delete_tag("team/app", "v1")
        else:
            rig.upstream.delete_repository("team/app")
        served_cached(client, image)
        rig.upstream.set_outage("refused")
        served_cached(client, image)


@pytest.mark.parametrize("policy", ["not-found", "not-found-and-evict"])
def test_the_not_found_policies(tmp_path: Path, policy: str) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(on_upstream_not_found=policy))
        image = cached_image(rig, client)
        rig.upstream.delete_tag("team/app", "v1")
        oci_error(client.get("/v2/team/app/manifests/v1", headers=ACCEPT), 404, "MANIFEST_UNKNOWN")
        rig.upstream.set_outage("refused")
        again = client.get("/v2/team/app/manifests/v1", headers=ACCEPT)
        if policy == "not-found":  # kept: served again once the upstream no longer says "deleted"
            assert again.status_code == 200 and sha256(again.content) == image.digest
        else:
            oci_error(again, 502, "UNAVAILABLE")


@rule_test("STALE-HALF", "tag-poisoning")
def test_a_failed_update_keeps_the_old_copy(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        old = cached_image(rig, client)
        new = rig.upstream.add_image("team/app", "v1", layers=[3000])
        rig.upstream.add_fault("head-ok-get-fail", Match(kind="manifest", repository="team/app"))
        for _ in range(2):
            got = client.get("/v2/team/app/manifests/v1", headers=ACCEPT)
            assert got.status_code == 200, got.text
            assert sha256(got.content) == old.digest != new.digest
        rig.upstream.set_outage("refused")
        served_cached(client, old)


# ---- PROTO and INDEX ------------------------------------------------------------------------------


@rule_test("PROTO-MEDIATYPE", "rewrite-media-type")
@pytest.mark.parametrize("media_type", ["oci", "docker"])
@pytest.mark.parametrize("platforms", [1, 2])
def test_manifests_keep_their_bytes_and_media_type(
    tmp_path: Path, defects: frozenset[str], media_type: str, platforms: int
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        names = ["linux/amd64", "linux/arm64"][:platforms] if platforms > 1 else None
        image = rig.upstream.add_image("team/app", "v1", media_type=media_type, platforms=names)  # type: ignore[arg-type]
        references = [("v1", image.digest, image.media_type)]
        if platforms > 1:
            child_type = OCI_MANIFEST if media_type == "oci" else DOCKER_MANIFEST
            references += [(digest, digest, child_type) for digest in image.manifests.values()]
        for reference, digest, expected_type in references:
            got = client.get(f"/v2/team/app/manifests/{reference}", headers=ACCEPT)
            assert got.status_code == 200
            assert sha256(got.content) == digest == got.headers["docker-content-digest"]
            assert got.headers["content-type"] == expected_type


@rule_test("PROTO-ACCEPT", "ignore-accept")
@pytest.mark.parametrize("cached", [False, True])
def test_an_excluded_media_type_is_not_served(tmp_path: Path, defects: frozenset[str], cached: bool) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", media_type="oci")
        if cached:
            pull(client, image)
        docker_only = {"Accept": DOCKER_MANIFEST}
        oci_error(client.get("/v2/team/app/manifests/v1", headers=docker_only), 404, "MANIFEST_UNKNOWN")
        oci_error(client.get(f"/v2/team/app/manifests/{image.digest}", headers=docker_only), 404, "MANIFEST_UNKNOWN")
        assert client.get("/v2/team/app/manifests/v1", headers={"Accept": OCI_MANIFEST}).status_code == 200
        assert client.get("/v2/team/app/manifests/v1").status_code == 200  # no Accept takes anything


@rule_test("INDEX-1", "trim-index")
def test_an_index_and_one_platform_are_served_byte_identical(tmp_path: Path, defects: frozenset[str]) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        image = rig.upstream.add_image("team/app", "v1", platforms=["linux/amd64", "linux/arm64", "linux/s390x"])
        pull(client, image, platforms=1)
        rig.upstream.set_outage("refused")
        index = client.get("/v2/team/app/manifests/v1", headers=ACCEPT)
        assert index.status_code == 200
        assert sha256(index.content) == image.digest == index.headers["docker-content-digest"]
        amd64 = image.platform("linux/amd64")
        child = client.get(f"/v2/team/app/manifests/{amd64.manifest}", headers=ACCEPT)
        assert child.status_code == 200 and sha256(child.content) == amd64.manifest
        oci_error(client.get(f"/v2/team/app/manifests/{image.manifests['linux/arm64']}", headers=ACCEPT), 502)
