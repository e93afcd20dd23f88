"""The tag grammar agrees with Git: a ref name we accept is one ``git check-ref-format``
accepts (a property test that runs git for each example: end-to-end, ``slow``)."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from git_registry.grammar import refname_problem

pytestmark = pytest.mark.slow

REFNAME_PIECES = st.sampled_from(
    [*"/.@{}~^:?*[\\ ", "lock", ".lock", "a", "Z", "m", "0", "7", "-", "_"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(REFNAME_PIECES, max_size=10).map("".join))
def test_refname_problem_agrees_with_git_check_ref_format(suffix: str) -> None:
    refname = f"refs/tags/{suffix}"
    git_accepts = (
        subprocess.run(["git", "check-ref-format", refname], capture_output=True).returncode == 0
    )
    assert (refname_problem(refname) is None) == git_accepts, refname_problem(refname)
