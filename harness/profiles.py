"""The named expectation sets a run is judged against (RULES.md, "Profiles")."""

from __future__ import annotations

PROFILES = ("documented", "harbor-2.14-docs")
