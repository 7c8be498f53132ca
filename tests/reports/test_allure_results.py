from __future__ import annotations

import json
from pathlib import Path

from reports_factory import SECRETS, few_results

from reports.allure_results import write_allure
from reports.model import Verdict

_STATUS = {"pass": "passed", "fail": "failed", "error": "broken", "skip": "skipped", "deviation": "skipped"}


def test_one_result_per_case_with_the_harness_labels(tmp_path: Path) -> None:
    results = few_results()
    write_allure(results, tmp_path)
    written = [json.loads(p.read_text()) for p in tmp_path.glob("*-result.json")]
    assert len(written) == len(results.cases)
    by_name = {result["name"]: result for result in written}
    for case in results.cases:
        result = by_name[case.id]
        labels = {(label["name"], label["value"]) for label in result["labels"]}
        assert {("epic", case.family), ("feature", case.rule), ("story", case.id)} <= labels
        severity = "normal" if case.level == "recommended" else "critical"
        assert ("severity", severity) in labels
        assert result["status"] == _STATUS[case.verdict.value]
        assert result["stop"] >= result["start"]
        assert {p["name"]: p["value"] for p in result.get("parameters", [])} == case.params
        if case.verdict is Verdict.DEVIATION:
            assert result["statusDetails"]["message"].startswith("deviation")
        if case.verdict is not Verdict.PASS:
            assert case.label in result["statusDetails"]["message"]
        for attachment in result.get("attachments", []):
            assert (tmp_path / attachment["source"]).is_file()
    names = {a["name"] for r in written for a in r.get("attachments", [])}
    assert names == {"observation", "reproduce (curl)", "client <-> proxy", "proxy <-> upstream"}


def test_history_ids_are_stable_across_writes(tmp_path: Path) -> None:
    results = few_results()
    write_allure(results, tmp_path / "a")
    write_allure(results, tmp_path / "b")

    def ids(directory: Path) -> dict[str, str]:
        return {(data := json.loads(p.read_text()))["name"]: data["historyId"] for p in directory.glob("*-result.json")}

    assert ids(tmp_path / "a") == ids(tmp_path / "b")


def test_environment_and_categories_and_no_secrets(tmp_path: Path) -> None:
    results = few_results()
    write_allure(results, tmp_path)
    environment = dict(line.split("=", 1) for line in (tmp_path / "environment.properties").read_text().splitlines())
    assert environment["target"] == results.run.target
    categories = json.loads((tmp_path / "categories.json").read_text())
    assert any(category.get("messageRegex") == "deviation.*" for category in categories)
    everything = "".join(p.read_text(errors="replace") for p in tmp_path.iterdir())
    assert [secret for secret in SECRETS if secret in everything] == []
