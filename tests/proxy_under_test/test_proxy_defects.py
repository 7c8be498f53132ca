"""Every deliberate defect is documented, names a rule of the catalogue, and has a rule test it makes fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_proxy_app  # noqa: F401 - importing a test module registers the defects its rule tests cover
import test_proxy_auth  # noqa: F401
import test_proxy_blobs  # noqa: F401
import test_proxy_cache  # noqa: F401
import test_proxy_failures  # noqa: F401
import test_proxy_fetch  # noqa: F401
import test_proxy_manifests  # noqa: F401
import test_proxy_routes  # noqa: F401
import test_proxy_tags  # noqa: F401
from proxy_checks import COVERED

from harness.rules import RULES
from proxy_under_test import DEFECTS, VARIANTS

README = Path(__file__).parents[2] / "README.md"
_ROW = re.compile(r"^\| `([a-z0-9-]+)` \| ([A-Z]+-[A-Z0-9-]+(?:, [A-Z]+-[A-Z0-9-]+)*) \| (.+) \|$")


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_every_defect_is_caught_by_a_rule_test(name: str) -> None:
    assert name in COVERED, f"no rule test shows that {name} breaks {DEFECTS[name].rule}"
    assert COVERED[name].rule == DEFECTS[name].rule
    assert DEFECTS[name].rule in RULES


def test_the_readme_documents_every_defect() -> None:
    section = README.read_text().split("## Testing the tests: deliberate defects", 1)[1].split("\n## ", 1)[0]
    rows = {m[1]: (m[2], m[3]) for m in map(_ROW.match, section.splitlines()) if m and m[1] in DEFECTS}
    assert sorted(rows) == sorted(DEFECTS)
    for name, (rule, text) in rows.items():
        assert rule == DEFECTS[name].rule, name
        assert text == DEFECTS[name].description, name


def test_the_readme_documents_every_variant() -> None:
    section = README.read_text().split("## Testing the tests: deliberate defects", 1)[1].split("\n## ", 1)[0]
    rows = {m[1]: (m[2], m[3]) for m in map(_ROW.match, section.splitlines()) if m and m[1] not in DEFECTS}
    assert sorted(rows) == sorted(VARIANTS)
    for name, (rules, text) in rows.items():
        assert rules == ", ".join(VARIANTS[name].rules), name
        assert text == VARIANTS[name].description, name
        assert set(VARIANTS[name].rules) <= set(RULES), name
