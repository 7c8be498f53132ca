"""Docker Hub's pull quota: manifest GETs count per client identity, HEADs and blobs are free."""

from __future__ import annotations

import httpx
from http_checks import ACCEPT, oci_error

from fake_upstream import FakeUpstream, QuotaConfig
from fake_upstream._quota import Quota
from harness.poll import wait_until

USERS = {"alice": "a", "bob": "b"}


def test_manifest_gets_count_heads_and_blobs_do_not() -> None:
    with FakeUpstream(quota=QuotaConfig(limit=3)) as upstream, httpx.Client(base_url=upstream.url) as http:
        image = upstream.add_image("library/alpine", "3")
        manifest, blob = "/v2/library/alpine/manifests/3", f"/v2/library/alpine/blobs/{image.blobs[0]}"
        remaining = []
        for _ in range(3):
            response = http.get(manifest, headers=ACCEPT)
            assert response.status_code == 200
            assert response.headers["ratelimit-limit"] == "3;w=21600"
            assert response.headers["docker-ratelimit-source"] == "127.0.0.1"
            remaining.append(response.headers["ratelimit-remaining"])
            head = http.head(manifest, headers=ACCEPT)
            assert head.status_code == 200 and "ratelimit-remaining" in head.headers
            blob_response = http.get(blob)
            assert blob_response.status_code == 200 and "ratelimit-limit" not in blob_response.headers
        assert remaining == ["2;w=21600", "1;w=21600", "0;w=21600"]
        assert upstream.quota_usage() == {"127.0.0.1": 3}
        over = http.get(manifest, headers=ACCEPT)
        message = oci_error(over, 429, "TOOMANYREQUESTS")
        assert "pull rate limit" in message
        assert 0 < int(over.headers["retry-after"]) <= 21601
        assert over.headers["ratelimit-remaining"] == "0;w=21600"
        # Past the quota a HEAD still answers (it never counted), and so do blobs.
        assert http.head(manifest, headers=ACCEPT).status_code == 200
        assert http.get(blob).status_code == 200
        assert upstream.quota_usage() == {"127.0.0.1": 3}
        assert [e.status for e in upstream.journal() if e.method == "GET" and e.kind == "manifest"] == [200] * 3 + [429]


def test_each_identity_has_its_own_quota() -> None:
    quota = QuotaConfig(limit=1)
    with FakeUpstream(auth="basic", users=USERS, quota=quota) as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_image("team/app", "v1")
        url = "/v2/team/app/manifests/v1"
        assert http.get(url, auth=("alice", "a")).status_code == 200
        oci_error(http.get(url, auth=("alice", "a")), 429, "TOOMANYREQUESTS")
        bob = http.get(url, auth=("bob", "b"))
        assert bob.status_code == 200 and bob.headers["docker-ratelimit-source"] == "bob"
        # Refused requests (401) spend nothing.
        assert http.get(url).status_code == 401
        assert upstream.quota_usage() == {"alice": 1, "bob": 1}


def test_the_window_slides() -> None:
    with FakeUpstream(quota=QuotaConfig(limit=1, window=0.3)) as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_image("team/app", "v1")
        assert http.get("/v2/team/app/manifests/v1").status_code == 200
        refused = http.get("/v2/team/app/manifests/v1")
        assert refused.status_code == 429 and refused.headers["ratelimit-limit"] == "1;w=0"
        wait_until(lambda: http.get("/v2/team/app/manifests/v1").status_code == 200 or None, timeout=5)


def test_reset_forgets_the_use() -> None:
    with FakeUpstream(quota=QuotaConfig(limit=1)) as upstream, httpx.Client(base_url=upstream.url) as http:
        upstream.add_image("team/app", "v1")
        http.get("/v2/team/app/manifests/v1")
        assert upstream.quota_usage() == {"127.0.0.1": 1}
        upstream.reset()
        assert upstream.quota_usage() == {}


def test_quota_accounting() -> None:
    quota = Quota(QuotaConfig(limit=2, window=100))
    assert quota.check("x", counts=False) is not None and quota.usage() == {"x": 0}
    first = quota.check("x", counts=True)
    assert first is not None and (first.remaining, first.exceeded) == (1, False)
    second = quota.check("x", counts=True)
    assert second is not None and (second.remaining, second.exceeded) == (0, False)
    third = quota.check("x", counts=True)
    assert third is not None and third.exceeded and 0 < third.retry_after <= 101
    peek = quota.check("x", counts=False)
    assert peek is not None and not peek.exceeded
    assert quota.usage() == {"x": 2}
    assert Quota(None).check("x", counts=True) is None
