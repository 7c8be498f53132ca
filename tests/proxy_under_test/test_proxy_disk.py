"""A full disk during cold pulls: the client gets a clean error, the cache stays sound, and what it holds
is still served.

The proxy runs in user and mount namespaces of its own (`unshare`, no root needed) with its cache on a
1 MiB tmpfs, so its writes fail with a real ENOSPC; the test reads that cache through /proc/PID/root.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from conftest import need_peer
from http_checks import ACCEPT, oci_error, sha256
from proxy_checks import ProxyProcess, Rig, unverified

from fake_upstream import Image, Match
from harness.peers import in_ci

TMPFS = "1m"


def _on_a_small_tmpfs(cache: Path) -> list[str]:
    """A command prefix: mount a 1 MiB tmpfs on `cache` in new namespaces, then run the rest."""
    script = 'mount -t tmpfs -o "size=$1" tmpfs "$2" && shift 2 && exec "$@"'
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", TMPFS, str(cache)]


@pytest.fixture
def namespaces(tmp_path: Path) -> None:
    """Unprivileged user namespaces must work (Debian's default); without them the test cannot run."""
    need_peer("unshare")
    probe = tmp_path / "probe"
    probe.mkdir()
    ran = subprocess.run([*_on_a_small_tmpfs(probe), "true"], capture_output=True, text=True, timeout=10)
    if ran.returncode != 0:
        message = f"cannot mount a tmpfs in a user namespace: {ran.stderr.strip()}"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)


@pytest.mark.usefixtures("namespaces")
def test_a_full_disk_is_a_clean_error_and_the_cache_stays_sound(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with Rig(tmp_path) as rig:
        cached = rig.upstream.add_image("team/cached", "v1", layers=[100_000])
        too_big = rig.upstream.add_image("team/big", "v1", layers=[3 << 20])  # more than the whole disk
        pair = [rig.upstream.add_image(f"team/half{n}", "v1", layers=[600_000]) for n in range(2)]  # one fits
        with (
            ProxyProcess(rig.upstream.url, cache, wrapper=_on_a_small_tmpfs(cache)) as proxy,
            httpx.Client(base_url=proxy.url, timeout=10) as client,
        ):
            assert proxy.process is not None
            inside = Path(f"/proc/{proxy.process.pid}/root") / cache.relative_to("/")
            _pull(client, cached)

            # Known to be too big: refused before anything is sent.
            message = oci_error(client.get(f"/v2/team/big/blobs/{too_big.blobs[-1]}"), 507, "UNAVAILABLE")
            assert "cache is full" in message

            # Each fits alone, not both: the disk fills while they are written, slowed to overlap.
            rig.upstream.add_fault("slow", Match(method="GET", kind="blob"), rate=1 << 20)
            answers: list[httpx.Response] = []
            pulls = [
                threading.Thread(
                    target=lambda i=i: answers.append(client.get(f"/v2/{i.repository}/blobs/{i.blobs[-1]}"))
                )
                for i in pair
            ]
            for pull in pulls:
                pull.start()
            for pull in pulls:
                pull.join(timeout=20)
            assert sorted(a.status_code for a in answers) in ([200, 507], [507, 507]), [a.status_code for a in answers]
            for answer in answers:
                if answer.status_code == 200:
                    assert sha256(answer.content) in {i.blobs[-1] for i in pair}
                else:
                    assert "cache is full" in oci_error(answer, 507, "UNAVAILABLE")

            assert unverified(inside) == []
            assert list((inside / "tmp").iterdir()) == [], "a failed write left its temp file"
            rig.upstream.clear_faults()
            rig.upstream.set_outage("refused")
            _pull(client, cached)  # what was cached is still served, upstream down
            assert unverified(inside) == []


def _pull(client: httpx.Client, image: Image) -> None:
    got = client.get(f"/v2/{image.repository}/manifests/v1", headers=ACCEPT)
    assert got.status_code == 200 and sha256(got.content) == image.digest
    for blob in image.blobs:
        got = client.get(f"/v2/{image.repository}/blobs/{blob}")
        assert got.status_code == 200 and sha256(got.content) == blob, got.status_code
