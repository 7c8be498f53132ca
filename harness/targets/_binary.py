"""The peer program a user names with --peer-binary (a distribution or zot build of their own)."""

from __future__ import annotations

import os
import shutil

from harness.targets.base import TargetError


def given_binary(path: str) -> str:
    """The program's absolute path (a bare name is looked up on PATH); a one-line error if it cannot be run."""
    found = shutil.which(path) if os.sep not in path else path
    if found is None or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise TargetError(f"--peer-binary {path}: no executable file there")
    return os.path.abspath(found)
