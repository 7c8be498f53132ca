"""The on-disk cache: content-addressed bytes, and per-repository tags and links.

    blobs/sha256/ab/<hex>                         content (blobs and manifests), verified before it lands
    repositories/<name>/_manifests/sha256/<hex>   "obtained through <name>", holding the media type
    repositories/<name>/_blobs/sha256/<hex>       "obtained through <name>" (SEC-ISOLATION)
    repositories/<name>/_tags/<tag>               {"digest", "mediaType"}
    tmp/                                          files being written; emptied at start

Repository components never start with "_", so the link directories cannot collide with a name.
Every path is built from validated parts and checked again here, so no request can leave the root.
All methods block (they fsync): call them from a worker thread on the serving path.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from oci_wire import INDEX_MEDIA_TYPES
from proxy_under_test._atomic import make_dirs, publish, remove_file, write_file
from proxy_under_test._memo import BoundedMemo

_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$")
_HEX = re.compile(r"^[a-f0-9]{64}$|^[a-f0-9]{128}$")
_ALGORITHMS = ("sha256", "sha512")
MANIFEST_MEMORY = 32 << 20  # bytes of manifests kept in memory by default; the rest are read from disk
_OVERHEAD = 256  # what a remembered manifest costs besides its body
_SIZES_LIMIT = 16384  # blob sizes remembered from manifests (about 2 MiB)
_CHECKED_LIMIT = 4096  # repository names whose directory was checked to be inside the cache


class UnsafePath(ValueError):
    """A name or digest that would make a path outside the cache; validation upstream of here failed."""


class CacheLocked(RuntimeError):
    """Another proxy process is using this cache directory."""


@dataclass(frozen=True, slots=True)
class StoredManifest:
    digest: str
    media_type: str
    body: bytes


class Cache:
    def __init__(self, root: Path, *, atomic: bool = True, manifest_memory: int = MANIFEST_MEMORY) -> None:
        self.root = root
        self.atomic = atomic
        self.temp_dir = root / "tmp"
        self._lock_fd: int | None = None
        self._manifests: BoundedMemo[tuple[str, str], StoredManifest] = BoundedMemo(
            manifest_memory, lambda manifest: len(manifest.body) + _OVERHEAD
        )
        # blob digest -> size, as verified manifests declare them (an int each: bounded by count)
        self._sizes: BoundedMemo[str, int] = BoundedMemo(_SIZES_LIMIT, lambda _: 1)
        # repository name -> its checked directory: resolving a path costs a system call per component,
        # twice (profiled: most of a manifest read from disk); a name is checked once (bounded by count)
        self._checked: BoundedMemo[str, str] = BoundedMemo(_CHECKED_LIMIT, lambda _: 1)
        self._real_root: Path | None = None

    # ---- lifecycle ------------------------------------------------------------------------------

    def open(self) -> None:
        """Create the layout, take the directory's lock, and drop what a crash left half-written."""
        make_dirs(self.root)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise CacheLocked(f"{self.root} is in use by another proxy") from None
        self._lock_fd = fd
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        for directory in (self.temp_dir, self.root / "blobs", self.root / "repositories"):
            make_dirs(directory)

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # ---- content --------------------------------------------------------------------------------

    def content_path(self, digest: str) -> Path:
        algorithm, hex_part = _split_digest(digest)
        return self.root / "blobs" / algorithm / hex_part[:2] / hex_part

    def content_size(self, digest: str) -> int | None:
        try:
            return self.content_path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def new_temp(self, digest: str) -> tuple[int, Path]:
        """A temp file for a blob being fetched (or, with `no-atomic-write`, its final path)."""
        if not self.atomic:
            final = self.content_path(digest)
            make_dirs(final.parent)
            return os.open(final, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644), final
        _split_digest(digest)
        fd, name = tempfile.mkstemp(dir=self.temp_dir, prefix="blob-")
        return fd, Path(name)

    def commit(self, temp: Path, digest: str) -> None:
        """Move a verified, fsynced temp file into place."""
        final = self.content_path(digest)
        if temp != final:
            publish(temp, final)

    def discard(self, temp: Path) -> None:
        temp.unlink(missing_ok=True)

    def free_space(self) -> int | None:
        """Bytes an unprivileged writer may still use on the cache's file system."""
        try:
            stats = os.statvfs(self.temp_dir)
        except OSError:
            return None
        return stats.f_bavail * stats.f_frsize

    def declared_size(self, digest: str) -> int | None:
        """The blob's size as a manifest cached here declares it (a verified manifest: a size to trust,
        where an upstream's Content-Length is only a claim); None if no manifest seen lately names it."""
        return self._sizes.get(digest)

    # ---- links ----------------------------------------------------------------------------------

    def blob_linked(self, name: str, digest: str) -> bool:
        return self._link(name, "_blobs", digest).exists() and self.content_size(digest) is not None

    def link_blob(self, name: str, digest: str) -> None:
        link = self._link(name, "_blobs", digest)
        if not link.exists():
            write_file(link, b"", self.temp_dir, atomic=self.atomic)

    def linked_manifests(self, name: str) -> list[str]:
        return self._linked(name, "_manifests")

    def linked_blobs(self, name: str) -> list[str]:
        return self._linked(name, "_blobs")

    def _linked(self, name: str, kind: str) -> list[str]:
        directory = self._repository(name) / kind
        found = []
        for algorithm in _ALGORITHMS:
            folder = directory / algorithm
            if folder.is_dir():
                found += [f"{algorithm}:{entry.name}" for entry in folder.iterdir() if _HEX.match(entry.name)]
        return found

    # ---- manifests ------------------------------------------------------------------------------

    def remembered(self, name: str, digest: str) -> StoredManifest | None:
        """The manifest if it was obtained through `name` and is in memory (never touches the disk)."""
        return self._manifests.get((name, digest))

    def manifest(self, name: str, digest: str) -> StoredManifest | None:
        """The manifest if it was obtained through `name`: from memory, else from disk."""
        key = (name, digest)
        found = self._manifests.get(key)
        if found is not None:
            return found
        algorithm, hex_part = _split_digest(digest)
        try:
            with open(f"{self._repository_dir(name)}/_manifests/{algorithm}/{hex_part}", "rb") as link:
                media_type = link.read().decode()
            with open(f"{self.root}/blobs/{algorithm}/{hex_part[:2]}/{hex_part}", "rb") as content:  # content_path
                body = content.read()
        except FileNotFoundError:
            return None
        found = StoredManifest(digest, media_type, body)
        self._remember(key, found)
        return found

    def content_manifest(self, digest: str, media_type: str) -> StoredManifest | None:
        """Manifest bytes cached through any repository (for SEC-ISOLATION checks)."""
        try:
            return StoredManifest(digest, media_type, self.content_path(digest).read_bytes())
        except FileNotFoundError:
            return None

    def put_manifest(self, name: str, manifest: StoredManifest) -> None:
        """Store verified manifest bytes and link them to `name`."""
        final = self.content_path(manifest.digest)
        if not final.exists():
            write_file(final, manifest.body, self.temp_dir, atomic=self.atomic)
        link = self._link(name, "_manifests", manifest.digest)
        if not link.exists():
            write_file(link, manifest.media_type.encode(), self.temp_dir, atomic=self.atomic)
        self._remember((name, manifest.digest), manifest)

    # ---- tags -----------------------------------------------------------------------------------

    def tag(self, name: str, tag: str) -> tuple[str, str] | None:
        """(digest, media type) the cached tag points at; None if it does not, or the record is torn."""
        try:
            record = json.loads(self._tag_path(name, tag).read_bytes())
            return str(record["digest"]), str(record["mediaType"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def set_tag(self, name: str, tag: str, digest: str, media_type: str) -> None:
        record = json.dumps({"digest": digest, "mediaType": media_type}).encode()
        write_file(self._tag_path(name, tag), record, self.temp_dir, atomic=self.atomic)

    def delete_tag(self, name: str, tag: str) -> None:
        remove_file(self._tag_path(name, tag))

    def tags(self, name: str) -> list[str] | None:
        """The cached tags of `name`; None when nothing of it was ever cached."""
        repository = self._repository(name)
        if not repository.is_dir():
            return None
        folder = repository / "_tags"
        return sorted(entry.name for entry in folder.iterdir() if _PART.match(entry.name)) if folder.is_dir() else []

    def repositories(self) -> list[str]:
        root = self.root / "repositories"
        found = []
        for directory, subdirs, _ in os.walk(root):
            if any(sub.startswith("_") for sub in subdirs):
                found.append(os.path.relpath(directory, root).replace(os.sep, "/"))
            subdirs[:] = [sub for sub in subdirs if not sub.startswith("_")]
        return sorted(found)

    # ---- checking -------------------------------------------------------------------------------

    def verify(self) -> list[str]:
        """Paths of content files whose bytes do not hash to their name (should always be empty)."""
        bad = []
        for algorithm in _ALGORITHMS:
            for path in sorted((self.root / "blobs" / algorithm).glob("*/*")):
                hasher = hashlib.new(algorithm)
                with open(path, "rb") as content:
                    while chunk := content.read(4 << 20):
                        hasher.update(chunk)
                if hasher.hexdigest() != path.name:
                    bad.append(str(path))
        return bad

    # ---- paths ----------------------------------------------------------------------------------

    def _repository(self, name: str) -> Path:
        return Path(self._repository_dir(name))

    def _repository_dir(self, name: str) -> str:
        checked = self._checked.get(name)
        if checked is not None:
            return checked
        parts = name.split("/")
        for part in parts:
            if not _PART.match(part) or part.startswith("_"):
                raise UnsafePath(f"unsafe repository name {name[:100]!r}")
        path = self.root.joinpath("repositories", *parts)
        if self._real_root is None:
            self._real_root = self.root.resolve()
        if not path.resolve().is_relative_to(self._real_root):
            raise UnsafePath(f"unsafe repository name {name[:100]!r}")
        self._checked.put(name, str(path))
        return str(path)

    def _link(self, name: str, kind: str, digest: str) -> Path:
        algorithm, hex_part = _split_digest(digest)
        return self._repository(name) / kind / algorithm / hex_part

    def _tag_path(self, name: str, tag: str) -> Path:
        if not _PART.match(tag):
            raise UnsafePath(f"unsafe tag {tag[:100]!r}")
        return self._repository(name) / "_tags" / tag

    def _remember(self, key: tuple[str, str], manifest: StoredManifest) -> None:
        self._manifests.put(key, manifest)
        if manifest.media_type in INDEX_MEDIA_TYPES:  # no blobs of its own: not worth parsing
            return
        for digest, size in _descriptors(manifest.body):
            self._sizes.put(digest, size)


def _split_digest(digest: str) -> tuple[str, str]:
    algorithm, _, hex_part = digest.partition(":")
    if algorithm not in _ALGORITHMS or not _HEX.match(hex_part):
        raise UnsafePath(f"unsafe digest {digest[:100]!r}")
    return algorithm, hex_part


def _descriptors(body: bytes) -> list[tuple[str, int]]:
    """(digest, size) of an image manifest's config and layers; nothing for an index or a bad body."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(document, dict):
        return []
    layers = document.get("layers")
    entries = [document.get("config"), *(layers if isinstance(layers, list) else [])]
    found = []
    for entry in entries:
        if isinstance(entry, dict):
            digest, size = entry.get("digest"), entry.get("size")
            if isinstance(digest, str) and type(size) is int and size >= 0:
                found.append((digest, size))
    return found
