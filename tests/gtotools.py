"""GTO 1.10.1 for the interoperability tests: where it is (installed by the test extra
next to the test interpreter), why it cannot run, and what a test does then (fail, or
skip with GIT_REGISTRY_SKIP_GTO=1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GTO = os.path.join(os.path.dirname(sys.executable), "gto")
GTO_VERSION = "1.10.1"
# Read at import time: the hermetic fixture removes every GIT_* variable.
SKIP_GTO = os.environ.get("GIT_REGISTRY_SKIP_GTO") == "1"


def gto_problem_now() -> str | None:
    """Why GTO cannot be used here, or None."""
    if not os.access(GTO, os.X_OK):
        return f"GTO is not installed (no executable {GTO})"
    proc = subprocess.run([GTO, "--version"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return f"'{GTO} --version' failed ({proc.returncode}): {proc.stderr.strip()}"
    if GTO_VERSION not in proc.stdout:
        return f"GTO {GTO_VERSION} is required, found: {proc.stdout.strip()}"
    return None


def need_gto(problem: str | None) -> None:
    """Fail the test (or, with GIT_REGISTRY_SKIP_GTO=1, skip it) if GTO cannot run."""
    if problem is None:
        return
    if SKIP_GTO:
        pytest.skip(f"GIT_REGISTRY_SKIP_GTO=1: {problem}")
    pytest.fail(
        f"{problem}. Install the test extra (pip install -e '.[test]'), "
        "or set GIT_REGISTRY_SKIP_GTO=1 to skip the GTO interoperability tests.",
        pytrace=False,
    )
