"""ProxyConfig: everything the reference proxy is told at start, validated once."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

from oci_wire import valid_repository
from proxy_under_test._cache import MANIFEST_MEMORY
from proxy_under_test._defects import Defect, parse_defects
from proxy_under_test._variants import Variant, parse_variants
from serving import Limits

NotFoundPolicy = Literal["serve-cached", "not-found", "not-found-and-evict"]
NOT_FOUND_POLICIES: tuple[str, ...] = get_args(NotFoundPolicy)


@dataclass(frozen=True, kw_only=True)
class ProxyConfig:
    """`upstream` serves `/v2/<repo>` (mirror mode); each of `projects` serves `/v2/<project>/<repo>`."""

    upstream: str | None = None
    projects: Mapping[str, str] = field(default_factory=dict)
    cache_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    upstream_user: str | None = None
    upstream_password: str | None = field(default=None, repr=False)
    upstream_timeout: float = 5.0
    on_upstream_not_found: NotFoundPolicy = "serve-cached"
    manifest_memory: int = MANIFEST_MEMORY  # bytes of manifests kept in memory (the rest: read from disk)
    defects: Collection[str] = frozenset()  # names or members; a frozenset[Defect] once constructed
    variants: Collection[str] = frozenset()  # names or members; a frozenset[Variant] once constructed
    limits: Limits = field(default_factory=lambda: Limits(keep_alive=30.0))  # what clients may cost it

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if isinstance(self.defects, str) or isinstance(self.variants, str):
            raise TypeError("defects and variants are collections of names, not one string")
        object.__setattr__(self, "defects", parse_defects(self.defects))
        object.__setattr__(self, "variants", parse_variants(self.variants))
        object.__setattr__(self, "projects", dict(self.projects))
        if self.upstream is None and not self.projects:
            raise ValueError("give an upstream URL or at least one project")
        for url in [self.upstream, *self.projects.values()]:
            if url is not None:
                _check_url(url)
        for name in self.projects:
            if "/" in name or not valid_repository(name):
                raise ValueError(f"project name {name!r} must be one lowercase path component, like 'hub'")
        if not self.upstream_timeout > 0:
            raise ValueError("upstream_timeout must be a positive number of seconds")
        if self.on_upstream_not_found not in NOT_FOUND_POLICIES:
            raise ValueError(f"on_upstream_not_found must be one of {', '.join(NOT_FOUND_POLICIES)}")
        if (self.upstream_user is None) != (self.upstream_password is None):
            raise ValueError("give both upstream_user and upstream_password, or neither")
        if self.manifest_memory < 0:
            raise ValueError("manifest_memory must be a number of bytes, 0 or more")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")

    def has(self, behaviour: Defect | Variant) -> bool:
        """Whether a deliberate defect or a benign variant is on."""
        return behaviour in (self.defects if isinstance(behaviour, Defect) else self.variants)

    @property
    def not_found_policy(self) -> NotFoundPolicy:
        """What to do when the upstream says a cached tag is gone (the defects override the option)."""
        if self.has(Defect.DELETE_ON_404):
            return "not-found-and-evict"
        if self.has(Defect.NO_STALE_ON_404):
            return "not-found"
        return self.on_upstream_not_found


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"upstream {url!r} must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("put upstream credentials in upstream_user/upstream_password, not in the URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"upstream {url!r} must be the registry's root, with no path")
