"""Repository names, tags and references (distribution-spec, "Pulling manifests")."""

from __future__ import annotations

import re

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
_MAX_NAME = 255


def valid_repository(name: str) -> bool:
    return len(name) <= _MAX_NAME and _NAME_RE.fullmatch(name) is not None


def valid_tag(tag: str) -> bool:
    return _TAG_RE.fullmatch(tag) is not None


def is_digest_reference(reference: str) -> bool:
    """A reference is a digest when it has a colon; tags cannot contain one."""
    return ":" in reference
