"""The tests of the tests: the suite passes the clean reference proxy, catches every deliberate defect in exactly
the cells a committed table names, at the rule's own check (a cell that catches it while warming the cache says
so in the table, and no defect is caught only there), and passes the benign variants.

`proofs.toml` is that table. After a deliberate change to a scenario or a defect, refresh it with
`PULLTHROUGH_REFRESH_PROOFS=1 pytest tests/scenarios/test_suite_proves.py` and review its diff.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from scenario_runs import Run, pullthrough_run

from harness.case import WARMING
from harness.rules import RULES
from proxy_under_test import DEFECTS, VARIANTS
from reports.model import Verdict

PROOFS = Path(__file__).parent / "proofs.toml"
CAUGHT = (Verdict.FAIL, Verdict.DEVIATION)
WHILE_WARMING = " (while warming)"  # a table entry for a cell that catches the defect before the rule's check
# A defect whose rule reads the proxy's log, or kills it, needs the proxy in a process of its own.
_SUBPROCESS = {"no-atomic-write", "leak-credentials"}
# Rules whose mechanism a defect breaks besides its own (proven too, so that every rule can fail).
_NEIGHBOURS = {
    "no-stale-on-404": ("INDEX-2",),
    "no-upstream-timeout": ("COLD-BLACKHOLE",),
    "no-digest-verify": ("COLD-NEVER-PARTIAL",),
    # Bugs that only whole images and RULES.md's "served cached" catch: proven where they used to pass.
    "no-cache-large-blobs": ("FRESH-2", "FRESH-3", "STALE-REFUSED"),
    "no-digest-header-cached": ("FRESH-5", "STALE-REFUSED"),
}
# Defects that keep the proxy from caching what the settle probe waits for: the probe would wait out its deadline
# in every case (7 minutes for no-cache-large-blobs); the upstream falling quiet ends the wait, with the same cells.
_SETTLE_QUIET = {"no-cache-large-blobs", "no-cache-config"}


def _table() -> dict[str, dict[str, list[str]]]:
    if not PROOFS.exists() and os.environ.get("PULLTHROUGH_REFRESH_PROOFS"):
        return {"defects": {}, "variants": {}}
    with PROOFS.open("rb") as table:
        return tomllib.load(table)


def _run(tmp_path: Path, rules: list[str], *flags: str, subprocess: bool) -> Run:
    selection = " or ".join(rules)
    return pullthrough_run(tmp_path, *flags, "-k", selection, "-n", "1", *([] if subprocess else ["--in-process"]))


def test_clean_reference_passes_every_case(tmp_path: Path) -> None:
    run = pullthrough_run(tmp_path, "-n", "2")
    not_passing = [f"{c.id}: {c.verdict} {c.message}" for c in run.cases() if c.verdict is not Verdict.PASS]
    assert not_passing == []
    assert run.code == 0, run.stderr[-2000:]
    assert {c.rule for c in run.cases()} == set(RULES), "every rule of the catalogue has a case"


def test_the_table_covers_every_defect_variant_and_rule() -> None:
    table = _table()
    assert set(table["defects"]) == set(DEFECTS)
    assert set(table["variants"]) == set(VARIANTS)
    caught_rules = {_rule(case_id) for cells in table["defects"].values() for case_id in cells}
    assert caught_rules == set(RULES), "every rule can fail: some defect breaks it"
    for name, cells in table["defects"].items():
        assert cells, f"{name} is caught by no cell"
        assert DEFECTS[name].rule in {_rule(case_id) for case_id in cells}, f"{name} escapes its own rule"


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_caught_where_the_table_says(tmp_path: Path, defect: str) -> None:
    expected = sorted(_table()["defects"].get(defect, []))
    rules = sorted(
        {case_id.split("[")[0] for case_id in expected} | {DEFECTS[defect].rule, *_NEIGHBOURS.get(defect, ())}
    )
    settle = ["--settle", "quiet"] if defect in _SETTLE_QUIET else []
    run = _run(tmp_path, rules, "--defect", defect, *settle, subprocess=defect in _SUBPROCESS)
    cases = [case for case in run.cases() if case.rule in rules]
    assert cases, f"no case of {rules} ran"
    assert not [c.id for c in cases if c.verdict is Verdict.ERROR], run.stderr[-2000:]
    caught = sorted(c.id + (WHILE_WARMING if c.step == WARMING else "") for c in cases if c.verdict in CAUGHT)
    if os.environ.get("PULLTHROUGH_REFRESH_PROOFS"):
        _refresh("defects", defect, caught)
        return
    assert caught == expected, f"{defect}: the cells that catch it changed (see {PROOFS.name})"
    assert [c for c in caught if not c.endswith(WHILE_WARMING)], f"{defect} is caught only while warming the cache"
    failing_gate = any(c.verdict is Verdict.FAIL and c.gating for c in run.cases())
    assert run.code == (1 if failing_gate else 0)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_benign_variants_pass(tmp_path: Path, variant: str) -> None:
    rules = _table()["variants"].get(variant) or list(VARIANTS[variant].rules)
    run = _run(tmp_path, rules, "--variant", variant, subprocess=False)
    if os.environ.get("PULLTHROUGH_REFRESH_PROOFS"):
        _refresh("variants", variant, sorted({c.rule for c in run.cases()} | set(rules)))
    not_passing = [f"{c.id}: {c.verdict} {c.message}" for c in run.cases() if c.verdict is not Verdict.PASS]
    assert not_passing == [], f"{variant} is good behaviour, yet the suite judges it wrong"
    assert {c.rule for c in run.cases()} == set(rules)


def _rule(entry: str) -> str:
    return entry.split("[")[0].removesuffix(WHILE_WARMING)


def _refresh(section: str, name: str, values: list[str]) -> None:
    """Rewrite one entry of the table (refresh mode only)."""
    table = _table()
    table.setdefault(section, {})[name] = values
    lines = [
        "# Per deliberate defect of the reference proxy, the cases that must catch it (the rules it breaks, run",
        "# alone); per benign variant, the rules all of whose cases must pass it. See test_suite_proves.py.",
    ]
    for part in ("defects", "variants"):
        lines += ["", f"[{part}]"]
        for key in sorted(table.get(part, {})):
            items = ",\n".join(f'    "{value}"' for value in table[part][key])
            lines.append(f'"{key}" = [\n{items},\n]' if items else f'"{key}" = []')
    PROOFS.write_text("\n".join(lines) + "\n")
