"""``--delete`` and remotes (issue 15, item 5): the deletion says what it does before it
deletes, its advice is the command that works (and is refused where it should be), and
``--push`` deletes on the remote first, so that a refusal deletes nothing. Real bare
remotes with the registry's hooks installed, real ``git push``."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import Repo

TAGS = {"churn@v0.0.1", "churn#prod#1"}

NOTE_LOCAL = (
    "note: --delete deletes the tags in this repository only; the published way to undo "
    "the event is a new tag: git registry deregister churn@v0.0.1 --push (the command "
    "without --delete)\n"
)
NOTE_PUSH = NOTE_LOCAL.replace("in this repository only", "here and on origin")
ALLOW = (
    "deleting registry tags on a remote needs registry.allowDelete set in this clone and on "
    "the server (git config registry.allowDelete true, in each)"
)
PUSH_DELETE = "git push --atomic origin --delete churn@v0.0.1 'churn#prod#1'"
EMPTIED = "warning: the deregistered churn v0.0.1 held prod: prod is now empty\n"


@pytest.fixture
def guarded(repo: Repo, remote: Repo) -> Repo:
    """``repo`` with the client hooks, ``remote`` with the server hook, and churn v0.0.1
    in prod published there."""
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.ok("push")
    assert set(remote.tags()) == TAGS
    return repo


def test_a_local_deletion_of_published_tags_says_fetch_brings_them_back(
    guarded: Repo, remote: Repo
) -> None:
    warning = (
        "warning: origin has churn@v0.0.1, churn#prod#1: 'git registry fetch' will bring "
        "them back unless they are deleted on origin too\n"
        f"hint: {ALLOW}, then: {PUSH_DELETE}\n"
    )
    result = guarded.run("deregister", "churn@v0.0.1", "--delete", "--dry-run")
    assert result.code == 0
    assert result.err == NOTE_LOCAL + warning + "note: nothing was deleted (--dry-run)\n"
    assert set(guarded.tags()) == TAGS

    result = guarded.run("deregister", "churn@v0.0.1", "--delete")
    assert result.code == 0
    # Said before deleting (stdout comes after); then what it did to prod.
    assert result.err == NOTE_LOCAL + warning + EMPTIED
    assert result.out.startswith("Deleted tag churn@v0.0.1 ")
    assert "git push" not in result.out
    assert guarded.tags() == {}
    # The warning is true: a fetch brings them back.
    assert "2 new" in guarded.ok("fetch")
    assert set(guarded.tags()) == TAGS


def test_the_advised_push_is_refused_without_allow_delete_and_works_with_it(
    guarded: Repo, remote: Repo
) -> None:
    result = guarded.run("deregister", "churn@v0.0.1", "--delete")
    hint = next(line for line in result.err.splitlines() if line.startswith("hint: "))
    command = shlex.split(hint.rpartition(", then: ")[2])
    assert command[:2] == ["git", "push"]

    def run_advice() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=guarded.path, capture_output=True, text=True)

    # Refused by this clone's pre-push hook, then by the server's pre-receive hook.
    done = run_advice()
    assert done.returncode != 0
    assert "git-registry pre-push hook refused the push" in done.stderr
    guarded.git("config", "registry.allowDelete", "true")
    done = run_advice()
    assert done.returncode != 0
    assert "remote: error: git-registry pre-receive hook refused this push" in done.stderr
    assert set(remote.tags()) == TAGS
    remote.git("config", "registry.allowDelete", "true")
    done = run_advice()
    assert done.returncode == 0, done.stderr
    assert remote.tags() == {}
    assert "0 new" in guarded.ok("fetch")


def test_delete_with_push_deletes_on_the_remote_first(guarded: Repo, remote: Repo) -> None:
    # The pre-push hook of this clone refuses: nothing is deleted, here or there.
    result = guarded.run("deregister", "churn@v0.0.1", "--delete", "--push")
    assert result.code == 1
    assert result.err == (
        NOTE_PUSH + "error: cannot delete the tags on 'origin': churn#prod#1: deleting a "
        "registry tag on the remote is refused (it would rewrite the history of churn); "
        "nothing was deleted, here or there\n"
        f"hint: {ALLOW}; or undo the event with a new tag: "
        "git registry deregister churn@v0.0.1 --push\n"
    )
    assert result.out == f"Running: {PUSH_DELETE}\n"
    assert set(guarded.tags()) == TAGS and set(remote.tags()) == TAGS

    # The server's hook refuses: what it said is relayed, and nothing is deleted.
    guarded.git("config", "registry.allowDelete", "true")
    result = guarded.run("deregister", "churn@v0.0.1", "--delete", "--push")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0] == NOTE_PUSH.strip()
    assert (
        "remote: error: churn#prod#1: deleting a registry tag on the remote is refused "
        "(it would rewrite the history of churn)"
    ) in lines
    assert "remote: error: git-registry pre-receive hook refused this push: 2 problems; " in (
        result.err
    )
    assert lines[-2] == (
        "error: cannot delete the tags on 'origin': churn#prod#1 [remote rejected] "
        "(pre-receive hook declined); churn@v0.0.1 [remote rejected] (pre-receive hook "
        "declined); nothing was deleted, here or there"
    )
    assert set(guarded.tags()) == TAGS and set(remote.tags()) == TAGS

    # Allowed on both sides: deleted there, then here; a fetch brings nothing back.
    remote.git("config", "registry.allowDelete", "true")
    result = guarded.run("deregister", "churn@v0.0.1", "--delete", "--push", "--dry-run")
    assert result.code == 0
    assert "Would delete on origin: churn@v0.0.1, churn#prod#1\n" in result.out
    assert set(guarded.tags()) == TAGS and set(remote.tags()) == TAGS
    result = guarded.run("deregister", "churn@v0.0.1", "--delete", "--push")
    assert result.code == 0, result.err
    assert result.err == NOTE_PUSH + EMPTIED
    assert result.out.splitlines()[:3] == [
        f"Running: {PUSH_DELETE}",
        "Deleted on origin: churn@v0.0.1, churn#prod#1",
        "Deleted tag churn@v0.0.1 (it registers churn v0.0.1 at commit "
        + guarded.git("rev-parse", "--short", "HEAD").strip()
        + ")",
    ]
    assert guarded.tags() == {} and remote.tags() == {}
    assert "0 new" in guarded.ok("fetch")


def test_a_deletion_of_unpushed_tags_says_the_remote_lacks_them(repo: Repo, remote: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    for push in ([], ["--push"]):
        result = repo.run("unassign", "churn", "prod", "--delete", *push)
        assert result.code == 0, result.err
        assert result.err.splitlines()[1:] == [
            "note: origin does not have the tag: nothing to delete there"
        ]
        assert "Running" not in result.out and "git push" not in result.out
        repo.ok("promote", "churn", "prod")
    assert "git registry unassign churn prod --push" in result.err


def test_a_deletion_says_when_it_cannot_tell_what_the_remote_has(
    repo: Repo, tmp_path: Path
) -> None:
    gone = tmp_path / "gone.git"
    repo.git("remote", "add", "origin", str(gone))
    repo.ok("register", "churn")
    repo.ok("deprecate", "churn")
    result = repo.run("deprecate", "churn", "--delete")
    assert result.code == 0
    assert result.err.splitlines()[1:] == [
        f"warning: cannot tell whether origin has the tags (could not read from remote "
        f"'origin' ({gone}): '{gone}' does not appear to be a git repository); if it does, "
        "'git registry fetch' will bring them back unless they are deleted there too",
        f"hint: {ALLOW}, then: git push --atomic origin --delete churn@v0.0.1 churn@deprecated",
    ]
    assert repo.tags() == {}  # every tag of the artifact
    # With --push, the push says why it cannot reach the remote, and nothing is deleted.
    repo.ok("register", "churn")
    repo.ok("deprecate", "churn")
    result = repo.run("deprecate", "churn", "--delete", "--push")
    assert result.code == 1
    assert (
        f"error: cannot delete the tags on 'origin': could not push to remote 'origin' "
        f"({gone}): '{gone}' does not appear to be a git repository; nothing was deleted, "
        "here or there\nhint: check the remote and your access to it: git remote -v; "
        "git ls-remote origin\n"
    ) in result.err
    assert set(repo.tags()) == {"churn@v0.0.1", "churn@deprecated"}
