"""Content digests: `algorithm:hex`, validated the way the OCI image-spec says."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")


class DigestError(ValueError):
    """A string that is not a valid, supported digest."""


@dataclass(frozen=True, slots=True)
class Digest:
    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def hasher(self) -> hashlib._Hash:
        return hashlib.new(self.algorithm)

    def matches(self, data: bytes) -> bool:
        return hashlib.new(self.algorithm, data).hexdigest() == self.hex


def parse_digest(value: str) -> Digest:
    match = _DIGEST_RE.fullmatch(value)
    if match is None:
        raise DigestError(f"malformed digest {value!r}")
    algorithm, hex_part = match.groups()
    expected = _HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise DigestError(f"unsupported digest algorithm {algorithm!r}")
    if len(hex_part) != expected or not re.fullmatch(r"[a-f0-9]+", hex_part):
        raise DigestError(f"malformed {algorithm} digest {value!r}")
    return Digest(algorithm, hex_part)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
