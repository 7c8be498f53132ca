"""The spool: every byte fed lands in the file in order, hashed; recent bytes are readable from memory."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from proxy_under_test._spool import BATCH, WINDOW, DirectWriter, Spool


@pytest.mark.parametrize("directory", ["tmp", "/dev/shm"])
def test_the_direct_writer_writes_any_sizes_in_order(tmp_path: Path, directory: str) -> None:
    base = tmp_path if directory == "tmp" else Path(directory)
    path = base / f"direct-{os.getpid()}-{random.random()}"
    data = random.Random(1).randbytes(3 * BATCH + 12345)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        writer = DirectWriter(str(path), fd)
        sizes = [1, 4095, 4097, BATCH, 7, BATCH + 4096, 65536]
        offset = 0
        for size in sizes:
            reported = writer.write(data[offset : offset + size])
            offset += size
            assert reported <= offset and reported % 4096 == 0 or reported == offset
        writer.write(data[offset:])
        assert writer.finish() == len(data)
        assert path.read_bytes() == data
    finally:
        os.close(fd)
        path.unlink()


def test_the_spool_hashes_writes_and_windows(tmp_path: Path) -> None:
    data = random.Random(2).randbytes(WINDOW + 5 * BATCH + 999)
    path = tmp_path / "blob"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    changes: list[int] = []

    async def run() -> Spool:
        with ThreadPoolExecutor(1) as hashing, ThreadPoolExecutor(1) as writing:
            hasher = hashlib.sha256()
            spool = Spool(fd, str(path), hasher, hashing, writing, lambda: changes.append(spool.received))
            for start in range(0, len(data), 100_000):
                await spool.feed(data[start : start + 100_000])
            await spool.close()
            return spool

    try:
        spool = asyncio.run(run())
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    assert spool.hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert spool.received == spool.written == len(data)
    assert changes and changes[-1] == len(data)
    tail = len(data) - 10
    assert spool.piece(tail, len(data)) == data[tail:]
    assert spool.piece(0, len(data)) is None  # long gone from memory: readers read the file


def test_a_failed_write_is_raised_at_close() -> None:
    fd = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC, as on a full disk

    async def run() -> None:
        with ThreadPoolExecutor(1) as hashing, ThreadPoolExecutor(1) as writing:
            spool = Spool(fd, "/dev/full", hashlib.sha256(), hashing, writing, lambda: None)
            for _ in range(3):
                await spool.feed(bytes(BATCH))
            await spool.close()

    try:
        with pytest.raises(OSError, match="No space left"):
            asyncio.run(run())
    finally:
        os.close(fd)


def test_a_failed_direct_write_leaves_the_writer_closable(tmp_path: Path) -> None:
    """The failed write's traceback held memoryviews of the staging buffer: close() raised BufferError,
    and a full disk became 'the proxy failed while fetching' (502) instead of a clean storage error."""
    path = tmp_path / "blob"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    writer = DirectWriter(str(path), fd)
    if writer._direct is None:
        pytest.skip(f"{tmp_path} does not take O_DIRECT")
    os.close(writer._direct)
    writer._direct = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC
    try:
        with pytest.raises(OSError, match="No space left") as failed:  # held, as the spool holds its error
            writer.write(bytes(BATCH + 4096))
        writer.close()
        assert failed.value.errno == errno.ENOSPC
    finally:
        os.close(fd)
