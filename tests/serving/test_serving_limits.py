"""Limits: the request head's size and time, the body's idle time, keep-alive; each enforced on a real socket.

Each of these reproduces a defect of issue 10 (items 6 and 7) first found on both servers: a 64 MiB
header parsed for seconds while a ping waited, 200 half-sent requests held for a minute, a client
sending one byte a second kept forever.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from serving_helpers import Seen, Served, echo_app, get, read_all

from serving import Limits

SMALL = Limits(max_head_bytes=4096, head_timeout=0.5, body_timeout=0.5, keep_alive=0.5)
# Where the client must keep pace, a pace far inside the limit (the machine may be busy).
PATIENT = Limits(max_head_bytes=4096, head_timeout=0.5, body_timeout=2.0, keep_alive=0.5)


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def _error_code(data: bytes) -> str:
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head and b"connection: close" in head
    return str(json.loads(body)["errors"][0]["code"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"max_head_bytes": 100}, "max_head_bytes must be at least 1024"),
        ({"max_head_bytes": 5000.0}, "max_head_bytes must be an integer"),
        ({"head_timeout": 0}, "head_timeout must be a positive number"),
        ({"body_timeout": -1}, "body_timeout must be a positive number"),
        ({"keep_alive": True}, "keep_alive must be a positive number"),
    ],
)
def test_limits_are_checked(value: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Limits(**value)  # type: ignore[arg-type]


def test_the_defaults() -> None:
    assert Limits() == Limits(max_head_bytes=65536, head_timeout=10.0, body_timeout=30.0, keep_alive=5.0)


# ---- head size ------------------------------------------------------------------------------------


def test_a_head_over_the_limit_is_refused_and_the_client_reads_why() -> None:
    seen = Seen()
    with Served(echo_app(seen)) as served, served.connect() as sock:
        sock.sendall(get(headers=f"X-Big: {'a' * (4 << 20)}\r\n"))  # 4 MiB: the server must not choke on it
        data, ended = read_all(sock)
    assert _status(data) == 431 and _error_code(data) == "SIZE_INVALID" and ended == "close"
    assert seen.requests == []


def test_a_head_sent_in_small_pieces_is_refused_at_the_limit() -> None:
    """httptools joins a header's pieces by copying: the work grew with the square of its size."""
    with Served(echo_app(Seen()), SMALL) as served, served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: ")
        sent = 0
        try:
            while sent < 1 << 20:
                sock.sendall(b"a" * 100)
                sent += 100
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = read_all(sock)
    assert _status(data) == 431


def test_a_concurrent_request_is_not_held_up_by_a_huge_head() -> None:
    worst: list[float] = []
    with Served(echo_app(Seen())) as served:

        def flood() -> None:
            with served.connect() as sock:
                try:
                    sock.sendall(get(headers=f"X-Big: {'a' * (64 << 20)}\r\n"))
                except (BrokenPipeError, ConnectionResetError):
                    pass

        flooding = threading.Thread(target=flood)
        flooding.start()
        while flooding.is_alive():
            with served.connect() as sock:
                started = time.monotonic()
                sock.sendall(get(headers="Connection: close\r\n"))
                assert _status(read_all(sock)[0]) == 200
                worst.append(time.monotonic() - started)
        flooding.join()
    # Unlimited, the 64 MiB head stalled a ping 5 s on a quiet machine; a loaded CI machine alone can cost 1-2 s.
    assert max(worst) < 3.0


def test_a_head_of_exactly_the_limit_is_served_one_byte_more_is_not() -> None:
    request = get(headers="Connection: close\r\nX-Pad: ")
    pad = SMALL.max_head_bytes - len(request) - 2  # the last header's CRLF
    with Served(echo_app(Seen()), SMALL) as served:
        for extra, status in ((0, 200), (1, 431)):
            with served.connect() as sock:
                head = get(headers=f"Connection: close\r\nX-Pad: {'p' * (pad + extra)}\r\n")
                assert len(head) == SMALL.max_head_bytes + extra
                sock.sendall(head)
                assert _status(read_all(sock)[0]) == status


def test_a_big_body_behind_a_small_head_is_not_a_big_head() -> None:
    seen = Seen()
    body = b"b" * (1 << 20)
    with Served(echo_app(seen), SMALL) as served, served.connect() as sock:
        head = f"POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode() + body)  # one write: head and body arrive in the same chunks
        data, _ = read_all(sock)
    assert _status(data) == 200 and seen.requests == [("POST", "/up", len(body))]


def test_pipelined_requests_each_have_their_own_allowance() -> None:
    seen = Seen()
    one = get(headers=f"X-Pad: {'p' * 1000}\r\n")
    with Served(echo_app(seen), SMALL) as served, served.connect() as sock:
        sock.sendall(one * 40 + get(headers="Connection: close\r\n"))  # 40 KiB of heads, 4 KiB allowed each
        data, _ = read_all(sock)
    assert data.count(b"HTTP/1.1 200 OK") == 41 and len(seen.requests) == 41


# ---- head time ------------------------------------------------------------------------------------


def test_a_half_sent_head_is_answered_408_and_closed() -> None:
    with Served(echo_app(Seen()), SMALL) as served, served.connect() as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: te")
        data, ended = read_all(sock)
    assert _status(data) == 408 and ended == "close" and 0.4 < time.monotonic() - started < 3


def test_a_client_sending_a_byte_at_a_time_is_dropped() -> None:
    with Served(echo_app(Seen()), SMALL) as served, served.connect() as sock:
        started = time.monotonic()
        try:
            for byte in get():  # a byte every 0.1 s: each comes well within any idle timeout
                sock.sendall(bytes([byte]))
                time.sleep(0.1)  # the attack's own pace, not a wait for the server
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = read_all(sock)
    assert _status(data) == 408 and time.monotonic() - started < 3


def test_a_connection_that_never_asks_is_closed_without_a_word() -> None:
    with Served(echo_app(Seen()), SMALL) as served, served.connect() as sock:
        assert read_all(sock) == (b"", "close")


def test_a_slow_answer_is_not_a_slow_head() -> None:
    seen = Seen()
    with Served(echo_app(seen, delay=1.5), SMALL) as served, served.connect() as sock:
        # The first answer takes three head timeouts; the second request waits behind it, whole.
        sock.sendall(get("/slow?sleep") + get("/next", "Connection: close\r\n"))
        data, ended = read_all(sock)
    assert data.count(b"HTTP/1.1 200 OK") == 2 and ended == "close"


def test_an_idle_connection_is_closed_after_keep_alive() -> None:
    with Served(echo_app(Seen()), SMALL) as served, served.connect() as sock:
        sock.sendall(get())
        started = time.monotonic()
        data, ended = read_all(sock)
    assert data.startswith(b"HTTP/1.1 200") and ended == "close" and 0.4 < time.monotonic() - started < 3


# ---- body time ------------------------------------------------------------------------------------


def _post(length: int, extra: str = "") -> bytes:
    return f"POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: {length}\r\n{extra}\r\n".encode()


def test_a_half_sent_body_is_dropped_and_the_application_told() -> None:
    seen = Seen()
    with Served(echo_app(seen), SMALL) as served, served.connect() as sock:
        sock.sendall(_post(1000) + b"x" * 10)
        data, ended = read_all(sock)
    assert (data, ended) == (b"", "close") and seen.disconnected == ["/up"] and seen.requests == []


def test_a_body_trickling_within_the_timeout_is_read() -> None:
    seen = Seen()
    with Served(echo_app(seen), PATIENT) as served, served.connect() as sock:
        sock.sendall(_post(10, "Connection: close\r\n"))
        for _ in range(10):
            sock.sendall(b"x")
            time.sleep(0.1)  # the client's pace: an idle timeout counts from the last byte
        data, _ = read_all(sock)
    assert _status(data) == 200 and seen.requests == [("POST", "/up", 10)]


def test_a_body_the_application_is_not_reading_yet_is_not_the_clients_fault() -> None:
    seen = Seen()
    body = b"b" * (2 << 20)  # more than uvicorn buffers before it stops reading
    with Served(echo_app(seen, delay=1.5), SMALL) as served, served.connect() as sock:
        sock.sendall(_post(len(body), "Connection: close\r\n").replace(b"/up", b"/up?sleep") + body)
        data, _ = read_all(sock)
    assert _status(data) == 200 and seen.requests == [("POST", "/up", len(body))]


def test_a_client_waiting_for_100_continue_is_not_dropped() -> None:
    seen = Seen()
    with Served(echo_app(seen, delay=2.5), PATIENT) as served, served.connect() as sock:
        sock.sendall(_post(5, "Expect: 100-continue\r\nConnection: close\r\n").replace(b"/up", b"/up?sleep"))
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
        sock.sendall(b"hello")
        data, _ = read_all(sock)
    assert b"HTTP/1.1 200" in data and seen.requests == [("POST", "/up", 5)]
