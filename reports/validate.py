"""Reading results files: JSON, checked against `schema.json`, then the model; one-line errors."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from reports.model import READABLE_VERSIONS, Results


class InvalidResults(ValueError):
    """A results file that cannot be read, is not JSON, or does not match the schema; the message is one line."""


def schema() -> dict[str, Any]:
    """The JSON Schema of the results file (shipped in the package as `schema.json`)."""
    data: dict[str, Any] = json.loads(resources.files("reports").joinpath("schema.json").read_text())
    return data


def validate(data: Any, *, source: str = "results") -> None:
    """Raise `InvalidResults` naming the first offending field, e.g. `cases/3/verdict: 'maybe' is not one of …`."""
    if isinstance(data, dict) and data.get("schema_version") not in (None, *READABLE_VERSIONS):
        raise InvalidResults(
            f"{source}: results schema version {data['schema_version']!r} is not one of {READABLE_VERSIONS} "
            "(written by another pullthrough version)"
        )
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise InvalidResults(f"{source}: {where}: {_one_line(error.message)}")


def parse(text: str, *, source: str = "results") -> Results:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidResults(f"{source} is not JSON: {error}") from None
    validate(data, source=source)
    return Results.from_dict(data)


def load(path: str | Path) -> Results:
    """A results file as `Results`, or `InvalidResults` with a one-line reason."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidResults(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InvalidResults(f"{path} is not UTF-8 text") from None
    return parse(text, source=str(path))


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
