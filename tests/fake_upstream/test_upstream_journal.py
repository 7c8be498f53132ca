"""The journal: every request numbered on arrival, read after a cursor or by repository, capped in size."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from http_checks import ACCEPT

from fake_upstream import FakeUpstream, JournalEntry, Match
from fake_upstream._journal import Journal
from harness.poll import wait_until


@pytest.fixture
def http(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.url, timeout=5) as client:
        yield client


def _entry(repository: str | None = "team/app") -> JournalEntry:
    return JournalEntry(time.time(), "GET", "/v2/", "manifest", repository, "v1", 200, 0, "none", "127.0.0.1")


def test_every_request_gets_the_next_sequence_number(upstream: FakeUpstream, http: httpx.Client) -> None:
    assert upstream.cursor() == 0 and upstream.journal(after=0) == []
    upstream.add_image("team/app", "v1")
    upstream.add_image("team/other", "v1")
    http.get("/v2/")
    http.get("/v2/team/app/manifests/v1", headers=ACCEPT)
    http.get("/v2/team/other/manifests/v1", headers=ACCEPT)
    http.head("/v2/team/app/manifests/v1", headers=ACCEPT)
    entries = upstream.journal()
    assert [e.seq for e in entries] == [1, 2, 3, 4] and upstream.cursor() == 4
    assert [e.seq for e in upstream.journal(after=2)] == [3, 4]
    assert upstream.journal(after=4) == []
    assert [(e.seq, e.method) for e in upstream.journal(repository="team/app")] == [(2, "GET"), (4, "HEAD")]
    assert [e.seq for e in upstream.journal(after=2, repository="team/app")] == [4]
    assert upstream.journal(repository="team") == []  # exact names, not prefixes or globs
    assert [e.seq for e in upstream.journal(entries[2].time, after=1)] == [3, 4]


def test_requests_an_outage_swallows_are_numbered_too(upstream: FakeUpstream) -> None:
    upstream.set_outage("reset")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{upstream.url}/v2/team/app/manifests/v1", timeout=5)
    [entry] = wait_until(lambda: upstream.journal(), what="the swallowed request in the journal")
    assert entry.outage == "reset" and entry.seq == 1 == upstream.cursor()
    upstream.set_outage("none")
    httpx.get(f"{upstream.url}/v2/", timeout=5)
    assert [e.seq for e in upstream.journal(after=1)] == [2]


def test_clearing_and_resetting_never_take_the_cursor_back(upstream: FakeUpstream, http: httpx.Client) -> None:
    http.get("/v2/")
    http.get("/v2/")
    upstream.clear_journal()
    assert upstream.journal() == [] and upstream.cursor() == 2
    upstream.reset()
    http.get("/v2/")
    assert [e.seq for e in upstream.journal()] == [3]


def test_the_journal_keeps_its_newest_entries_up_to_its_limit() -> None:
    with FakeUpstream(journal_limit=3) as upstream, httpx.Client(base_url=upstream.url, timeout=5) as http:
        for _ in range(5):
            http.get("/v2/")
        assert [e.seq for e in upstream.journal()] == [3, 4, 5] and upstream.cursor() == 5
        assert [e.seq for e in upstream.journal(after=1)] == [3, 4, 5]  # 2 was dropped: what is left


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, "10"])
def test_a_journal_limit_is_a_positive_count(limit: object) -> None:
    with pytest.raises(ValueError, match="journal limit"):
        Journal(limit)  # type: ignore[arg-type]


def test_entries_are_copies_and_selections_are_live() -> None:
    journal = Journal()
    entry = _entry()
    journal.record(entry)
    copied, live = journal.entries()[0], journal.select()[0]
    entry.status = 503
    assert copied.status == 200 and live.status == 503 and copied.seq == live.seq == 1


def test_a_big_journal_read_does_not_stall_the_registry() -> None:
    """Reading 50,000 entries took seconds in one piece on the loop the registry shares (issue 10, item 9)."""
    count = 50_000
    with FakeUpstream(journal_limit=count) as upstream:
        journal = upstream._parts.journal
        for _ in range(count):
            journal.record(_entry())
        read: list[bytes] = []
        # Parsed only afterwards: 50,000 entries parsed in this process would hold its GIL, and stall the ping too.
        reader = threading.Thread(
            target=lambda: read.append(httpx.get(f"{upstream.control_url}/_control/journal", timeout=60).content)
        )
        worst = 0.0
        with httpx.Client(base_url=upstream.url, timeout=30) as http:
            http.get("/v2/")
            reader.start()
            while reader.is_alive():
                started = time.monotonic()
                assert http.get("/v2/").status_code == 200
                worst = max(worst, time.monotonic() - started)
        reader.join()
        assert len(json.loads(read[0])) == count
        # Unbounded, the read blocked the event loop 6 s; a loaded CI machine alone costs a ping half a second.
        assert worst < 2.0, f"a ping waited {worst:.2f}s while the journal was read"


def test_the_control_api_reads_after_a_cursor_and_by_repository(upstream: FakeUpstream, http: httpx.Client) -> None:
    upstream.add_image("team/app", "v1")
    upstream.add_fault("503", Match(repository="team/gone"))
    http.get("/v2/team/app/manifests/v1", headers=ACCEPT)
    http.get("/v2/team/gone/manifests/v1", headers=ACCEPT)
    http.get("/v2/team/app/tags/list")
    with httpx.Client(base_url=upstream.control_url + "/_control", timeout=5) as control:
        assert control.get("/journal/cursor").json() == {"cursor": 3}
        after = control.get("/journal", params={"after": 1}).json()
        assert after == [e.to_dict() for e in upstream.journal(after=1)] and [e["seq"] for e in after] == [2, 3]
        mine = control.get("/journal", params={"after": 1, "repository": "team/app"}).json()
        assert [(e["seq"], e["kind"]) for e in mine] == [(3, "tags")]
        assert control.get("/journal", params={"repository": "team/gone"}).json()[0]["fault"] == "503"
        for bad in ("-1", "x", "1.5", "²", "9" * 5000):
            refused = control.get("/journal", params={"after": bad})
            assert refused.status_code == 400 and "after" in refused.json()["error"]
