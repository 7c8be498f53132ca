"""The HTTP serving layer the fake upstream and the reference proxy share.

A `Listener` serves an ASGI application with uvicorn's HTTP/1.1 protocol under `Limits` (request-head
size and time, body idle time, keep-alive), keeps its `Connections` by client address so that a request
can reset, close or flush its own, and can stop listening without letting go of its port. A
`ServerThread` runs a server in a thread and loop of its own. `OciError` is the clean error answer
both servers give. uvicorn's private API is touched in `serving/_uvicorn.py` only.
"""

from serving._connections import Connections, Peer, as_peer, reset_transport
from serving._errors import API_VERSION, OciError
from serving._limits import Limits
from serving._listener import Listener, bind
from serving._runner import ServerThread, new_loop

__all__ = [
    "API_VERSION",
    "Connections",
    "Limits",
    "Listener",
    "OciError",
    "Peer",
    "ServerThread",
    "as_peer",
    "bind",
    "new_loop",
    "reset_transport",
]
