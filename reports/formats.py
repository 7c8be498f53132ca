"""The report formats by name, and the files a run leaves in its report directory (no renderer imported)."""

from __future__ import annotations

FORMATS = ("html", "md", "junit", "json", "allure")
# Formats that put several runs side by side; the others describe one run.
COMPARISON_FORMATS = ("html", "md")
# What `pullthrough run` leaves in its report directory, by format.
FILE_NAMES = {"json": "results.json", "html": "report.html", "md": "summary.md", "junit": "junit.xml"}
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".xml": "junit", ".json": "json"}
