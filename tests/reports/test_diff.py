from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from reports_factory import few_results, with_labels

from reports.diff import compare
from reports.model import NO_OBSERVATION, Verdict
from reports.validate import load


def test_identical_runs_have_no_changes() -> None:
    assert compare(few_results(), few_results()) == []


def test_a_changed_label_is_listed_with_both_sides() -> None:
    old = few_results()
    case = next(c for c in old.cases if c.observation and c.label != "hang")
    new = with_labels(old, {case.id: "hang"})
    [change] = compare(old, new)
    assert (change.id, change.kind, change.old, change.new) == (case.id, "changed", case.label, "hang")
    assert change.changed
    assert str(change) == f"{case.id}: {case.label} -> hang"


def test_verdicts_alone_do_not_count_only_observations() -> None:
    old = few_results()
    new = replace(old, cases=[replace(c, verdict=Verdict.FAIL, message="judged by another profile") for c in old.cases])
    assert compare(old, new) == []


def test_losing_the_observation_is_a_change() -> None:
    old = few_results()
    case = next(c for c in old.cases if c.observation)
    new = replace(old, cases=[replace(c, observation=None) if c.id == case.id else c for c in old.cases])
    [change] = compare(old, new)
    assert change.new == NO_OBSERVATION


def test_added_and_removed_cases_are_listed_but_are_not_behaviour_changes() -> None:
    old = few_results()
    new = replace(old, cases=[*old.cases[1:], replace(old.cases[3], id="FRESH-9[new]", family="FRESH")])
    changes = compare(old, new)
    assert {(c.kind, c.id) for c in changes} == {("removed", old.cases[0].id), ("added", "FRESH-9[new]")}
    assert not any(c.changed for c in changes)
    assert [c.old for c in changes if c.kind == "added"] == [None]


def test_changes_come_in_catalogue_order() -> None:
    old = few_results()
    ids = [old.cases[-2].id, old.cases[0].id, old.cases[10].id]
    new = with_labels(old, dict.fromkeys(ids, "partial"))
    order = [c.id for c in compare(old, new)]
    assert order == [c.id for c in old.cases if c.id in ids]


def test_two_real_runs_differ_exactly_where_the_defect_bites(tmp_path: Path) -> None:
    """The reference proxy, then the same with `no-stale-on-404`: only the STALE-404 cases it breaks change."""
    clean = _run(tmp_path / "clean")
    broken = _run(tmp_path / "broken", "--defect", "no-stale-on-404")
    assert [c.id for c in clean.cases] == [c.id for c in broken.cases] and clean.cases
    assert all(case.verdict is Verdict.PASS for case in clean.cases)
    bitten = {case.id for case in broken.cases if case.verdict is Verdict.FAIL}
    assert bitten  # the defect must show somewhere, or the comparison proves nothing

    changes = compare(clean, broken)
    assert {change.id for change in changes} == bitten
    for change in changes:
        assert change.kind == "changed"
        assert change.old == "served-cached" and change.new is not None and change.new.startswith("not-found")

    cli = [sys.executable, "-m", "harness.cli", "diff"]
    old, new = tmp_path / "clean" / "results.json", tmp_path / "broken" / "results.json"
    changed = subprocess.run([*cli, str(old), str(new)], capture_output=True, text=True, timeout=60)
    assert changed.returncode == 1, changed.stderr
    assert all(case_id in changed.stdout for case_id in bitten)
    same = subprocess.run([*cli, str(old), str(old)], capture_output=True, text=True, timeout=60)
    assert (same.returncode, same.stdout.strip()) == (0, "no observation changed")


def _run(report_dir: Path, *extra: str):  # type: ignore[no-untyped-def]
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "run",
        "-k",
        "STALE-404",
        "-n",
        "1",
        "--report-dir",
        str(report_dir),
    ]
    done = subprocess.run([*command, *extra], capture_output=True, text=True, timeout=240, cwd=report_dir.parent)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return load(report_dir / "results.json")


def test_the_package_exports_the_diff_function_whatever_was_imported() -> None:
    import harness.commands.report  # noqa: F401  (imports every report module)
    import reports

    assert reports.compare is compare
    assert reports.write_all.__module__ == "reports.writers"
