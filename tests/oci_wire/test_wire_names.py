from __future__ import annotations

import pytest

from oci_wire import is_digest_reference, valid_repository, valid_tag


@pytest.mark.parametrize("name", ["a", "library/alpine", "a-b/c.d/e__f", "a---b", "x" * 255, "0/1/2", "team/app-v2.1"])
def test_valid_repository_names(name: str) -> None:
    assert valid_repository(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "A",
        "a\n",
        "..",
        "a/../b",
        "../a",
        "/a",
        "a/",
        "a//b",
        "-a",
        "a-",
        "a_",
        "a___b",
        ".a",
        "a b",
        "x" * 256,
        "a%2e",
    ],
)
def test_invalid_repository_names(name: str) -> None:
    assert not valid_repository(name)


@pytest.mark.parametrize("tag", ["latest", "v1.0", "_x", "A" * 128, "1.2.3-rc_1"])
def test_valid_tags(tag: str) -> None:
    assert valid_tag(tag)


@pytest.mark.parametrize("tag", ["", "x\n", ".x", "-x", "A" * 129, "a:b", "a/b", "..", "a b"])
def test_invalid_tags(tag: str) -> None:
    assert not valid_tag(tag)


def test_a_reference_with_a_colon_is_a_digest() -> None:
    assert is_digest_reference("sha256:" + "0" * 64)
    assert not is_digest_reference("latest")
