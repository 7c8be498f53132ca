"""What a soak pulls: the images made upstream from the seed, and each client's sequence of pulls.

A client is a *slot* (0 .. users-1). Its sequence of pulls depends on the seed and the slot only, so the same
seed pulls the same images in the same order per client on every run; the interleaving of clients is the
load engine's. Each client picks from a window of the images that widens with its progress, so that cold
images keep coming through the whole soak instead of all at its start.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from fake_upstream import Image, Upstream

PLATFORM = "linux/amd64"
_SMALL = (512, 32 << 10)
_LARGE = (32 << 10, 1 << 20)


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int


@dataclass(frozen=True)
class PlanImage:
    """One image as the clients know it: where to pull it through the proxy, and every digest to verify."""

    repository: str  # the upstream's name (what faults match)
    path: str  # the proxy's path for it
    tag: str
    top: Blob  # what the tag points at: a manifest, or an index
    child: Blob | None  # the platform's manifest, when the tag points at an index
    blobs: tuple[Blob, ...]  # the config, then the layers

    @classmethod
    def from_image(cls, image: Image, path: str) -> PlanImage:
        platform = image.platform(PLATFORM)
        index = len(image.platforms) > 1
        return cls(
            repository=image.repository,
            path=path,
            tag=image.tag or image.digest,
            top=Blob(image.digest, image.size),
            child=Blob(platform.manifest, platform.manifest_size) if index else None,
            blobs=tuple(Blob(info.digest, info.size) for info in (platform.config, *platform.layers)),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanImage:
        child = data["child"]
        return cls(
            repository=data["repository"],
            path=data["path"],
            tag=data["tag"],
            top=Blob(**data["top"]),
            child=Blob(**child) if child else None,
            blobs=tuple(Blob(**blob) for blob in data["blobs"]),
        )


@dataclass(frozen=True)
class Plan:
    """Everything a client process needs: the proxy, T, and who pulls what (written as JSON for Locust)."""

    proxy_url: str
    timeout: float
    seed: int
    users: int
    pulls: int
    images: tuple[PlanImage, ...]

    def quota(self, slot: int) -> int:
        """How many pulls client `slot` makes: `pulls` shared out, the first ones one more when it does not divide."""
        if not 0 <= slot < self.users:
            return 0
        share, rest = divmod(self.pulls, self.users)
        return share + (1 if slot < rest else 0)

    def choices(self, slot: int) -> Iterator[PlanImage]:
        """Client `slot`'s pulls, in order: the same for the same seed."""
        rng = random.Random(f"pullthrough-soak:{self.seed}:pulls:{slot}")
        quota = self.quota(slot)
        for done in range(quota):
            window = max(1, math.ceil(len(self.images) * (done + 1) / quota))
            yield self.images[rng.randrange(window)]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        return cls(
            proxy_url=data["proxy_url"],
            timeout=float(data["timeout"]),
            seed=int(data["seed"]),
            users=int(data["users"]),
            pulls=int(data["pulls"]),
            images=tuple(PlanImage.from_dict(image) for image in data["images"]),
        )


def repository_count(images: int) -> int:
    """Enough repositories that a fault on some leaves others healthy (faults act per repository)."""
    return max(2, min(24, images // 4))


def make_images(
    upstream: Upstream, *, count: int, seed: int, namespace: str, path: Callable[[str], str]
) -> list[PlanImage]:
    """Make `count` images upstream, spread over `repository_count(count)` repositories of `namespace`.

    Sizes, formats (OCI or Docker, single or two platforms) and bytes come from the seed: two or three layers,
    one up to 32 KiB, one up to 1 MiB, so that a fault can strike in the middle of a body.
    """
    rng = random.Random(f"pullthrough-soak:{seed}:images")
    repositories = repository_count(count)
    made = []
    for number in range(count):
        layers = [rng.randint(*_SMALL), rng.randint(*_LARGE)]
        if rng.random() < 0.3:
            layers.append(rng.randint(*_SMALL))
        repository = f"{namespace}/r{number % repositories}"
        image = upstream.add_image(
            repository,
            f"t{number}",
            layers=layers,
            media_type="oci" if number % 2 == 0 else "docker",
            platforms=[PLATFORM, "linux/arm64"] if number % 3 == 0 else None,
            gzip=False,
            seed=_image_seed(seed, number),
        )
        made.append(PlanImage.from_image(image, path(repository)))
    return made


def _image_seed(seed: int, number: int) -> int:
    return int.from_bytes(hashlib.sha256(f"pullthrough-soak:{seed}:image:{number}".encode()).digest()[:8], "big")
