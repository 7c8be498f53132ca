"""The registry port fuzzed (hypothesis): any path, name, reference, digest, query, header and body.

Whatever comes, the answer is no 5xx, an error is a clean one (an OCI error body), nothing is logged
as an exception, nothing is stored under a name that is not a repository's, and nothing is written
to disk. Bounded for CI: PULLTHROUGH_FUZZ_EXAMPLES (default 300) requests; docs/reliability.md has
the long run's command and figures.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fake_upstream import FakeUpstream, Image, Match
from oci_wire import parse_error_body, valid_repository

EXAMPLES = int(os.environ.get("PULLTHROUGH_FUZZ_EXAMPLES", "300"))
HUGE = "9" * 4301

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
_hex = st.text("0123456789abcdef", min_size=0, max_size=70)
digests = st.one_of(
    st.builds("sha256:{}".format, _hex),
    st.builds("{}:{}".format, st.sampled_from(["sha512", "SHA256", "md5", "", "sha256+b64"]), _hex),
    _text,
)
names = st.one_of(
    st.sampled_from(["team/app", "library/alpine", "a", "a/b/c/d", "../etc", "team/../app", "_catalog", "Team/App"]),
    _text,
)
references = st.one_of(st.sampled_from(["v1", "latest", "..", "%2e%2e", HUGE]), digests, _text)
numbers = st.one_of(st.integers(-5, 20_000).map(str), st.sampled_from([HUGE, "²", "0x10", "1e3", ""]))
ENDPOINTS = [
    "/v2/{name}/manifests/{ref}",
    "/v2/{name}/blobs/{ref}",
    "/v2/{name}/tags/list",
    "/v2/{name}/referrers/{ref}",
    "/v2/{name}/blobs/uploads/",
    "/v2/{name}/blobs/uploads/{ref}",
    "/v2/_catalog",
    "/v2/",
    "/token",
    "/{name}",
]
queries = st.dictionaries(
    st.sampled_from(["n", "last", "digest", "mount", "from", "artifactType", "scope", "service", "x"]),
    st.one_of(numbers, digests, references, _text),
    max_size=4,
)
_header_value = st.one_of(
    st.sampled_from(
        [
            f"bytes={HUGE}-",
            "bytes=0-",
            "bytes=-5",
            "bytes=5-1",
            f"0-{HUGE}",
            "Basic !!!",
            "Basic " + "YWxpY2U6w6k=",
            "Bearer x",
            "application/json",
            "application/vnd.oci.image.manifest.v1+json",
            "*/*",
            "100-continue",
        ]
    ),
    st.binary(max_size=60).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")),
)
headers = st.dictionaries(
    st.sampled_from(["Range", "Content-Range", "Accept", "Authorization", "Content-Type", "User-Agent", "X-Any"]),
    _header_value,
    max_size=4,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=2048),
    st.sampled_from([b"{}", b'{"schemaVersion": 2}', b"[" * 2000, b'{"mediaType": 1, "layers": "x"}']),
)
requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        "endpoint": st.sampled_from(ENDPOINTS),
        "name": names,
        "reference": references,
        "query": queries,
        "headers": headers,
        "body": bodies,
    }
)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeUpstream, Image, Path]]:
    here = Path.cwd()
    workdir = tmp_path_factory.mktemp("cwd")
    os.chdir(workdir)  # anything written to a relative path would land here
    try:
        with FakeUpstream(auth="basic", users={"alice": "secret"}) as upstream:
            yield upstream, upstream.add_image("team/app", "v1", layers=[3000]), workdir
    finally:
        os.chdir(here)


def _target(request: dict[str, object], image: Image) -> bytes:
    name = quote(str(request["name"]), safe="/")
    reference = quote(str(request["reference"]), safe=":")
    path = str(request["endpoint"]).format(name=name, ref=reference)
    query = "&".join(f"{quote(key)}={quote(str(value), safe='')}" for key, value in dict(request["query"]).items())  # type: ignore[call-overload]
    return (path + (f"?{query}" if query else "")).encode()


def _exchange(port: int, method: str, target: bytes, fields: dict[str, str], body: bytes) -> tuple[int, bytes, bytes]:
    lines = [f"{method} ".encode() + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [f"{name}: ".encode() + value.encode("latin-1") for name, value in fields.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}".encode())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, answer = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, answer


def test_any_request_gets_a_clean_answer(registry: tuple[FakeUpstream, Image, Path]) -> None:
    upstream, image, workdir = registry
    errors = _Errors()
    logging.getLogger("fake_upstream").addHandler(errors)
    statuses: Counter[int] = Counter()
    fault = upstream.add_fault("wrong-length", Match(kind="manifest", repository="library/*"), delta=-3)
    try:

        @given(request=requests, authorized=st.booleans())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(request: dict[str, object], authorized: bool) -> None:
            fields = dict(request["headers"])  # type: ignore[call-overload]
            if authorized:
                fields["Authorization"] = "Basic YWxpY2U6c2VjcmV0"
            method = str(request["method"])
            status, head, body = _exchange(upstream.port, method, _target(request, image), fields, request["body"])  # type: ignore[arg-type]
            statuses[status] += 1
            assert status < 500, (status, head, body[:300])
            if status >= 400 and method != "HEAD" and b"Invalid HTTP request" not in body:
                assert parse_error_body(body) is not None, (status, head, body[:300])
            assert not errors.records, errors.records[0].getMessage()
            assert all(valid_repository(name) for name in upstream.inventory()["repositories"])

        check()
    finally:
        logging.getLogger("fake_upstream").removeHandler(errors)
        upstream.clear_faults(fault)
    assert list(workdir.iterdir()) == []  # nothing written to disk
    print(f"registry fuzz: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= min(EXAMPLES, 100)
