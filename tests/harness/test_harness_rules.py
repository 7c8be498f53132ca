"""The catalogue and the scenarios agree: every rule of RULES.md is checked, in its family's module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import scenarios
from harness.rules import FAMILIES, RULES, markdown

RULES_MD = Path(__file__).parents[3] / "shared" / "RULES.md"
DOCS_RULES = Path(__file__).parents[2] / "docs" / "rules.md"
_MARKER = re.compile(r'@pytest\.mark\.rule\("([A-Z0-9-]+)"\)')


def _scenario_rules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module in Path(scenarios.__file__).parent.glob("test_*.py"):
        for rule_id in _MARKER.findall(module.read_text()):
            found.setdefault(rule_id, set()).add(module.stem.removeprefix("test_"))
    return found


def test_every_rule_has_a_scenario_in_its_familys_module() -> None:
    found = _scenario_rules()
    assert set(found) == set(RULES)
    for rule_id, modules in found.items():
        assert modules == {RULES[rule_id].family.lower()}, f"{rule_id} lives in test_{RULES[rule_id].family.lower()}"


def test_families_are_the_documented_ones() -> None:
    assert {rule.family for rule in RULES.values()} == set(FAMILIES)


def test_docs_rules_md_is_generated_from_the_catalogue() -> None:
    assert DOCS_RULES.read_text() == markdown(), "regenerate it: python -m harness.rules > docs/rules.md"


def test_every_rule_says_where_it_comes_from() -> None:
    assert all(rule.source and rule.situation and rule.expected for rule in RULES.values())


@pytest.mark.skipif(not RULES_MD.exists(), reason="RULES.md is not beside this checkout")
def test_catalogue_matches_rules_md() -> None:
    """Same IDs, levels and expectations as the project's RULES.md (its markdown emphasis aside)."""
    rows = re.findall(
        r"^\| ([A-Z]+-[A-Z0-9-]+) \| (documented|spec|recommended)[^|]*\|[^|]*\| (.*) \|$",
        RULES_MD.read_text(),
        re.MULTILINE,
    )
    documented = {rule_id: (level, re.sub(r"\*\*|`|\*", "", expected)) for rule_id, level, expected in rows}
    assert {rule_id: (rule.level, rule.expected) for rule_id, rule in RULES.items()} == documented
