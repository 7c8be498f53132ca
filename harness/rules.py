"""The behaviour catalogue (rules.toml beside this module): every rule's ID, level, situation, expectation, source.

It ships with the product: docs/rules.md is generated from it (`python -m harness.rules > docs/rules.md`), and
the HTML report links each rule name to its entry. IDs are stable: never renumbered, only added.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Level = Literal["documented", "spec", "recommended"]
FAMILIES = ("FRESH", "STALE", "COLD", "INTEG", "PROTO", "INDEX", "ECON", "SEC")
LEVELS: dict[str, str] = {
    "documented": "promised by Harbor's proxy-cache documentation; gating by default",
    "spec": "required by the OCI distribution spec (or HTTP) of any registry, proxy or not; gating by default",
    "recommended": "what the best proxy does, from peers' bugs and users' issues; gating only with --strict",
}


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    situation: str
    expected: str
    source: str

    @property
    def family(self) -> str:
        return self.id.split("-", 1)[0]

    @property
    def anchor(self) -> str:
        """The rule's anchor in docs/rules.md and in the HTML report."""
        return "rule-" + self.id.lower()

    def gating(self, strict: bool) -> bool:
        return self.level != "recommended" or strict


def _load() -> list[Rule]:
    with resources.files("harness").joinpath("rules.toml").open("rb") as catalogue:
        return [Rule(**entry) for entry in tomllib.load(catalogue)["rule"]]


_RULES = _load()
RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule {rule_id!r}; see docs/rules.md") from None


def markdown() -> str:
    """docs/rules.md: the catalogue, family by family."""
    lines = [
        "# The behaviour catalogue",
        "",
        "Every scenario checks one rule (or one cell of it) and every report is organised by these IDs.",
        "Generated from `harness/rules.py` by `python -m harness.rules > docs/rules.md`; do not edit by hand.",
        "",
        "Levels:",
        "",
        *(f"- **{level}**: {meaning}" for level, meaning in LEVELS.items()),
    ]
    for family in FAMILIES:
        lines += ["", f"## {family}", ""]
        for each in (r for r in _RULES if r.family == family):
            lines += [
                f'### <a id="{each.anchor}"></a>{each.id}',
                "",
                f"- level: {each.level}",
                f"- situation: {each.situation}",
                f"- expected: {each.expected}",
                f"- source: {each.source}",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
