"""Benign variants: behaviours that differ from the reference's but that the rules accept.

Switched on by name like the defects, but a type of their own: the scenario suite must pass them,
which proves it judges the rule as written and not the reference proxy's particular choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType


class Variant(StrEnum):
    rules: tuple[str, ...]
    description: str

    def __new__(cls, name: str, rules: tuple[str, ...], description: str) -> Variant:
        member = str.__new__(cls, name)
        member._value_ = name
        member.rules = rules
        member.description = description
        return member

    REFETCH_ON_CORRUPT = (
        "refetch-on-corrupt",
        ("INTEG-CORRUPT", "COLD-NEVER-PARTIAL"),
        "a cold blob whose upstream bytes fail verification is fetched once more; a copy that verifies is served "
        "(200, the right bytes) and cached. Nothing is sent before the blob verifies",
    )
    TERSE_ERRORS = (
        "terse-errors",
        ("COLD-DOWN", "COLD-AUTH"),
        "cold errors name the failure without the word 'upstream': 'connection refused by 127.0.0.1:5000', "
        "'registry 127.0.0.1:5000 answered 503', 'token request to http://127.0.0.1:5000/token rejected: 401'",
    )
    ISOLATION_DENIED = (
        "isolation-denied",
        ("SEC-ISOLATION",),
        "content cached through repository a, asked through b, the upstream not confirming b has it: "
        "403 DENIED instead of 404",
    )


VARIANTS: Mapping[str, Variant] = MappingProxyType({variant.value: variant for variant in Variant})


def parse_variants(names: Iterable[str]) -> frozenset[Variant]:
    """The variants named; ValueError naming the unknown ones and every valid name."""
    names = list(names)
    unknown = sorted({name for name in names if name not in VARIANTS})
    if unknown:
        raise ValueError(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    return frozenset(VARIANTS[name] for name in names)
