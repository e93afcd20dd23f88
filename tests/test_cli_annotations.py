"""annotate, remove, describe, check, schema and the annotations in show/history, end to end on
real repositories; every result cross-checked with the git binary."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from git_registry.render import escape

from conftest import Existing, Repo, fails

ROOT = Path(__file__).resolve().parent.parent

EXISTING = """\
# Our artifacts (hand-written: comments and spacing must survive edits).
zeta:   # the first one
  path:  s3://bucket/zeta.pt   # odd spacing
  labels: [a,   b]

alpha:
  description: 'quoted'
  labels: [x]
# About mid.
mid:
  type: model
"""


def read(repo: Repo, name: str = "artifacts.yaml") -> bytes:
    return (repo.path / name).read_bytes()


def write(repo: Repo, text: str | bytes, name: str = "artifacts.yaml") -> None:
    target = repo.path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode() if isinstance(text, str) else text)


def committed(repo: Repo, text: str, name: str = "artifacts.yaml") -> str:
    """Commit ``name`` with ``text``; return the commit id."""
    return repo.commit(f"write {name}", files={name: text})


def head(repo: Repo) -> str:
    return repo.git("rev-parse", "HEAD").strip()


def refs(repo: Repo) -> str:
    return repo.git("for-each-ref", "--format=%(refname) %(objectname)")


def status(repo: Repo) -> str:
    return repo.git("status", "--porcelain")


# -- annotate --------------------------------------------------------------------------------


def test_annotate_creates_the_file(repo: Repo) -> None:
    out = repo.ok(
        "annotate",
        "churn",
        "--path",
        "s3://mycorp/churn.pt",
        "--type",
        "model",
        "--label",
        "customer",
        "--label",
        "xgboost",
        "--description",
        "Customer churn: yes/no",
    )
    assert out == "Updated artifacts.yaml: churn\n"
    assert read(repo).decode() == (
        "churn:\n"
        "  path: s3://mycorp/churn.pt\n"
        "  type: model\n"
        "  description: 'Customer churn: yes/no'\n"
        "  labels: [customer, xgboost]\n"
    )
    assert status(repo) == "?? artifacts.yaml\n"  # edited, not committed
    assert int(repo.git("rev-list", "--count", "HEAD")) == 1


def test_annotate_edits_one_entry_and_keeps_every_other_byte(repo: Repo) -> None:
    write(repo, EXISTING)
    repo.ok("annotate", "alpha", "--type", "dataset", "--label", "y", "--label", "x")
    lines = EXISTING.splitlines(keepends=True)
    assert (
        read(repo).decode()
        == (
            "".join(lines[:5])
            # The entry keeps its key order; new keys follow in schema order; labels are added.
            + "alpha:\n  description: quoted\n  labels: [x, y]\n  type: dataset\n"
            + "".join(lines[8:])
        )
    )
    # A new artifact is appended; the order of the others does not change.
    repo.ok("annotate", "new", "--path", "new.bin")
    text = read(repo).decode()
    assert text.endswith("mid:\n  type: model\nnew:\n  path: new.bin\n")
    assert re.findall(r"^(\w+):", text, re.M) == ["zeta", "alpha", "mid", "new"]
    assert text.startswith("".join(lines[:5]))


def test_annotate_keeps_mode_and_line_endings_of_other_entries(repo: Repo) -> None:
    write(repo, "a:\r\n  path: x\r\nb:\r\n  path: y\r\n")
    (repo.path / "artifacts.yaml").chmod(0o640)
    repo.ok("annotate", "a", "--type", "model")
    assert read(repo) == b"a:\r\n  path: x\r\n  type: model\r\nb:\r\n  path: y\r\n"
    assert (repo.path / "artifacts.yaml").stat().st_mode & 0o777 == 0o640


def test_custom_values_are_read_as_yaml(repo: Repo) -> None:
    repo.ok(
        "annotate",
        "churn",
        "--custom",
        "epochs=40",
        "--custom",
        "lr=0.001",
        "--custom",
        "early_stop=true",
        "--custom",
        "features=[age, plan]",
        "--custom",
        "owner=ml-team",
        "--custom",
        "quoted='40'",
        "--custom",
        "url=https://x.org/a?b=c",  # only the first '=' splits
        "--custom",
        "empty=",
    )
    repo.ok("annotate", "churn", "--custom", "epochs=41")  # merged into the mapping
    committed(repo, read(repo).decode())
    doc = json.loads(repo.ok("describe", "churn", "--json"))
    assert doc["custom"] == {
        "epochs": 41,
        "lr": 0.001,
        "early_stop": True,
        "features": ["age", "plan"],
        "owner": "ml-team",
        "quoted": "40",
        "url": "https://x.org/a?b=c",
        "empty": "",
    }
    assert yaml.safe_load(read(repo))["churn"]["custom"] == doc["custom"]


@pytest.mark.parametrize("item", ["novalue", "=5"])
def test_custom_needs_key_and_value(repo: Repo, item: str) -> None:
    write(repo, EXISTING)
    err = fails(repo, "annotate", "alpha", "--custom", item)
    assert f"fatal: --custom '{item}': write KEY=VALUE" in err
    assert read(repo) == EXISTING.encode()


def test_virtual_and_no_virtual(repo: Repo) -> None:
    (repo.path / "models").mkdir()
    (repo.path / "models" / "churn.pt").write_text("weights\n")
    repo.ok("annotate", "churn", "--path", "models/churn.pt", "--no-virtual")
    assert read(repo) == b"churn:\n  path: models/churn.pt\n  virtual: false\n"
    repo.ok("annotate", "churn", "--virtual")  # the default is not written
    assert read(repo) == b"churn:\n  path: models/churn.pt\n"
    # --no-virtual checks the path in the work tree, before writing anything.
    err = fails(repo, "annotate", "churn", "--path", "models/gone.pt", "--no-virtual")
    assert (
        "fatal: artifacts.yaml:2:9: artifact 'churn', key 'path': 'models/gone.pt' does not "
        "exist (virtual: false says it must)" in err
    )
    assert "hint: artifacts.yaml was not changed" in err
    assert read(repo) == b"churn:\n  path: models/churn.pt\n"
    err = fails(repo, "annotate", "web", "--path", "s3://b/w", "--no-virtual")
    assert "'s3://b/w' is a URL: it cannot be checked, so it must be virtual" in err
    assert read(repo) == b"churn:\n  path: models/churn.pt\n"


def test_virtual_and_no_virtual_are_exclusive(repo: Repo) -> None:
    result = repo.run("annotate", "churn", "--virtual", "--no-virtual")
    assert result.code == 129
    assert "not allowed with argument" in result.err
    assert not (repo.path / "artifacts.yaml").exists()


def test_annotate_in_a_monorepo_folder(repo: Repo) -> None:
    write(repo, EXISTING)
    out = repo.ok("annotate", "models/cv:seg", "--path", "weights/seg.pt", "--type", "model")
    assert out == "Updated models/cv/artifacts.yaml: models/cv:seg\n"
    assert read(repo, "models/cv/artifacts.yaml") == (
        b"seg:\n  path: weights/seg.pt\n  type: model\n"
    )
    assert read(repo) == EXISTING.encode()  # the root file is not touched
    repo.ok("annotate", "models/cv:seg", "--commit")
    assert repo.git("show", "--name-only", "--format=", "HEAD") == "models/cv/artifacts.yaml\n"
    # The name is read back from the folder; its tags are models/cv=seg@….
    assert repo.ok("describe", "models/cv:seg", "--path") == "weights/seg.pt\n"
    repo.ok("register", "models/cv:seg")
    assert repo.tags() == {"models/cv=seg@v0.0.1": head(repo)}
    doc = json.loads(repo.ok("describe", "models/cv:seg@v0.0.1", "--json"))
    assert (doc["artifact"], doc["file"], doc["type"]) == (
        "models/cv:seg",
        "models/cv/artifacts.yaml",
        "model",
    )


# -- annotate --no-virtual --commit with a new file (issue 15, item 4) ---------------------------


def test_commit_of_a_path_not_in_the_commit_is_refused_with_the_way_out(repo: Repo) -> None:
    repo.ok("hooks", "install")
    write(repo, "weights", "models/w.bin")  # in the work tree, untracked
    before, listed = head(repo), status(repo)
    args = ("annotate", "churn", "--path", "models/w.bin", "--no-virtual", "--commit")
    err = fails(repo, *args)
    assert err == (
        "fatal: path 'models/w.bin' is not in the commit (virtual: false says it must be): "
        "commit it first (git add, git commit), or pass --add models/w.bin to commit it with "
        "artifacts.yaml\n"
        "hint: nothing was changed\n"
    )
    assert (head(repo), status(repo)) == (before, listed)
    assert not (repo.path / "artifacts.yaml").exists()
    # Staged is not enough: --commit commits that file only (git commit --only).
    repo.git("add", "models/w.bin")
    assert "or pass --add models/w.bin" in fails(repo, *args)
    repo.git("reset", "-q")
    # From a folder, the path to pass is relative to it, as for git add.
    err = fails(repo, *args, cwd=repo.path / "models")
    assert "or pass --add w.bin to commit it" in err
    out = repo.ok(*args, "--add", "models/w.bin")
    new = head(repo)
    assert out == (
        "Updated artifacts.yaml: churn\n"
        f"Committed artifacts.yaml with models/w.bin as {new[:7]}: Annotate artifact churn\n"
    )
    assert repo.git("show", "--name-status", "--format=", "HEAD") == (
        "A\tartifacts.yaml\nA\tmodels/w.bin\n"
    )
    assert repo.git("cat-file", "blob", "HEAD:models/w.bin") == "weights"
    assert status(repo) == listed.replace("?? models/\n", "")
    repo.fsck()


def test_annotate_add_from_a_folder_and_a_path_already_committed(repo: Repo) -> None:
    write(repo, "w", "models/cv/seg.pt")
    out = repo.run(
        "annotate",
        "models/cv:seg",
        "--path",
        "seg.pt",
        "--no-virtual",
        "--commit",
        "--add",
        "seg.pt",
        cwd=repo.path / "models" / "cv",
    )
    assert out.code == 0, out.err
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == [
        "models/cv/artifacts.yaml",
        "models/cv/seg.pt",
    ]
    # Committed now: no --add needed; nor for a folder that holds an added file.
    repo.ok("annotate", "models/cv:seg", "--description", "x", "--commit")
    write(repo, "w", "data/d/part-0")
    repo.ok(
        "annotate", "d", "--path", "data/d", "--no-virtual", "--commit", "--add", "data/d/part-0"
    )
    assert repo.git("cat-file", "-t", "HEAD:data/d/part-0") == "blob\n"


def test_annotate_add_paths_are_checked_and_read_literally(repo: Repo) -> None:
    before = head(repo)
    write(repo, "*.tmp\n", ".gitignore")
    write(repo, "x", "a.tmp")
    write(repo, "odd", ":(top)-n")  # pathspec magic and an option, were Git to read them so
    cases = {
        "../outside": "fatal: --add ../outside: not a file or folder inside the work tree",
        ".": "fatal: --add .: not a file or folder inside the work tree",
        ".git/config": "fatal: --add .git/config: a path in the Git directory is never committed",
        "nothere": "fatal: --add nothere: no such file or folder",
        "a.tmp": "fatal: cannot add a.tmp: The following paths are ignored by one of your "
        ".gitignore files: a.tmp",
    }
    for path, said in cases.items():
        err = fails(repo, "annotate", "churn", "--type", "model", "--commit", "--add", path)
        assert err.startswith(said), err
        assert err.endswith("hint: nothing was changed\n")
    assert head(repo) == before and not (repo.path / "artifacts.yaml").exists()
    err = fails(repo, "annotate", "churn", "--add", "a.tmp", code=129)
    assert err.startswith(
        "error: --add stages a path in the commit this command makes: add --commit"
    )
    out = repo.ok("annotate", "churn", "--type", "model", "--commit", "--add", ":(top)-n")
    assert "Committed artifacts.yaml with :(top)-n as" in out
    assert repo.git("show", "--name-only", "--format=", "HEAD").split() == [
        ":(top)-n",
        "artifacts.yaml",
    ]


def test_annotate_path_is_relative_to_the_folder(repo: Repo) -> None:
    (repo.path / "models" / "cv").mkdir(parents=True)
    (repo.path / "models" / "cv" / "seg.pt").write_text("w\n")
    (repo.path / "top.pt").write_text("w\n")
    repo.ok("annotate", "models/cv:seg", "--path", "seg.pt", "--no-virtual")
    repo.ok("annotate", "models/cv:top", "--path", "../../top.pt", "--no-virtual")
    err = fails(repo, "annotate", "models/cv:out", "--path", "../../../out.pt")
    assert "artifact 'models/cv:out', key 'path': '../../../out.pt' leaves the repository" in err
    assert yaml.safe_load(read(repo, "models/cv/artifacts.yaml")) == {
        "seg": {"path": "seg.pt", "virtual": False},
        "top": {"path": "../../top.pt", "virtual": False},
    }


def test_commit_commits_only_that_file(repo: Repo) -> None:
    before = head(repo)
    write(repo, "other\n", "staged.txt")
    repo.git("add", "staged.txt")
    write(repo, "changed\n", "data.txt")  # tracked, modified, not staged
    out = repo.ok("annotate", "churn", "--path", "s3://b/c", "--commit")
    new = head(repo)
    assert (
        out
        == (  # what was done, in the order it was done
            "Updated artifacts.yaml: churn\n"
            f"Committed artifacts.yaml as {new[:7]}: Annotate artifact churn\n"
        )
    )
    assert repo.git("rev-parse", "HEAD~1").strip() == before
    assert repo.git("show", "--stat", "--format=%s", "HEAD").splitlines()[0] == (
        "Annotate artifact churn"
    )
    assert repo.git("show", "--name-status", "--format=", "HEAD") == "A\tartifacts.yaml\n"
    assert repo.git("cat-file", "blob", "HEAD:artifacts.yaml") == "churn:\n  path: s3://b/c\n"
    # What else was staged stays staged; what was modified stays modified.
    assert sorted(status(repo).splitlines()) == [" M data.txt", "A  staged.txt"]
    repo.fsck()


def test_a_commit_refused_by_the_users_hook_says_why_and_keeps_the_file(repo: Repo) -> None:
    """Git's reason (its first error line, here the hook's), exit 128, HEAD unchanged,
    and the edited file left in the work tree to commit later."""
    before = head(repo)
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'error: no commits on release day' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = repo.run("annotate", "churn", "--path", "s3://b/c", "--commit")
    assert result.code == 128, result
    assert result.err.startswith("fatal: git commit failed: no commits on release day\n")
    assert "staged (git add): commit yourself when ready" in result.err
    assert head(repo) == before
    assert (repo.path / "artifacts.yaml").read_text() == "churn:\n  path: s3://b/c\n"


def test_commit_with_message_and_an_edited_file(repo: Repo) -> None:
    committed(repo, EXISTING)
    repo.ok("annotate", "mid", "--label", "new", "--commit", "-m", "Label mid")
    assert repo.git("log", "-1", "--format=%s%n%an <%ae>").splitlines() == [
        "Label mid",
        "Ada Author <ada@example.com>",
    ]
    assert repo.git("show", "--name-only", "--format=", "HEAD") == "artifacts.yaml\n"
    assert repo.git("cat-file", "blob", "HEAD:artifacts.yaml") == read(repo).decode()
    assert status(repo) == ""


def test_commit_warns_when_the_file_had_other_changes(repo: Repo) -> None:
    committed(repo, EXISTING)
    write(repo, EXISTING.replace("type: model", "type: dataset"))
    result = repo.run("annotate", "zeta", "--label", "c", "--commit")
    assert result.code == 0
    assert result.err == (
        "warning: artifacts.yaml already had uncommitted changes: --commit commits them too\n"
    )
    assert "type: dataset" in repo.git("cat-file", "blob", "HEAD:artifacts.yaml")


def test_push_needs_commit(repo: Repo) -> None:
    err = fails(repo, "annotate", "churn", "--path", "x", "--push", code=129)
    assert "--push pushes the commit: add --commit" in err
    assert not (repo.path / "artifacts.yaml").exists()


def test_commit_and_push(repo: Repo, remote: Repo) -> None:
    out = repo.ok("annotate", "churn", "--path", "x", "--commit", "--push")
    assert "Pushed to origin." in out
    assert remote.git("rev-parse", "main").strip() == head(repo)
    assert remote.git("cat-file", "blob", "main:artifacts.yaml") == "churn:\n  path: x\n"


def test_annotate_through_git(repo: Repo) -> None:
    result = repo.git_registry("annotate", "churn", "--type", "model", "--commit")
    assert result.code == 0, result.err
    assert repo.git("cat-file", "blob", "HEAD:artifacts.yaml") == "churn:\n  type: model\n"


# -- refusals leave the file as it was ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["annotate", "Churn!"], "fatal: invalid artifact name 'Churn!'"),
        (["annotate", "churn-", "--path", "x"], "must start and end with a letter or digit"),
        (["annotate", "a:b:c"], "only one ':'"),
        (["annotate", "churn", "--label", "Needs Review"], "invalid label 'Needs Review'"),
        (["annotate", "churn", "--type", "ML model"], "invalid type 'ML model'"),
        (["annotate", "churn", "--path", "/etc/passwd"], "is not a relative path"),
        (["annotate", "churn", "--path", ""], "the path is empty"),
        (["remove", "Churn!"], "fatal: invalid artifact name 'Churn!'"),
    ],
)
def test_bad_input_changes_nothing(repo: Repo, args: list[str], message: str) -> None:
    write(repo, EXISTING)
    err = fails(repo, *args)
    assert message in err
    assert read(repo) == EXISTING.encode()
    assert status(repo) == "?? artifacts.yaml\n"


def test_invalid_name_creates_no_file(repo: Repo) -> None:
    err = fails(repo, "annotate", "Churn!", "--path", "x")
    assert err.startswith("fatal: invalid artifact name 'Churn!'")
    assert not (repo.path / "artifacts.yaml").exists()
    fails(repo, "annotate", "bad..dir:m", "--path", "x")
    assert sorted(p.name for p in repo.path.iterdir()) == [".git", "data.txt"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"churn:\n  path: [x\n", "cannot edit artifacts.yaml: artifacts.yaml:3:1: invalid YAML: "),
        (b"- churn\n- segment\n", "artifacts.yaml must be a mapping from artifact name"),
        (b"{churn: {path: x}}\n", "artifacts.yaml uses YAML flow style"),
        (b"churn:\n  description: Mod\xe8le\n", "artifacts.yaml:2:19: not UTF-8 text (byte 0xe8)"),
        (b"churn: !!python/object:os.system {}\n", "YAML tag '!!python/object:os.system'"),
        (b"a: &a [x, *a]\n", "artifacts.yaml:1:8: nested more than 64 levels deep"),  # a cycle
    ],
)
@pytest.mark.parametrize("command", [["annotate", "churn", "--type", "model"], ["remove", "churn"]])
def test_broken_file_is_refused_and_left_byte_identical(
    repo: Repo, content: bytes, message: str, command: list[str]
) -> None:
    write(repo, content)
    err = fails(repo, *command)
    assert message in err
    assert "hint: fix the file by hand first (it was not changed)" in err
    assert read(repo) == content


def test_ten_megabyte_file_is_refused_quickly(repo: Repo) -> None:
    content = b"churn:\n  description: " + b"x" * (10 * 1024 * 1024) + b"\n"
    write(repo, content)
    err = fails(repo, "annotate", "churn", "--type", "model")
    assert f"artifacts.yaml:1:1: file is {len(content):,} bytes; the limit is 1,048,576" in err
    assert read(repo) == content


def test_annotate_refuses_to_drop_what_it_cannot_read(repo: Repo) -> None:
    text = "churn:\n  path: x\n  tags: [customer]\nseg:\n  labels: [ok, Not OK]\n"
    write(repo, text)
    err = fails(repo, "annotate", "churn", "--label", "new")
    assert (
        "fatal: cannot edit churn: its entry has a problem this command would not fix, and "
        "rewriting the entry would lose it: artifacts.yaml:3:3: artifact 'churn', key 'tags': "
        "unknown key" in err
    )
    err = fails(repo, "annotate", "seg", "--label", "new")
    assert "artifacts.yaml:5:16: artifact 'seg', key 'labels': invalid label 'Not OK'" in err
    assert read(repo) == text.encode()
    # Replacing the bad value itself is fine.
    write(repo, "churn:\n  type: ML model\n")
    repo.ok("annotate", "churn", "--type", "model")
    assert read(repo) == b"churn:\n  type: model\n"


def test_other_entries_problems_are_warnings_not_changed(repo: Repo) -> None:
    text = "bad:\n  colour: red\n"
    write(repo, text)
    result = repo.run("annotate", "good", "--type", "model")
    assert result.code == 0
    assert result.err == (
        "warning: artifacts.yaml:2:3: artifact 'bad', key 'colour': unknown key (allowed: path, "
        "type, description, labels, custom, virtual, sha256, requires) (not changed by this "
        "command)\n"
    )
    assert read(repo) == (text + "good:\n  type: model\n").encode()


def test_annotate_never_writes_a_file_it_cannot_read_back(repo: Repo) -> None:
    # A document end marker: an entry appended after it would start a second document.
    text = "---\nchurn:\n  path: x\n...\n"
    write(repo, text)
    err = fails(repo, "annotate", "seg", "--path", "y")
    assert "fatal: artifacts.yaml:5:1: invalid YAML: " in err
    assert "hint: artifacts.yaml was not changed" in err
    assert read(repo) == text.encode()


def test_values_that_are_not_utf8_are_refused(repo: Repo) -> None:
    # Bytes that are not UTF-8 on the command line reach Python as lone surrogates.
    write(repo, EXISTING)
    err = fails(repo, "annotate", "alpha", "--description", "caf\udce9")
    assert "fatal: --description: the value is not valid UTF-8 text" in err
    assert read(repo) == EXISTING.encode()


@pytest.mark.parametrize("text", ["two\nlines", "tab\there", "naïve ☃", "yes", "#x", "a\\b"])
def test_odd_text_round_trips(repo: Repo, text: str) -> None:
    repo.ok("annotate", "churn", "--description", text, "--commit")
    # Printed on one line, escaped (tests/test_escaping.py); the file holds it exactly.
    assert repo.ok("describe", "churn", "--description") == escape(text) + "\n"
    assert yaml.safe_load(read(repo))["churn"]["description"] == text


def test_annotate_in_a_bare_repository(tmp_path: Path) -> None:
    bare = Repo(tmp_path / "bare.git", bare=True)
    err = fails(bare, "annotate", "churn", "--path", "x")
    assert "edits artifacts.yaml in the work tree, and there is none here" in err


# -- remove ----------------------------------------------------------------------------------


def test_remove_removes_only_that_entry(repo: Repo) -> None:
    committed(repo, EXISTING)
    out = repo.ok("remove", "alpha")
    assert out == "Removed alpha from artifacts.yaml\n"
    lines = EXISTING.splitlines(keepends=True)
    assert read(repo).decode() == "".join(lines[:5]) + "".join(lines[8:])
    assert status(repo) == " M artifacts.yaml\n"
    assert repo.tags() == {}


def test_remove_with_commit_keeps_the_tags(repo: Repo) -> None:
    committed(repo, EXISTING)
    repo.ok("register", "mid")
    tags_before = repo.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/tags")
    write(repo, "unrelated\n", "data.txt")
    repo.ok("remove", "mid", "--commit", "-m", "Drop mid")
    assert repo.git("log", "-1", "--format=%s") == "Drop mid\n"
    assert repo.git("show", "--name-only", "--format=", "HEAD") == "artifacts.yaml\n"
    assert "mid:" not in repo.git("cat-file", "blob", "HEAD:artifacts.yaml")
    assert status(repo) == " M data.txt\n"
    assert tags_before.startswith("refs/tags/mid@v0.0.1 ")
    assert repo.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/tags") == (
        tags_before
    )


def test_remove_of_an_absent_entry(repo: Repo) -> None:
    write(repo, EXISTING)
    err = fails(repo, "remove", "nosuch")
    assert err == (
        "fatal: there is no entry for nosuch in artifacts.yaml\nhint: nothing was changed\n"
    )
    assert read(repo) == EXISTING.encode()
    err = fails(repo, "remove", "models/cv:nosuch")
    assert "there is no entry for models/cv:nosuch in models/cv/artifacts.yaml" in err
    assert not (repo.path / "models").exists()


def test_remove_without_a_file_creates_none(repo: Repo) -> None:
    fails(repo, "remove", "churn", "--commit")
    assert not (repo.path / "artifacts.yaml").exists()
    assert int(repo.git("rev-list", "--count", "HEAD")) == 1


def test_remove_the_last_entry_leaves_an_empty_valid_file(repo: Repo) -> None:
    write(repo, "# just one\nonly:\n  path: x\n")
    repo.ok("remove", "only", "--commit")
    assert read(repo) == b"# just one\n"
    assert repo.run("check").code == 0


def test_not_virtual_path_must_exist_in_the_commit(repo: Repo) -> None:
    (repo.path / "models").mkdir()
    (repo.path / "models" / "churn.pt").write_text("weights\n")
    repo.ok("annotate", "churn", "--path", "models/churn.pt", "--no-virtual")  # work tree: ok
    repo.git("add", "artifacts.yaml")
    repo.git("commit", "-q", "-m", "annotate churn, forget the weights")
    problem = (
        "artifacts.yaml:2:9: artifact 'churn', key 'path': 'models/churn.pt' does not exist "
        "(virtual: false says it must)"
    )
    result = repo.run("check")
    assert (result.code, result.out) == (1, problem + "\n")
    assert problem in fails(repo, "describe", "churn")
    assert problem in fails(repo, "register", "churn")
    assert repo.git("for-each-ref", "refs/tags") == ""
    repo.git("add", "models/churn.pt")
    repo.git("commit", "-q", "-m", "add the weights")
    assert repo.run("check").code == 0
    repo.ok("register", "churn")
    assert repo.git("cat-file", "-t", "churn@v0.0.1^{commit}:models/churn.pt") == "blob\n"
    # Deleting the file later does not spoil the version that had it.
    repo.git("rm", "-q", "models/churn.pt")
    repo.git("commit", "-q", "-m", "drop the weights")
    assert repo.ok("describe", "churn@v0.0.1", "--path") == "models/churn.pt\n"
    assert problem in fails(repo, "describe", "churn")


# -- describe --------------------------------------------------------------------------------


@pytest.fixture
def versions(repo: Repo) -> Repo:
    """churn v1.0.0 (prod) described as 'first', v2.0.0 (staging) as 'second'; HEAD says
    'third' and has no version."""
    committed(repo, "churn:\n  path: models/v1.pt\n  description: first\n  labels: [a]\n")
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn", "prod")
    committed(repo, "churn:\n  path: models/v2.pt\n  description: second\n  type: model\n")
    repo.ok("register", "churn", "--version", "v2.0.0")
    repo.ok("promote", "churn", "staging")
    committed(repo, "churn:\n  path: models/v3.pt\n  description: third\n")
    return repo


def tag_commit(repo: Repo, tag: str) -> str:
    return repo.git("rev-parse", f"{tag}^{{commit}}").strip()


def test_describe_reads_head(versions: Repo) -> None:
    assert versions.ok("describe", "churn") == (
        f"# artifacts.yaml at commit {head(versions)[:7]}\n"
        "churn:\n  path: models/v3.pt\n  description: third\n"
    )


@pytest.mark.parametrize(
    ("selector", "tag", "description"),
    [
        ("churn@v1.0.0", "churn@v1.0.0", "first"),
        ("churn@v2.0.0", "churn@v2.0.0", "second"),
        ("churn#prod", "churn@v1.0.0", "first"),
        ("churn#staging", "churn@v2.0.0", "second"),
        ("churn@latest", "churn@v2.0.0", "second"),
    ],
)
def test_describe_reads_the_versions_commit(
    versions: Repo, selector: str, tag: str, description: str
) -> None:
    commit = tag_commit(versions, tag)
    assert commit != head(versions)
    version = tag.split("@")[1]
    out = versions.ok("describe", selector)
    assert out.splitlines()[0] == f"# artifacts.yaml at commit {commit[:7]} (churn {version})"
    assert versions.ok("describe", selector, "--description") == description + "\n"
    doc = json.loads(versions.ok("describe", selector, "--json"))
    expected = yaml.safe_load(versions.git("cat-file", "blob", f"{commit}:artifacts.yaml"))
    assert doc == {
        "artifact": "churn",
        "version": version,
        "file": "artifacts.yaml",
        "commit": commit,
        "path": expected["churn"]["path"],
        "type": expected["churn"].get("type"),
        "description": description,
        "labels": expected["churn"].get("labels", []),
        "custom": None,
        "virtual": True,
        "sha256": None,
        "requires": [],
        "deprecated": False,
        "deprecation": None,
    }


def test_describe_one_field(versions: Repo) -> None:
    assert versions.ok("describe", "churn@v2.0.0", "--path") == "models/v2.pt\n"
    assert versions.ok("describe", "churn@v2.0.0", "--type") == "model\n"
    err = fails(versions, "describe", "churn@v1.0.0", "--type", code=1)
    commit = tag_commit(versions, "churn@v1.0.0")
    assert err == f"error: churn has no type in artifacts.yaml at commit {commit[:7]}\n"


def test_describe_rev(versions: Repo) -> None:
    assert versions.ok("describe", "churn", "--rev", "HEAD~1", "--description") == "second\n"
    doc = json.loads(versions.ok("describe", "churn", "--rev", "churn@v1.0.0", "--json"))
    assert doc["version"] is None and doc["commit"] == tag_commit(versions, "churn@v1.0.0")
    err = fails(versions, "describe", "churn@v1.0.0", "--rev", "HEAD", code=129)
    assert "--rev reads NAME at a commit" in err
    err = fails(versions, "describe", "churn", "--rev", "no-such-ref")
    assert "fatal: 'no-such-ref' does not name a commit" in err


def test_describe_reads_commits_not_the_work_tree(versions: Repo) -> None:
    write(versions, "churn:\n  description: uncommitted\n")
    assert versions.ok("describe", "churn", "--description") == "third\n"


def test_describe_unknown_artifact(versions: Repo) -> None:
    err = fails(versions, "describe", "nosuch", code=1)
    assert err.startswith(
        f"error: nosuch has no entry in artifacts.yaml at commit {head(versions)[:7]}"
    )
    for selector in ["nosuch@v1.0.0", "nosuch@latest", "nosuch#prod"]:
        err = fails(versions, "describe", selector, code=1)
        assert err.startswith("error: unknown artifact 'nosuch'\nhint: ")
    err = fails(versions, "describe", "churn@v9.9.9", code=1)
    assert err == "error: churn@v9.9.9 does not name a version of churn\n"
    err = fails(versions, "describe", "churn#dev", code=1)
    assert "error: no version of churn is in stage 'dev'" in err
    assert "fatal: invalid artifact name" in fails(versions, "describe", "Churn!")


def test_describe_without_a_file(repo: Repo) -> None:
    err = fails(repo, "describe", "churn", code=1)
    assert err.startswith(f"error: churn has no entry in artifacts.yaml at commit {head(repo)[:7]}")
    assert "hint: add one with: git registry annotate churn --path PATH" in err


def test_describe_in_a_repository_without_commits(empty_repo: Repo) -> None:
    err = fails(empty_repo, "describe", "churn")
    assert "this repository has no commits yet" in err


# -- isolation (SPEC 3.3) --------------------------------------------------------------------


@pytest.fixture
def corrupt_version(repo: Repo) -> Repo:
    """churn v1.0.0 and seg v1.0.0 on a good file; churn v1.1.0 tagged by hand (as GTO
    would) on a commit whose artifacts.yaml is broken; HEAD fixed again."""
    good = "churn:\n  description: good\nseg:\n  description: seg\n"
    committed(repo, good)
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("register", "seg", "--version", "v1.0.0")
    committed(repo, "churn:\n  description: [broken\nseg:\n  description: seg\n")
    repo.tag("churn@v1.1.0", message="Registering artifact churn version v1.1.0")
    committed(repo, good.replace("good", "fixed"))
    return repo


def test_corrupt_file_at_a_version_fails_describe_of_that_version(corrupt_version: Repo) -> None:
    repo = corrupt_version
    commit = tag_commit(repo, "churn@v1.1.0")
    err = fails(repo, "describe", "churn@v1.1.0")
    first = err.splitlines()[0]
    assert first.startswith(
        # The flow list opened on line 2 meets 'seg:' on line 3.
        f"fatal: artifacts.yaml at commit {commit[:7]} is invalid: artifacts.yaml:3:4: "
        "invalid YAML: "
    )
    assert "hint: 'git registry check' lists every problem at HEAD" in err
    # Everything else keeps working.
    assert repo.ok("describe", "churn@v1.0.0", "--description") == "good\n"
    assert "is invalid" in fails(repo, "describe", "churn@latest")  # v1.1.0 is the latest
    assert repo.ok("describe", "churn", "--description") == "fixed\n"
    assert repo.ok("describe", "seg@v1.0.0", "--description") == "seg\n"
    assert repo.ok("latest", "churn") == "v1.1.0\n"
    result = repo.run("show")
    assert result.code == 0 and result.err == ""
    assert "churn" in result.out and "v1.1.0" in result.out and "seg" in result.out
    assert repo.run("history", "churn").code == 0
    # HEAD is fine, but v1.1.0 was registered on a broken file: the server hook refuses
    # such a tag, so check reports it (the invalid-annotations rule).
    result = repo.run("check", "--json")
    assert result.code == 1
    found = json.loads(result.out)["problems"]
    assert [(p["tag"], p["rule"]) for p in found] == [("churn@v1.1.0", "invalid-annotations")]


def test_corrupt_file_at_head_warns_once(corrupt_version: Repo) -> None:
    repo = corrupt_version
    committed(repo, "churn:\n  description: good\n  labels: oops\nseg:\n  type: model\n")
    result = repo.run("show")
    assert result.code == 0
    warning = (
        "warning: artifacts.yaml:3:11: artifact 'churn', key 'labels': expected a list of "
        "labels, found a string\n"
    )
    assert result.err == warning
    rows = {line.split()[0]: line.split() for line in result.out.splitlines()[1:]}
    assert set(rows) == {"churn", "seg"}
    assert "model" in rows["seg"]  # seg's annotation is still served
    shown = repo.run("show", "--json")
    assert shown.code == 0 and shown.err == warning
    doc = json.loads(shown.out)
    assert doc["warnings"] == [warning.removeprefix("warning: ").rstrip("\n")]
    by_name = {a["name"]: a for a in doc["artifacts"]}
    assert by_name["seg"]["annotation"]["type"] == "model"
    # describe of the broken entry fails; the other artifact's does not.
    err = fails(repo, "describe", "churn")
    assert "artifact 'churn', key 'labels'" in err
    assert repo.ok("describe", "seg", "--type") == "model\n"


def test_a_broken_entry_does_not_spoil_its_neighbours(repo: Repo) -> None:
    committed(
        repo,
        "Bad Name:\n  path: x\nchurn:\n  type: model\n  path: a\n  path: b\nseg:\n  type: model\n",
    )
    assert repo.ok("describe", "seg", "--type") == "model\n"
    err = fails(repo, "describe", "churn")
    assert (
        "artifacts.yaml:6:3: artifact 'churn', key 'path': duplicate key 'path' (first at line 5)"
        in err
    )
    result = repo.run("check")
    assert result.code == 1
    assert result.out.splitlines() == [
        "artifacts.yaml:1:1: invalid artifact name 'Bad Name': letters, digits, '_', '-' and "
        "'/', starting and ending with a letter or digit",
        "artifacts.yaml:6:3: artifact 'churn', key 'path': duplicate key 'path' (first at line 5)",
    ]


# -- a broken folder file (issue 15, item 3) ---------------------------------------------------

SKIPPED = " (file skipped: the artifacts it declares are shown only if they have tags)"


@pytest.fixture
def broken_folder(repo: Repo) -> Repo:
    """churn in a valid root file; models/cv:seg registered while models/cv/artifacts.yaml
    was valid, which HEAD breaks (a YAML syntax error); models/nlp:bert declared, no tags."""
    repo.commit(
        "files",
        files={
            "artifacts.yaml": "churn:\n  type: model\n",
            "models/cv/artifacts.yaml": "seg:\n  type: model\ndet:\n  type: model\n",
            "models/nlp/artifacts.yaml": "bert:\n  description: words\n",
        },
    )
    repo.ok("register", "models/cv:seg")
    committed(repo, "seg: [\ndet:\n  type: model\n", "models/cv/artifacts.yaml")
    return repo


def test_a_broken_folder_file_blocks_only_the_writes_of_its_artifacts(broken_folder: Repo) -> None:
    repo = broken_folder
    commit = head(repo)[:7]
    assert "Created tag churn@v0.0.1" in repo.ok("register", "churn")
    assert "Created tag unrelated@v0.0.1" in repo.ok("register", "unrelated")
    assert "Created tag models/nlp=bert@v0.0.1" in repo.ok("register", "models/nlp:bert")
    assert "Created tag churn#dev#1" in repo.ok("promote", "churn", "dev")
    before = refs(repo)
    # (promoting seg v0.0.1 tags its commit, where the file was valid: allowed.)
    writes = (("register", "models/cv:det"), ("promote", "models/cv:seg", "dev", "--ref", "HEAD"))
    for args in writes:
        err = fails(repo, *args)
        file = "models/cv/artifacts.yaml"
        assert f"{file} at commit {commit} is invalid: {file}:3:7: invalid YAML: " in err, err
        assert "hint: fix models/cv/artifacts.yaml in a new commit and tag that one" in err
    assert refs(repo) == before  # nothing half-done
    assert "Created tag models/cv=seg#dev#1" in repo.ok("promote", "models/cv:seg", "dev")
    # A cancel event is never blocked by the commit's files.
    assert repo.run("deregister", "models/cv:seg@v0.0.1").code == 0


def test_a_broken_root_file_blocks_plain_names_only(broken_folder: Repo) -> None:
    repo = broken_folder
    committed(repo, "seg:\n  type: model\n", "models/cv/artifacts.yaml")
    committed(repo, "churn:\n  typ: model\n")
    for name in ("churn", "unrelated"):
        err = fails(repo, "register", name)
        assert f"{name}@v0.0.1: artifacts.yaml at commit {head(repo)[:7]} is invalid: " in err
        assert "artifacts.yaml:2:3: artifact 'churn', key 'typ': unknown key" in err
    assert "Created tag models/cv=seg@v0.0.2" in repo.ok("register", "models/cv:seg")


def test_show_lists_every_folder_and_warns_about_the_file_it_skipped(broken_folder: Repo) -> None:
    repo = broken_folder
    warning = (
        "models/cv/artifacts.yaml:3:7: invalid YAML: while parsing a flow sequence did not "
        "find expected ',' or ']'" + SKIPPED
    )
    result = repo.run("show")
    assert (result.code, result.err) == (0, f"warning: {warning}\n")
    rows = {line.split()[0]: line.split() for line in result.out.splitlines()[1:]}
    # seg is shown from its tags (without its annotation), det is not known anywhere now;
    # bert comes from its folder's file, though it has no tags.
    assert set(rows) == {"churn", "models/cv:seg", "models/nlp:bert"}
    assert rows["models/cv:seg"][1:] == ["-", "v0.0.1"]
    shown = repo.run("show", "--json")
    assert (shown.code, shown.err) == (0, f"warning: {warning}\n")
    doc = json.loads(shown.out)
    assert doc["warnings"] == [warning]
    assert [a["name"] for a in doc["artifacts"]] == ["churn", "models/cv:seg", "models/nlp:bert"]
    assert doc["artifacts"][2]["annotation"]["description"] == "words"


def test_show_warns_about_a_broken_entry_without_skipping_its_file(broken_folder: Repo) -> None:
    repo = broken_folder
    committed(repo, "seg:\n  type: model\n  pathh: x\ndet:\n", "models/cv/artifacts.yaml")
    shown = repo.run("show", "--json")
    warning = (
        "models/cv/artifacts.yaml:3:3: artifact 'models/cv:seg', key 'pathh': unknown key "
        "(allowed: path, type, description, labels, custom, virtual, sha256, requires)"
    )
    assert (shown.code, shown.err) == (0, f"warning: {warning}\n")
    doc = json.loads(shown.out)
    assert doc["warnings"] == [warning]
    names = [a["name"] for a in doc["artifacts"]]
    assert names == ["churn", "models/cv:det", "models/cv:seg", "models/nlp:bert"]


# -- check -----------------------------------------------------------------------------------


def test_the_readmes_reading_examples_work_on_the_demo(demo: Repo) -> None:
    """Each line of the README's Reading examples runs in the demo repository (the
    tags it names are the demo's), and gives the value its comment shows."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Reading\n\n```sh\n", 1)[1].split("```", 1)[0]
    ran = 0
    for line in block.splitlines():
        command, _, comment = line.partition("  # ")
        words = command.split()
        assert words[:2] == ["git", "registry"], line
        args = [w for w in words[2:] if not w.startswith("[")]  # [churn]: optional
        if args[0] == "demo":
            continue
        result = demo.run(*args)
        assert (result.code, result.err) == (0, ""), (line, result.err)
        shown = re.match(r"\s*(v\d+\.\d+\.\d+)\b", comment)
        if shown:
            assert result.out == shown[1] + "\n", line
        ran += 1
    assert ran >= 10
    assert "churn#prod#2" in block and "churn#prod#2" in demo.tags()


def test_check_passes_on_a_good_repository(demo: Repo) -> None:
    result = demo.run("check")
    assert result.code == 0 and result.out == ""
    tags = len(demo.tags())
    commit = demo.git("rev-parse", "HEAD").strip()
    assert result.err == (
        f"note: checked HEAD ({commit[:7]}): {tags} tags, 1 artifacts.yaml file and "
        ".registry.yaml: no problems\n"
    )
    doc = json.loads(demo.ok("check", "--json"))
    assert doc == {
        "problems": [],
        "checked": {
            "source": "HEAD",
            "commit": commit,
            "tags": tags,
            "files": ["artifacts.yaml"],
            "policy": ".registry.yaml",
        },
    }


def test_check_reports_a_broken_artifacts_yaml_at_head(repo: Repo) -> None:
    committed(repo, "churn:\n  pth: x\n  labels: [a, a]\n")
    committed(repo, "seg:\n  virtual: false\n  path: nowhere\n", "models/cv/artifacts.yaml")
    result = repo.run("check")
    assert result.code == 1
    assert result.out.splitlines() == [
        "artifacts.yaml:2:3: artifact 'churn', key 'pth': unknown key (allowed: path, type, "
        "description, labels, custom, virtual, sha256, requires)",
        "artifacts.yaml:3:15: artifact 'churn', key 'labels': duplicate label 'a'",
        "models/cv/artifacts.yaml:3:9: artifact 'models/cv:seg', key 'path': 'nowhere' does "
        "not exist (virtual: false says it must)",
    ]
    assert result.err == (
        f"hint: checked HEAD ({head(repo)[:7]}): no tags, 2 artifacts.yaml files: 3 problems\n"
    )
    # Each line is path:line:column: message.
    for line in result.out.splitlines():
        assert re.match(r"^[\w/.]+:\d+:\d+: ", line)


# -- check --worktree (issue 15, item 10) ------------------------------------------------------


def test_check_worktree_reads_uncommitted_edits_that_check_does_not(repo: Repo) -> None:
    committed(repo, "churn:\n  type: model\n")
    write(repo, "churn:\n  type: model\n  colour: blue\n")
    commit = head(repo)[:7]
    result = repo.run("check")
    assert (result.code, result.out) == (0, "")
    assert (
        result.err
        == f"note: checked HEAD ({commit}): no tags, 1 artifacts.yaml file: no problems\n"
    )
    result = repo.run("check", "--worktree")
    assert result.code == 1
    assert result.out == (
        "artifacts.yaml:3:3: artifact 'churn', key 'colour': unknown key "
        "(allowed: path, type, description, labels, custom, virtual, sha256, requires)\n"
    )
    assert result.err == "hint: checked the work tree: 1 artifacts.yaml file: 1 problem\n"
    doc = json.loads(repo.run("check", "--worktree", "--json").out)
    assert doc["checked"] == {
        "source": "worktree",
        "commit": None,
        "tags": None,
        "files": ["artifacts.yaml"],
        "policy": None,
    }
    assert [(p["file"], p["line"], p["key"]) for p in doc["problems"]] == [
        ("artifacts.yaml", 3, "colour")
    ]
    # The commit-msg hook's check, on the work tree: the same words once it is staged.
    repo.git("add", "artifacts.yaml")
    hook = repo.run("hook", "commit-msg")
    assert hook.code == 1 and f"error: {result.out.strip()}" in hook.err


def test_check_worktree_takes_what_git_add_all_would_commit(repo: Repo) -> None:
    repo.commit(
        files={
            ".gitignore": "*.bin\nignored/\n",
            "artifacts.yaml": "churn:\n  type: model\n",
            "old/artifacts.yaml": "seg: [\n",
        }
    )
    (repo.path / "old" / "artifacts.yaml").unlink()  # deleted: 'git add -A' removes it
    write(repo, "a:\n  typ: model\n", "new/artifacts.yaml")  # untracked: it is added
    write(repo, "b: [\n", "ignored/artifacts.yaml")  # ignored: never committed
    write(
        repo,
        "w:\n  path: w.bin\n  virtual: false\nc:\n  path: c.txt\n  virtual: false\n",
        "models/artifacts.yaml",
    )
    write(repo, "weights", "models/w.bin")  # ignored: not in the commit
    write(repo, "config", "models/c.txt")  # untracked: in the commit
    result = repo.run("check", "--worktree")
    assert result.code == 1
    assert result.out.splitlines() == [
        "models/artifacts.yaml:2:9: artifact 'models:w', key 'path': 'w.bin' does not exist "
        "(virtual: false says it must)",
        "new/artifacts.yaml:2:3: artifact 'new:a', key 'typ': unknown key "
        "(allowed: path, type, description, labels, custom, virtual, sha256, requires)",
    ]
    assert result.err == "hint: checked the work tree: 3 artifacts.yaml files: 2 problems\n"


def test_check_worktree_reads_the_work_tree_policy(repo: Repo) -> None:
    committed(repo, "d:\n  type: data\n")
    write(repo, "types: [model]\nstages: prod\n", ".registry.yaml")
    (repo.path / "models").mkdir()
    (repo.path / "models" / "artifacts.yaml").symlink_to("../artifacts.yaml")
    result = repo.run("check", "--worktree")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(".registry.yaml:2:9: 'stages'")
    assert lines[1] == (
        "artifacts.yaml:2:9: artifact 'd', key 'type': type 'data' is not allowed (allowed: model)"
    )
    assert lines[2].startswith("models/artifacts.yaml:1:1: is a symbolic link")
    assert result.err == (
        "hint: checked the work tree: 2 artifacts.yaml files and .registry.yaml: 3 problems\n"
    )
    assert repo.run("check").code == 0  # HEAD has none of it


def test_check_worktree_in_a_bare_repository_is_refused(remote: Repo) -> None:
    result = remote.run("check", "--worktree")
    assert (result.code, result.out) == (128, "")
    assert result.err == (
        "fatal: there is no work tree here (a bare repository)\n"
        "hint: run 'git registry check' to check HEAD\n"
    )


def test_check_json_lists_file_line_column_artifact_and_key(repo: Repo) -> None:
    committed(repo, "churn:\n  virtual: maybe\n")
    result = repo.run("check", "--json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["problems"] == [
        {
            "file": "artifacts.yaml",
            "line": 2,
            "column": 12,
            "tag": None,
            "artifact": "churn",
            "key": "virtual",
            "rule": None,
            "message": "artifact 'churn', key 'virtual': expected true or false, found a string",
            "hint": None,
            "severity": "error",
        }
    ]
    assert doc["checked"]["files"] == ["artifacts.yaml"]
    assert result.err == ""  # --json is never mixed with messages


def test_check_reports_a_bad_registry_yaml(repo: Repo) -> None:
    committed(repo, "stages: [dev, prod, dev]\ntypes: model\nrules: {}\n", ".registry.yaml")
    result = repo.run("check")
    assert result.code == 1
    assert result.out.splitlines() == [
        ".registry.yaml:1:21: 'stages': 'dev' is listed twice",
        ".registry.yaml:2:8: 'types' must be a list of names, found a string",
        ".registry.yaml:3:1: unknown key 'rules' "
        "(allowed: stages, types, promotion, allowed_signers)",
    ]


def test_check_reports_types_outside_the_allow_list(repo: Repo) -> None:
    repo.commit(
        files={".registry.yaml": "types: [model]\n", "artifacts.yaml": "d:\n  type: data\n"}
    )
    result = repo.run("check")
    assert result.code == 1
    assert result.out == (
        "artifacts.yaml:2:9: artifact 'd', key 'type': type 'data' is not allowed "
        "(allowed: model)\n"
    )


def test_check_reports_bad_tags(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.tag("churn@v9.9.9", lightweight=True)  # by hand with plain 'git tag'
    result = repo.run("check")
    assert result.code == 1
    assert result.out == (
        "churn@v9.9.9: lightweight tag ignored: registry events are annotated tags\n"
    )
    assert result.err.endswith(": 2 tags, no artifacts.yaml files: 1 problem\n")
    doc = json.loads(repo.run("check", "--json").out)
    assert [(p["tag"], p["file"], p["artifact"]) for p in doc["problems"]] == [
        ("churn@v9.9.9", None, "churn")
    ]
    # A tag on a tree is no registry event either.
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    repo.tag("churn@v8.0.0", tree, message="on a tree")
    lines = repo.run("check").out.splitlines()
    assert sorted(line.split(": ")[0] for line in lines) == ["churn@v8.0.0", "churn@v9.9.9"]


def test_check_reports_stage_tags_outside_the_allow_list(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.tag("churn#qa#1", message="hand-made")
    committed(repo, "stages: [dev, prod]\n", ".registry.yaml")
    result = repo.run("check")
    assert result.code == 1
    assert result.out == (
        "churn#qa#1: stage 'qa' is not allowed by .registry.yaml (allowed: dev, prod)\n"
    )


# -- writes use the same validator -----------------------------------------------------------


def test_write_refuses_a_stage_outside_the_allow_list(repo: Repo) -> None:
    committed(repo, "stages: [dev, prod]\n", ".registry.yaml")
    repo.ok("register", "churn")
    before = refs(repo)
    err = fails(repo, "promote", "churn", "qa")
    assert (
        "fatal: refusing to create the tag: churn#qa#1: "
        "stage 'qa' is not allowed by .registry.yaml (allowed: dev, prod)" in err
    )
    assert "hint: add it to 'stages' in .registry.yaml" in err
    assert refs(repo) == before
    assert repo.git("for-each-ref", "--format=%(refname)", "refs/tags") == (
        "refs/tags/churn@v0.0.1\n"
    )
    repo.ok("promote", "churn", "prod")
    assert repo.run("check").code == 0


def test_write_refuses_a_commit_whose_artifacts_yaml_is_broken(repo: Repo) -> None:
    committed(repo, "churn:\n  labels: customer\n")
    err = fails(repo, "register", "churn")
    assert (
        "artifacts.yaml:2:11: artifact 'churn', key 'labels': expected a list of labels, "
        "found a string" in err
    )
    assert repo.git("for-each-ref", "refs/tags") == ""
    # promote --ref would register first: refused the same way, and nothing is left behind.
    fails(repo, "promote", "churn", "prod", "--ref", "HEAD")
    assert repo.git("for-each-ref", "refs/tags") == ""
    committed(repo, "churn:\n  labels: [customer]\n")
    repo.ok("register", "churn")
    assert list(repo.tags()) == ["churn@v0.0.1"]


def test_write_refuses_a_type_outside_the_allow_list(repo: Repo) -> None:
    repo.commit(
        files={".registry.yaml": "types: [model]\n", "artifacts.yaml": "churn:\n  type: notebook\n"}
    )
    err = fails(repo, "register", "churn")
    assert "type 'notebook' is not allowed (allowed: model)" in err
    assert repo.git("for-each-ref", "refs/tags") == ""
    # annotate checks the same allow-list before it writes.
    err = fails(repo, "annotate", "seg", "--type", "dataset")
    assert "type 'dataset' is not allowed (allowed: model)" in err


# -- show and history carry the annotations --------------------------------------------------


def test_show_and_history_json_carry_annotations(repo: Repo) -> None:
    committed(
        repo,
        "churn:\n  type: model\n  description: Churn classifier\n  labels: [customer, xgb]\n"
        "declared:\n  type: dataset\n",
    )
    repo.ok("register", "churn")
    doc = json.loads(repo.ok("show", "--json"))
    by_name = {a["name"]: a for a in doc["artifacts"]}
    assert by_name["churn"]["annotation"] == {
        "path": None,
        "type": "model",
        "description": "Churn classifier",
        "labels": ["customer", "xgb"],
        "custom": None,
        "virtual": True,
        "sha256": None,
        "requires": [],
    }
    assert by_name["churn"]["registered"] is True
    assert by_name["declared"]["registered"] is False
    assert by_name["declared"]["annotation"]["type"] == "dataset"
    one = json.loads(repo.ok("show", "churn", "--json"))
    assert one["annotation"]["labels"] == ["customer", "xgb"]
    history = json.loads(repo.ok("history", "--json"))
    assert history["annotations"] == {"churn": by_name["churn"]["annotation"]}
    assert [e["tag"] for e in history["events"]] == ["churn@v0.0.1"]
    table = repo.ok("show")
    assert re.search(r"^churn\s+model\s+v0\.0\.1", table, re.M), table


# -- schema ----------------------------------------------------------------------------------


def test_schema_is_json_and_the_shipped_file(repo: Repo) -> None:
    out = repo.ok("schema")
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert (ROOT / "schema" / "artifacts.schema.json").read_text() == out
    # It needs no repository.
    assert Existing(repo.path.parent).ok("schema") == out


POLICY = """\
stages: [dev, staging, prod]
types: [model, dataset]
promotion:
  staging:
    after: [dev]
  prod:
    after: [staging]
    branches: [main, release/*]
    signed: true
    signers: [release-bot@acme.example, alice@acme.example]
allowed_signers: .registry/allowed_signers
"""


def test_policy_schema_is_json_the_shipped_file_and_agrees_with_check(repo: Repo) -> None:
    out = repo.ok("schema", "--policy")
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert (ROOT / "schema" / "registry.schema.json").read_text() == out
    document = yaml.safe_load(POLICY)
    jsonschema.validate(document, schema)
    # What the schema rejects, check rejects too.
    for path, bad, said in (
        (("promotion", "prod", "colour"), "red", "unknown key 'colour'"),
        (("promotion", "prod", "signed"), "yes please", "'signed' must be true or false"),
        (("promotion", "prod", "branches"), ["--upload-pack=x"], "not an option or a ref"),
        (("promotion", "prod", "after"), ["qa"], "'after' names 'qa', which is not in 'stages'"),
        (("allowed_signers",), "../outside", "no '..'"),
        (("rules",), 1, "unknown key 'rules'"),
    ):
        changed = yaml.safe_load(POLICY)
        target = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        if path[-1] != "after":  # a schema cannot say "one of the stages listed above"
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(changed, schema)
        write(repo, yaml.safe_dump(changed), ".registry.yaml")
        repo.git("add", "-A")
        repo.git("commit", "-q", "--no-verify", "-m", "policy")
        result = repo.run("check")
        assert result.code == 1 and said in result.out, (path, result.out)
        assert re.search(rf"^\.registry\.yaml:\d+:\d+: .*{re.escape(said)}", result.out, re.M)


def test_schema_validates_the_demo_artifacts_yaml(demo: Repo) -> None:
    schema = json.loads(demo.ok("schema"))
    text = demo.git("cat-file", "blob", "HEAD:artifacts.yaml")
    document = yaml.safe_load(text)
    assert set(document) == {"churn", "segment", "cv-class"}
    jsonschema.validate(document, schema)
    assert demo.run("check").code == 0
    # And it rejects what check rejects.
    document["churn"]["tags"] = ["customer"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


# -- a symbolic link in place of artifacts.yaml ----------------------------------------------

LINKED = "is a symbolic link: git registry reads artifacts.yaml from commits"


@pytest.fixture
def linked(repo: Repo) -> Repo:
    """artifacts.yaml committed as a link to conf/models.yaml; churn v0.0.1 registered before."""
    repo.ok("register", "churn")
    write(repo, "churn:\n  type: model\n", "conf/models.yaml")
    (repo.path / "artifacts.yaml").symlink_to("conf/models.yaml")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "link")
    assert repo.git("ls-tree", "HEAD", "artifacts.yaml").startswith("120000 ")
    return repo


def test_a_committed_link_is_reported_not_silently_ignored(linked: Repo) -> None:
    result = linked.run("check")
    assert result.code == 1
    assert f"artifacts.yaml:1:1: {LINKED}" in result.out
    err = fails(linked, "describe", "churn")
    assert LINKED in err
    # Tagging that commit is refused (the hooks would refuse the tag), nothing is created.
    before = refs(linked)
    err = fails(linked, "register", "churn")
    assert LINKED in err and refs(linked) == before
    # Reading the registry still works, with one warning.
    shown = linked.run("show")
    assert shown.code == 0 and "churn" in shown.out
    assert shown.err.count(LINKED) == 1


def test_annotate_and_remove_never_replace_a_link(linked: Repo) -> None:
    for args in (["annotate", "churn", "--type", "dataset"], ["remove", "churn"]):
        err = fails(linked, *args)
        assert "artifacts.yaml is a symbolic link" in err and "readlink" in err
        assert (linked.path / "artifacts.yaml").is_symlink()
        assert read(linked, "conf/models.yaml") == b"churn:\n  type: model\n"
        assert status(linked) == ""


def test_a_committed_policy_link_is_reported_and_stops_promotions(repo: Repo) -> None:
    """A linked .registry.yaml cannot be read from commits: it is never silently ignored
    (which would let promotions skip the team's stage list)."""
    write(repo, "stages: [prod]\n", "conf/policy.yaml")
    (repo.path / ".registry.yaml").symlink_to("conf/policy.yaml")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "linked policy")
    result = repo.run("check")
    assert result.code == 1
    assert ".registry.yaml:1:1: is a symbolic link: git registry reads .registry.yaml" in result.out
    repo.ok("register", "churn")  # no stage: the policy has no say
    before = refs(repo)
    err = fails(repo, "promote", "churn", "prod")
    assert ".registry.yaml at HEAD is invalid" in err and "symbolic link" in err
    assert refs(repo) == before


# -- files of the wrong kind ------------------------------------------------------------


@pytest.mark.parametrize("name", [".registry.yaml", ".gto"])
def test_a_policy_committed_as_a_folder_is_reported_and_stops_promotions(
    repo: Repo, name: str
) -> None:
    """A folder in place of the policy file used to mean "no policy": silently unenforced."""
    repo.ok("register", "churn")
    repo.commit(files={f"{name}/stages": "stages: [dev]\n"})
    result = repo.run("check")
    assert result.code == 1
    assert f"{name}:1:1: is a folder, not a file" in result.out
    err = fails(repo, "promote", "churn", "qa")
    assert f"{name} at HEAD is invalid" in err and "is a folder" in err


def test_an_artifacts_yaml_folder_is_reported_by_check_and_the_commit_hook(repo: Repo) -> None:
    repo.commit(files={"models/artifacts.yaml/churn.yaml": "churn: {}\n"})
    result = repo.run("check")
    assert result.code == 1
    assert "models/artifacts.yaml:1:1: is a folder, not a file" in result.out
    repo.ok("hooks", "install")
    (repo.path / "artifacts.yaml").mkdir()
    (repo.path / "artifacts.yaml" / "x").write_text("x\n")
    repo.git("add", "artifacts.yaml/x")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "folder"], cwd=repo.path, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "artifacts.yaml:1:1: is a folder, not a file" in proc.stderr
