"""BoundedMemo: the most recently used values, their sizes adding up to at most the limit."""

from __future__ import annotations

from proxy_under_test._memo import BoundedMemo


def test_the_least_recently_used_go_first_and_the_size_stays_under_the_limit() -> None:
    memo: BoundedMemo[str, bytes] = BoundedMemo(10, len)
    memo.put("a", b"1234")
    memo.put("b", b"1234")
    assert memo.get("a") == b"1234"  # now the most recent
    memo.put("c", b"1234")
    assert memo.get("b") is None and memo.get("a") == b"1234" and memo.get("c") == b"1234"
    assert memo.size == 8 and len(memo) == 2


def test_a_value_bigger_than_the_limit_is_not_kept_and_replacing_one_recounts() -> None:
    memo: BoundedMemo[str, bytes] = BoundedMemo(10, len)
    memo.put("a", b"123")
    memo.put("a", b"12345")
    assert memo.size == 5
    memo.put("huge", b"x" * 11)
    assert memo.get("huge") is None and memo.get("a") == b"12345" and memo.size == 5
    memo.put("a", b"x" * 11)  # replaced by something too big: forgotten
    assert memo.get("a") is None and memo.size == 0
