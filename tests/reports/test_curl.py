from __future__ import annotations

import shlex

from reports.curl import command
from reports.model import Exchange


def test_get_manifest_with_headers_quoted() -> None:
    exchange = Exchange(
        method="GET",
        url="http://127.0.0.1:5001/v2/team/app/manifests/v1",
        request_headers={"Accept": "application/vnd.oci.image.index.v1+json, */*", "User-Agent": "x", "Host": "h"},
    )
    line = command(exchange)
    assert shlex.split(line) == [
        "curl",
        "-sS",
        "-g",
        "-i",
        "-H",
        "Accept: application/vnd.oci.image.index.v1+json, */*",
        "http://127.0.0.1:5001/v2/team/app/manifests/v1",
    ]


def test_head_blob_and_other_methods() -> None:
    head = command(Exchange(method="HEAD", url="http://p/v2/a/blobs/sha256:00"))
    assert shlex.split(head)[3] == "-I"
    blob = shlex.split(command(Exchange(method="GET", url="http://p/v2/a/blobs/sha256:00")))
    assert blob[3:7] == ["-D", "-", "-o", "/dev/null"]
    put = shlex.split(command(Exchange(method="PUT", url="http://p/v2/a/manifests/v1")))
    assert put[3:6] == ["-i", "-X", "PUT"]


def test_credentials_are_redacted_and_metacharacters_inert() -> None:
    exchange = Exchange(
        method="GET",
        url="http://u:pw@p/v2/a/manifests/x?access_token=t0k&q=$(id)",
        request_headers={"Authorization": "Bearer s3cret", "X-Evil": "'; rm -rf / #", "X-Empty": ""},
    )
    line = command(exchange)
    assert "s3cret" not in line and "t0k" not in line and ":pw@" not in line
    words = shlex.split(line)
    assert "Authorization: Bearer REDACTED" in words
    assert "X-Evil: '; rm -rf / #" in words
    assert "X-Empty;" in words
    assert words[-1] == "http://REDACTED@p/v2/a/manifests/x?access_token=REDACTED&q=%24%28id%29"


def test_control_characters_are_shown_escaped() -> None:
    line = command(Exchange(method="GET", url="http://p/v2/a\x1b[31m/manifests/x"))
    assert "\x1b" not in line
    assert "\\x1b" in line
