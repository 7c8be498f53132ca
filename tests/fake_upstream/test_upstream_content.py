from __future__ import annotations

import gzip
import hashlib
import io
import random
import tarfile
from collections import Counter

import pytest

from fake_upstream._content import BytesContent, Content, TarLayer, synthetic_layer

# Big enough for several repeated gzip groups (about 4 MiB each), small enough to stay fast.
LARGE = 21 << 20


def _whole(layer: Content) -> bytes:
    return b"".join(layer.chunks())


@pytest.mark.parametrize("size", [1536, 1537, 2048, 100_000, 4 << 20])
def test_a_tar_layer_has_exactly_the_size_asked_and_one_file(size: int) -> None:
    layer, digest, diff_id = synthetic_layer(11, size, gzip=False)
    data = _whole(layer)
    assert len(data) == layer.size == size
    assert digest == diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == ["pullthrough/layer-11.bin"]
        assert members[0].isreg() and members[0].size == ((size - 1536) // 512) * 512
        extracted = archive.extractfile(members[0])
        assert extracted is not None and len(extracted.read()) == members[0].size


def test_a_tiny_tar_layer_is_the_smallest_valid_archive() -> None:
    layer = TarLayer(1, 10)
    assert layer.size == 1536
    with tarfile.open(fileobj=io.BytesIO(_whole(layer))) as archive:
        assert archive.getmembers()[0].size == 0


@pytest.mark.parametrize("size", [0, 5000, LARGE])
def test_a_gzip_layer_gunzips_to_its_tar_and_digests_hold(size: int) -> None:
    layer, digest, diff_id = synthetic_layer(5, size, gzip=True)
    data = _whole(layer)
    assert len(data) == layer.size
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    tar = gzip.decompress(data)
    assert tar == _whole(TarLayer(5, size))
    assert diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()


@pytest.mark.parametrize("gzipped", [False, True])
def test_any_byte_range_equals_the_slice_of_the_whole(gzipped: bool) -> None:
    layer, _, _ = synthetic_layer(3, LARGE, gzip=gzipped)
    data = _whole(layer)
    rng = random.Random(42)
    edges = [0, 1, 511, 512, 513, layer.size - 9, layer.size - 1, layer.size]
    ranges = [(a, b) for a in edges for b in edges if a <= b]
    ranges += sorted((rng.randrange(layer.size), rng.randrange(layer.size)) for _ in range(60))
    for start, end in ranges:
        start, end = min(start, end), max(start, end)
        assert b"".join(layer.chunks(start, end)) == data[start:end], (start, end)


def test_layers_are_deterministic_from_the_seed() -> None:
    assert synthetic_layer(9, 70_000, True)[1] == synthetic_layer(9, 70_000, True)[1]
    assert synthetic_layer(9, 70_000, True)[1] != synthetic_layer(10, 70_000, True)[1]
    assert synthetic_layer(9, 70_000, True)[1] != synthetic_layer(9, 70_000, False)[1]


@pytest.mark.parametrize("gzipped", [False, True])
def test_large_layers_stream_by_yielding_the_same_buffer_again(gzipped: bool) -> None:
    """What keeps memory flat and throughput high: the steady-state chunks are one object, not copies."""
    layer, _, _ = synthetic_layer(4, LARGE, gzip=gzipped)
    chunks = list(layer.chunks())
    identities = Counter(id(chunk) for chunk in chunks)
    repeated, count = identities.most_common(1)[0]
    repeated_bytes = sum(len(chunk) for chunk in chunks if id(chunk) == repeated)
    assert count >= 3 and repeated_bytes >= layer.size // 2
    assert max(len(chunk) for chunk in chunks) <= 5 << 20


def test_bytes_content_ranges() -> None:
    content = BytesContent(bytes(range(256)) * 40_000)
    assert content.size == 10_240_000
    assert b"".join(content.chunks()) == content.data
    assert b"".join(content.chunks(100, 9_000_000)) == content.data[100:9_000_000]
    assert list(BytesContent(b"").chunks()) == []
