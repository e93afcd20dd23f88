"""CI and remotes (issue 7): check-ref formats, fetch into shallow and CI-style
checkouts, one tag per push, concurrent promotions. Real remotes only."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from cisim import parse_output_file
from conftest import Repo, git


def clone(remote: Repo, path: Path, *args: str) -> Repo:
    subprocess.run(
        ["git", "clone", "-q", *args, f"file://{remote.path}", str(path)],
        check=True,
        capture_output=True,
    )
    clone = Repo.__new__(Repo)
    clone.path = path
    clone._n = 100
    return clone


def registry_as(repo: Repo, who: str, *args: str) -> subprocess.Popen[str]:
    """Start ``git registry ARGS`` as another person (their own tagger name)."""
    return subprocess.Popen(
        ["git", "registry", *args],
        cwd=repo.path,
        env={**os.environ, "GIT_COMMITTER_NAME": who},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def published(repo: Repo, remote: Repo) -> Repo:
    """churn v0.0.1 in prod and an annotation with a hostile description, on the remote."""
    repo.commit(
        files={
            "artifacts.yaml": "churn:\n  path: s3://models/churn.pt\n  type: model\n"
            '  description: "line one\\nEOF\\nname=evil\\nghadelimiter_x\\n"\n'
        }
    )
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.git("push", "-q", "origin", "main", "churn@v0.0.1", "churn#prod#1")
    return repo


# -- check-ref for CI ----------------------------------------------------------------------


def test_github_output_cannot_be_injected(published: Repo, tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    output.write_text("earlier=kept\n")
    proc = subprocess.run(
        ["git", "registry", "check-ref", "refs/tags/churn#prod#1", "--format", "github"],
        cwd=published.path,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    values = parse_output_file(output.read_text())
    assert values == {
        "earlier": "kept",
        "name": "churn",
        "version": "v0.0.1",
        "stage": "prod",
        "event": "assignment",
        "tag": "churn#prod#1",
        "commit": published.git("rev-parse", "HEAD").strip(),
        "path": "s3://models/churn.pt",
        "type": "model",
        "description": "line one\nEOF\nname=evil\nghadelimiter_x\n",
    }


def test_github_format_needs_github_output(published: Repo) -> None:
    result = published.run("check-ref", "churn@v0.0.1", "--format", "github")
    assert result.code == 128 and "GITHUB_OUTPUT is not set" in result.err


def test_env_format_is_a_dotenv_file(published: Repo) -> None:
    out = published.ok("check-ref", "churn@v0.0.1", "--format", "env")
    lines = dict(line.split("=", 1) for line in out.splitlines())
    assert lines["REGISTRY_NAME"] == "churn"
    assert lines["REGISTRY_EVENT"] == "registration"
    assert lines["REGISTRY_STAGE"] == '""'
    assert lines["REGISTRY_PATH"] == "s3://models/churn.pt"
    # Line breaks are written escaped, as human output shows them (and a shell reads them).
    escaped = "line one\\nEOF\\nname=evil\\nghadelimiter_x\\n"
    assert lines["REGISTRY_DESCRIPTION"] == '"' + escaped.replace("\\", "\\\\") + '"'
    assert len(out.splitlines()) == 9  # a newline in a value never makes a line


def test_json_has_the_keys_of_the_ci_formats(published: Repo) -> None:
    """check-ref --json names each value as --format github and env do (the artifact
    is `name`), then the event's keys; `artifact` stays, the same as `name`."""
    env = published.ok("check-ref", "churn@v0.0.1", "--format", "env")
    keys = [line.split("=", 1)[0].removeprefix("REGISTRY_").lower() for line in env.splitlines()]
    assert "name" in keys and "artifact" not in keys
    doc = json.loads(published.ok("check-ref", "churn@v0.0.1", "--json"))
    assert list(doc)[: len(keys)] == keys
    assert doc["name"] == doc["artifact"] == "churn"
    assert doc["event"] == "registration" and doc["stage"] is None
    assert doc["path"] == "s3://models/churn.pt" and doc["counter"] is None
    other = json.loads(published.ok("check-ref", "v1.0", "--allow-other", "--json"))
    assert other == dict.fromkeys(keys) | {"tag": "v1.0"}


def test_other_refs_exit_1_unless_allowed(published: Repo, tmp_path: Path) -> None:
    result = published.run("check-ref", "refs/heads/main")
    assert result.code == 1 and "is not a tag" in result.err
    result = published.run("check-ref", "release-2024")
    assert result.code == 1 and "is not a registry tag" in result.err
    output = tmp_path / "out"
    published.ok("check-ref", "v1.0", "--allow-other", "--json")
    result = published.run("check-ref", "v1.0", "--allow-other", "--format", "env")
    assert result.code == 0 and 'REGISTRY_EVENT=""' in result.out
    assert not output.exists()


# -- CI checkouts ----------------------------------------------------------------------------


def ci_checkout(remote: Repo, path: Path, tag: str) -> Repo:
    """What actions/checkout does for a tag push: a depth-1 fetch of the commit, and a
    lightweight tag of that name pointing at it."""
    commit = git(remote.path, "rev-parse", f"{tag}^{{commit}}").strip()
    path.mkdir()
    git(path, "init", "-q")
    git(path, "remote", "add", "origin", f"file://{remote.path}")
    git(path, "fetch", "-q", "--depth=1", "--no-tags", "origin", commit)
    git(path, "tag", tag, commit)
    git(path, "checkout", "-q", "--detach", commit)
    r = Repo.__new__(Repo)
    r.path = path
    r._n = 0
    return r


def test_check_ref_in_a_ci_checkout_needs_and_does_fetch(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    ci = ci_checkout(remote, tmp_path / "ci", "churn#prod#1")
    assert ci.git("cat-file", "-t", "churn#prod#1").strip() == "commit"  # lightweight
    result = ci.run("check-ref", "churn#prod#1")
    assert result.code == 1
    assert "lightweight tag" in result.err and "--fetch" in result.err
    result = ci.run("check-ref", "churn#prod#1", "--fetch", "--format", "env")
    assert result.code == 0, result.err
    assert "REGISTRY_VERSION=v0.0.1" in result.out and "REGISTRY_STAGE=prod" in result.out
    assert ci.git("cat-file", "-t", "churn#prod#1").strip() == "tag"  # the real one now
    assert ci.git("rev-parse", "--is-shallow-repository").strip() == "true"


def test_fetch_in_a_shallow_single_tag_clone(published: Repo, remote: Repo, tmp_path: Path) -> None:
    published.commit()
    published.ok("register", "churn")
    published.git("push", "-q", "origin", "main", "churn@v0.0.2")
    shallow = clone(remote, tmp_path / "shallow", "--depth", "1", "--branch", "churn@v0.0.1")
    assert shallow.git("rev-parse", "--is-shallow-repository").strip() == "true"
    out = shallow.ok("fetch")
    assert "Fetched registry tags from origin: " in out and "shallow clone" in out
    assert set(shallow.tags()) == {"churn@v0.0.1", "churn@v0.0.2", "churn#prod#1"}
    # Only the tagged commits came, not the history between them.
    assert shallow.git("rev-list", "--count", "--all").strip() == "2"
    assert shallow.ok("latest", "churn").strip() == "v0.0.2"
    assert shallow.ok("which", "churn", "prod").strip() == "v0.0.1"


def test_fetch_never_clobbers_a_differing_local_tag(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    other = clone(remote, tmp_path / "other")
    other.git("tag", "-d", "churn#prod#1")
    other.git("tag", "-a", "-m", "mine", "churn#prod#1", "HEAD~1")
    result = other.run("fetch", "origin", "churn")
    assert result.code == 0
    assert "warning: tag churn#prod#1 differs from origin's: kept yours" in result.err
    assert "1 differing local tags kept" in result.out
    assert other.git("cat-file", "tag", "churn#prod#1").rstrip().endswith("mine")


def test_fetch_only_named_artifacts_and_unknown_remote(published: Repo, tmp_path: Path) -> None:
    published.ok("register", "segment")
    published.git("push", "-q", "origin", "segment@v0.0.1")
    empty = Repo(tmp_path / "empty")
    empty.git("remote", "add", "origin", str(published.path.parent / "remote.git"))
    assert "1 new" in empty.ok("fetch", "segment")
    assert set(empty.tags()) == {"segment@v0.0.1"}
    result = empty.run("fetch", "nosuchremote-or-artifact-@")
    assert result.code == 128
    result = empty.run("fetch", "/no/such/path.git")
    assert result.code == 128 and "fatal:" in result.err


# -- publishing ------------------------------------------------------------------------------


def count_pushes(remote: Repo) -> Path:
    log = remote.path / "pushes.log"
    hook = remote.path / "hooks" / "post-receive"
    hook.write_text(f'#!/bin/sh\ncat >> "{log}"\necho --- >> "{log}"\n')
    hook.chmod(0o755)
    return log


def test_push_sends_one_tag_per_push(repo: Repo, remote: Repo) -> None:
    log = count_pushes(remote)
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "dev")
    repo.ok("promote", "churn", "staging")
    repo.ok("promote", "churn", "prod")
    assert "would push churn@v0.0.1" in repo.ok("push", "--dry-run")
    out = repo.ok("push")
    assert out.splitlines() == [
        "Pushed churn@v0.0.1",
        "Pushed churn#dev#1",
        "Pushed churn#staging#2",
        "Pushed churn#prod#3",
    ]
    assert log.read_text().count("---") == 4
    assert "Nothing to push" in repo.ok("push", "origin", "churn")


def test_push_reports_a_differing_remote_tag(repo: Repo, remote: Repo, tmp_path: Path) -> None:
    repo.ok("register", "churn")
    repo.git("push", "-q", "origin", "churn@v0.0.1")
    other = clone(remote, tmp_path / "other")
    repo.git("tag", "-d", "churn@v0.0.1")
    repo.git("tag", "-a", "-m", "rewritten", "churn@v0.0.1")
    result = repo.run("push")
    assert "origin has a different churn@v0.0.1: not pushed" in result.err
    assert remote.git("cat-file", "tag", "churn@v0.0.1") == other.git(
        "cat-file", "tag", "churn@v0.0.1"
    )


@pytest.mark.slow
def test_two_clones_promoting_at_once_get_distinct_counters(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    a = clone(remote, tmp_path / "a")
    b = clone(remote, tmp_path / "b")
    procs = [
        registry_as(c, who, "promote", "churn", "staging", "--push")
        for c, who in ((a, "A"), (b, "B"))
    ]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    for code, _out, err in results:
        assert code == 0, err
    staging = {t for t in remote.tags() if t.startswith("churn#staging#")}
    assert staging == {"churn#staging#2", "churn#staging#3"}
    for c in (a, b):
        c.ok("fetch")
        assert c.ok("which", "churn", "staging").strip() == "v0.0.1"


def test_a_lost_race_is_retried_with_the_next_counter(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    a = clone(remote, tmp_path / "a")
    b = clone(remote, tmp_path / "b")
    a.ok("promote", "churn", "staging", "--push")
    proc = registry_as(b, "B", "promote", "churn", "staging", "--push")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "churn#staging#2 was refused by 'origin'" in err
    assert "retrying as churn#staging#3" in err
    assert "Pushed churn#staging#3" in out
    assert {"churn#staging#2", "churn#staging#3"} <= set(remote.tags())
    assert "churn#staging#2" in b.tags()  # a's tag, fetched; b's own was dropped
    assert b.git("cat-file", "tag", "churn#staging#2") == a.git(
        "cat-file", "tag", "churn#staging#2"
    )


def test_fetch_and_push_over_git_daemon(
    published: Repo, remote: Repo, daemon: str, tmp_path: Path
) -> None:
    published.git("remote", "set-url", "origin", daemon)
    published.commit()
    published.ok("register", "churn", "--bump-minor")
    assert "Pushed churn@v0.1.0" in published.ok("push")
    assert "churn@v0.1.0" in remote.tags()
    fresh = Repo(tmp_path / "fresh")
    fresh.git("remote", "add", "origin", daemon)
    assert "3 new" in fresh.ok("fetch")


# -- reading remotes without cloning ---------------------------------------------------------


def test_show_two_remotes_in_one_table_from_outside_any_repository(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    other = Repo(tmp_path / "other")
    other.commit()
    other.ok("register", "segment", "--bump-major")
    other.ok("promote", "segment", "dev")
    second = Repo(tmp_path / "second.git", bare=True)
    other.git("push", "-q", str(second.path), "main", "--tags")
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    proc = subprocess.run(
        ["git", "registry", "show", "--remote", str(remote.path), "--remote", str(second.path)],
        cwd=nowhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert rows[0][:2] == ["name", "latest"]
    assert rows[1][:2] == ["remote:churn", "v0.0.1"]
    assert rows[2][:2] == ["second:segment", "v1.0.0"]
    assert not (nowhere / ".git").exists()


def test_which_latest_history_of_a_remote(published: Repo, remote: Repo, tmp_path: Path) -> None:
    here = Repo(tmp_path / "here")
    here.git("remote", "add", "up", str(remote.path))
    assert here.ok("which", "churn", "prod", "--remote", "up").strip() == "v0.0.1"
    assert here.ok("latest", "churn", "--remote", "up", "--ref").strip() == "churn@v0.0.1"
    history = here.ok("history", "churn", "--remote", "up", "--json")
    assert '"tag": "churn#prod#1"' in history and '"tagger"' in history
    assert here.tags() == {}  # nothing was fetched into the local repository
    # A new tag on the remote is seen on the next read.
    published.commit()
    published.ok("register", "churn", "--bump-minor")
    published.git("push", "-q", "origin", "main", "churn@v0.1.0")
    assert here.ok("latest", "churn", "--remote", "up").strip() == "v0.1.0"
    # Several remotes: address an artifact as LABEL:NAME.
    out = here.ok("which", "remote:churn", "prod", "--remote", "up", "--remote", str(remote.path))
    assert out.strip() == "v0.0.1"


def test_unreachable_remote_is_a_clear_error(repo: Repo, tmp_path: Path) -> None:
    result = repo.run("show", "--remote", str(tmp_path / "no-such.git"))
    assert result.code == 128
    assert result.err.startswith("fatal: ") and "Traceback" not in result.err


def test_remote_read_fetches_no_files(published: Repo, remote: Repo, tmp_path: Path) -> None:
    remote.git("config", "uploadpack.allowFilter", "true")
    published.ok("show", "--remote", str(remote.path))
    (cache,) = (tmp_path / "home" / ".cache" / "git-registry" / "remotes").glob("*.git")
    kinds = {
        line.split()[1]
        for line in git(cache, "cat-file", "--batch-all-objects", "--batch-check").splitlines()
    }
    assert kinds == {"tag", "commit"}


def test_writes_in_a_shallow_clone_warn(published: Repo, remote: Repo, tmp_path: Path) -> None:
    shallow = clone(remote, tmp_path / "shallow", "--depth", "1")
    shallow.commit()
    result = shallow.run("register", "churn")
    assert result.code == 0
    assert "warning: this is a shallow clone" in result.err


def test_reads_in_a_shallow_clone_warn_until_fetched(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    """A CI checkout of one tag knows only the tags at that commit: reads say their
    answers may be out of date until 'git registry fetch' has fetched the rest."""
    published.commit()
    published.ok("register", "churn")
    published.ok("promote", "churn", "prod")
    published.ok("register", "segment")
    published.git("push", "-q", "origin", "main", "--tags")
    ci = clone(remote, tmp_path / "ci", "--depth", "1", "--branch", "churn@v0.0.1")
    warning = "warning: this is a shallow clone"

    stale = ci.run("which", "churn", "prod")
    assert (stale.code, stale.out.strip()) == (0, "v0.0.1")  # the remote says v0.0.2
    assert stale.err.count(warning) == 1

    # check-ref --fetch fetches churn's tags: churn's answers are complete, not segment's.
    assert ci.run("check-ref", "churn@v0.0.1", "--fetch").code == 0
    fresh = ci.run("which", "churn", "prod")
    assert (fresh.out.strip(), fresh.err) == ("v0.0.2", "")
    assert warning in ci.run("show").err

    ci.ok("fetch")
    everything = ci.run("show")
    assert everything.err == "" and "segment" in everything.out
    assert ci.run("latest", "segment").err == ""


def test_a_fetch_that_cannot_note_itself_keeps_the_warning(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    """Where .git/registry cannot be created, fetch still works and reads keep warning."""
    ci = clone(remote, tmp_path / "ci", "--depth", "1", "--branch", "churn@v0.0.1")
    (ci.path / ".git" / "registry").write_text("not a folder")
    assert ci.run("fetch").code == 0
    assert "warning: this is a shallow clone" in ci.run("show").err


def test_remote_reads_do_not_warn_about_their_shallow_cache(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    result = published.run("show", "--remote", str(remote.path))
    assert result.code == 0 and "shallow" not in result.err
