"""Pushes that the remote refuses (issue 15, item 6): the server's ``remote:`` lines are
relayed (escaped), and an unpushed tag whose ``#N`` the remote has taken is reported by
``fetch`` and ``push`` and renumbered by ``push --renumber``. Real bare remotes with the
registry's server hook, real ``git push``."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import Repo

HINT = (
    "hint: give your unpushed events new counters after the remote's, and push: "
    "git registry push --renumber origin churn\n"
)


def clone(remote: Repo, path: Path) -> Repo:
    subprocess.run(
        ["git", "clone", "-q", str(remote.path), str(path)], check=True, capture_output=True
    )
    repo = Repo.__new__(Repo)
    repo.path = path
    repo._n = 100
    return repo


@pytest.fixture
def team(repo: Repo, remote: Repo, tmp_path: Path) -> tuple[Repo, Repo]:
    """Two clones (``repo`` and another) of ``remote``, which has the server hook and
    churn v0.0.1; each clone has fetched it."""
    remote.ok("hooks", "install", "--server")
    repo.ok("register", "churn")
    repo.ok("push")
    other = clone(remote, tmp_path / "other")
    other.ok("fetch")
    return repo, other


def tags_and_objects(repo: Repo) -> str:
    return repo.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/tags")


# -- the server's reasons --------------------------------------------------------------


def refusing_hook(remote: Repo, text: str) -> None:
    hook = remote.path / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nprintf '{text}' >&2\nexit 1\n")
    hook.chmod(0o755)


def test_push_relays_what_the_server_said_escaped(repo: Repo, remote: Repo) -> None:
    refusing_hook(
        remote, "error: tags are frozen today\\n\\033[31mred\\033[0m\\n::set-output name=x::y\\n"
    )
    repo.ok("register", "churn")
    result = repo.run("push")
    assert result.code == 1
    assert result.err == (
        "remote: error: tags are frozen today\n"
        "remote: \\x1b[31mred\\x1b[0m\n"
        "remote: \\x3a:set-output name=x::y\n"
        "error: churn@v0.0.1 was not pushed: [remote rejected] (pre-receive hook declined)\n"
        "error: 1 of 1 tag was not pushed to origin\n" + HINT
    )
    # A write's --push relays it too, before its own summary, and keeps its tag: the
    # remote's tags do not explain the refusal (it used to delete the tag, saying nothing).
    result = repo.run("promote", "churn", "prod", "--push")
    assert result.code == 1
    assert result.err.splitlines() == [
        "remote: error: tags are frozen today",
        "remote: \\x1b[31mred\\x1b[0m",
        "remote: \\x3a:set-output name=x::y",
        "error: push to 'origin' failed: churn#prod#1 [remote rejected] (pre-receive hook "
        "declined); churn#prod#1 kept in your local repository",
        "hint: the remote's tags do not explain it: see the message above",
    ]
    assert set(repo.tags()) == {"churn@v0.0.1", "churn#prod#1"}


def test_a_successful_push_relays_the_server_too(repo: Repo, remote: Repo) -> None:
    hook = remote.path / "hooks" / "post-receive"
    hook.write_text("#!/bin/sh\necho 'deploy queued' >&2\n")
    hook.chmod(0o755)
    repo.ok("register", "churn")
    result = repo.run("push")
    assert result.code == 0
    assert result.out == "Pushed churn@v0.0.1\n"
    assert result.err == "remote: deploy queued\n"


# -- a counter the remote took ---------------------------------------------------------


def test_fetch_and_push_report_a_counter_the_remote_took(team: tuple[Repo, Repo]) -> None:
    mine, theirs = team
    mine.ok("promote", "churn", "prod")  # churn#prod#1, not pushed
    theirs.ok("promote", "churn", "staging", "--push")  # churn#staging#1, first
    clash = "your unpushed churn#prod#1 and origin's churn#staging#1 both use counter #1 of churn"
    result = mine.run("fetch")
    assert result.code == 0
    assert result.out == "Fetched registry tags from origin: 1 new\n"
    assert result.err == (
        f"warning: {clash}: yours cannot be pushed as it is\n"
        "hint: give your unpushed events new counters after the remote's, and push: "
        "git registry push --renumber origin churn\n"
    )
    mine.ok("promote", "churn", "dev")  # churn#dev#2, after the clash: held back too
    before = tags_and_objects(mine)
    result = mine.run("push")
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        f"error: churn#prod#1 was not pushed: {clash}\n"
        "error: churn#dev#2 was not pushed: it comes after churn#prod#1\n" + HINT
    )
    result = mine.run("push", "--renumber", "--dry-run")
    assert result.code == 0
    assert result.out == (
        f"would renumber churn#prod#1 ({clash})\n"
        "would renumber churn#dev#2 (it comes after churn#prod#1)\n"
    )
    assert tags_and_objects(mine) == before


def test_push_renumber_replaces_the_unpushed_tags_and_pushes(
    team: tuple[Repo, Repo], remote: Repo
) -> None:
    mine, theirs = team
    mine.ok("promote", "churn", "prod")
    mine.ok("unassign", "churn", "prod")  # churn#prod!#2: its order after #1 must hold
    theirs.ok("promote", "churn", "staging", "--push")
    theirs.ok("promote", "churn", "dev", "--push")
    result = mine.run("push", "--renumber")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-4:] == [
        "Renumbered churn#prod#1 as churn#prod#3",
        "Renumbered churn#prod!#2 as churn#prod!#4",
        "Pushed churn#prod#3",
        "Pushed churn#prod!#4",
    ]
    assert (
        set(mine.tags())
        == set(remote.tags())
        == {
            "churn@v0.0.1",
            "churn#staging#1",
            "churn#dev#2",
            "churn#prod#3",
            "churn#prod!#4",
        }
    )
    # Theirs were fetched, never touched; ours were made again after them, in order.
    for name in ("churn#staging#1", "churn#dev#2"):
        assert mine.git("cat-file", "tag", name) == theirs.git("cat-file", "tag", name)
    history = mine.ok("history", "churn").splitlines()[1:]
    assert [line.split()[-1] for line in history] == [
        "churn#prod!#4",
        "churn#prod#3",
        "churn#dev#2",
        "churn#staging#1",
        "churn@v0.0.1",
    ]
    assert mine.run("which", "churn", "prod").code == 1  # unassigned, as before
    mine.ok("check")
    mine.fsck()


def test_renumber_of_a_tag_the_remote_has_under_the_same_name(
    team: tuple[Repo, Repo], remote: Repo
) -> None:
    mine, theirs = team
    mine.ok("promote", "churn", "prod", "-m", "mine")
    theirs.ok("promote", "churn", "prod", "-m", "theirs", "--push")
    result = mine.run("fetch")
    assert result.err.startswith("warning: tag churn#prod#1 differs from origin's: kept yours")
    assert result.err.endswith(HINT)
    result = mine.run("push")
    assert result.err.startswith(
        "error: churn#prod#1 was not pushed: your unpushed churn#prod#1 differs from "
        "origin's tag of that name (counter #1 of churn is taken)\n"
    )
    result = mine.run("push", "--renumber")
    assert result.code == 0, result.err
    assert "Renumbered churn#prod#1 as churn#prod#2\n" in result.out
    # Theirs is fetched once ours has moved out of its way.
    assert mine.git("cat-file", "tag", "churn#prod#1") == theirs.git(
        "cat-file", "tag", "churn#prod#1"
    )
    assert set(remote.tags()) == {"churn@v0.0.1", "churn#prod#1", "churn#prod#2"}


def test_renumber_changes_nothing_when_the_new_tag_is_refused(
    team: tuple[Repo, Repo], remote: Repo
) -> None:
    mine, theirs = team
    mine.ok("promote", "churn", "prod")
    # The team's policy, committed here since: prod is no longer a stage.
    mine.commit(files={".registry.yaml": "stages: [dev, staging]\n"})
    theirs.ok("promote", "churn", "staging", "--push")
    before = tags_and_objects(mine)
    result = mine.run("push", "--renumber")
    assert result.code == 128
    assert result.err.startswith(
        "fatal: refusing to create the tag: churn#prod#2: stage 'prod' is not allowed"
    ), result.err
    after = tags_and_objects(mine)
    # Only the remote's tag was added (fetched); churn#prod#1 is as it was.
    assert set(before.splitlines()) <= set(after.splitlines())
    assert {line.split()[0] for line in after.splitlines()} == {
        "refs/tags/churn@v0.0.1",
        "refs/tags/churn#prod#1",
        "refs/tags/churn#staging#1",
    }
    assert "churn#prod#1" not in remote.tags()


def test_renumber_refuses_to_reorder_an_event_without_a_counter(
    team: tuple[Repo, Repo],
) -> None:
    mine, theirs = team
    mine.ok("promote", "churn", "prod")
    mine.commit()
    mine.ok("register", "churn")  # churn@v0.0.2: after churn#prod#1, and no #N
    theirs.ok("promote", "churn", "staging", "--push")
    mine.ok("fetch")
    before = tags_and_objects(mine)
    result = mine.run("push", "--renumber")
    assert result.code == 128
    assert result.err == (
        "fatal: cannot renumber the unpushed events of churn from churn#prod#1 on: "
        "churn@v0.0.2 comes after it and has no counter (renumbering the others would "
        "change the order of events)\n"
        "hint: delete churn@v0.0.2 (git tag -d), renumber, then make it again\n"
    )
    assert tags_and_objects(mine) == before


def race(remote: Repo, theirs: Repo, name: str) -> None:
    """Make the remote's next push lose a race: its pre-receive hook first stores
    ``theirs``'s tag ``name`` (as if pushed a moment before), then runs the registry's
    hook. ``name`` is removed from ``theirs``, which never pushes it itself."""
    theirs.git("push", "-q", "origin", f"refs/tags/{name}:refs/side/raced")
    theirs.git("tag", "-d", name)
    hooks = remote.path / "hooks"
    (hooks / "pre-receive").rename(hooks / "pre-receive.registry")
    script = hooks / "pre-receive"
    script.write_text(
        "#!/bin/sh\n"
        'if [ ! -e "$GIT_DIR/raced" ]; then\n'
        '  touch "$GIT_DIR/raced"\n'
        "  env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY "
        "-u GIT_ALTERNATE_OBJECT_DIRECTORIES \\\n"
        f"    git update-ref 'refs/tags/{name}' refs/side/raced\n"
        "fi\n"
        'exec "$GIT_DIR/hooks/pre-receive.registry"\n'
    )
    script.chmod(0o755)


def test_a_push_that_loses_a_race_relays_the_reason_and_offers_renumber(
    team: tuple[Repo, Repo], remote: Repo
) -> None:
    mine, theirs = team
    theirs.ok("promote", "churn", "staging")
    race(remote, theirs, "churn#staging#1")
    mine.ok("promote", "churn", "prod")
    result = mine.run("push")
    assert result.code == 1
    lines = result.err.splitlines()
    # The server's reason, as 'git push' shows it (the two tags have the same time and
    # counter: the name decides, churn#prod#1 first).
    assert lines[:3] == [
        "remote: error: churn#staging#1: counter #1 of churn is already used by tag "
        "churn#prod#1 (with the pushed churn#prod#1)",
        "remote: hint: each #N is used once per artifact: let git registry pick the next counter",
        "remote: error: git-registry pre-receive hook refused this push: 1 problem; "
        "nothing was changed on this repository",
    ]
    assert lines[-3:] == [
        "error: churn#prod#1 was not pushed: [remote rejected] (pre-receive hook declined)",
        "error: 1 of 1 tag was not pushed to origin",
        HINT.strip(),
    ]
    assert "churn#prod#1" in mine.tags()


def test_push_renumber_retries_a_lost_race(team: tuple[Repo, Repo], remote: Repo) -> None:
    mine, theirs = team
    theirs.ok("promote", "churn", "staging")
    race(remote, theirs, "churn#staging#1")
    mine.ok("promote", "churn", "prod")
    result = mine.run("push", "--renumber")
    assert result.code == 0, result.err
    assert (
        "warning: churn#prod#1 was refused by 'origin' ([remote rejected] (pre-receive hook "
        "declined)): someone else was first; renumbering\n"
    ) in result.err
    assert result.out.splitlines()[-2:] == [
        "Renumbered churn#prod#1 as churn#prod#2",
        "Pushed churn#prod#2",
    ]
    assert set(remote.tags()) == {"churn@v0.0.1", "churn#staging#1", "churn#prod#2"}


def test_push_renumber_does_not_retry_a_refusal_the_remote_tags_do_not_explain(
    repo: Repo, remote: Repo
) -> None:
    refusing_hook(remote, "error: no\\n")
    repo.ok("register", "churn")
    result = repo.run("push", "--renumber")
    assert result.code == 1
    assert result.err.count("remote: error: no\n") == 1  # pushed once
    assert "renumbering" not in result.err


def test_the_renumber_hint_keeps_a_dash_artifact_as_data(repo: Repo, remote: Repo) -> None:
    """The command the hint prints does what it says when run, for an artifact whose
    folder starts with '-' (never an option)."""
    remote.ok("hooks", "install", "--server")
    repo.ok("register", "--", "-x:model")
    repo.ok("push")
    other = clone(remote, repo.path.parent / "other")
    other.ok("fetch")
    repo.ok("promote", "--", "-x:model", "prod")
    other.ok("promote", "--push", "--", "-x:model", "staging")
    result = repo.run("push")
    assert result.code == 1
    hint = result.err.splitlines()[-1]
    command = hint.rpartition("and push: ")[2]
    assert command == "git registry push --renumber -- origin -x:model"
    done = subprocess.run(shlex.split(command), cwd=repo.path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Renumbered -x=model#prod#1 as -x=model#prod#2" in done.stdout
    assert set(remote.tags()) == {"-x=model@v0.0.1", "-x=model#staging#1", "-x=model#prod#2"}


def test_a_retry_whose_new_plan_fails_says_why_and_keeps_the_tag(
    team: tuple[Repo, Repo],
) -> None:
    """Refused for a counter someone else took, and after fetching their tags the
    promotion itself no longer stands (they deregistered the version): the push fails
    with both reasons, and the unpushed tag stays here."""
    mine, theirs = team
    theirs.ok("promote", "churn", "dev", "--push")  # takes counter #1
    theirs.ok("deregister", "churn@v0.0.1", "--push")
    result = mine.run("promote", "churn@v0.0.1", "prod", "--push")  # churn#prod#1 here
    assert result.code == 1, result.err
    assert "churn#prod#1 was refused by 'origin'" in result.err
    assert "and after fetching its tags: churn v0.0.1 is deregistered" in result.err
    assert "churn#prod#1 kept in your local repository" in result.err
    assert "churn#prod#1" in mine.tags()
