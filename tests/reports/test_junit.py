from __future__ import annotations

import xml.etree.ElementTree as ET

from reports_factory import HOSTILE, SECRETS, few_results, suite_results

from reports.junit import render_junit
from reports.model import Verdict
from reports.outline import outline


def test_one_testcase_per_case_with_counts_that_add_up() -> None:
    results = suite_results()
    root = ET.fromstring(render_junit(results))
    counts = results.counts()
    assert root.tag == "testsuites"
    assert int(root.get("tests", "")) == len(results.cases)
    assert int(root.get("failures", "")) == counts[Verdict.FAIL]
    assert int(root.get("errors", "")) == counts[Verdict.ERROR]
    assert int(root.get("skipped", "")) == counts[Verdict.SKIP] + counts[Verdict.DEVIATION]
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [family.family for family in outline(results.cases)]
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [c.id for f in outline(results.cases) for c in f.cases]
    assert sum(int(s.get("tests", "")) for s in suites) == len(cases)


def test_each_verdict_maps_to_its_element_and_carries_the_observation() -> None:
    results = suite_results()
    root = ET.fromstring(render_junit(results))
    by_name = {case.get("name"): case for case in root.iter("testcase")}
    for case in results.cases:
        element = by_name[case.id]
        assert element.get("classname") == f"{case.family}.{case.rule}"
        properties = {p.get("name"): p.get("value") for p in element.iter("property")}
        assert properties["verdict"] == case.verdict.value
        assert properties["observation"] == case.label
        children = {child.tag for child in element} - {"properties"}
        if case.verdict is Verdict.PASS:
            assert children == set()
        elif case.verdict is Verdict.FAIL:
            failure = element.find("failure")
            assert failure is not None and children == {"failure"}
            assert case.label in failure.get("message", "")
            assert f"expected: {case.expected}" in (failure.text or "")
            assert "curl -sS" in (failure.text or "")
        elif case.verdict is Verdict.ERROR:
            assert children == {"error"}
        elif case.verdict is Verdict.DEVIATION:
            skipped = element.find("skipped")
            assert skipped is not None and skipped.get("type") == "deviation"
            assert skipped.get("message", "").startswith("deviation (recommended rule, not gating): observed ")
            assert children == {"skipped", "system-out"}
        else:
            skipped = element.find("skipped")
            assert skipped is not None and skipped.get("type") == "skip"


def test_run_metadata_is_in_suite_properties() -> None:
    results = few_results()
    suite = ET.fromstring(render_junit(results)).find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert properties["target"] == results.run.target
    assert properties["profile"] == results.run.profile


def test_hostile_text_round_trips_and_nothing_leaks() -> None:
    text = render_junit(few_results())
    root = ET.fromstring(text)  # control characters would make this raise
    hostile = [c for c in root.iter("testcase") if HOSTILE in (c.get("name") or "")]
    assert len(hostile) == 1
    failure = hostile[0].find("failure")
    assert failure is not None and HOSTILE in (failure.text or "")
    assert "\\x00\\x1b" in (failure.text or "")
    assert [secret for secret in SECRETS if secret in text] == []
