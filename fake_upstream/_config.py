"""A fake upstream declared in TOML: server options, users, images and faults armed at start."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fake_upstream._faults import Fault, FaultError
from fake_upstream._journal import DEFAULT_JOURNAL_LIMIT
from fake_upstream._outages import OUTAGES
from fake_upstream._quota import QuotaConfig
from serving import Limits

if TYPE_CHECKING:
    from fake_upstream._server import FakeUpstream


class ConfigError(ValueError):
    """A configuration that cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class ImageSpec:
    repository: str
    tag: str = "latest"
    tags: tuple[str, ...] = ()
    layers: tuple[int, ...] = (2048,)
    media_type: Literal["oci", "docker"] = "oci"
    platforms: tuple[str, ...] = ()
    gzip: bool = True
    seed: int | None = None


DEMO_IMAGES = (
    ImageSpec(
        "library/alpine",
        "3.20",
        tags=("latest",),
        layers=(3_400_000,),
        platforms=("linux/amd64", "linux/arm64/v8", "linux/arm/v7"),
    ),
    ImageSpec(
        "library/busybox",
        "1.36",
        tags=("latest",),
        layers=(900_000,),
        media_type="docker",
        platforms=("linux/amd64", "linux/arm64/v8"),
    ),
    ImageSpec("team/app", "v1.0", layers=(2_000_000, 400_000, 20_000), media_type="docker"),
    ImageSpec("team/app", "v1.1", layers=(2_000_000, 410_000, 21_000), media_type="docker"),
    ImageSpec("team/app", "v2.0", tags=("latest",), layers=(2_100_000, 420_000, 22_000), media_type="docker"),
)


@dataclass(frozen=True)
class UpstreamConfig:
    host: str = "127.0.0.1"
    port: int = 5000
    control_port: int = 5001
    auth: Literal["none", "basic", "token"] = "none"
    users: Mapping[str, str] = field(default_factory=dict)
    token_ttl: float = 300.0
    control_token: str | None = None
    quota: QuotaConfig | None = None
    strict_accept: bool = False
    seed: int = 0
    journal_limit: int = DEFAULT_JOURNAL_LIMIT
    limits: Limits = field(default_factory=Limits)
    demo: bool = False
    images: tuple[ImageSpec, ...] = ()
    faults: tuple[Fault, ...] = ()
    outage: str = "none"

    def build(self) -> FakeUpstream:
        from fake_upstream._server import FakeUpstream

        return FakeUpstream(
            host=self.host,
            port=self.port,
            control_port=self.control_port,
            auth=self.auth,
            users=self.users,
            token_ttl=self.token_ttl,
            quota=self.quota,
            control_token=self.control_token,
            strict_accept=self.strict_accept,
            seed=self.seed,
            journal_limit=self.journal_limit,
            limits=self.limits,
        )

    def populate(self, upstream: FakeUpstream) -> None:
        """Add the declared (and demo) images and arm the declared faults."""
        for spec in (*(DEMO_IMAGES if self.demo else ()), *self.images):
            image = upstream.add_image(
                spec.repository,
                spec.tag,
                layers=spec.layers,
                media_type=spec.media_type,
                platforms=spec.platforms or None,
                gzip=spec.gzip,
                seed=spec.seed,
            )
            for alias in spec.tags:
                upstream.tag(spec.repository, alias, image.digest)
        for fault in self.faults:
            upstream.add_fault(fault)


def load_config(path: str | Path, **overrides: Any) -> UpstreamConfig:
    try:
        document = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    return parse_config(document, source=str(path), **overrides)


def parse_config(document: dict[str, Any], *, source: str = "config", **overrides: Any) -> UpstreamConfig:
    known = {f.name for f in fields(UpstreamConfig)}
    unknown = set(document) - known
    if unknown:
        raise ConfigError(f"{source}: unknown keys {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    values = dict(document)
    _check_types(values, source)
    try:
        if "quota" in values:
            values["quota"] = QuotaConfig(**values["quota"])
        if "limits" in values:
            values["limits"] = Limits(**values["limits"])
        if "images" in values:
            values["images"] = tuple(_image(spec) for spec in values["images"])
        if "faults" in values:
            values["faults"] = tuple(Fault.from_dict(spec) for spec in values["faults"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = UpstreamConfig(**values)
    except (TypeError, FaultError, ValueError) as error:
        raise ConfigError(f"{source}: {error}") from None
    if config.auth not in ("none", "basic", "token"):
        raise ConfigError(f"{source}: auth must be none, basic or token")
    if config.outage not in OUTAGES:
        raise ConfigError(f"{source}: outage must be one of {', '.join(OUTAGES)}")
    return config


_TYPES: dict[str, tuple[type, ...]] = {
    "host": (str,),
    "port": (int,),
    "control_port": (int,),
    "auth": (str,),
    "token_ttl": (int, float),
    "control_token": (str,),
    "strict_accept": (bool,),
    "seed": (int,),
    "journal_limit": (int,),
    "demo": (bool,),
    "outage": (str,),
    "quota": (dict,),
    "limits": (dict,),
    "images": (list,),
    "faults": (list,),
    "users": (dict,),
}


def _check_types(values: dict[str, Any], source: str) -> None:
    for key, value in values.items():
        expected = _TYPES[key]
        wrong_bool = isinstance(value, bool) and bool not in expected
        if wrong_bool or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise ConfigError(f"{source}: {key} must be {names}, not {type(value).__name__}")
    if values.get("journal_limit", 1) < 1:
        raise ConfigError(f"{source}: journal_limit must be at least 1 (entries kept)")
    for key in ("port", "control_port"):
        if key in values and not 0 <= values[key] <= 65535:
            raise ConfigError(f"{source}: {key} must be a port number (0 picks a free one)")
    users = values.get("users", {})
    if not all(isinstance(password, str) for password in users.values()):
        raise ConfigError(f"{source}: users maps each user name to a password string")


_IMAGE_TYPES: dict[str, type] = {"repository": str, "tag": str, "media_type": str, "gzip": bool, "seed": int}
_IMAGE_LISTS: dict[str, type] = {"tags": str, "layers": int, "platforms": str}


def _image(spec: Any) -> ImageSpec:
    if not isinstance(spec, dict) or "repository" not in spec:
        raise ConfigError("each [[images]] needs a repository")
    values = dict(spec)
    for key, value in values.items():
        if key in _IMAGE_TYPES and not isinstance(value, _IMAGE_TYPES[key]):
            raise ConfigError(f"images: {key} must be {_IMAGE_TYPES[key].__name__}")
        if key in _IMAGE_LISTS:
            item = _IMAGE_LISTS[key]
            if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
                raise ConfigError(f"images: {key} must be a list of {item.__name__}")
            values[key] = tuple(value)
    return ImageSpec(**values)
