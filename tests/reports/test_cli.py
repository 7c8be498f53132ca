from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from reports_factory import few_results, make_results, with_labels

from harness.cli import main
from reports.model import Results


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    old = few_results()
    new = with_labels(old, {old.cases[1].id: "hang"})
    paths = tmp_path / "old.json", tmp_path / "new.json"
    old.write(paths[0])
    new.write(paths[1])
    return paths


def test_report_to_stdout_defaults_to_html(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(files[0])]) == 0
    assert capsys.readouterr().out.startswith("<!doctype html>")


@pytest.mark.parametrize(("name", "check"), [("r.md", "### "), ("r.xml", "<?xml"), ("r.json", "{"), ("r.html", "<!")])
def test_report_format_follows_the_output_suffix(
    files: tuple[Path, Path], tmp_path: Path, name: str, check: str
) -> None:
    out = tmp_path / "sub" / name
    assert main(["report", str(files[0]), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith(check)


def test_report_explicit_formats(files: tuple[Path, Path], tmp_path: Path) -> None:
    assert main(["report", str(files[0]), "--format", "junit", "-o", str(tmp_path / "x.txt")]) == 0
    assert ET.parse(tmp_path / "x.txt").getroot().tag == "testsuites"
    assert main(["report", str(files[0]), "--format", "allure", "-o", str(tmp_path / "allure")]) == 0
    results = list((tmp_path / "allure").glob("*-result.json"))
    assert len(results) == len(few_results().cases)
    assert json.loads(results[0].read_text())["labels"]


def test_several_results_are_compared(files: tuple[Path, Path], tmp_path: Path) -> None:
    third = tmp_path / "third.json"
    make_results(seed=9, target="nginx", size=20, hostile=False).write(third)
    out = tmp_path / "matrix.html"
    assert main(["report", str(files[0]), str(files[1]), str(third), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "pullthrough behaviour comparison" in page and page.count('<tr class="case') == len(few_results().cases)
    assert main(["report", str(files[0]), str(files[1]), "--format", "md", "-o", str(tmp_path / "m.md")]) == 0
    assert "Observations that differ (1)" in (tmp_path / "m.md").read_text(encoding="utf-8")


def test_diff_exit_codes(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    old, new = files
    assert main(["diff", str(old), str(old)]) == 0
    assert main(["diff", str(old), str(new)]) == 1
    assert few_results().cases[1].id in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "{missing}"],
        ["report", "{bad}"],
        ["report", "{old}", "{old}", "--format", "junit"],
        ["report", "{old}", "-o", "{old}/report.html"],
        ["diff", "{old}", "{bad}"],
        ["diff", "{missing}", "{old}"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "run": {}, "cases": []}))
    names = {"missing": str(tmp_path / "nope.json"), "bad": str(bad), "old": str(files[0])}
    before = sorted(tmp_path.rglob("*"))
    assert main([arg.format(**names) for arg in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and captured.err.startswith(f"pullthrough {argv[0]}: ")
    assert "Traceback" not in captured.err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def test_report_json_writes_a_redacted_results_file(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "again.json"
    assert main(["report", str(files[0]), "-o", str(out)]) == 0
    again, original = Results.read(out), Results.read(files[0])
    assert [(c.id, c.label, c.verdict) for c in again.cases] == [(c.id, c.label, c.verdict) for c in original.cases]
    assert again.run.command != original.run.command  # the planted password is gone
