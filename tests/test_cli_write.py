"""Write commands on real repositories: the tags they create, and every refusal."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Repo


def tag_body(repo: Repo, name: str) -> str:
    """The message of an annotated tag object, exactly as stored."""
    raw = repo.git("cat-file", "tag", name)
    return raw.split("\n\n", 1)[1]


def tag_header(repo: Repo, name: str) -> dict[str, str]:
    raw = repo.git("cat-file", "tag", name).split("\n\n", 1)[0]
    return dict(line.split(" ", 1) for line in raw.splitlines())


def snapshot(repo: Repo) -> str:
    """Every ref and what it points at: a write that fails must leave this unchanged."""
    return repo.git("for-each-ref", "--format=%(refname) %(objectname)")


# -- register --------------------------------------------------------------------------


def test_register_creates_annotated_tag_with_gto_message(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD").strip()
    out = repo.ok("register", "churn")
    assert "Created tag churn@v0.0.1: registers churn v0.0.1 at commit " + head[:7] in out
    assert "    git push origin churn@v0.0.1\n" in out
    assert repo.git("cat-file", "-t", "churn@v0.0.1").strip() == "tag"
    assert repo.tags() == {"churn@v0.0.1": head}
    assert tag_body(repo, "churn@v0.0.1") == "Registering artifact churn version v0.0.1"
    header = tag_header(repo, "churn@v0.0.1")
    assert header["type"] == "commit"
    assert header["tag"] == "churn@v0.0.1"
    assert header["tagger"] == "Cy Committer <cy@example.com> 1700000000 +0000"
    repo.fsck()


def test_register_bumps_and_explicit_version(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.commit()
    repo.ok("register", "churn", "--bump-minor")
    repo.commit()
    repo.ok("register", "churn", "--bump-major")
    repo.commit()
    repo.ok("register", "churn")
    repo.commit()
    repo.ok("register", "churn", "--version", "v7.0.0-rc.1")
    assert set(repo.tags()) == {
        "churn@v0.0.1",
        "churn@v0.1.0",
        "churn@v1.0.0",
        "churn@v1.0.1",
        "churn@v7.0.0-rc.1",
    }


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("--bump-major", "v1.0.0"), ("--bump-minor", "v0.1.0"), ("--bump-patch", "v0.0.1")],
)
def test_first_version_with_a_bump(repo: Repo, flag: str, expected: str) -> None:
    repo.ok("register", "churn", flag)
    assert list(repo.tags()) == [f"churn@{expected}"]


def test_register_bumps_past_deregistered_version(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.commit()
    repo.ok("register", "churn")
    repo.ok("deregister", "churn@v0.0.2")
    repo.commit()
    out = repo.ok("register", "churn")
    assert "churn@v0.0.3" in out


def test_register_at_ref_and_namespaced_name(repo: Repo) -> None:
    first = repo.git("rev-parse", "HEAD").strip()
    repo.commit()
    repo.ok("register", "models/cv:segment", "HEAD~1", "--version", "v2.0.0")
    assert repo.tags() == {"models/cv=segment@v2.0.0": first}
    assert tag_body(repo, "models/cv=segment@v2.0.0") == (
        "Registering artifact models/cv:segment version v2.0.0"
    )
    assert "models/cv:segment" in repo.ok("show")


def test_register_custom_message(repo: Repo) -> None:
    repo.ok("register", "churn", "-m", "trained on 2024 data")
    assert tag_body(repo, "churn@v0.0.1") == "trained on 2024 data"


def test_a_commit_holds_one_active_version_even_with_force(repo: Repo) -> None:
    """The shared-commit rule: the hooks refuse a second active version on a commit,
    so no write creates one, --force or not (GTO fails on such repositories too)."""
    repo.ok("register", "churn")
    before = snapshot(repo)
    for force in ([], ["--force"]):
        result = repo.run("register", "churn", *force)
        assert result.code == 128
        assert "holds 2 active versions of churn (v0.0.1, v0.0.2)" in result.err
        assert "hint: deregister the other version first" in result.err
        assert snapshot(repo) == before
    repo.ok("deregister", "churn@v0.0.1")
    # A second version on the commit of a deregistered one: GTO 1.10.1 reads one version
    # per commit, so it takes --force (issue 19; tests/test_gto_interop.py runs GTO).
    before = snapshot(repo)
    result = repo.run("register", "churn")
    assert result.code == 128
    assert "churn@v0.0.2: GTO 1.10.1: commit" in result.err
    assert "already holds churn v0.0.1 (tag churn@v0.0.1, deregistered)" in result.err
    assert "hint: re-register v0.0.1 there instead" in result.err
    assert snapshot(repo) == before
    result = repo.run("register", "churn", "--force")
    assert result.code == 0, result.err
    assert "churn@v0.0.2" in repo.tags()
    assert "(--force: created anyway)" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["register", "Churn!"], "invalid artifact name 'Churn!': '!' not allowed"),
        (["register", "--", "-churn"], "invalid artifact name '-churn'"),
        (["register", "churn-"], "must start and end with a letter or digit"),
        (["register", "a:b:c"], "only one ':'"),
        (["register", "a/../b:c"], "the folder 'a/../b'"),
        (["register", "churn", "--version", "1.0.0"], "did you mean v1.0.0?"),
        (["register", "churn", "--version", "v1.0"], "did you mean v1.0.0?"),
        (["register", "churn", "--version", "v1.0.0+x.lock"], "Git would refuse"),
        (["register", "churn", "no-such-ref"], "'no-such-ref' does not name a commit"),
        (["promote", "churn", "Prod!"], "invalid stage 'Prod!'"),
        (["promote", "churn", "prod", "--version", "v01.0.0"], "no leading zeros"),
        (["promote", "churn@v9.9.9", "prod"], "has no version v9.9.9"),
        (["promote", "nosuch", "prod"], "unknown artifact 'nosuch'"),
        (["unassign", "churn", "prod"], "no version of churn is in stage 'prod'"),
        (["deregister", "churn@v5.0.0"], "churn has no version v5.0.0"),
        (["deprecate", "nosuch"], "unknown artifact 'nosuch'"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    repo: Repo, args: list[str], message: str
) -> None:
    """Bad input is fatal (128); naming something that does not exist is "not found",
    decided once for lookups and writes alike: exit 1 with ``error:``."""
    repo.ok("register", "churn")
    before = snapshot(repo)
    result = repo.run(*args)
    not_found = any(s in message for s in ("unknown artifact", "has no version", "no version of"))
    assert result.code == (1 if not_found else 128), result
    assert message in result.err
    assert result.err.startswith("error: " if not_found else "fatal: ")
    assert "Traceback" not in result.err
    assert result.out == ""
    assert snapshot(repo) == before


def test_existing_version_is_refused(repo: Repo) -> None:
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.commit()
    before = snapshot(repo)
    result = repo.run("register", "churn", "--version", "v1.0.0")
    assert result.code == 128
    assert "churn v1.0.0 is already registered" in result.err
    assert "hint: the next patch version is v1.0.1" in result.err
    assert snapshot(repo) == before


def test_deregistered_version_is_not_reused_elsewhere(repo: Repo) -> None:
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("deregister", "churn@v1.0.0")
    repo.commit()
    result = repo.run("register", "churn", "--version", "v1.0.0")
    assert result.code == 128
    assert "v1.0.0 of churn is already registered at commit" in result.err
    assert "hint: a version names one commit" in result.err


def test_reregister_deregistered_version_on_its_commit(repo: Repo) -> None:
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("deregister", "churn@v1.0.0")
    out = repo.ok("register", "churn", "--version", "v1.0.0")
    assert "Created tag churn@v1.0.0#1" in out
    assert repo.ok("latest", "churn") == "v1.0.0\n"


def test_two_bump_flags_is_a_usage_error(repo: Repo) -> None:
    before = snapshot(repo)
    result = repo.run("register", "churn", "--bump-major", "--bump-minor")
    assert result.code == 129
    assert "usage: git registry register" in result.err
    assert "not allowed with argument --bump-major" in result.err
    assert snapshot(repo) == before


def test_empty_repository(empty_repo: Repo) -> None:
    result = empty_repo.run("register", "churn")
    assert result.code == 128
    assert "'HEAD' does not name a commit" in result.err
    assert "no commits yet" in result.err
    assert empty_repo.git("for-each-ref") == ""


def test_outside_a_repository(tmp_path: Path) -> None:
    outside = tmp_path / "nowhere"
    outside.mkdir()
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    proc = subprocess.run(
        ["git-registry", "register", "churn"], cwd=outside, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 128
    assert proc.stderr.startswith("fatal: not a git repository")
    assert "Traceback" not in proc.stderr


def test_tag_that_git_would_reject_leaves_no_trace(repo: Repo) -> None:
    # A tag named like the folder that a namespaced tag needs: Git refuses the ref.
    repo.tag("models", lightweight=True)
    before = snapshot(repo)
    result = repo.run("register", "models/cv:seg")
    assert result.code == 128
    assert "cannot create tag 'models/cv=seg@v0.0.1'" in result.err
    assert snapshot(repo) == before
    repo.fsck()


def test_identity_follows_git(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    repo.git("config", "user.name", "Una User")
    repo.git("config", "user.email", "una@example.com")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "1710000000 +0130")
    repo.ok("register", "churn")
    assert tag_header(repo, "churn@v0.0.1")["tagger"] == (
        "Una User <una@example.com> 1710000000 +0130"
    )


def test_unknown_identity_is_fatal_with_advice(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    monkeypatch.setenv("EMAIL", "")
    repo.git("config", "user.useConfigOnly", "true")
    before = snapshot(repo)
    result = repo.run("register", "churn")
    assert result.code == 128
    assert "hint: tell Git who you are" in result.err
    assert snapshot(repo) == before


def test_gpgsign_does_not_hang_or_prompt(repo: Repo) -> None:
    repo.git("config", "tag.gpgSign", "true")
    repo.git("config", "gpg.program", "/bin/false")
    result = subprocess.run(
        ["git", "registry", "register", "churn"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
        env={**os.environ, "GIT_EDITOR": "/bin/false", "EDITOR": "/bin/false"},
    )
    # tag.gpgSign asks Git to sign; the signing program fails: a clear error, no tag.
    assert result.returncode != 0
    assert "sign" in result.stderr
    assert "churn@v0.0.1" not in repo.tags()


def test_events_of_one_second_are_ordered(repo: Repo) -> None:
    # The hermetic clock never moves: each new event still gets a later tagger time.
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.ok("deprecate", "churn")
    times = repo.git(
        "for-each-ref",
        "--sort=taggerdate",
        "--format=%(refname:strip=2) %(taggerdate:unix)",
        "refs/tags",
    ).split("\n")
    assert times[:3] == [
        "churn@v0.0.1 1700000000",
        "churn#prod#1 1700000001",
        "churn@deprecated 1700000002",
    ]
    assert "churn" not in repo.ok("show")


# -- promote ------------------------------------------------------------------------------


def test_promote_latest_by_default_and_counter(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.commit()
    repo.ok("register", "churn")
    out = repo.ok("promote", "churn", "prod")
    assert "Created tag churn#prod#1: assigns stage prod to churn v0.0.2" in out
    assert "    git push origin 'churn#prod#1'\n" in out
    assert tag_body(repo, "churn#prod#1") == (
        "Assigning stage prod to artifact churn version v0.0.2"
    )
    repo.ok("promote", "churn@v0.0.1", "staging")
    assert "churn#staging#2" in repo.tags()
    assert repo.tags()["churn#staging#2"] == repo.tags()["churn@v0.0.1"]


def test_promote_counter_counts_every_tag(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.tag("churn#dev#41", lightweight=True)  # lightweight tags count too (SPEC 2)
    repo.ok("promote", "churn", "prod")
    assert "churn#prod#42" in repo.tags()


def test_promote_simple_and_existing_simple(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod", "--simple")
    assert "churn#prod" in repo.tags()
    repo.ok("unassign", "churn", "prod")
    result = repo.run("promote", "churn", "prod", "--simple")
    assert result.code == 128
    assert "tag 'churn#prod' already exists" in result.err
    assert "hint: leave out --simple" in result.err


def test_promote_twice_needs_force_but_not_for_a_past_holder(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.commit()
    repo.ok("register", "churn")
    repo.ok("promote", "churn@v0.0.1", "prod")
    result = repo.run("promote", "churn@v0.0.1", "prod")
    assert result.code == 128 and "already holds stage 'prod'" in result.err
    repo.ok("promote", "churn@v0.0.2", "prod")
    # v0.0.1 still has an active assignment but no longer holds prod: GTO refuses this
    # ("already in stage", checked per version), we allow it (SPEC 3.4).
    repo.ok("promote", "churn@v0.0.1", "prod")
    assert repo.ok("which", "churn", "prod") == "v0.0.1\n"
    repo.ok("promote", "churn@v0.0.1", "prod", "--force")
    assert "churn#prod#4" in repo.tags()


def test_promote_ref_registers_first(repo: Repo) -> None:
    repo.ok("register", "churn")
    head = repo.commit()
    out = repo.ok("promote", "churn", "prod", "--ref", "HEAD")
    assert "Created tag churn@v0.0.2: registers churn v0.0.2" in out
    assert "Created tag churn#prod#1: assigns stage prod to churn v0.0.2" in out
    assert "    git push origin churn@v0.0.2 'churn#prod#1'\n" in out
    assert repo.tags()["churn@v0.0.2"] == head == repo.tags()["churn#prod#1"]
    # --ref on a registered commit promotes the version there.
    repo.ok("promote", "churn", "dev", "--ref", "HEAD~1")
    assert repo.ok("which", "churn", "dev") == "v0.0.1\n"


def test_promote_ref_with_version_names_the_new_version(repo: Repo) -> None:
    repo.ok("promote", "churn", "prod", "--ref", "HEAD", "--version", "v3.0.0")
    assert {"churn@v3.0.0", "churn#prod#1"} <= set(repo.tags())
    result = repo.run("promote", "churn", "dev", "--ref", "HEAD", "--version", "v4.0.0")
    assert result.code == 128 and "holds churn v3.0.0, not v4.0.0" in result.err


def test_promote_deregistered_version_is_refused(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("deregister", "churn@v0.0.1")
    result = repo.run("promote", "churn@v0.0.1", "prod")
    assert result.code == 128 and "churn v0.0.1 is deregistered" in result.err
    result = repo.run("promote", "churn", "prod")
    assert result.code == 128 and "has no active version to promote" in result.err


def test_assign_is_an_alias(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("assign", "churn", "prod")
    assert "churn#prod#1" in repo.tags()


# -- unassign, deregister, deprecate -----------------------------------------------------


def test_unassign_falls_back_and_message(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.commit()
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    out = repo.ok("unassign", "churn", "prod")
    assert "Created tag churn#prod!#3: unassigns stage prod from churn v0.0.2" in out
    assert tag_body(repo, "churn#prod!#3") == (
        "Unassigning stage 'prod' to artifact 'churn' version 'v0.0.2'"
    )
    assert repo.ok("which", "churn", "prod") == "v0.0.1\n"
    result = repo.run("unassign", "churn@v0.0.2", "prod")
    assert result.code == 128 and "churn v0.0.2 is not in stage 'prod'" in result.err


def test_unassign_delete(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.ok("promote", "churn", "dev")
    result = repo.run("unassign", "churn", "prod", "--delete")
    assert result.code == 0
    assert "Deleted tag churn#prod#1" in result.out
    # No remote to publish to: the deletion is local, and says so.
    assert result.err == (
        "note: --delete deletes the tag in this repository only; the published way to undo "
        "the event is a new tag: git registry unassign churn prod --push (the command without "
        "--delete)\n"
    )
    assert "git push" not in result.out
    assert set(repo.tags()) == {"churn@v0.0.1", "churn#dev#2"}


def test_deregister(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    out = repo.ok("deregister", "churn@v0.0.1")
    assert "Created tag churn@v0.0.1!: deregisters churn v0.0.1" in out
    assert tag_body(repo, "churn@v0.0.1!") == "Deregistering artifact churn version v0.0.1"
    assert repo.run("latest", "churn").code == 1
    assert repo.run("which", "churn", "prod").code == 1
    result = repo.run("deregister", "churn@v0.0.1")
    assert result.code == 128 and "already deregistered" in result.err
    result = repo.run("deregister", "churn")
    assert result.code == 129 and "which version of churn?" in result.err


def test_deregister_delete_removes_all_version_tags(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.commit()
    repo.ok("register", "churn")
    repo.ok("deregister", "churn", "--version", "v0.0.1", "--delete")
    assert set(repo.tags()) == {"churn@v0.0.2"}


def test_deprecate_and_reactivate(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.commit()
    repo.ok("register", "other")
    out = repo.ok("deprecate", "churn")
    assert "Created tag churn@deprecated: deprecates churn" in out
    assert tag_body(repo, "churn@deprecated") == "Deprecating artifact 'churn'"
    # The deprecation goes on the artifact's newest event's commit, not HEAD.
    assert repo.tags()["churn@deprecated"] == repo.tags()["churn@v0.0.1"]
    assert "churn" not in repo.ok("show")
    assert "churn" in repo.ok("show", "--all")
    result = repo.run("deprecate", "churn")
    assert result.code == 128 and "already deprecated" in result.err
    repo.ok("register", "churn", "--bump-major")
    assert "churn" in repo.ok("show")
    repo.ok("deprecate", "churn")
    assert "churn@deprecated#1" in repo.tags()


def test_deprecate_unknown_with_force_goes_on_head(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD").strip()
    repo.ok("deprecate", "ghost", "--force")
    assert repo.tags() == {"ghost@deprecated": head}


def test_deprecate_delete(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.ok("register", "keep", "--version", "v1.0.0")
    repo.ok("deprecate", "churn", "--delete")
    assert set(repo.tags()) == {"keep@v1.0.0"}


def test_delete_never_removes_a_moved_tag(repo: Repo) -> None:
    """A tag re-pointed behind our back after we read it is left alone."""
    from git_registry.plan import plan_deprecate_delete
    from git_registry.repo import Repository
    from git_registry.state import build_registry

    repo.ok("register", "churn")
    with Repository.discover(str(repo.path)) as handle:
        registry = build_registry(handle.read_tags(handle.tag_refs().items()))
        deletion = plan_deprecate_delete(registry, "churn")[0]
        repo.commit()
        repo.git("tag", "-f", "-a", "-m", "moved", "churn@v0.0.1")
        assert handle.delete_tag(deletion.name, deletion.oid) is False
    assert "churn@v0.0.1" in repo.tags()


def test_existing_tag_is_never_overwritten(repo: Repo) -> None:
    """A tag made by hand after we read the tags: add_if_new refuses to replace it."""
    from git_registry.gitvalues import ObjectId, Signature
    from git_registry.repo import Repository, TagExistsError

    head = ObjectId(repo.git("rev-parse", "HEAD").strip())
    repo.tag("churn@v0.0.1", message="made by hand")
    before = snapshot(repo)
    with Repository.discover(str(repo.path)) as handle, pytest.raises(TagExistsError):
        handle.create_tag("churn@v0.0.1", head, "ours", Signature("a", "b", 1, 0))
    assert snapshot(repo) == before
    assert tag_body(repo, "churn@v0.0.1").strip() == "made by hand"


# -- push ---------------------------------------------------------------------------------


def test_push_publishes_only_new_tags(repo: Repo, remote: Repo) -> None:
    repo.tag("unrelated", message="not ours")
    out = repo.ok("register", "churn", "--push")
    assert "Pushing to origin: churn@v0.0.1\nPushed churn@v0.0.1" in out
    assert set(remote.tags()) == {"churn@v0.0.1"}
    out = repo.ok("promote", "churn", "prod", "--push")
    assert set(remote.tags()) == {"churn@v0.0.1", "churn#prod#1"}
    assert remote.git("cat-file", "-t", "churn#prod#1").strip() == "tag"


def _publish_elsewhere(remote: Repo, tmp_path: Path, tag: str) -> None:
    """Someone else publishes ``tag`` for another commit."""
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(remote.path), str(other)], check=True)
    (other / "x.txt").write_text("other work\n")
    subprocess.run(["git", "add", "-A"], cwd=other, check=True)
    subprocess.run(["git", "commit", "-qm", "other"], cwd=other, check=True)
    subprocess.run(["git", "tag", "-a", "-m", "theirs", tag], cwd=other, check=True)
    subprocess.run(["git", "push", "-q", "origin", "main", tag], cwd=other, check=True)


def test_rejected_push_of_a_bumped_version_retries_with_the_next(
    repo: Repo, remote: Repo, tmp_path: Path
) -> None:
    _publish_elsewhere(remote, tmp_path, "churn@v0.0.1")
    result = repo.run("register", "churn", "--push")
    assert result.code == 0, result.err
    assert "Created tag churn@v0.0.1" in result.out
    assert "warning: churn@v0.0.1 was refused by 'origin'" in result.err
    assert "retrying as churn@v0.0.2" in result.err
    assert "Pushed churn@v0.0.2" in result.out
    assert tag_body(remote, "churn@v0.0.1").strip() == "theirs"  # never overwritten
    assert tag_body(repo, "churn@v0.0.1").strip() == "theirs"  # ours was dropped, theirs fetched
    assert (
        repo.tags()["churn@v0.0.2"]
        == remote.tags()["churn@v0.0.2"]
        == repo.git("rev-parse", "HEAD").strip()
    )


def test_rejected_push_of_an_explicit_version_fails_clearly(
    repo: Repo, remote: Repo, tmp_path: Path
) -> None:
    _publish_elsewhere(remote, tmp_path, "churn@v1.0.0")
    result = repo.run("register", "churn", "--version", "v1.0.0", "--push")
    assert result.code == 1
    assert "error: churn@v1.0.0 was refused by 'origin'" in result.err
    assert "v1.0.0 is already registered at commit" in result.err
    assert "your unpushed tag" in result.err
    assert tag_body(repo, "churn@v1.0.0").strip() == "theirs"
    assert tag_body(remote, "churn@v1.0.0").strip() == "theirs"


def test_push_to_a_remote_that_is_not_configured_creates_nothing(repo: Repo) -> None:
    repo.ok("register", "churn")
    for command in (
        ["register", "churn", "--push"],
        ["promote", "churn", "prod", "--push"],
        ["deregister", "churn@v0.0.1", "--push"],
        ["deregister", "churn@v0.0.1", "--delete", "--push"],
        ["annotate", "churn", "--path", "m.pt", "--commit", "--push"],
    ):
        before = snapshot(repo)
        result = repo.run(*command)
        assert result.code == 128, result.err
        done = "deleted" if "--delete" in command else "created"
        done = "changed" if "annotate" in command else done
        assert (
            f"fatal: remote 'origin' is not configured in this repository; nothing was {done}\n"
            "hint: add it: git remote add origin URL (or give a URL), or leave out --push\n"
        ) in result.err
        assert snapshot(repo) == before
        assert repo.git("status", "--porcelain") == ""


def test_push_to_an_unreachable_remote_keeps_the_tag(repo: Repo, tmp_path: Path) -> None:
    gone = tmp_path / "gone.git"
    repo.git("remote", "add", "origin", str(gone))
    result = repo.run("register", "churn", "--push")
    assert result.code == 1
    assert result.err == (
        f"error: could not push to remote 'origin' ({gone}): '{gone}' does not appear to be a "
        "git repository; churn@v0.0.1 kept in your local repository\n"
        "hint: check the remote and your access to it: git remote -v; git ls-remote origin; "
        "then retry with: git registry push origin\n"
    )
    assert "churn@v0.0.1" in repo.tags()


def test_registry_remote_config(repo: Repo, remote: Repo) -> None:
    repo.git("remote", "rename", "origin", "upstream")
    repo.git("config", "registry.remote", "upstream")
    out = repo.ok("register", "churn", "--push")
    assert "Pushing to upstream: churn@v0.0.1" in out
    assert set(remote.tags()) == {"churn@v0.0.1"}


def test_user_pre_push_hook_runs(repo: Repo, remote: Repo) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho 'policy says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = repo.run("register", "churn", "--push")
    assert result.code == 1
    assert "churn@v0.0.1" in repo.tags()
    assert remote.tags() == {}


def test_git_registry_runs_through_git(repo: Repo) -> None:
    assert shutil.which("git-registry"), "git-registry must be on PATH (pip install .)"
    result = repo.git_registry("register", "churn")
    assert result.code == 0, result.err
    assert "churn@v0.0.1" in repo.tags()


def test_a_write_of_two_tags_is_all_or_nothing(repo: Repo) -> None:
    """promote --ref registers and assigns in one ref transaction: when Git refuses the
    second tag, the first is not left behind."""
    repo.ok("register", "churn")
    new = repo.commit()
    # A folder named like the assignment tag: Git cannot create that ref.
    repo.git("update-ref", "refs/tags/churn#prod#1/x", new)
    before = snapshot(repo)
    result = repo.run("promote", "churn", "prod", "--ref", new)
    assert result.code == 128, result.err
    assert "fatal: cannot create tags 'churn@v0.0.2', 'churn#prod#1':" in result.err
    assert "hint: nothing was created" in result.err
    assert "Traceback" not in result.err
    assert snapshot(repo) == before
    repo.fsck()


def test_delete_is_all_or_nothing_and_says_why(repo: Repo) -> None:
    """With packed-refs.lock held by someone else, --delete fails with Git's reason,
    exits 128 and deletes nothing (it used to warn and exit 0)."""
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    before = snapshot(repo)
    lock = repo.path / ".git" / "packed-refs.lock"
    lock.write_text("")
    result = repo.run("deregister", "churn@v0.0.1", "--delete")
    assert result.code == 128, result.err
    assert "\nfatal: cannot delete tags 'churn@v0.0.1', 'churn#prod#1': " in result.err
    assert "packed-refs.lock" in result.err and "hint: nothing was deleted" in result.err
    assert "Deleted" not in result.out
    assert snapshot(repo) == before
    lock.unlink()
    repo.ok("deregister", "churn@v0.0.1", "--delete")
    assert not repo.tags()


def test_delete_of_a_tag_that_moved_deletes_nothing(repo: Repo) -> None:
    """A tag that moved since it was read is not deleted, and neither is any other."""
    from git_registry.errors import RegistryError
    from git_registry.gitvalues import ObjectId
    from git_registry.repo import Repository

    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    before = snapshot(repo)
    refs = {ref: oid for oid, ref in (ln.split() for ln in repo.git("show-ref").splitlines())}
    stale = ObjectId(refs["refs/tags/churn@v0.0.1"])  # not where churn#prod#1 points
    with Repository.discover(str(repo.path)) as opened, pytest.raises(RegistryError) as info:
        opened.delete_tags(
            [("churn@v0.0.1", stale), ("churn#prod#1", stale)]  # the second moved
        )
    assert info.value.message.startswith("cannot delete tags 'churn@v0.0.1', 'churn#prod#1': ")
    assert "expected" in info.value.message
    assert snapshot(repo) == before


def test_operands_after_options_and_values_that_start_with_a_dash(repo: Repo) -> None:
    """As Git reads a command line: REF may follow the options, and an option's value is
    the next word even if it starts with '-'."""
    first = repo.git("rev-parse", "HEAD").strip()
    repo.commit()
    repo.ok("register", "churn", "--version", "v1.0.0", first)
    assert tag_header(repo, "churn@v1.0.0")["object"] == first
    repo.ok("register", "churn", "-m", "-hotfix")
    assert tag_body(repo, "churn@v1.0.1") == "-hotfix"
    repo.ok("promote", "churn", "prod", "--message", "--push")
    assert tag_body(repo, "churn#prod#1") == "--push"
    assert "churn#prod#1" in repo.tags() and not repo.git("ls-remote", ".", "nothing")


def test_a_tag_name_too_long_for_git_says_so(repo: Repo) -> None:
    before = snapshot(repo)
    result = repo.run("register", "churn", "--version", "v1.0.0-" + "a" * 300)
    assert result.code == 128
    assert result.err.startswith("fatal: the tag name would be too long for Git: one part")
    assert "clashing" not in result.err
    assert snapshot(repo) == before


def test_rollback_says_who_holds_the_stage_now(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.commit()
    repo.ok("register", "churn", "--bump-minor")
    repo.ok("promote", "churn", "prod")
    out = repo.ok("rollback", "churn", "prod")  # an alias of unassign
    assert "Created tag churn#prod!#3: unassigns stage prod" in out
    assert out.splitlines()[-1] == "Now prod of churn is v0.0.1 (through churn#prod#1)"
    assert repo.ok("which", "churn", "prod").strip() == "v0.0.1"
    out = repo.ok("unassign", "churn", "prod")
    assert out.splitlines()[-1] == "Now prod of churn is empty (no version holds it)"
    assert repo.ok("help", "rollback") == repo.ok("help", "unassign")


def test_deregistering_a_holder_says_where_its_stages_fall_back(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.commit()
    repo.ok("register", "churn", "--bump-minor")
    repo.ok("promote", "churn", "prod")
    repo.ok("promote", "churn", "dev")
    out = repo.ok("deregister", "churn@v0.1.0")
    lines = out.splitlines()
    assert "Now prod of churn is v0.0.1 (through churn#prod#1)" in lines
    assert "Now dev of churn is empty (no version holds it)" in lines
    # A version that holds nothing: nothing to say; a dry run says nothing either.
    out = repo.ok("deregister", "churn@v0.0.1", "--dry-run")
    assert "Now " not in out


def test_demo_inside_a_work_tree_needs_a_folder(repo: Repo, tmp_path: Path) -> None:
    """Run in a repository, `demo` does not put its repository inside it unasked: it
    refuses and suggests a temporary folder; a folder named there is created (with a
    warning); outside any work tree the default folder is used."""
    before = repo.git("status", "--porcelain", "--untracked-files=all")
    sub = repo.path / "src"
    sub.mkdir()
    result = repo.run("demo", cwd=sub)
    assert result.code == 128 and result.out == ""
    assert result.err == (
        f"fatal: you are in the Git work tree {repo.path}: the demo would be created inside "
        "it, in registry-demo\n"
        'hint: create it outside, in a temporary folder: git registry demo "$(mktemp -d)" '
        "(or name the folder: git registry demo DIR)\n"
    )
    assert not (sub / "registry-demo").exists()
    assert repo.git("status", "--porcelain", "--untracked-files=all") == before
    # Named: created, and said where it is.
    result = repo.run("demo", "try")
    assert result.code == 0
    assert result.err == (
        f"warning: {repo.path / 'try'} is inside the Git work tree {repo.path}: its files will "
        "show up there as untracked\n"
    )
    assert (repo.path / "try" / ".git").is_dir()
    # Outside any work tree: ./registry-demo, no warning.
    outside = tmp_path / "outside"
    outside.mkdir()
    result = repo.run("demo", cwd=outside)
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith(f"Created a demo registry in {outside / 'registry-demo'}:\n")
