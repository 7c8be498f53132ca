"""A single `Range: bytes=…` on a blob (RFC 9110 §14), as registries serve it."""

from __future__ import annotations

import re

_RANGE_RE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")


class RangeNotSatisfiable(ValueError):
    """416: the range starts at or past the end; answer with `Content-Range: bytes */<size>`."""

    def __init__(self, size: int) -> None:
        super().__init__(f"requested range not satisfiable for {size} bytes")
        self.size = size

    @property
    def content_range(self) -> str:
        return f"bytes */{self.size}"


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single byte range asked for, as [start, end); None to serve everything.

    Several ranges, or a malformed one, give None: RFC 9110 lets a server ignore them.
    """
    if header is None:
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start, end = size - min(size, int(last)), size
        if int(last) == 0:
            start = size
    else:
        start = int(first)
        end = size if last == "" else min(size, int(last) + 1)
        if last != "" and int(last) < start:
            return None
    if start >= size or start >= end:
        raise RangeNotSatisfiable(size)
    return start, end


def content_range(start: int, end: int, size: int) -> str:
    """The `Content-Range` of a 206 for [start, end)."""
    return f"bytes {start}-{end - 1}/{size}"
