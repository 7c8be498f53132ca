"""Results model and the reports made from it: HTML, Markdown, JSON, JUnit, Allure, diffs.

The names below load on first use, so that importing `reports.model` (as the harness's pytest
plugin does in every worker) does not also import the template engine and the schema validator.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reports.diff import Change, compare
    from reports.model import Results, Verdict
    from reports.validate import InvalidResults, load
    from reports.writers import write_all

_HOMES = {
    "Change": "reports.diff",
    "compare": "reports.diff",
    "Results": "reports.model",
    "Verdict": "reports.model",
    "InvalidResults": "reports.validate",
    "load": "reports.validate",
    "write_all": "reports.writers",
}
__all__ = ["Change", "InvalidResults", "Results", "Verdict", "compare", "load", "write_all"]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'reports' has no attribute {name!r}")
    return getattr(import_module(home), name)
