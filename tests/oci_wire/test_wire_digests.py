from __future__ import annotations

import hashlib

import pytest

from oci_wire import Digest, DigestError, parse_digest, sha256_digest

HEX64 = "a" * 64


def test_parses_sha256_and_sha512() -> None:
    assert parse_digest(f"sha256:{HEX64}") == Digest("sha256", HEX64)
    assert str(parse_digest("sha512:" + "0" * 128)) == "sha512:" + "0" * 128


@pytest.mark.parametrize(
    "value",
    [
        "",
        HEX64,
        f"sha256:{HEX64[:-1]}",
        f"sha256:{HEX64}0",
        f"sha256:{HEX64.upper()}",
        "sha256:" + "g" * 64,
        f"md5:{HEX64[:32]}",
        f"SHA256:{HEX64}",
        f"sha256::{HEX64}",
        f"sha256:{HEX64}\n",
        "sha512:" + "0" * 64,
        "sha256:../../etc/passwd",
    ],
)
def test_rejects_malformed_or_unsupported(value: str) -> None:
    with pytest.raises(DigestError):
        parse_digest(value)


def test_matches_and_sha256_digest_agree_with_hashlib() -> None:
    data = b"pullthrough"
    digest = sha256_digest(data)
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert parse_digest(digest).matches(data)
    assert not parse_digest(digest).matches(data + b"!")
    assert parse_digest(digest).hasher().name == "sha256"
