from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from reports_factory import SECRETS, few_results, suite_results

from reports import redact, write_all
from reports.formats import FORMATS
from reports.validate import load, validate
from reports.writers import render


def test_write_all_writes_the_four_reports(tmp_path: Path) -> None:
    results = suite_results()
    paths = write_all(results, tmp_path / "new" / "dir")
    assert {fmt: path.name for fmt, path in paths.items()} == {
        "json": "results.json",
        "html": "report.html",
        "md": "summary.md",
        "junit": "junit.xml",
    }
    assert sorted(p.name for p in paths["json"].parent.iterdir()) == sorted(p.name for p in paths.values())
    assert load(paths["json"]) == redact.results(results)
    assert ET.parse(paths["junit"]).getroot().get("tests") == str(len(results.cases))
    assert paths["html"].read_text(encoding="utf-8").startswith("<!doctype html>")
    assert paths["md"].read_text(encoding="utf-8").startswith("### ")


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "allure"])
def test_no_format_carries_a_credential(fmt: str) -> None:
    text = render(few_results(), fmt)
    assert [secret for secret in SECRETS if secret in text] == []


def test_json_output_is_valid_against_the_schema() -> None:
    validate(json.loads(render(few_results(), "json")))
