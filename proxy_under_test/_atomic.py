"""Files that appear whole or not at all: temp file, fsync, rename, fsync the directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def make_dirs(path: Path) -> None:
    """Create `path` and its missing parents, each made durable in its own parent."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            continue
        fsync_dir(directory.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(temp: Path, final: Path) -> None:
    """Rename a complete, fsynced temp file into place."""
    make_dirs(final.parent)
    os.replace(temp, final)
    fsync_dir(final.parent)


def write_file(final: Path, data: bytes, temp_dir: Path, *, atomic: bool = True) -> None:
    if not atomic:  # the `no-atomic-write` defect: a crash mid-write leaves a torn file in place
        make_dirs(final.parent)
        with open(final, "wb") as out:
            out.write(data)
        return
    fd, name = tempfile.mkstemp(dir=temp_dir, prefix="meta-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        publish(Path(name), final)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def remove_file(final: Path) -> bool:
    try:
        final.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(final.parent)
    return True
