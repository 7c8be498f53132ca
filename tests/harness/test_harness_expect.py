from __future__ import annotations

from harness.expect import by_profile, clean_error, for_profile, kinds, not_found, served_cached
from reports.model import Observation


def _obs(kind: str, status: int | None = 200, code: str | None = None) -> Observation:
    return Observation(kind, kind, status=status, error_code=code)


def test_profiles_pick_their_expectation() -> None:
    expect = by_profile(documented=served_cached(), harbor_2_14_docs=not_found())
    assert set(expect) == {"documented", "harbor-2.14-docs"}
    assert for_profile(expect, "harbor-2.14-docs").accepts(_obs("not-found", 404))
    assert not for_profile(expect, "documented").accepts(_obs("not-found", 404))
    assert for_profile(served_cached(), "harbor-2.14-docs").text == "served-cached"


def test_not_found_checks_the_code_when_given() -> None:
    assert not_found("BLOB_UNKNOWN").accepts(_obs("not-found", 404, "BLOB_UNKNOWN"))
    assert not not_found("BLOB_UNKNOWN").accepts(_obs("not-found", 404, "MANIFEST_UNKNOWN"))


def test_clean_error_checks_status_and_code() -> None:
    assert clean_error(502, 503).accepts(_obs("clean-error", 503, "UNAVAILABLE"))
    assert not clean_error(502, 503).accepts(_obs("clean-error", 500, "UNKNOWN"))
    assert not clean_error(503, code="UNAVAILABLE").accepts(_obs("clean-error", 503, "UNKNOWN"))
    assert not clean_error(503).accepts(_obs("unclean-error", 503))


def test_alternatives_combine() -> None:
    either = kinds("partial") | served_cached()
    assert either.accepts(_obs("partial")) and either.accepts(_obs("served-cached"))
    assert not either.accepts(_obs("wrong-bytes"))
    assert either.text == "partial or served-cached"
