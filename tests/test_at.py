"""``git registry at REV [--contains]`` (issue 17 part 3, GTO #312): the versions on a
commit, or whose commits contain it, with real repositories."""

from __future__ import annotations

import json

import pytest

from git_registry import gitbin

from conftest import Repo, count_calls, make_registry


def commit_of(repo: Repo, rev: str) -> str:
    return repo.git("rev-parse", "--verify", f"{rev}^{{commit}}").strip()


@pytest.fixture
def history(repo: Repo) -> Repo:
    """main: c1 (churn v1.0.0, seg v0.1.0 both registered) - c2 (churn v1.1.0, prod)
    - c3 (no version) - c4 (seg v0.2.0); a side branch from c1 with churn v2.0.0."""
    make_registry(repo, "commit churn@v1.0.0 seg@v0.1.0 churn#staging#1")
    repo.git("branch", "side")
    make_registry(repo, "commit churn@v1.1.0 churn#prod#2 commit commit seg@v0.2.0")
    repo.git("checkout", "-q", "side")
    make_registry(repo, "commit churn@v2.0.0")
    repo.git("checkout", "-q", "main")
    return repo


def test_at_lists_the_versions_on_a_commit_with_their_stages(history: Repo) -> None:
    c1 = commit_of(history, "churn@v1.0.0")
    out = history.ok("at", "churn@v1.0.0")
    assert out == (
        "artifact  version  status  stages   commit   tag\n"
        f"churn     v1.0.0   active  staging  {c1[:7]}  churn@v1.0.0\n"
        f"seg       v0.1.0   active  -        {c1[:7]}  seg@v0.1.0\n"
    )
    # Any revision Git names: an object id, a short one, a branch, a stage tag.
    for rev in (c1, c1[:10], "main~3", "churn#staging#1"):
        assert history.ok("at", rev) == out, rev


def test_at_json(history: Repo) -> None:
    c2 = commit_of(history, "churn@v1.1.0")
    doc = json.loads(history.ok("at", "main~2", "--json"))
    assert (doc["rev"], doc["commit"], doc["contains"]) == ("main~2", c2, False)
    [version] = doc["versions"]
    assert version["artifact"] == "churn" and version["version"] == "v1.1.0"
    assert version["stages"] == ["prod"] and version["tag"] == "churn@v1.1.0"
    assert version["active"] is True and version["deprecated"] is False
    assert version["commit"] == c2


def test_no_version_on_the_commit_is_exit_1(history: Repo) -> None:
    c3 = commit_of(history, "main~1")
    result = history.run("at", "main~1")
    assert result.code == 1 and result.out == ""
    assert result.err == (
        f"error: no version is registered on commit {c3[:7]} (main~1)\n"
        "hint: which versions include it: git registry at 'main~1' --contains\n"
    )
    result = history.run("at", "main~1", "--json")
    assert result.code == 1
    assert json.loads(result.out) == {
        "rev": "main~1",
        "commit": c3,
        "contains": False,
        "versions": [],
    }
    assert result.err == f"error: no version is registered on commit {c3[:7]} (main~1)\n"


def test_deregistered_and_deprecated_versions_are_marked(history: Repo) -> None:
    history.ok("deregister", "churn@v1.0.0")
    history.ok("deprecate", "seg")
    out = history.ok("at", "churn@v1.0.0")
    assert "churn     v1.0.0   deregistered  -" in out
    assert "seg       v0.1.0   deprecated    -" in out


def test_contains_lists_the_versions_that_include_a_commit(history: Repo) -> None:
    out = history.ok("at", "main~1", "--contains")  # c3: only seg v0.2.0 (c4) contains it
    assert out.splitlines()[1:] == [
        f"seg       v0.2.0   active  -       {commit_of(history, 'main')[:7]}  seg@v0.2.0"
    ]
    # c1 is in every version's history, the side branch's too; REV's own versions count.
    doc = json.loads(history.ok("at", "churn@v1.0.0", "--contains", "--json"))
    found = [(v["artifact"], v["version"]) for v in doc["versions"]]
    assert found == [
        ("churn", "v1.0.0"),
        ("churn", "v1.1.0"),
        ("churn", "v2.0.0"),
        ("seg", "v0.1.0"),
        ("seg", "v0.2.0"),
    ]
    assert doc["contains"] is True
    # A commit only on the side branch: main's versions do not contain it.
    doc = json.loads(history.ok("at", "side", "--contains", "--json"))
    assert [(v["artifact"], v["version"]) for v in doc["versions"]] == [("churn", "v2.0.0")]


def test_contains_of_a_commit_no_version_includes(history: Repo) -> None:
    history.commit("later")
    history.tag("release-1")  # a tag, but no registry version on it
    head = commit_of(history, "HEAD")
    result = history.run("at", "HEAD", "--contains")
    assert result.code == 1
    assert result.err.startswith(f"error: no version's commit contains commit {head[:7]} (HEAD)\n")


def test_contains_is_one_git_walk_however_many_versions(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = " ".join(f"commit a{i}@v1.0.0 b{i}@v1.0.0" for i in range(15))
    make_registry(repo, spec)
    root = repo.git("rev-list", "--max-parents=0", "HEAD").strip()
    walks = count_calls(monkeypatch, gitbin, "commits_containing")
    ancestors = count_calls(monkeypatch, gitbin, "is_ancestor")
    doc = json.loads(repo.ok("at", root, "--contains", "--json"))
    assert len(doc["versions"]) == 30
    assert (len(walks), len(ancestors)) == (1, 0)


def test_an_option_like_rev_is_never_an_option(
    history: Repo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("o") / "x"
    for rev in (f"--output={out}", "--upload-pack=touch x", "-h"):
        result = history.run("at", "--", rev)
        assert result.code == 128, (rev, result)
        assert f"'{rev}' does not name a commit" in result.err
        result = history.run("at", "--contains", "--", rev)
        assert result.code == 128
    assert not out.exists()
    assert not (history.path / "x").exists()
    # Without '--' the command line reads it as an option: a usage error.
    assert history.run("at", f"--output={out}").code == 129


def test_an_unknown_or_hostile_rev_is_fatal_and_escaped(history: Repo) -> None:
    result = history.run("at", "nosuch")
    assert (result.code, result.out) == (128, "")
    assert result.err == "fatal: 'nosuch' does not name a commit\n"
    result = history.run("at", "\x1b[31mred\nfake")
    assert result.code == 128
    assert "\x1b" not in result.err and "\\x1b[31mred" in result.err
    assert result.err.count("\n") == 1


def test_at_in_a_repository_without_commits(empty_repo: Repo) -> None:
    result = empty_repo.run("at", "HEAD")
    assert result.code == 128
    assert "fatal: 'HEAD' does not name a commit" in result.err
    assert "no commits yet" in result.err
