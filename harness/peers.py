"""Real peers from Debian (docker-registry, nginx, skopeo, podman, chromium): find them, or say how to get them."""

from __future__ import annotations

import os
import shutil

_PACKAGES = {
    "docker-registry": "docker-registry",
    "nginx": "nginx",
    "skopeo": "skopeo",
    "podman": "podman",
    "chromium": "chromium",
}
_SBIN = ("/usr/sbin", "/sbin")


class PeerMissing(RuntimeError):
    """A peer binary is not installed; the message is the one-line fix."""

    def __init__(self, name: str) -> None:
        package = _PACKAGES.get(name, name)
        super().__init__(f"{name} is not installed: sudo apt-get install -y {package}")
        self.name = name


def find_peer(name: str) -> str | None:
    """The path of a peer binary, looking in sbin too (Debian puts nginx there)."""
    found = shutil.which(name)
    if found is None:
        found = shutil.which(name, path=os.pathsep.join(_SBIN))
    return found


def require_peer(name: str) -> str:
    path = find_peer(name)
    if path is None:
        raise PeerMissing(name)
    return path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
