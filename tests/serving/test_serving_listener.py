"""The Listener: ports, pausing without letting go, connections by client address, draining."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from serving_helpers import Seen, Served, echo_app, get, read_all
from starlette.types import Receive, Scope, Send

from serving import Connections, Listener, as_peer, bind


def test_it_serves_and_names_itself() -> None:
    with Served(echo_app(Seen())) as served:
        response = httpx.get(f"http://127.0.0.1:{served.port}/x", timeout=5)
    assert response.status_code == 200 and response.headers["server"] == "test" and "date" not in response.headers


def test_paused_it_refuses_connections_on_the_same_port() -> None:
    with Served(echo_app(Seen())) as served:
        listener = served.listener
        assert listener is not None and listener.listening
        port = served.port

        async def pause() -> None:
            await listener.pause()

        async def resume() -> None:
            await listener.resume()

        served.call(pause)
        assert not listener.listening
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", port))  # still ours
        served.call(resume)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200


def test_a_taken_port_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            bind("127.0.0.1", port)


def _held_app(connections: list[Connections], action: str) -> object:
    """Sends 10 bytes of a 100-byte body, then does `action` to its own connection."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope["client"]
        control = connections[0]
        assert not control.is_closing(peer)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        await send({"type": "http.response.body", "body": b"0123456789", "more_body": True})
        if action == "reset":
            await control.flush(peer)
            control.reset(peer)
        else:
            control.close(peer)
        assert control.is_closing(peer)

    return app


@pytest.mark.parametrize("action", ["reset", "close"])
def test_a_request_can_break_its_own_connection(action: str) -> None:
    connections: list[Connections] = []
    served = Served(_held_app(connections, action))  # type: ignore[arg-type]
    with served:
        assert served.listener is not None
        connections.append(served.listener.connections)
        with served.connect() as sock:
            sock.sendall(get())
            data, ended = read_all(sock)
    assert data.endswith(b"\r\n\r\n0123456789") and ended == action
    assert len(connections[0]) == 0


def test_connections_unknown_are_closing_and_left_alone() -> None:
    connections = Connections()
    assert connections.is_closing(["127.0.0.1", 1]) and len(connections) == 0
    connections.reset(("127.0.0.1", 1))
    connections.close(None)
    assert as_peer(["::1", "80"]) == ("::1", 80) and as_peer(None) == ("", 0)


def test_drain_gives_running_requests_a_grace_then_cancels_them() -> None:
    finished: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(0.2 if scope["path"] == "/quick" else 60)
            finished.append(scope["path"])
        except asyncio.CancelledError:
            finished.append(f"cancelled {scope['path']}")
            raise

    async def run() -> None:
        listener = Listener(app, "127.0.0.1", 0, server_header="test")
        await listener.start()
        loop = asyncio.get_running_loop()
        clients = [loop.run_in_executor(None, _send_and_wait, listener.port, path) for path in ("/quick", "/forever")]
        async with asyncio.timeout(10):
            while len(listener._http.tasks) < 2:  # both requests running: polled, with a deadline
                await asyncio.sleep(0.01)
        await listener.drain(1.0)
        await listener.close()
        await asyncio.gather(*clients)

    asyncio.run(run())
    assert sorted(finished) == ["/quick", "cancelled /forever"]


def _send_and_wait(port: int, path: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(get(path))
        read_all(sock)
