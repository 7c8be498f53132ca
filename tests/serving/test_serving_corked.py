"""The corked transport: a loop iteration's small writes leave as one, in order; a big write takes them with
it at once; closing sends what is held, aborting drops it; and a real answer through it arrives whole."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from serving_helpers import Seen, Served, echo_app

from serving._corked import SMALL, CorkedTransport


class Recording(asyncio.Transport):
    """A transport that records what is done to it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, pieces: Any) -> None:
        self.calls.append(("writelines", [bytes(piece) for piece in pieces]))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", None))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


def corked(steps: Any) -> list[tuple[str, Any]]:
    """Run `steps(corked, recording)` (a coroutine function) on a fresh loop; what reached the transport."""
    recording = Recording()

    async def run() -> None:
        await steps(CorkedTransport(recording, asyncio.get_running_loop()), recording)

    asyncio.run(run())
    return recording.calls


def test_small_writes_of_one_iteration_leave_as_one() -> None:
    async def steps(transport: CorkedTransport, recording: Recording) -> None:
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"body")
        assert recording.calls == [] and transport.get_write_buffer_size() == 23
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    assert corked(steps) == [("write", b"HTTP/1.1 200 OK\r\n\r\nbody")]


def test_writes_of_separate_iterations_stay_separate_and_in_order() -> None:
    async def steps(transport: CorkedTransport, recording: Recording) -> None:
        transport.write(b"one")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        transport.write(b"two")
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    assert corked(steps) == [("write", b"one"), ("write", b"two")]


def test_a_big_write_takes_what_is_held_at_once() -> None:
    big = bytes(SMALL)

    async def steps(transport: CorkedTransport, recording: Recording) -> None:
        transport.write(b"head")
        transport.write(big)
        assert recording.calls == [("writelines", [b"head", big])]
        transport.write(big)
        assert recording.calls[-1] == ("write", big)

    assert len(corked(steps)) == 2


def test_close_sends_what_is_held_and_abort_drops_it() -> None:
    async def close(transport: CorkedTransport, recording: Recording) -> None:
        transport.write(b"last words")
        transport.close()

    async def abort(transport: CorkedTransport, recording: Recording) -> None:
        transport.write(b"never sent")
        transport.abort()
        await asyncio.sleep(0)

    assert corked(close) == [("write", b"last words"), ("close", None)]
    assert corked(abort) == [("abort", None)]


def test_answers_through_a_listener_arrive_whole_and_in_order() -> None:
    """Pipelined requests on one connection: each answer's head and body, in order, nothing lost."""
    with Served(echo_app(Seen())) as served, socket.create_connection(("127.0.0.1", served.port)) as sock:
        request = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        sock.sendall(request * 3)
        answer = b""
        while answer.count(b"\r\n\r\n") < 3 or not answer.endswith(b"3"):
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 3 and answer.count(b"content-length: 1\r\n") == 3
