"""A week of a team (issue 15): two models, a dataset and a folder artifact, a bare
origin with the server hook, two clones with the client hooks, real pushes, a
counter race, a typo or two, a rollback and a pin, a broken folder file, a
deprecation, and CI reading the tags. Every step's output is asserted: this is the
everyday lifecycle as a team meets it, end to end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import Repo, git

pytestmark = pytest.mark.slow

ARTIFACTS = """\
churn:
  type: model
  path: models/churn.pkl
  description: Customer churn classifier
fraud:
  type: model
  path: s3://ml/fraud.pt
customers:
  type: dataset
  path: s3://ml/customers.parquet
"""
NLP = "sentiment:\n  type: model\n  path: s3://ml/sentiment.bin\n"
POLICY = "stages: [dev, staging, prod]\n"


def clone(origin: Repo, path: Path) -> Repo:
    git(path.parent, "clone", "-q", str(origin.path), path.name)
    repo = Repo(path)  # 'git init' again in a clone changes nothing
    repo.ok("hooks", "install")
    return repo


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_a_week_of_a_team(tmp_path: Path) -> None:
    # -- Monday: Alice sets the registry up -------------------------------------------------
    origin = Repo(tmp_path / "origin.git", bare=True)
    origin.ok("hooks", "install", "--server")
    alice = Repo(tmp_path / "alice")
    alice.ok("hooks", "install")
    alice.commit(
        "the registry",
        {
            "artifacts.yaml": ARTIFACTS,
            "nlp/artifacts.yaml": NLP,
            ".registry.yaml": POLICY,
            "models/churn.pkl": "weights 1\n",
        },
    )
    alice.git("remote", "add", "origin", str(origin.path))
    alice.git("push", "-q", "origin", "main")
    first = alice.git("rev-parse", "HEAD").strip()

    out = alice.ok("register", "churn", "--version", "v1.0.0", "--push")
    assert lines(out) == [
        f"Created tag churn@v1.0.0: registers churn v1.0.0 at commit {first[:7]}",
        "Pushing to origin: churn@v1.0.0",
        "Pushed churn@v1.0.0",
    ]
    alice.ok("register", "customers", "--version", "v1.0.0", "--push")
    out = alice.ok("promote", "churn", "prod", "--push")
    assert lines(out)[0] == (
        f"Created tag churn#prod#1: assigns stage prod to churn v1.0.0 at commit {first[:7]}"
    )
    assert origin.ok("which", "churn", "prod") == "v1.0.0\n"  # the server has it

    # -- Tuesday: Bob joins; typos explain themselves ---------------------------------------
    bob = clone(origin, tmp_path / "bob")
    result = bob.run("promte", "churn", "staging")
    assert result.code == 129
    assert "error: 'promte' is not a git registry command" in result.err
    assert "hint: did you mean 'promote'?" in result.err
    result = bob.run("register", "chrun")
    assert result.code == 128
    assert lines(result.err) == [
        "fatal: 'chrun' would be a new artifact, one edit away from 'churn'",
        "hint: did you mean 'churn'? To start a new artifact named 'chrun', pass --new",
    ]
    result = bob.run("which", "churn", "prd")
    assert (result.code, lines(result.err)) == (
        1,
        ["error: no version of churn is in stage 'prd'", "hint: did you mean 'prod'?"],
    )
    result = bob.run("describe", "fraud@v1.0.0")
    assert result.code == 1
    assert "fraud is annotated in artifacts.yaml but has no registered version" in result.err
    bob.ok("register", "fraud", "--bump-minor", "--push")  # fraud@v0.1.0
    bob.ok("register", "nlp:sentiment", "--version", "v2.0.0", "--push")
    assert "nlp=sentiment@v2.0.0" in origin.tags()

    # Bob and Alice both take churn's next counter: Bob pushes first.
    bob.ok("promote", "churn", "dev", "--push")  # churn#dev#2
    alice.ok("promote", "churn", "staging")  # churn#staging#2, not pushed yet
    result = alice.run("push")
    assert result.code == 1
    assert lines(result.err) == [  # seen before pushing: nothing reaches the server
        "error: churn#staging#2 was not pushed: your unpushed churn#staging#2 and origin's "
        "churn#dev#2 both use counter #2 of churn",
        "hint: give your unpushed events new counters after the remote's, and push: "
        "git registry push --renumber origin churn",
    ]
    out = alice.ok("push", "--renumber")
    assert "Renumbered churn#staging#2 as churn#staging#3" in out
    assert "churn#staging#3" in origin.tags() and "churn#staging#2" not in origin.tags()
    assert alice.ok("which", "churn", "staging") == "v1.0.0\n"

    # -- Wednesday: a new churn goes to prod, breaks, and is rolled back --------------------
    alice.commit("retrain", {"models/churn.pkl": "weights 2\n"})
    second = alice.git("rev-parse", "HEAD").strip()
    alice.git("push", "-q", "origin", "main")
    alice.ok("register", "churn", "--version", "v1.1.0", "--push")
    alice.ok("promote", "churn", "prod", "--push")  # churn#prod#4
    assert alice.ok("which", "churn", "prod") == "v1.1.0\n"
    out = alice.ok("rollback", "churn", "prod", "--push")
    assert lines(out)[0] == (
        f"Created tag churn#prod!#5: unassigns stage prod from churn v1.1.0 at commit {second[:7]}"
    )
    assert "Now prod of churn is v1.0.0 (through churn#prod#1)" in lines(out)
    assert "Pushed churn#prod!#5" in lines(out)
    # prod is v1.0.0 again, by fallback: pinning it there is a new assignment.
    out = alice.ok("promote", "churn@v1.0.0", "prod", "--push")
    assert lines(out)[0] == (
        f"Created tag churn#prod#6: assigns stage prod to churn v1.0.0 at commit {first[:7]}"
    )
    assert lines(out)[-1] == (
        "churn v1.0.0 held prod only by fallback (v1.1.0 was unassigned from it by "
        "churn#prod!#5): the new assignment pins it"
    )
    result = alice.run("promote", "churn@v1.0.0", "prod")  # now nothing to pin
    assert result.code == 128 and "nothing to pin" in result.err

    # -- Thursday: a broken folder file blocks only its own artifact ------------------------
    bob.ok("fetch")
    bob.git("pull", "-q", "--ff-only", "origin", "main")
    (bob.path / "nlp" / "artifacts.yaml").write_text("sentiment: [broken\n")
    bob.git("add", "-A")
    result = bob.git_registry("check", "--worktree")
    assert result.code == 1
    assert result.out.startswith("nlp/artifacts.yaml:2:1: invalid YAML")
    assert result.err == (
        "hint: checked the work tree: 2 artifacts.yaml files and .registry.yaml: 1 problem\n"
    )
    bob.git("commit", "-q", "--no-verify", "-m", "a broken folder file")  # past the hook
    bob.commit("more data")
    assert "Created tag customers@v1.1.0" in bob.ok("register", "customers", "--version", "v1.1.0")
    broken = (
        "nlp/artifacts.yaml:2:1: invalid YAML: while parsing a flow sequence did not find "
        "expected ',' or ']'"
    )
    result = bob.run("register", "nlp:sentiment")
    assert result.code == 128
    assert lines(result.err)[0].startswith(
        "fatal: refusing to create the tag: nlp=sentiment@v2.0.1: nlp/artifacts.yaml at commit "
    )
    assert lines(result.err)[0].endswith(f"is invalid: {broken}")
    result = bob.run("show")
    assert result.code == 0
    assert result.err == (
        f"warning: {broken} (file skipped: the artifacts it declares are shown only if they "
        "have tags)\n"
    )
    assert "nlp:sentiment  -        v2.0.0" in result.out  # known from its tags
    doc = json.loads(bob.run("show", "--json").out)
    assert any("nlp/artifacts.yaml" in w for w in doc["warnings"])
    # The hooks refuse the branch that brings the broken file: Bob's pre-push hook, and
    # the server's for a push past it.
    pushed = bob.git_registry("push")  # tags only: the branch stays
    assert pushed.code == 0, pushed.err
    refused = git_push(bob, "main")
    assert refused.returncode != 0
    assert f"error: main: {broken}" in refused.stderr
    refused = git_push(bob, "--no-verify", "main")
    assert refused.returncode != 0
    assert f"remote: error: main: {broken}" in refused.stderr, refused.stderr
    (bob.path / "nlp" / "artifacts.yaml").write_text(NLP)
    bob.git("commit", "-q", "-am", "fix the folder file")
    assert git_push(bob, "main").returncode == 0

    # Alice points churn at a new weights file she has not committed yet.
    alice.git("pull", "-q", "--ff-only", "origin", "main")
    (alice.path / "models" / "churn-v2.pkl").write_text("weights 3\n")
    args = ["annotate", "churn", "--path", "models/churn-v2.pkl", "--no-virtual", "--commit"]
    result = alice.run(*args)
    assert (result.code, result.out) == (128, "")
    assert lines(result.err) == [
        "fatal: path 'models/churn-v2.pkl' is not in the commit (virtual: false says it must "
        "be): commit it first (git add, git commit), or pass --add models/churn-v2.pkl to "
        "commit it with artifacts.yaml",
        "hint: nothing was changed",
    ]
    assert (alice.path / "artifacts.yaml").read_text() == ARTIFACTS  # nothing was changed
    out = alice.ok(*args, "--add", "models/churn-v2.pkl")
    assert lines(out)[0] == "Updated artifacts.yaml: churn"
    assert lines(out)[1].startswith("Committed artifacts.yaml with models/churn-v2.pkl as ")
    assert alice.git("status", "--porcelain") == ""
    assert alice.ok("describe", "churn", "--path") == "models/churn-v2.pkl\n"

    # Bob made customers v1.1.0 on the wrong data: deleting it is local, and says so.
    result = bob.run("deregister", "customers@v1.1.0", "--delete")
    assert result.code == 0
    assert lines(result.err) == [
        "note: --delete deletes the tag in this repository only; the published way to undo "
        "the event is a new tag: git registry deregister customers@v1.1.0 --push (the command "
        "without --delete)",
        "warning: origin has customers@v1.1.0: 'git registry fetch' will bring it back unless "
        "it is deleted on origin too",
        "hint: deleting registry tags on a remote needs registry.allowDelete set in this clone "
        "and on the server (git config registry.allowDelete true, in each), then: git push "
        "--atomic origin --delete customers@v1.1.0",
    ]
    assert "customers@v1.1.0" not in bob.tags()
    bob.ok("fetch")  # as it said: it is back
    assert "customers@v1.1.0" in bob.tags()
    out = bob.ok("deregister", "customers@v1.1.0", "--push")  # the published way
    assert "Pushed customers@v1.1.0!" in lines(out)
    assert origin.ok("latest", "customers") == "v1.0.0\n"

    # -- Friday: fraud is retired; CI reads the tags ----------------------------------------
    bob.ok("promote", "fraud", "staging", "--push")
    result = bob.run("deprecate", "fraud", "--push")
    assert result.code == 0, result.err
    assert result.err == (
        "warning: fraud v0.1.0 held staging (fraud#staging#1): it is no longer served "
        "('which fraud staging' exits 1; --all prints it)\n"
        # fraud is in artifacts.yaml: GTO would read the next commit as an event of it
        "warning: GTO 1.10.1 shows fraud as active again after the next commit, as long as "
        "artifacts.yaml declares it (git registry keeps it deprecated; 'git registry remove "
        "fraud --commit' retires it in both tools)\n"
    )
    result = bob.run("which", "fraud", "staging")
    assert (result.code, result.out) == (1, "")
    assert "error: artifact 'fraud' is deprecated" in result.err
    assert "hint: print it anyway with: git registry which fraud staging --all" in result.err
    assert bob.run("which", "fraud", "staging", "--all").out == "v0.1.0\n"
    out = bob.ok("show", "--all")
    assert "fraud          deprecated  model    v0.1.0  -       v0.1.0    -" in lines(out)
    assert "fraud" not in bob.ok("show")

    alice.ok("fetch")
    ci = clone(origin, tmp_path / "ci")
    doc = json.loads(ci.ok("check-ref", "refs/tags/churn#prod!#5", "--json"))
    assert (doc["name"], doc["event"], doc["stage"], doc["version"]) == (
        "churn",
        "unassignment",
        "prod",
        "v1.1.0",
    )
    assert ci.ok("which", "churn", "prod") == "v1.0.0\n"
    checked = ci.run("check")
    assert checked.code == 0, checked.err
    assert "checked HEAD" in checked.err

    # A clone with no origin says so, and what to run.
    lone = Repo(tmp_path / "lone")
    lone.commit()
    result = lone.run("fetch")
    assert result.code == 128
    assert "remote 'origin' is not configured in this repository" in result.err
    assert "git remote add origin URL" in result.err
    for repo in (alice, bob, ci, origin):
        repo.fsck()


def git_push(repo: Repo, *refs: str) -> subprocess.CompletedProcess[str]:
    """A plain ``git push origin REFS``: the hooks judge it, not us."""
    return subprocess.run(
        ["git", "push", "origin", *refs], cwd=repo.path, capture_output=True, text=True, check=False
    )
