"""What a client may cost a server: the size of a request's head, and how long it may keep one waiting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Limits on what clients send, enforced on every connection of a Listener.

    `max_head_bytes`: the request line and headers together (64 KiB; Go's registries allow 1 MiB,
    nginx 32 KiB); a longer head is answered 431 and the connection closed, before any of it is parsed
    past the limit. `head_timeout`: seconds a request's head may take to arrive whole, counted from its
    first byte (from the connection's opening, for the first request); then 408 and close, so that
    half-sent requests and one-byte-a-second clients do not hold connections. `body_timeout`: seconds a
    request body may go without a byte while the server waits for it; then the connection closes.
    `keep_alive`: seconds an idle connection is kept between requests.
    """

    max_head_bytes: int = 64 << 10
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive: float = 5.0

    def __post_init__(self) -> None:
        if isinstance(self.max_head_bytes, bool) or not isinstance(self.max_head_bytes, int):
            raise ValueError("max_head_bytes must be an integer")
        if self.max_head_bytes < 1024:
            raise ValueError("max_head_bytes must be at least 1024 (a request line and a few headers)")
        for name in ("head_timeout", "body_timeout", "keep_alive"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds")
