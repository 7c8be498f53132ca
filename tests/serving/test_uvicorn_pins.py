"""Pins on uvicorn's private API, which serving/_uvicorn.py alone uses: an upgrade that moves any of it fails
here, by name, instead of breaking a server somewhere at run time."""

from __future__ import annotations

import inspect

import uvicorn
from serving_helpers import Seen, Served, echo_app, get
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from harness.poll import wait_until
from serving import Connections, Limits
from serving._uvicorn import HttpProtocols, _Protocol

# The hooks _Protocol overrides, with the parameters it passes on.
HOOKS = {
    "__init__": ["self", "config", "server_state", "app_state", "_loop"],
    "connection_made": ["self", "transport"],
    "connection_lost": ["self", "exc"],
    "data_received": ["self", "data"],
    "on_message_begin": ["self"],
    "on_headers_complete": ["self"],
    "on_message_complete": ["self"],
}


def test_the_protocol_hooks_we_override_are_there() -> None:
    for name, parameters in HOOKS.items():
        assert list(inspect.signature(getattr(HttpToolsProtocol, name)).parameters) == parameters, name
        assert name in vars(_Protocol), f"_Protocol no longer overrides {name}"


def test_the_server_state_has_what_the_protocol_and_the_listener_use() -> None:
    state = ServerState()
    assert isinstance(state.tasks, set) and isinstance(state.connections, set)
    assert isinstance(state.default_headers, list) and state.total_requests == 0


def test_the_config_takes_our_options() -> None:
    async def app(scope: object, receive: object, send: object) -> None: ...

    made = HttpProtocols(app, server_header="x", limits=Limits(keep_alive=7.0), connections=Connections())  # type: ignore[arg-type]
    assert made.config.loaded and made.config.timeout_keep_alive == 7.0
    assert made.state.default_headers == [(b"server", b"x")]
    assert {"timeout_keep_alive", "http", "lifespan"} <= set(inspect.signature(uvicorn.Config).parameters)


def test_a_live_connection_has_the_attributes_the_limits_read() -> None:
    """The request cycle's and flow control's flags, read on a real connection mid-request."""
    assert "expect_100_continue" in inspect.signature(RequestResponseCycle).parameters
    with Served(echo_app(Seen(), delay=1.0)) as served, served.connect() as sock:
        sock.sendall(get("/?sleep"))
        assert served.listener is not None
        protocols = served.listener._http.state.connections
        wait_until(
            lambda: protocols and next(iter(protocols)).cycle is not None,  # type: ignore[attr-defined]
            timeout=5,
            what="the request cycle",
        )
        protocol = next(iter(protocols))
        assert isinstance(protocol, _Protocol)
        for name in ("loop", "logger", "parser", "transport", "client", "flow", "cycle"):
            assert hasattr(protocol, name), name
        assert isinstance(protocol.flow, FlowControl) and protocol.flow.read_paused is False
        assert protocol.cycle.response_complete is False and protocol.cycle.waiting_for_100_continue is False
        assert callable(protocol.loop.call_later) and protocol.client is not None
