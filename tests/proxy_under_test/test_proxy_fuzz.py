"""Fuzzing the reference proxy (issue 10): paths, names, references, digests, query parameters, headers,
methods and bodies drawn by hypothesis, sent to a proxy in mirror mode and one in project mode, over a
fake upstream that holds (and the proxy has cached) a real image.

Every answer must be clean: never a 500, any other 5xx a gateway or storage error with an OCI body,
every error body (but HEAD's) an OCI error; the proxy logs no traceback; nothing appears on disk outside
its cache. CI draws a few hundred requests (seconds); `PULLTHROUGH_FUZZ_EXAMPLES=5000 pytest -s
tests/proxy_under_test/test_proxy_fuzz.py` draws 5,000 per test, 10,000 in all (docs/reliability.md).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from http_checks import ACCEPT
from hypothesis import HealthCheck, given, settings, strategies as st
from proxy_checks import pull

from fake_upstream import FakeUpstream, Image
from oci_wire import MANIFEST_MEDIA_TYPES, parse_error_body
from proxy_under_test import ProxyConfig, ReferenceProxy

EXAMPLES = int(os.environ.get("PULLTHROUGH_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
GATEWAY = {502, 503, 504, 507}  # the upstream or the disk failed: said cleanly, never a 500
FROM_THE_SERVER = {400, 408, 413, 414, 431}  # the serving layer's own answers to malformed requests
METHODS = ["GET", "GET", "GET", "HEAD", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"]


@dataclass
class World:
    upstream: FakeUpstream
    mirror: ReferenceProxy
    project: ReferenceProxy
    image: Image
    root: Path  # everything this module's proxies may touch is under root / "cache*"
    before: set[str]
    logged: list[logging.LogRecord] = field(default_factory=list)
    sent: int = 0


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "outside").write_text("the proxy must never write here")
    with FakeUpstream() as upstream:
        image = upstream.add_image("team/app", "v1", layers=[2048, 40_000], platforms=["linux/amd64", "linux/arm64"])
        mirror = ReferenceProxy(ProxyConfig(upstream=upstream.url, cache_dir=root / "cache-mirror", upstream_timeout=2))
        config = ProxyConfig(projects={"hub": upstream.url}, cache_dir=root / "cache-project", upstream_timeout=2)
        project = ReferenceProxy(config)
        with mirror, project, httpx.Client(base_url=mirror.url, timeout=10) as client:
            pull(client, image)
            world = World(upstream, mirror, project, image, root, _outside(root))
            handler = _Collect(world.logged)
            loggers = [logging.getLogger(name) for name in ("pullthrough", "uvicorn", "uvicorn.error", "serving")]
            for logger in loggers:
                logger.addHandler(handler)
            try:
                yield world
            finally:
                for logger in loggers:
                    logger.removeHandler(handler)
        print(f"\nfuzzed requests: {world.sent}, none answered 500")  # the figure, with -s


def _outside(root: Path) -> set[str]:
    """Every path under the module's directory and its parent, but the proxies' caches."""
    found = set()
    for base in (root.parent,):
        for directory, subdirs, files in os.walk(base):
            subdirs[:] = [d for d in subdirs if not (Path(directory) == root and d.startswith("cache"))]
            found.update(os.path.join(directory, name) for name in [*subdirs, *files])
    return found


# ---- what is drawn ----------------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_HEX = st.text("0123456789abcdefABCDEF", min_size=0, max_size=130)
_SEGMENT = st.one_of(
    st.sampled_from(["team", "app", "library", "a", "..", ".", "%2e%2e", "%2F", "_blobs", "_tags", "_manifests"]),
    st.sampled_from(["UPPER", "a..b", "a__b", "-a", "a-", "x" * 300, "", "hub", "tmp", "blobs", "manifests"]),
    _TEXT,
)
_ALGORITHM = st.sampled_from(["sha256", "sha512", "SHA256", "md5", "sha256+b64", "", "sha256:sha256"])


def _references(image: Image) -> st.SearchStrategy[str]:
    known = [image.digest, *image.manifests, *image.blobs, "v1", "latest"]
    return st.one_of(
        st.sampled_from(known),
        st.builds(lambda a, h: f"{a}:{h}", _ALGORITHM, _HEX),
        st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,130}", fullmatch=True),
        _TEXT,
    )


@st.composite
def _requests(draw: st.DrawFn, image: Image) -> tuple[str, str, dict[str, str], dict[str, str], bytes]:
    """(method, path, query, headers, body)."""
    repository = draw(
        st.one_of(
            st.sampled_from(["team/app", "hub/team/app", "team/none", "hub", "hub/../team/app"]),
            st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join),
        )
    )
    reference = draw(_references(image))
    tail = draw(
        st.sampled_from(
            [
                f"manifests/{reference}",
                f"blobs/{reference}",
                "tags/list",
                "blobs/uploads/",
                f"blobs/uploads/{reference}",
                f"referrers/{reference}",
                reference,
            ]
        )
    )
    path = draw(st.sampled_from([f"/v2/{repository}/{tail}", "/v2/_catalog", "/v2/", f"/{tail}", f"/v2/{tail}"]))
    query = draw(
        st.dictionaries(
            st.sampled_from(["n", "last", "digest", "mount", "from", "x"]),
            st.one_of(_TEXT, st.integers(-(10**6), 10**6).map(str), st.just("9" * 5000), st.just("\u00b2")),
            max_size=3,
        )
    )
    headers = draw(
        st.dictionaries(
            st.sampled_from(["range", "accept", "authorization", "content-type", "content-range", "x-fuzz"]),
            st.one_of(
                st.sampled_from([*MANIFEST_MEDIA_TYPES, "*/*", "bytes=0-1", "bytes=-1", "bytes=5-2", "bytes=0-"]),
                st.builds(lambda a, b: f"bytes={a}-{b}", st.integers(-5, 10**9), st.integers(-5, 10**9)),
                st.just(f"bytes={'9' * 4301}-"),
                st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60),
            ),
            max_size=3,
        )
    )
    method = draw(st.sampled_from(METHODS))
    body = draw(st.binary(max_size=300)) if method not in ("GET", "HEAD") else b""
    return method, path, query, headers, body


# ---- the properties ---------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_no_request_gets_a_500_or_a_traceback_or_writes_outside_the_cache(world: World, data: st.DataObject) -> None:
    method, path, query, headers, body = data.draw(_requests(world.image))
    proxy = data.draw(st.sampled_from([world.mirror, world.project]))
    target = quote(path, safe="/%:@+=,;~!$&'()*") + ("?" + _query(query) if query else "")
    world.logged.clear()
    status, answer_headers, answer = _send(proxy.url, method, target, headers, body)
    world.sent += 1
    _check(world, method, f"{method} {target}", status, answer_headers, answer)


@FUZZ
@given(data=st.data())
def test_raw_request_targets_are_answered_cleanly(world: World, data: st.DataObject) -> None:
    """Targets no client would send (dot segments, encoded slashes, bytes over 0x7f): as they are."""
    segments = data.draw(st.lists(_SEGMENT, min_size=1, max_size=6))
    raw = "/v2/" + "/".join(segments)
    target = "".join(c if 0x21 <= ord(c) < 0x7F else quote(c) for c in raw)
    method = data.draw(st.sampled_from(["GET", "HEAD", "DELETE"]))
    world.logged.clear()
    status, answer_headers, answer = _send(world.mirror.url, method, target, {"accept": ACCEPT["Accept"]}, b"")
    world.sent += 1
    _check(world, method, f"{method} {target}", status, answer_headers, answer)


def _check(world: World, method: str, what: str, status: int, headers: dict[str, str], body: bytes) -> None:
    assert status != 500, f"{what}: 500 {body[:300]!r}"
    assert status < 500 or status in GATEWAY, f"{what}: {status}"
    if status >= 400 and method != "HEAD" and status not in FROM_THE_SERVER:
        assert headers.get("content-type", "").startswith("application/json"), f"{what}: {status} {headers}"
        assert parse_error_body(body) is not None, f"{what}: {status} {body[:300]!r}"
    tracebacks = [r for r in world.logged if r.exc_info or "unexpected error" in r.getMessage()]
    assert not tracebacks, f"{what}: logged {tracebacks[0].getMessage()}"
    assert _outside(world.root) == world.before, f"{what}: wrote outside the cache"


def _query(query: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items())


def _send(
    url: str, method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """One request exactly as given, on a connection of its own; the answer read to the end."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("PUT", "POST", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection((parts.hostname, parts.port), timeout=15) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while chunk := sock.recv(1 << 16):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    if fields.get("transfer-encoding", "").lower() == "chunked":
        rest = _dechunk(rest)
    return int(status_line.split()[1]), fields, rest


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out
