"""Attacks on issue 15's changes (attack 15): real repositories, real ``git``, real
pushes through real hooks. Each test is a way to break a change; the ones that broke
it are fixed (and the test passes), or left as a strict xfail naming the hole."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conftest import Repo, make_registry


def _hook(bare: Repo, name: str, body: str) -> None:
    path = bare.path / "hooks" / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


# -- item 4: --delete --push is all or nothing on the remote ---------------------------------


def test_delete_push_is_never_partial_on_the_remote(repo: Repo, remote: Repo) -> None:
    """A server whose ``update`` hook refuses one ref (per-ref hooks exist without the
    registry's): a non-atomic ``git push --delete`` deletes the others there, while we
    said 'nothing was deleted, here or there'."""
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.ok("push")
    assert set(remote.tags()) == {"churn@v0.0.1", "churn#prod#1"}
    _hook(
        remote,
        "update",
        'case "$1" in refs/tags/churn@*) echo "keep $1"; exit 1;; esac\nexit 0\n',
    )
    result = repo.run("deprecate", "churn", "--delete", "--push")
    assert result.code != 0, result.err
    assert "nothing was deleted, here or there" in result.err
    # What we said is true: the remote still has every tag, and so do we.
    assert set(remote.tags()) == {"churn@v0.0.1", "churn#prod#1"}
    assert set(repo.tags()) == {"churn@v0.0.1", "churn#prod#1"}
