"""Tag objects are read exactly as Git reads them (SPEC 9, Trust).

Tag objects in every malformed shape are written with ``git hash-object -t tag -w
--literally`` and a ref is pointed at them; every command must skip them with one
warning, ``check`` must list them, the server hook must refuse them, and every tag
the registry does report must peel to the commit ``git rev-parse TAG^{commit}`` names.
"""

from __future__ import annotations

from pathlib import Path

from git_registry import gitbin

from conftest import Repo


def test_object_types_looks_up_every_id_in_order_with_one_git(repo: Repo) -> None:
    commit = repo.git("rev-parse", "HEAD").strip()
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    blob = repo.git("rev-parse", "HEAD:data.txt").strip()
    repo.tag("v1")
    tag = repo.git("rev-parse", "v1").strip()
    missing = "0123456789" * 4
    git_dir = str(repo.path / ".git")
    ids = [commit, tree, blob, tag, missing, commit]
    assert gitbin.object_types(git_dir, ids) == ["commit", "tree", "blob", "tag", None, "commit"]
    assert gitbin.object_types(git_dir, []) == []


def test_object_types_never_sends_what_is_not_a_full_lower_case_id(repo: Repo) -> None:
    commit = repo.git("rev-parse", "HEAD").strip()
    git_dir = str(repo.path / ".git")
    odd = [
        commit.upper(),
        commit[:7],
        "HEAD",
        "--batch-all-objects",
        f"{commit}\n{commit}",  # would make Git answer twice and shift every answer
        "",
    ]
    assert gitbin.object_types(git_dir, [*odd, commit]) == [None] * len(odd) + ["commit"]
    assert gitbin.object_types(git_dir, odd) == [None] * len(odd)


def test_object_types_of_a_repository_that_is_not_there(tmp_path: Path) -> None:
    # Git fails at once: every answer is None (the caller reports "missing"), no exception.
    assert gitbin.object_types(str(tmp_path / "nowhere"), ["a" * 40]) == [None]
