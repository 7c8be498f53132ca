"""Blob content: literal bytes, or synthetic tar layers of any size produced from a seed.

A synthetic layer is never held in memory: its bytes are a function of (seed, size, compression),
computed chunk by chunk. The file data repeats a pseudo-random block, so steady-state chunks are
the same `bytes` object yielded again (no copy), which is what lets one Python process serve a
1 GiB layer at several GB/s.
"""

from __future__ import annotations

import hashlib
import random
import struct
import tarfile
import zlib
from collections.abc import Iterator
from typing import Protocol

CHUNK = 4 << 20
_TAR_BLOCK = 512
_TAR_TAIL = 2 * _TAR_BLOCK
_MIN_TAR = _TAR_BLOCK + _TAR_TAIL
_MTIME = 1_700_000_000
_STORED_MAX = 65535
_GROUP_BLOCKS = 64
_GROUP_STRIDE = _GROUP_BLOCKS * (5 + _STORED_MAX)
# The period of a layer's file data: a whole number of stored deflate blocks (see GzipLayer).
_PERIOD = _GROUP_BLOCKS * _STORED_MAX
_GZIP_HEADER = b"\x1f\x8b\x08\x00" + struct.pack("<I", _MTIME) + b"\x00\xff"


class Content(Protocol):
    """Random-access, streamable bytes."""

    @property
    def size(self) -> int: ...

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end) in chunks of a few MiB at most (about CHUNK)."""
        ...


class BytesContent:
    def __init__(self, data: bytes) -> None:
        self.data = data

    @property
    def size(self) -> int:
        return len(self.data)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self.size if end is None else end
        for offset in range(start, end, CHUNK):
            yield self.data[offset : min(end, offset + CHUNK)]


class TarLayer:
    """An uncompressed tar holding one regular file of pseudo-random bytes; exactly `size` bytes long.

    Layout: a ustar header, the file data (a multiple of 512), then at least two zero blocks.
    Sizes below 1536 (the smallest valid archive) are raised to 1536.
    """

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self._size = max(size, _MIN_TAR)
        self._data_size = ((self._size - _MIN_TAR) // _TAR_BLOCK) * _TAR_BLOCK
        info = tarfile.TarInfo(f"pullthrough/layer-{seed}.bin")
        info.size, info.mtime, info.mode, info.uname, info.gname = self._data_size, _MTIME, 0o644, "root", "root"
        self._header = info.tobuf(format=tarfile.GNU_FORMAT)
        assert len(self._header) == _TAR_BLOCK
        self._block = random.Random(seed).randbytes(min(_PERIOD, max(self._data_size, 1)))
        self._zeros = bytes(_MIN_TAR)  # the tail after the data is under 1536 bytes

    @property
    def size(self) -> int:
        return self._size

    @property
    def data_size(self) -> int:
        return self._data_size

    @property
    def period(self) -> int:
        """The file data repeats with this period."""
        return len(self._block)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self._size if end is None else min(end, self._size)
        position = start
        data_end = _TAR_BLOCK + self._data_size
        period = len(self._block)
        while position < end:
            if position < _TAR_BLOCK:
                stop = min(end, _TAR_BLOCK)
                yield self._header[position:stop]
            elif position < data_end:
                within = (position - _TAR_BLOCK) % period
                stop = min(end, data_end, position + period - within)
                yield (
                    self._block
                    if (within == 0 and stop - position == period)
                    else self._block[within : within + stop - position]
                )
            else:
                stop = min(end, position + len(self._zeros))
                yield self._zeros[: stop - position]
            position = stop


class GzipLayer:
    """A gzip member wrapping a TarLayer in stored (uncompressed) deflate blocks.

    Valid gzip that any gunzip accepts, computable at any offset without compressing anything.
    The stored blocks come in groups of `_GROUP_BLOCKS`, whose tar bytes span exactly one period of
    the tar's repeating data: every group inside the data (but the first and the last) is the
    same bytes, built once and yielded again, so a large gzip layer streams as fast as a tar.
    """

    def __init__(self, tar: TarLayer, crc32: int) -> None:
        self.tar = tar
        self._blocks = max(1, -(-tar.size // _STORED_MAX))
        self._body = tar.size + 5 * self._blocks
        self._trailer = struct.pack("<II", crc32 & 0xFFFFFFFF, tar.size & 0xFFFFFFFF)
        self._size = len(_GZIP_HEADER) + self._body + len(self._trailer)
        self._steady: bytes | None = None

    @property
    def size(self) -> int:
        return self._size

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self._size if end is None else min(end, self._size)
        header, body_end = len(_GZIP_HEADER), len(_GZIP_HEADER) + self._body
        position = start
        while position < end:
            if position < header:
                stop = min(end, header)
                yield _GZIP_HEADER[position:stop]
            elif position < body_end:
                group = (position - header) // _GROUP_STRIDE
                group_start = header + group * _GROUP_STRIDE
                data = self._group(group)
                low, high = position - group_start, min(len(data), end - group_start)
                yield data if (low == 0 and high == len(data)) else data[low:high]
                stop = group_start + high
            else:
                stop = end
                yield self._trailer[position - body_end : stop - body_end]
            position = stop

    def _group(self, group: int) -> bytes:
        if not self._is_steady(group):
            return self._build_group(group)
        if self._steady is None:
            self._steady = self._build_group(group)
        return self._steady

    def _is_steady(self, group: int) -> bool:
        tar = self.tar
        return (
            group >= 1
            and tar.period == _PERIOD
            and (group + 1) * _PERIOD <= _TAR_BLOCK + tar.data_size
            and (group + 1) * _GROUP_BLOCKS < self._blocks
        )

    def _build_group(self, group: int) -> bytes:
        pieces = []
        for index in range(group * _GROUP_BLOCKS, min((group + 1) * _GROUP_BLOCKS, self._blocks)):
            offset = index * _STORED_MAX
            data = b"".join(self.tar.chunks(offset, offset + _STORED_MAX))
            pieces.append(struct.pack("<BHH", 1 if index == self._blocks - 1 else 0, len(data), 0xFFFF ^ len(data)))
            pieces.append(data)
        return b"".join(pieces)


def synthetic_layer(seed: int, size: int, gzip: bool) -> tuple[Content, str, str]:
    """A synthetic layer with its digest and diff ID (the digest of the uncompressed tar)."""
    tar = TarLayer(seed, size)
    tar_hash = hashlib.sha256()
    crc = 0
    for chunk in tar.chunks():
        tar_hash.update(chunk)
        if gzip:
            crc = zlib.crc32(chunk, crc)
    diff_id = "sha256:" + tar_hash.hexdigest()
    if not gzip:
        return tar, diff_id, diff_id
    layer = GzipLayer(tar, crc)
    gz_hash = hashlib.sha256()
    for chunk in layer.chunks():
        gz_hash.update(chunk)
    return layer, "sha256:" + gz_hash.hexdigest(), diff_id
