"""tags/list and the catalog: the upstream's list when it answers, the cached tags when it does not (PROTO-TAGS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_checks import ACCEPT, oci_error
from proxy_checks import Rig, rule_test


def _cache_tags(rig: Rig, client: object, tags: list[str]) -> None:
    for tag in tags:
        rig.upstream.add_image("team/app", tag)
        assert client.get(f"/v2/team/app/manifests/{tag}", headers=ACCEPT).status_code == 200  # type: ignore[attr-defined]


@rule_test("PROTO-TAGS", "tags-down-5xx")
@pytest.mark.parametrize("outage", ["refused", "503"])
def test_tags_come_from_the_cache_when_the_upstream_is_down(
    tmp_path: Path, defects: frozenset[str], outage: str
) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(defects))
        _cache_tags(rig, client, ["a", "b", "c"])
        rig.upstream.add_image("team/app", "uncached")
        up = client.get("/v2/team/app/tags/list")
        assert up.json() == {"name": "team/app", "tags": ["a", "b", "c", "uncached"]}
        if outage == "refused":
            rig.upstream.set_outage("refused")
        else:
            rig.upstream.add_fault("503")
        down = client.get("/v2/team/app/tags/list")
        assert down.status_code == 200, down.text
        assert down.json() == {"name": "team/app", "tags": ["a", "b", "c"]}
        page = client.get("/v2/team/app/tags/list", params={"n": "2"})
        assert page.json()["tags"] == ["a", "b"]
        assert page.headers["link"] == '</v2/team/app/tags/list?n=2&last=b>; rel="next"'
        rest = client.get("/v2/team/app/tags/list", params={"n": "2", "last": "b"})
        assert rest.json()["tags"] == ["c"] and "link" not in rest.headers


def test_pagination_with_the_upstream_up(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy(projects={"hub": rig.upstream.url}, upstream=None))
        for tag in ("v1", "v2", "v3"):
            rig.upstream.add_image("team/app", tag)
        page = client.get("/v2/hub/team/app/tags/list", params={"n": "2"})
        assert page.json() == {"name": "hub/team/app", "tags": ["v1", "v2"]}
        assert page.headers["link"] == '</v2/hub/team/app/tags/list?n=2&last=v2>; rel="next"'
        rest = client.get("/v2/hub/team/app/tags/list", params={"n": "2", "last": "v2"})
        assert rest.json()["tags"] == ["v3"] and "link" not in rest.headers
        oci_error(client.get("/v2/hub/team/app/tags/list", params={"n": "x"}), 400, "PAGINATION_NUMBER_INVALID")


def test_tags_of_a_repository_never_cached(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        oci_error(client.get("/v2/team/none/tags/list"), 404, "NAME_UNKNOWN")
        rig.upstream.set_outage("refused")
        oci_error(client.get("/v2/team/none/tags/list"), 502, "UNAVAILABLE")


def test_catalog_lists_cached_repositories(tmp_path: Path) -> None:
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        for name in ("b/app", "a/app", "a/app/sub"):
            rig.upstream.add_image(name, "v1")
            assert client.get(f"/v2/{name}/manifests/v1", headers=ACCEPT).status_code == 200
        assert client.get("/v2/_catalog").json() == {"repositories": ["a/app", "a/app/sub", "b/app"]}
        page = client.get("/v2/_catalog", params={"n": "1", "last": "a/app"})
        assert page.json() == {"repositories": ["a/app/sub"]}
        assert page.headers["link"] == '</v2/_catalog?n=1&last=a/app/sub>; rel="next"'


@pytest.mark.parametrize("path", ["/v2/_catalog", "/v2/team/app/tags/list"])
@pytest.mark.parametrize("n", ["\u00b2", "\u0663", "9" * 5000, "-1", "1e3", " 1", "10001"])
def test_a_bad_page_size_is_a_clean_400(tmp_path: Path, path: str, n: str) -> None:
    """Unicode digits pass str.isdigit() but not int(); over 4,300 digits int() refuses too: never a 500."""
    with Rig(tmp_path) as rig:
        client = rig.client(rig.proxy())
        rig.upstream.add_image("team/app", "v1")
        oci_error(client.get(path, params={"n": n}), 400, "PAGINATION_NUMBER_INVALID")
