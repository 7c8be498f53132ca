"""Byte ranges: a single `Range: bytes=…` on a blob (RFC 9110 §14), and an upload chunk's `Content-Range`.

Numbers are ASCII digits of any length: beyond what any size can be, they count as 10**18 (so a
4,301-digit position is past the end, not an error of Python's int()).
"""

from __future__ import annotations

import re

_RANGE_RE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
_CONTENT_RANGE_RE = re.compile(r"^(?:bytes )?([0-9]+)-([0-9]+)(?:/[0-9]+|/\*)?$")
# Larger than any blob or upload; what a longer number is taken as.
BEYOND = 10**18


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
        suffix = _number(last)
        start, end = size - min(size, suffix), size
        if suffix == 0:
            start = size
    else:
        start = _number(first)
        end = size if last == "" else min(size, _number(last) + 1)
        if last != "" and _number(last) < start:
            return None
    if start >= size or start >= end:
        raise RangeNotSatisfiable(size)
    return start, end


def parse_content_range(header: str) -> tuple[int, int]:
    """An upload chunk's `Content-Range` (`[bytes ]first-last[/size|/*]`, inclusive) as (first, last).

    ValueError when it is malformed or ends before it starts.
    """
    match = _CONTENT_RANGE_RE.match(header)
    if match is None:
        raise ValueError(f"malformed Content-Range {header[:40]!r}")
    first, last = _number(match.group(1)), _number(match.group(2))
    if last < first:
        raise ValueError(f"Content-Range {header[:40]!r} ends before it starts")
    return first, last


def content_range(start: int, end: int, size: int) -> str:
    """The `Content-Range` of a 206 for [start, end)."""
    return f"bytes {start}-{end - 1}/{size}"


def _number(digits: str) -> int:
    """ASCII digits (the patterns above allow no others) as an int, at most BEYOND."""
    significant = digits.lstrip("0")
    return int(significant) if 0 < len(significant) <= 18 else (BEYOND if significant else 0)
