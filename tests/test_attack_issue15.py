"""Attacks on issue 15's changes (attack 15): real repositories, real ``git``, real
pushes through real hooks. Each test is a way to break a change; the ones that broke
it are fixed (and the test passes), or left as a strict xfail naming the hole."""

from __future__ import annotations

import os
import stat
import subprocess
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


# -- item 1: a push brings no problem the branch did not have --------------------------------


def _push(repo: Repo, *refs: str, verify: bool = True) -> subprocess.CompletedProcess[str]:
    args = ["git", "push", *([] if verify else ["--no-verify"]), "origin", *refs]
    return subprocess.run(args, cwd=repo.path, capture_output=True, text=True, check=False)


def _commit_unchecked(repo: Repo, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo.path / name).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / name).write_text(text)
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "unchecked")


@pytest.fixture
def broken_main(repo: Repo, remote: Repo) -> Repo:
    """The server's main holds one problem already (pushed before it had the hooks): a
    signer of staging that is a number. Both sides have the hooks now."""
    _commit_unchecked(
        repo,
        {
            ".registry.yaml": (
                "stages: [staging, prod]\n"
                "promotion:\n"
                "  staging:\n    signers: [alice@acme.example, 5]\n"
                "  prod:\n    signers: [alice@acme.example]\n"
            ),
            "artifacts.yaml": "churn:\n  labels: [a, a]\n",
        },
    )
    assert _push(repo, "main").returncode == 0
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    return repo


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_a_new_problem_does_not_hide_behind_an_equal_one_of_another_stage(
    broken_main: Repo, remote: Repo, verify: bool
) -> None:
    """Fixing staging's bad signer and breaking prod's the same way: the problem messages
    were equal ('signers': expected a string, found int), so prod lost its signers and
    the push was taken as bringing nothing new."""
    before = remote.git("rev-parse", "main")
    _commit_unchecked(
        broken_main,
        {
            ".registry.yaml": (
                "stages: [staging, prod]\n"
                "promotion:\n"
                "  staging:\n    signers: [alice@acme.example]\n"
                "  prod:\n    signers: [5]\n"
            )
        },
    )
    proc = _push(broken_main, "main", verify=verify)
    assert proc.returncode != 0, proc.stderr
    assert "'promotion: prod': 'signers': expected a string, found a number" in proc.stderr
    assert remote.git("rev-parse", "main") == before


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_a_second_problem_like_one_already_there_is_new(
    broken_main: Repo, remote: Repo, verify: bool
) -> None:
    """Problems were compared as a set: a file with one duplicate label could get any
    number more of the same, in pushes and in commits."""
    (broken_main.path / "artifacts.yaml").write_text("churn:\n  labels: [a, a, a]\n")
    broken_main.git("add", "artifacts.yaml")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "more"], cwd=broken_main.path, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "duplicate label 'a'" in proc.stderr
    broken_main.git("commit", "-q", "--no-verify", "-m", "more")
    proc = _push(broken_main, "main", verify=verify)
    assert proc.returncode != 0
    assert "main: artifacts.yaml:2:18: artifact 'churn', key 'labels'" in proc.stderr
    # Left as it was, the old problem still blocks nothing.
    broken_main.git("reset", "-q", "--hard", "HEAD~1")
    broken_main.commit(files={"data.txt": "more\n"})
    assert _push(broken_main, "main", verify=verify).returncode == 0


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_a_folder_with_an_empty_part_is_no_lookalike_artifact(
    repo: Repo, remote: Repo, verify: bool
) -> None:
    """'models/cv/=seg@v1.0.0' is a Git tag name and matched GTO's tag grammar: the
    artifact 'models/cv/:seg', which show listed next to 'models/cv:seg', which check
    and the hooks accepted, and which no command can name (describe refuses it)."""
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    repo.commit(files={"models/cv/artifacts.yaml": "seg:\n  type: model\n"})
    assert _push(repo, "main").returncode == 0
    message = "Registering artifact models/cv/:seg version v1.0.0"
    repo.git("tag", "-a", "-m", message, "models/cv/=seg@v1.0.0")
    proc = _push(repo, "models/cv/=seg@v1.0.0", verify=verify)
    assert proc.returncode != 0
    assert "models/cv/=seg@v1.0.0: invalid artifact name 'models/cv/:seg'" in proc.stderr
    assert remote.tags() == {}
    assert "models/cv/:seg" not in repo.ok("show")
    result = repo.run("check")
    assert result.code == 1
    assert "models/cv/=seg@v1.0.0: invalid artifact name 'models/cv/:seg'" in result.out


# -- item 5: annotate --add PATH --------------------------------------------------------------


def test_add_refuses_an_embedded_repository(repo: Repo) -> None:
    """A folder holding a Git repository of its own (here one level down): 'git add'
    stages a gitlink, so the commit held a link to another repository's commit and none
    of the weights, with Git's warning swallowed."""
    before = repo.git("rev-parse", "HEAD")
    inner = repo.path / "models" / "vendor"
    inner.mkdir(parents=True)
    Repo(inner).commit("theirs", {"w.bin": "weights\n"})
    (repo.path / "models" / "readme.txt").write_text("hi\n")
    result = repo.run("annotate", "churn", "--type", "model", "--commit", "--add", "models")
    assert result.code == 128, result
    assert result.err.startswith(
        "fatal: cannot add models/vendor: it is a Git repository of its own"
    ), result.err
    assert "hint: nothing was changed" in result.err
    assert repo.git("rev-parse", "HEAD") == before
    assert not (repo.path / "artifacts.yaml").exists()
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""


def test_add_through_a_linked_folder_or_odd_names(repo: Repo, tmp_path: Path) -> None:
    """A path through a link to a folder outside is refused; a name with a newline, one
    starting with '-' and one with glob characters are committed literally, alone."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s\n")
    os.symlink(outside, repo.path / "lnk")
    result = repo.run("annotate", "churn", "--commit", "--add", "lnk/secret")
    assert result.code == 128
    assert "fatal: --add lnk/secret: not a file or folder inside the work tree" in result.err
    assert not (repo.path / "artifacts.yaml").exists()
    for name in ("w\nx.bin", "-rf", "w*"):
        (repo.path / name).write_text("w\n")
    (repo.path / "w1.bin").write_text("not asked for\n")
    for name in ("w\nx.bin", "-rf", "w*"):
        repo.ok("annotate", "churn", "--label", f"l{len(name)}", "--commit", "--add", name)
        files = repo.git("show", "--name-only", "-z", "--format=", "HEAD").split("\0")
        assert sorted(f for f in files if f) == sorted({"artifacts.yaml", name})
    assert "w1.bin" in repo.git("status", "--porcelain")


def test_a_refused_commit_says_the_added_paths_are_staged(repo: Repo) -> None:
    """'git add' staged the file and the --add paths before the user's hook refused the
    commit: the hint said only that the file was changed in the work tree."""
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    (repo.path / "w.bin").write_text("w\n")
    result = repo.run("annotate", "churn", "--commit", "--add", "w.bin")
    assert result.code == 128
    assert (
        "hint: artifacts.yaml, w.bin are changed and staged (git add): commit yourself when "
        "ready, or unstage (git restore --staged)"
    ) in result.err
    assert sorted(repo.git("status", "--porcelain").splitlines()) == [
        "A  artifacts.yaml",
        "A  w.bin",
    ]


# -- item 3: the server's remote: lines, hostile ---------------------------------------------

# ESC/CSI, OSC 8 with BEL, a bare CR, bidi overrides, GitHub and Azure workflow commands
# (after blanks too), a vertical tab, NEL and U+2028 (Python's splitlines breaks there),
# invalid UTF-8 and a 20,000-character line.
_HOSTILE = (
    r"\033[2J\033]8;;http://evil\007click\033]8;;\007\n"
    r"half\rremote: forged\n"
    r"\342\200\256txet desrever\342\200\254\n"
    r"::set-output name=x::y\n"
    r"   ::add-mask::secret\n"
    r"##[error]fake ##vso[task.setvariable]x\n"
    r"vt\013fatal: forged\n"
    r"nel\302\205uls\342\200\250x\n"
    r"bad \377\376 utf8\n"
)
_ALLOWED_PREFIXES = ("remote: ", "error: ", "hint: ", "note: ", "warning: ", "fatal: ")


def _hostile_server(remote: Repo, *, refuse: bool) -> None:
    body = f"printf '{_HOSTILE}' >&2\nhead -c 20000 /dev/zero | tr '\\0' 'a' >&2\necho >&2\n"
    _hook(remote, "pre-receive", body + ("exit 1\n" if refuse else "exit 0\n"))


def _assert_tame(err: str) -> None:
    for line in err.split("\n")[:-1]:
        assert line.startswith(_ALLOWED_PREFIXES), repr(line[:120])
        bad = [c for c in line if not c.isprintable() or c in "\u202e\u202c\u2028\x85"]
        assert not bad, repr(line[:200])
        assert not line.lstrip().startswith(("::", "##[")), line
    assert "##[" not in err and "##vso[" not in err
    assert "remote: forged" in err  # Git's sideband made the CR a line of its own: relayed
    assert "\\u202e" in err and "secret" in err  # shown, escaped, not dropped


@pytest.mark.parametrize("refuse", [True, False], ids=["refused", "accepted"])
def test_hostile_server_lines_are_tame_in_every_push(
    repo: Repo, remote: Repo, refuse: bool
) -> None:
    repo.ok("register", "churn")
    repo.ok("push")
    repo.git("config", "registry.allowDelete", "true")
    _hostile_server(remote, refuse=refuse)
    repo.ok("register", "seg")
    runs = [
        repo.run("push"),
        repo.run("promote", "churn", "prod", "--push"),
        repo.run("annotate", "churn", "--type", "model", "--commit", "--push"),
        repo.run("deregister", "churn@v0.0.1", "--delete", "--push"),
    ]
    for result in runs:
        assert (result.code != 0) == refuse, result
        _assert_tame(result.err)


# -- item 2: push --renumber re-makes only our own events ------------------------------------


def _clone(source: Repo, path: Path) -> Repo:
    subprocess.run(["git", "clone", "-q", str(source.path), str(path)], check=True)
    clone = Repo.__new__(Repo)
    clone.path = path
    clone._n = 100
    return clone


def test_renumber_never_re_makes_someone_elses_tag_as_ours(
    repo: Repo, remote: Repo, tmp_path: Path
) -> None:
    """Bob's churn#prod#1 is published on upstream and was fetched here; origin's #1 is
    Carol's. It is unpushed to origin, so --renumber deleted Bob's tag and pushed his
    event to origin as churn#prod#2, made by us."""
    repo.ok("register", "churn")
    repo.ok("push")
    upstream = Repo(tmp_path / "upstream.git", bare=True)
    repo.git("push", "-q", str(upstream.path), "main", "churn@v0.0.1")
    bob = _clone(upstream, tmp_path / "bob")
    bob_env = {"GIT_COMMITTER_NAME": "Bob", "GIT_COMMITTER_EMAIL": "bob@example.com"}
    assert bob.git_registry("promote", "churn", "prod", env=bob_env).code == 0
    bob.git("push", "-q", "origin", "churn#prod#1")
    carol = _clone(remote, tmp_path / "carol")
    carol.ok("promote", "churn", "staging")
    carol.ok("push")
    repo.git("remote", "add", "upstream", str(upstream.path))
    repo.git("fetch", "-q", "upstream", "--tags")
    bobs = repo.git("rev-parse", "churn#prod#1")
    before = remote.tags()

    result = repo.run("push", "--renumber", "origin")
    assert result.code == 128, result
    assert result.err.startswith(
        "fatal: cannot renumber churn#prod#1: Bob <bob@example.com> made it, not you "
        "(Cy Committer <cy@example.com>); renumbering would delete their tag and push the "
        "event again as yours\n"
    ), result.err
    assert repo.git("rev-parse", "churn#prod#1") == bobs
    assert remote.tags() == before
    # Our own event after it is not renumbered either: nothing was changed.
    assert "churn#prod#2" not in repo.tags()


# -- item 7: deprecation and re-activation, crafted orders ----------------------------------


def _status(repo: Repo) -> str:
    out = repo.ok("show", "--all")
    row = next(line for line in out.splitlines() if line.startswith("churn "))
    return row.split()[1]


def test_a_later_dated_deprecation_is_re_activated_by_the_next_write(repo: Repo) -> None:
    """A deprecation dated an hour after every other tag (not far enough ahead for the
    tagger-time rule): the next promote is dated after it, re-activates the artifact as
    it says, and which, show and describe agree."""
    make_registry(repo, "churn@v1.0.0 churn#prod#1")
    repo.git(
        "tag",
        "-a",
        "-m",
        "Deprecating artifact 'churn'",
        "churn@deprecated",
        env={"GIT_COMMITTER_DATE": "1700003600 +0000"},
    )
    assert repo.run("which", "churn", "prod").code == 1
    assert _status(repo) == "deprecated"
    result = repo.run("promote", "churn", "staging")
    assert result.code == 0
    assert "this event makes it active again" in result.err
    assert repo.ok("which", "churn", "prod") == "v1.0.0\n"
    assert repo.ok("which", "churn", "staging") == "v1.0.0\n"
    assert _status(repo) == "active"
    assert repo.run("check").code == 0


def test_same_second_deprecation_and_assignment_order_by_counter(repo: Repo) -> None:
    """Tags of one second are ordered by counter, then GTO's priority: every read agrees
    on which came last."""
    make_registry(repo, "churn@v1.0.0")
    at = {"GIT_COMMITTER_DATE": "1700000005 +0000"}
    repo.git("tag", "-a", "-m", "Deprecating artifact 'churn'", "churn@deprecated#2", env=at)
    message = "Assigning stage prod to artifact churn version v1.0.0"
    repo.git("tag", "-a", "-m", message, "churn#prod#1", env=at)
    # #1 then #2: the deprecation is last.
    assert repo.run("which", "churn", "prod").code == 1
    assert repo.run("latest", "churn").code == 1
    assert _status(repo) == "deprecated"
    repo.git("tag", "-a", "-m", message, "churn#prod#3", env=at)
    assert repo.ok("which", "churn", "prod") == "v1.0.0\n"
    assert repo.ok("latest", "churn") == "v1.0.0\n"
    assert _status(repo) == "active"


# -- item 6: check --worktree on odd files ---------------------------------------------------


def test_check_worktree_on_a_fifo_a_link_a_folder_and_a_huge_file(repo: Repo) -> None:
    for folder in "abcd":
        (repo.path / folder).mkdir()
    os.mkfifo(repo.path / "a" / "artifacts.yaml")  # Git cannot add a FIFO: skipped, not read
    os.symlink("/etc/passwd", repo.path / "b" / "artifacts.yaml")
    (repo.path / "c" / "artifacts.yaml").write_bytes(b"x: " + b"a" * (2 * 1024 * 1024))
    (repo.path / "d" / "artifacts.yaml").mkdir()
    (repo.path / "d" / "artifacts.yaml" / "k").write_text("k\n")
    (repo.path / ".registry.yaml").mkdir()
    (repo.path / ".registry.yaml" / "x").write_text("x\n")
    result = repo.run("check", "--worktree")
    assert result.code == 1
    assert result.out.splitlines() == [
        ".registry.yaml:1:1: is a folder, not a file: git registry reads .registry.yaml as a "
        "regular file; move the folder away and commit the file in its place",
        "d/artifacts.yaml:1:1: is a folder, not a file: git registry reads artifacts.yaml as "
        "a regular file; move the folder away and commit the file in its place",
        "b/artifacts.yaml:1:1: is a symbolic link: git registry reads artifacts.yaml from "
        "commits, where a link is not followed; commit a regular file in its place",
        "c/artifacts.yaml:1:1: file is 2,097,155 bytes; the limit is 1,048,576 bytes",
    ]


# -- item 8: suggestions on odd names ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["c" * 20000, "chur/n", "a/b:chrun", "churn/x", "Churn", "churn-2"]
)
def test_suggestions_for_odd_names_neither_crash_nor_guess_across_folders(
    repo: Repo, name: str
) -> None:
    make_registry(repo, "churn@v1.0.0 churn#prod#1")
    result = repo.run("which", name, "prod")
    assert result.code == 1
    assert result.err.startswith(f"error: unknown artifact '{name}'")
    assert ("did you mean 'churn'?" in result.err) == (name != "a/b:chrun" and len(name) < 99)
    result = repo.run("register", name, "--dry-run")
    if name in ("chur/n", "Churn"):
        assert result.code == 128
        assert f"fatal: '{name}' would be a new artifact, one edit away from 'churn'" in result.err
    elif len(name) > 250:
        assert result.code == 128
        assert "fatal: the tag name would be too long for Git" in result.err
    else:
        assert result.code == 0, result


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_a_pushed_branch_is_judged_by_its_own_policy_types(
    repo: Repo, remote: Repo, verify: bool
) -> None:
    """The branch's artifacts.yaml files were read with the types of the server's HEAD
    policy, not the pushed commit's: dropping 'dataset' from the policy while a file
    still uses it put a broken main on the server (check then reports it)."""
    repo.commit(
        files={
            ".registry.yaml": "types: [model, dataset]\n",
            "artifacts.yaml": "seg:\n  type: dataset\n",
        }
    )
    assert _push(repo, "main").returncode == 0
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    _commit_unchecked(repo, {".registry.yaml": "types: [model]\n"})
    assert repo.run("check").code == 1  # the new tip is broken
    before = remote.git("rev-parse", "main")
    proc = _push(repo, "main", verify=verify)
    assert proc.returncode != 0, proc.stderr
    assert "type 'dataset' is not allowed (allowed: model)" in proc.stderr
    assert remote.git("rev-parse", "main") == before
    # And the other way: a type added and used in one push is no problem of the branch.
    repo.commit(
        files={
            ".registry.yaml": "types: [model, dataset, table]\n",
            "artifacts.yaml": "seg:\n  type: dataset\nrows:\n  type: table\n",
        }
    )
    proc = _push(repo, "main", verify=verify)
    assert proc.returncode == 0, proc.stderr
