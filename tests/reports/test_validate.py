from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from reports_factory import few_results, suite_results

from reports.model import Results
from reports.validate import InvalidResults, load, parse, schema, validate


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_results_round_trip_through_the_schema() -> None:
    results = suite_results()
    data = json.loads(results.to_json())
    validate(data)
    assert parse(results.to_json()) == results


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["cases"][3].update(verdict="maybe"), "cases/3/verdict"),
        (lambda d: d["cases"][0].pop("rule"), "cases/0"),
        (lambda d: d["run"].update(strict="yes"), "run/strict"),
        (lambda d: d["cases"][1]["transcripts"]["client"][0].update(status="2"), "cases/1/transcripts/client/0/status"),
        (lambda d: d["cases"][2].update(surprise=1), "cases/2"),
        (lambda d: d.pop("cases"), "(top level)"),
    ],
)
def test_invalid_results_name_the_field(mutate: Any, where: str) -> None:
    small = few_results()
    data = json.loads(small.to_json())
    mutate(data)
    with pytest.raises(InvalidResults) as error:
        validate(data, source="x.json")
    message = str(error.value)
    assert message.startswith(f"x.json: {where}")
    assert "\n" not in message


def test_another_schema_version_is_named() -> None:
    small = few_results()
    data = json.loads(small.to_json())
    data["schema_version"] = 3
    with pytest.raises(InvalidResults, match=r"schema version 3 is not one of \(1, 2\)"):
        validate(data)


def test_a_version_1_file_still_loads_with_the_fields_version_2_added_left_empty() -> None:
    data = json.loads(few_results().to_json())
    data["schema_version"] = 1
    del data["rules"]
    for case in data["cases"]:
        del case["step"], case["notes"]
        if case.get("observation"):
            case["observation"]["kind"] = "partial"  # a kind only pullthrough 0.1 recorded
    for field in ("variants", "settle", "options"):
        del data["run"][field]
    validate(data)
    loaded = Results.from_dict(data)
    assert loaded.schema_version == 2 and loaded.rules == {}
    assert all(case.notes == [] and case.step == "" for case in loaded.cases)


def test_load_reads_a_file(tmp_path: Path) -> None:
    small = few_results()
    path = tmp_path / "results.json"
    small.write(path)
    assert load(path) == small


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "cannot read"), (b"{not json", "is not JSON"), (b"\xff\xfe\x00", "is not UTF-8"), (b"[]", "(top level)")],
)
def test_unreadable_files_give_one_line(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidResults) as error:
        load(path)
    assert reason in str(error.value)
    assert "\n" not in str(error.value)


def test_the_schema_names_every_observation_kind() -> None:
    from reports.model import Kind
    from reports.validate import schema

    assert schema()["$defs"]["observation"]["properties"]["kind"]["enum"] == [kind.value for kind in Kind]
