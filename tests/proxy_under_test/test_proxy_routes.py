"""Names, references and digests are validated before any path is built (SEC-PATH); project and mirror mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_checks import ACCEPT, oci_error, raw_request
from proxy_checks import Rig, pull, rule_test

from oci_wire import parse_error_body

BAD_PATHS = [
    ("/v2/../../etc/passwd/manifests/latest", "NAME_INVALID"),
    ("/v2/team/%2e%2e/%2e%2e/%2e%2e/manifests/v1", "NAME_INVALID"),
    ("/v2/%2e%2e/blobs/sha256:" + "a" * 64, "NAME_INVALID"),
    ("/v2/team/app/manifests/%2e%2e", "MANIFEST_INVALID"),
    ("/v2/team/app/manifests/..", "MANIFEST_INVALID"),
    ("/v2/team/app/blobs/sha256:abc", "DIGEST_INVALID"),
    ("/v2/team/app/blobs/md5:" + "a" * 32, "DIGEST_INVALID"),
    ("/v2/team/app/manifests/sha256:" + "G" * 64, "DIGEST_INVALID"),
    ("/v2/team/app/blobs/latest", "DIGEST_INVALID"),
    ("/v2/Team/App/manifests/v1", "NAME_INVALID"),
    ("/v2/team//app/manifests/v1", "NAME_INVALID"),
    ("/v2/team/app%00/manifests/v1", "NAME_INVALID"),
    ("/v2//etc/manifests/v1", "NAME_INVALID"),
]


@rule_test("SEC-PATH", "no-path-check")
@pytest.mark.parametrize(("path", "code"), BAD_PATHS)
def test_bad_names_and_digests_get_a_clean_error(tmp_path: Path, defects: frozenset[str], path: str, code: str) -> None:
    with Rig(tmp_path) as rig:
        proxy = rig.proxy(defects)
        rig.upstream.add_image("team/app", "v1")
        for method in ("GET", "HEAD"):
            status, headers, body = raw_request(proxy.url, path, method)
            assert status in (400, 404), (method, status, body[:200])
            assert headers["content-type"] == "application/json"
            if method == "GET":
                errors = parse_error_body(body)
                assert errors is not None and errors[0][0] == code, errors
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cache0"]
        assert not any((tmp_path / "cache0" / "repositories").iterdir())
        assert rig.upstream_requests() == []


def test_project_mode_maps_each_project_to_its_upstream(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig, Rig(tmp_path / "other") as other:
        proxy = rig.proxy(upstream=None, projects={"hub": rig.upstream.url, "quay": other.upstream.url})
        client = rig.client(proxy)
        ours = rig.upstream.add_image("library/alpine", "3", layers=[2048])
        theirs = other.upstream.add_image("library/alpine", "3", layers=[3000])
        for project, image in (("hub", ours), ("quay", theirs)):
            got = client.get(f"/v2/{project}/library/alpine/manifests/3", headers=ACCEPT)
            assert got.headers["docker-content-digest"] == image.digest
            for blob in image.blobs:
                assert client.get(f"/v2/{project}/library/alpine/blobs/{blob}").status_code == 200
        assert [e.repository for e in rig.upstream_requests(kind="manifest")] == ["library/alpine"]
        message = oci_error(client.get("/v2/gcr/library/alpine/manifests/3", headers=ACCEPT), 404, "NAME_UNKNOWN")
        assert "hub, quay" in message
        oci_error(client.get("/v2/hub/manifests/3", headers=ACCEPT), 404, "NAME_UNKNOWN")


def test_mirror_and_projects_together(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(projects={"hub": rig.upstream.url}))
        image = rig.upstream.add_image("team/app", "v1")
        pull(client, image)
        got = client.get("/v2/hub/team/app/manifests/v1", headers=ACCEPT)
        assert got.headers["docker-content-digest"] == image.digest
