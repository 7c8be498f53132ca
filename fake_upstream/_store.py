"""What the registry holds: repositories, tags, manifests, blobs and uploads. Thread-safe."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from fake_upstream._content import BytesContent, Content
from fake_upstream._errors import RegistryError
from fake_upstream._images import Blob, BuiltImage, Manifest
from oci_wire import (
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    DigestError,
    ErrorCode,
    is_digest_reference,
    parse_digest,
    valid_repository,
    valid_tag,
)

MAX_MANIFEST = 4 << 20


@dataclass
class _Repository:
    tags: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, Manifest] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)


@dataclass
class Upload:
    repository: str
    data: bytearray = field(default_factory=bytearray)


class Store:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._blobs: dict[str, Blob] = {}
        self._repositories: dict[str, _Repository] = {}
        self._uploads: dict[str, Upload] = {}

    def reset(self) -> None:
        with self._lock:
            self._blobs.clear()
            self._repositories.clear()
            self._uploads.clear()

    # ---- images -----------------------------------------------------------------------------

    def add_image(self, repository: str, tag: str | None, image: BuiltImage) -> None:
        check_repository(repository)
        if tag is not None:
            check_tag(tag)
        with self._lock:
            repo = self._repositories.setdefault(repository, _Repository())
            for blob in image.blobs:
                self._blobs.setdefault(blob.digest, blob)
                repo.blobs.add(blob.digest)
            for manifest in image.manifests:
                repo.manifests[manifest.digest] = manifest
            if tag is not None:
                repo.tags[tag] = image.top.digest

    # ---- manifests --------------------------------------------------------------------------

    def manifest(self, repository: str, reference: str) -> Manifest:
        if is_digest_reference(reference):
            check_digest(reference)
        with self._lock:
            repo = self._repository(repository)
            digest = reference if is_digest_reference(reference) else repo.tags.get(reference)
            manifest = repo.manifests.get(digest) if digest else None
        if manifest is None:
            raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown", detail={"Reference": reference})
        return manifest

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> Manifest:
        check_repository(repository)
        if len(body) > MAX_MANIFEST:
            raise RegistryError(ErrorCode.SIZE_INVALID, "manifest exceeds 4 MiB", status=413)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if is_digest_reference(reference):
            if check_digest(reference).algorithm != "sha256" or reference != digest:
                raise RegistryError(ErrorCode.DIGEST_INVALID, "digest does not match the manifest")
        else:
            check_tag(reference)
        document = _parse_manifest(body, media_type)
        with self._lock:
            repo = self._repositories.setdefault(repository, _Repository())
            for child in _references(document, media_type):
                known = child in repo.manifests if media_type in INDEX_MEDIA_TYPES else child in repo.blobs
                if not known:
                    raise RegistryError(ErrorCode.MANIFEST_BLOB_UNKNOWN, f"unknown reference {child}")
            manifest = Manifest(digest, media_type, body)
            repo.manifests[digest] = manifest
            if not is_digest_reference(reference):
                repo.tags[reference] = digest
        return manifest

    def delete_manifest(self, repository: str, reference: str) -> None:
        with self._lock:
            repo = self._repository(repository)
            if is_digest_reference(reference):
                check_digest(reference)
                if repo.manifests.pop(reference, None) is None:
                    raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown")
                for tag in [t for t, d in repo.tags.items() if d == reference]:
                    del repo.tags[tag]
            elif repo.tags.pop(reference, None) is None:
                raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, "tag unknown", detail={"Tag": reference})

    def referrers(self, repository: str, digest: str, artifact_type: str | None) -> list[dict[str, Any]]:
        check_digest(digest)
        with self._lock:
            manifests = list(self._repositories.get(repository, _Repository()).manifests.values())
        found = []
        for manifest in manifests:
            document = json.loads(manifest.body)
            subject = document.get("subject")
            if not isinstance(subject, dict) or subject.get("digest") != digest:
                continue
            kind = document.get("artifactType") or document.get("config", {}).get("mediaType")
            if artifact_type and kind != artifact_type:
                continue
            descriptor = {"mediaType": manifest.media_type, "digest": manifest.digest, "size": len(manifest.body)}
            if kind:
                descriptor["artifactType"] = kind
            if document.get("annotations"):
                descriptor["annotations"] = document["annotations"]
            found.append(descriptor)
        return found

    # ---- tags and catalog -------------------------------------------------------------------

    def tags(self, repository: str) -> list[str]:
        with self._lock:
            if repository not in self._repositories:
                check_repository(repository)
                raise RegistryError(ErrorCode.NAME_UNKNOWN, "repository name not known to registry")
            return sorted(self._repositories[repository].tags)

    def catalog(self) -> list[str]:
        with self._lock:
            return sorted(self._repositories)

    def inventory(self) -> dict[str, Any]:
        """Everything held, as plain data: per repository its tags, manifests and blobs; open uploads."""
        with self._lock:
            repositories = {
                name: {
                    "tags": dict(sorted(repo.tags.items())),
                    "manifests": sorted(repo.manifests),
                    "blobs": sorted(repo.blobs),
                }
                for name, repo in sorted(self._repositories.items())
            }
            uploads = {
                session: {"repository": u.repository, "size": len(u.data)} for session, u in self._uploads.items()
            }
        return {"repositories": repositories, "uploads": uploads}

    def tag(self, repository: str, tag: str, digest: str) -> None:
        check_tag(tag)
        with self._lock:
            repo = self._repository(repository)
            if digest not in repo.manifests:
                raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown", detail={"Digest": digest})
            repo.tags[tag] = digest

    def delete_tag(self, repository: str, tag: str) -> None:
        check_tag(tag)
        self.delete_manifest(repository, tag)

    def delete_repository(self, repository: str) -> None:
        with self._lock:
            if self._repositories.pop(repository, None) is None:
                raise RegistryError(ErrorCode.NAME_UNKNOWN, "repository name not known to registry")

    # ---- blobs ------------------------------------------------------------------------------

    def blob(self, repository: str, digest: str) -> Blob:
        check_digest(digest)
        with self._lock:
            repo = self._repositories.get(repository)
            blob = self._blobs.get(digest) if repo is not None and digest in repo.blobs else None
        if blob is None:
            check_repository(repository)
            raise RegistryError(ErrorCode.BLOB_UNKNOWN, "blob unknown to registry", detail={"Digest": digest})
        return blob

    def delete_blob(self, repository: str, digest: str) -> None:
        check_digest(digest)
        with self._lock:
            repo = self._repository(repository)
            if digest not in repo.blobs:
                raise RegistryError(ErrorCode.BLOB_UNKNOWN, "blob unknown to registry")
            repo.blobs.discard(digest)

    def mount(self, repository: str, digest: str, source: str | None) -> bool:
        check_repository(repository)
        check_digest(digest)
        with self._lock:
            if digest not in self._blobs:
                return False
            if source is not None and digest not in self._repositories.get(source, _Repository()).blobs:
                return False
            self._repositories.setdefault(repository, _Repository()).blobs.add(digest)
            return True

    # ---- uploads ----------------------------------------------------------------------------

    def start_upload(self, repository: str) -> str:
        check_repository(repository)
        session = uuid.uuid4().hex
        with self._lock:
            self._uploads[session] = Upload(repository)
        return session

    def upload(self, repository: str, session: str) -> Upload:
        with self._lock:
            upload = self._uploads.get(session)
        if upload is None or upload.repository != repository:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry")
        return upload

    def append_upload(self, repository: str, session: str, data: bytes, start: int | None) -> int:
        upload = self.upload(repository, session)
        with self._lock:
            if start is not None and start != len(upload.data):
                raise RegistryError(
                    ErrorCode.BLOB_UPLOAD_INVALID,
                    f"chunk starts at {start}, upload is at {len(upload.data)}",
                    status=416,
                    headers={"Range": f"0-{max(0, len(upload.data) - 1)}"},
                )
            upload.data.extend(data)
            return len(upload.data)

    def finish_upload(self, repository: str, session: str, digest: str, data: bytes) -> str:
        parsed = check_digest(digest)
        upload = self.upload(repository, session)
        with self._lock:
            payload = bytes(upload.data) + data
            if hashlib.new(parsed.algorithm, payload).hexdigest() != parsed.hex:
                raise RegistryError(ErrorCode.DIGEST_INVALID, "provided digest did not match uploaded content")
            del self._uploads[session]
            self._blobs.setdefault(
                digest, Blob(digest, len(payload), "application/octet-stream", BytesContent(payload))
            )
            self._repositories.setdefault(repository, _Repository()).blobs.add(digest)
        return digest

    def cancel_upload(self, repository: str, session: str) -> None:
        self.upload(repository, session)
        with self._lock:
            self._uploads.pop(session, None)

    def put_blob(self, repository: str, content: Content, digest: str, media_type: str) -> Blob:
        """Add a blob directly (the Python and control APIs' shortcut around an upload)."""
        check_repository(repository)
        blob = Blob(digest, content.size, media_type, content)
        with self._lock:
            self._blobs.setdefault(digest, blob)
            self._repositories.setdefault(repository, _Repository()).blobs.add(digest)
        return blob

    def _repository(self, repository: str) -> _Repository:
        check_repository(repository)
        repo = self._repositories.get(repository)
        if repo is None:
            raise RegistryError(ErrorCode.NAME_UNKNOWN, "repository name not known to registry")
        return repo


def check_repository(repository: str) -> None:
    if not valid_repository(repository):
        raise RegistryError(ErrorCode.NAME_INVALID, "invalid repository name", detail={"Name": repository[:256]})


def check_tag(tag: str) -> None:
    if not valid_tag(tag):
        raise RegistryError(ErrorCode.MANIFEST_INVALID, "invalid tag", detail={"Tag": tag[:256]})


def check_digest(digest: str) -> Any:
    try:
        return parse_digest(digest)
    except DigestError as error:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(error)) from None


def _parse_manifest(body: bytes, media_type: str) -> dict[str, Any]:
    if media_type not in MANIFEST_MEDIA_TYPES:
        raise RegistryError(ErrorCode.MANIFEST_INVALID, f"unsupported manifest media type {media_type!r}")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(ErrorCode.MANIFEST_INVALID, "manifest is not valid JSON") from None
    if not isinstance(document, dict) or document.get("schemaVersion") != 2:
        raise RegistryError(ErrorCode.MANIFEST_INVALID, "manifest must be a schemaVersion 2 object")
    declared = document.get("mediaType")
    if declared is not None and declared != media_type:
        raise RegistryError(ErrorCode.MANIFEST_INVALID, "mediaType does not match Content-Type")
    return document


def _references(document: dict[str, Any], media_type: str) -> list[str]:
    try:
        if media_type in INDEX_MEDIA_TYPES:
            return [str(entry["digest"]) for entry in document.get("manifests", [])]
        return [str(document["config"]["digest"])] + [str(layer["digest"]) for layer in document.get("layers", [])]
    except (KeyError, TypeError):
        raise RegistryError(ErrorCode.MANIFEST_INVALID, "manifest descriptors are malformed") from None
