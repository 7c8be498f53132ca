from __future__ import annotations

import pytest

from oci_wire import RangeNotSatisfiable, content_range, parse_range


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
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as raised:
        parse_range(header, 1000)
    assert raised.value.content_range == "bytes */1000"


def test_content_range_is_inclusive() -> None:
    assert content_range(10, 100, 1000) == "bytes 10-99/1000"
