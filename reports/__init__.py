"""Results model and the reports made from it: HTML, Markdown, JSON, JUnit, Allure, diffs."""

from reports.diff import Change, compare
from reports.model import Results, Verdict
from reports.validate import InvalidResults, load
from reports.writers import write_all

__all__ = ["Change", "InvalidResults", "Results", "Verdict", "compare", "load", "write_all"]
