from __future__ import annotations

from dataclasses import replace

from reports_factory import few_results, suite_results

from reports.outline import FAMILY_ORDER, anchors, family_key, outline


def test_families_follow_the_catalogue_and_keep_every_case() -> None:
    results = suite_results()
    families = outline(results.cases)
    names = [family.family for family in families]
    assert names == sorted(names, key=family_key)
    assert names[:2] == list(FAMILY_ORDER[:2])
    assert sum(len(family.cases) for family in families) == len(results.cases)
    for family in families:
        for rule in family.rules:
            assert all(case.rule == rule.rule and case.family == family.family for case in rule.cases)


def test_unknown_families_come_last_alphabetically() -> None:
    small = few_results()
    extra = [replace(small.cases[0], family=name, rule=f"{name}-1", id=f"{name}-1[x]") for name in ("ZED", "ALPHA")]
    names = [family.family for family in outline([*extra, *small.cases])]
    assert names[-2:] == ["ALPHA", "ZED"]


def test_anchors_are_unique_and_url_safe() -> None:
    found = anchors(["STALE-5XX[503-tag-GET]", "STALE-5XX[503/tag GET]", "<script>", ""])
    assert found["STALE-5XX[503-tag-GET]"] == "c-STALE-5XX-503-tag-GET"
    assert len(set(found.values())) == 4
    assert all(value.replace("-", "").replace(".", "").replace("_", "").isalnum() for value in found.values())
