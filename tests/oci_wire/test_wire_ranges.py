from __future__ import annotations

import pytest

from oci_wire import RangeNotSatisfiable, content_range, parse_content_range, parse_range

HUGE = "9" * 4301  # past Python's limit on converting decimal strings (4,300 digits): int() raises


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=10-99", (10, 100)),
        ("bytes=10-", (10, 1000)),
        ("bytes=990-5000", (990, 1000)),
        ("bytes=-50", (950, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=0-0", (0, 1)),
        ("bytes=5-1", None),  # last before first: ignored, the whole body
        ("bytes=1-2,5-6", None),  # several ranges: ignored
        ("items=1-2", None),
        ("bytes=-", None),
        (f"bytes=0-{HUGE}", (0, 1000)),
        (f"bytes=-{HUGE}", (0, 1000)),
        (f"bytes={'0' * 5000}7-{'0' * 5000}9", (7, 10)),  # long, but small numbers
        (f"bytes=5-{'0' * 5000}", None),  # last before first
        ("bytes=²-5", None),  # a Unicode digit is no digit here
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0", f"bytes={HUGE}-", f"bytes={HUGE}-{HUGE}"]
)
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as raised:
        parse_range(header, 1000)
    assert raised.value.content_range == "bytes */1000"


def test_content_range_is_inclusive() -> None:
    assert content_range(10, 100, 1000) == "bytes 10-99/1000"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("0-99", (0, 99)),
        ("bytes 10-19", (10, 19)),
        ("bytes 10-19/100", (10, 19)),
        ("5-9/*", (5, 9)),
        (f"{'0' * 5000}5-{'0' * 5000}9", (5, 9)),
        (f"0-{HUGE}", (0, 10**18)),
        (f"{HUGE}-{HUGE}", (10**18, 10**18)),
    ],
)
def test_parse_content_range(header: str, expected: tuple[int, int]) -> None:
    assert parse_content_range(header) == expected


@pytest.mark.parametrize("header", ["", "0-", "-5", "a-b", "bytes=0-5", "5-1", "²-3", "0-5/x", " 0 - 5"])
def test_a_malformed_content_range(header: str) -> None:
    with pytest.raises(ValueError, match="Content-Range"):
        parse_content_range(header)
