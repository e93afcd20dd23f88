"""The Git layer (issue 13): the caller's environment reaches every ``git``, boolean
config is read as Git reads it, Git's output is read in one place, and a repository
whose refs are not in files is never read as an empty registry."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from git_registry import gitbin, gitobjects, transport
from git_registry.errors import GitError, RegistryError
from git_registry.gitvalues import ObjectId, Signature
from git_registry.repo import NewTagObject, Repository
from git_registry.tagobject import format_ident, parse_ident

from conftest import Repo, git

# -- boolean config ------------------------------------------------------------------------

VALUES = [
    "true", "TRUE", "yes", "On", "1", "2", "-1", "0x10", "010", "1k", " 1", "3m",
    "false", "No", "OFF", "0", "", "0x0", "0k",
    "x", "0x", "08", "3g", "1 ", "truee", "k", "-", "99999999999",
]  # fmt: skip


def _git_bool(value: str | None) -> bool | str:
    """What ``git config --type=bool`` says of ``value`` (None: a key without '=')."""
    setting = "k.v" if value is None else f"k.v={value}"
    proc = subprocess.run(
        ["git", "-c", setting, "config", "--type=bool", "k.v"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return proc.stderr.strip().removeprefix("fatal: ")
    return proc.stdout.strip() == "true"


@pytest.mark.parametrize("value", [*VALUES, None])
def test_parse_bool_agrees_with_git(value: str | None) -> None:
    expected = _git_bool(value)
    try:
        got: bool | str = gitbin.parse_bool(value, "k.v")
    except RegistryError as exc:
        got = exc.message
    assert got == expected


def test_config_bool_invalid_value_is_gits_error() -> None:
    with pytest.raises(RegistryError) as caught:
        gitbin.config_bool({"registry.cache": "maybe"}, "registry.cache", True)
    assert caught.value.message == "bad boolean config value 'maybe' for 'registry.cache'"


def test_config_bool_default_and_implicit_true(repo: Repo) -> None:
    assert gitbin.config_bool({}, "registry.cache", True) is True
    assert gitbin.config_bool({}, "registry.cache", False) is False
    with open(repo.path / ".git" / "config", "a", encoding="utf-8") as f:
        f.write("[registry]\n\tcache\n\tallowDelete =\n")
    config = gitbin.config_values(r"^registry\.", cwd=str(repo.path))
    assert config["registry.cache"] == ""  # as before: a str for every key
    assert gitbin.config_bool(config, "registry.cache", False) is True  # Git: implicit true
    assert gitbin.config_bool(config, "registry.allowdelete", True) is False  # empty: false


# -- the environment is passed down ------------------------------------------------------------


def test_discover_carries_env_to_the_tagger(repo: Repo) -> None:
    env = {**os.environ, "GIT_COMMITTER_NAME": "Env Only", "GIT_COMMITTER_EMAIL": "env@x.org"}
    with Repository.discover(str(repo.path), env=env) as opened:
        who = opened.committer()
        head = opened.head()
        assert head is not None
        opened.create_tag("churn@v1.0.0", head, "", who)
    assert who.name == "Env Only"
    shown = repo.git("cat-file", "-p", "churn@v1.0.0")
    assert "tagger Env Only <env@x.org> 1700000000 +0000" in shown
    assert os.environ["GIT_COMMITTER_NAME"] == "Cy Committer"  # the process's was not used


def test_env_reaches_config_and_discovery(repo: Repo, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "registry.remote",
        "GIT_CONFIG_VALUE_0": "upstream",
    }
    assert gitbin.config_values(r"^registry\.", cwd=str(repo.path), env=env) == {
        "registry.remote": "upstream"
    }
    assert gitbin.config_values(r"^registry\.", cwd=str(repo.path)) == {}
    # GIT_DIR in the given environment, not the process's, decides the repository.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    paths = gitbin.discover(str(elsewhere), env={**os.environ, "GIT_DIR": str(repo.path / ".git")})
    assert paths.git_dir == str(repo.path / ".git")
    with pytest.raises(GitError):
        gitbin.discover(str(elsewhere))


def test_cat_file_gets_the_env(repo: Repo, tmp_path: Path) -> None:
    """Objects are looked up where the environment says (GIT_OBJECT_DIRECTORY, as in a
    server hook's quarantine)."""
    other = Repo(tmp_path / "other")
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=other.path,
        input="only there\n",
        capture_output=True,
        text=True,
        check=True,
    )
    blob = proc.stdout.strip()
    alternates = {
        **os.environ,
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(other.path / ".git/objects"),
    }
    with Repository.discover(str(repo.path)) as plain:
        assert plain.blob(ObjectId(blob)) is None
    with Repository.discover(str(repo.path), env=alternates) as seeing:
        assert seeing.blob(ObjectId(blob)) == b"only there\n"
    assert gitobjects.object_types(str(repo.path / ".git"), [blob], env=alternates) == ["blob"]


# -- HEAD, shallow clones ------------------------------------------------------------------


def test_head_is_resolved_once(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = gitbin.run_git

    def counting(args: list[str], **kwargs: object) -> gitbin.GitResult:
        calls.extend(a for a in args if "HEAD" in a)
        return real(args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gitbin, "run_git", counting)
    repo.ok("register", "churn")
    calls.clear()
    repo.ok("show")
    assert len(calls) == 1, calls


def _layouts(repo: Repo, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(what, cwd, env) of every way of being in a repository that discovery handles."""
    env = dict(os.environ)
    (repo.path / "sub").mkdir()
    yield "top", str(repo.path), env
    yield "folder", str(repo.path / "sub"), env
    yield "inside .git", str(repo.path / ".git"), env
    yield "GIT_DIR", str(tmp_path), {**env, "GIT_DIR": str(repo.path / ".git")}
    both = {"GIT_DIR": str(repo.path / ".git"), "GIT_WORK_TREE": str(repo.path)}
    yield "GIT_DIR and GIT_WORK_TREE, outside it", str(tmp_path), {**env, **both}
    yield "GIT_DIR and GIT_WORK_TREE, inside it", str(repo.path / "sub"), {**env, **both}
    git(tmp_path, "clone", "-q", "--bare", str(repo.path), "bare.git")
    yield "bare", str(tmp_path / "bare.git"), env
    yield "GIT_DIR bare", str(tmp_path), {**env, "GIT_DIR": str(tmp_path / "bare.git")}
    repo.git("worktree", "add", "-q", "--detach", str(tmp_path / "wt"), "HEAD~1")
    yield "worktree (detached)", str(tmp_path / "wt"), env
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    yield "detached", str(repo.path), env
    repo.git("symbolic-ref", "HEAD", "refs/heads/unborn")
    yield "unborn branch", str(repo.path), env
    yield "unborn, in a folder", str(repo.path / "sub"), env
    git(tmp_path / "bare.git", "symbolic-ref", "HEAD", "refs/heads/unborn")
    yield "unborn, bare", str(tmp_path / "bare.git"), env
    yield "empty repository", str(Repo(tmp_path / "empty").path), env


def test_discovery_resolves_head_as_head_itself_does(repo: Repo, tmp_path: Path) -> None:
    """HEAD read by the discovery process is what ``git rev-parse HEAD^{commit}`` says
    there, and what a repository opened by its paths (not discovered) resolves."""
    repo.commit()
    seen = set()
    for what, cwd, env in _layouts(repo, tmp_path):
        paths, head = gitbin.discover_at_head(cwd, env=env)
        assert paths == gitbin.discover(cwd, env=env), what
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD^{commit}"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert head == (proc.stdout.strip() or None), what
        with Repository(paths, env=env) as opened:
            assert opened.head() == head, what
        with Repository.discover(cwd, env=env) as opened:
            assert opened.paths == paths and opened.head() == head, what
        seen.add(head)
    assert None in seen and len(seen) == 3  # HEAD, HEAD~1 and none


def test_discovery_outside_a_repository_fails_as_before(tmp_path: Path) -> None:
    with pytest.raises(GitError) as found:
        gitbin.discover_at_head(str(tmp_path))
    with pytest.raises(GitError) as before:
        gitbin.discover(str(tmp_path))
    assert str(found.value) == str(before.value)
    assert "not a git repository" in str(found.value)


def test_a_discovered_head_costs_no_process(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    first = repo.git("rev-parse", "HEAD").strip()
    opened = Repository.discover(str(repo.path))

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("HEAD resolved again")

    with monkeypatch.context() as patch:
        patch.setattr(gitbin, "resolve_commit", refused)
        assert opened.head() == first
    second = repo.commit()
    assert opened.head() == first  # resolved once
    opened.forget_head()
    assert opened.head() == second
    opened.close()


def test_is_shallow(repo: Repo, tmp_path: Path) -> None:
    repo.commit()
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{repo.path}", str(shallow))
    with Repository.discover(str(shallow)) as opened:
        assert opened.is_shallow()
    with Repository.discover(str(repo.path)) as opened:
        assert not opened.is_shallow()


# -- reftable --------------------------------------------------------------------------------


def test_reftable_is_never_an_empty_registry(repo: Repo) -> None:
    """A repository whose refs Git keeps in reftable (Git 2.45+) has no loose or packed
    tag refs: reading those files would show an empty registry. We ask Git instead,
    which reads the tags or fails with its own reason (Git 2.39 knows no reftable)."""
    repo.ok("register", "churn")
    repo.git("pack-refs", "--all")
    git_dir = repo.path / ".git"
    # The tags now live "elsewhere", as in a reftable repository.
    os.rename(git_dir / "packed-refs", git_dir / "reftable-stand-in")
    repo.git("config", "core.repositoryformatversion", "1")
    repo.git("config", "extensions.refStorage", "reftable")
    paths = gitbin.RepoPaths(str(git_dir), str(git_dir), str(repo.path), bare=False)
    with Repository(paths) as opened:
        try:
            refs = opened.tag_refs()
        except GitError as exc:
            assert "refstorage" in exc.message.lower(), exc.message
        else:  # a Git that reads reftable
            assert "churn@v0.0.1" in refs
    result = repo.run("show")
    assert result.code != 0 and "refstorage" in result.err.lower(), result
    assert "churn" not in result.out


def test_ref_files_read_directly_when_refstorage_is_files(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.git("config", "extensions.refStorage", "files")  # version 0: Git ignores it
    with Repository.discover(str(repo.path)) as opened:
        assert list(opened.tag_refs()) == ["churn@v0.0.1"]
        assert opened._uses_ref_files()


# -- Git's output, read once -------------------------------------------------------------------


def test_git_reason() -> None:
    said = gitbin.GitResult(1, "", "hint: x\nerror: first\nfatal: second\n")
    assert gitbin.git_reason(said) == "first"
    assert gitbin.git_reason(gitbin.GitResult(1, "", "\n  plain line\nmore\n")) == "plain line"
    assert gitbin.git_reason(gitbin.GitResult(3, "", ""), "push") == "git push exited with 3"
    listed = "The following paths are ignored:\na.tmp\nb.tmp\nhint: Use -f\nhint: more\n"
    assert gitbin.git_reason(gitbin.GitResult(1, "", listed)) == (
        "The following paths are ignored: a.tmp, b.tmp"
    )


def test_pushed_refs() -> None:
    out = (
        "To ../remote.git\n"
        "!\trefs/tags/a@v1:refs/tags/a@v1\t[rejected] (already exists)\n"
        "*\trefs/tags/b@v1:refs/tags/b@v1\t[new tag]\n"
        "-\t:refs/tags/c@v1\t[deleted]\n"
        "Done\n"
    )
    refs = transport.pushed_refs(gitbin.GitResult(1, out, ""))
    assert [(r.flag, r.source, r.ref, r.rejected) for r in refs] == [
        ("!", "refs/tags/a@v1", "refs/tags/a@v1", True),
        ("*", "refs/tags/b@v1", "refs/tags/b@v1", False),
        ("-", "", "refs/tags/c@v1", False),
    ]
    assert refs[0].summary == "[rejected] (already exists)"


def test_push_rejection_is_read_from_porcelain(repo: Repo, remote: Repo) -> None:
    from git_registry.remote import push_tag

    repo.ok("register", "churn")
    assert push_tag("origin", "churn@v0.0.1", str(repo.path)).ok
    repo.git("tag", "-d", "churn@v0.0.1")
    repo.tag("churn@v0.0.1", message="another")
    outcome = push_tag("origin", "churn@v0.0.1", str(repo.path))
    assert not outcome.ok and outcome.retryable
    assert outcome.reason == "[rejected] (already exists)"


# -- identity lines --------------------------------------------------------------------------


@pytest.mark.parametrize("zone", [0, 90, -150, 14 * 60])
def test_ident_round_trip(zone: int) -> None:
    who = Signature("A U Thor", "a@example.com", 1700000000, zone)
    line = format_ident(who)
    assert parse_ident(line.encode()) == who
    assert parse_ident(b"no email 12 +0000") is None


def test_mktag_uses_the_ident_format(repo: Repo) -> None:
    who = Signature("Zed", "z@example.com", 1700000001, -90)
    with Repository.discover(str(repo.path)) as opened:
        head = opened.head()
        assert head is not None
        opened.create_tags([NewTagObject("churn@v1.0.0", head, "m", who)])
    assert "tagger Zed <z@example.com> 1700000001 -0130" in repo.git(
        "cat-file", "-p", "churn@v1.0.0"
    )


# -- files written whole ---------------------------------------------------------------------


def test_write_atomic(tmp_path: Path) -> None:
    from git_registry.fsio import write_atomic

    (tmp_path / "d").mkdir()
    path = tmp_path / "d" / "f"
    write_atomic(str(path), [b"a", b"b"], mode=0o640, fsync=True)
    assert path.read_bytes() == b"ab" and path.stat().st_mode & 0o777 == 0o640

    def broken() -> Iterator[bytes]:
        yield b"half"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(str(path), broken())
    assert path.read_bytes() == b"ab"  # the old file, and no temporary file left
    assert [p.name for p in path.parent.iterdir()] == ["f"]


# -- config through the environment ------------------------------------------------------------


@pytest.mark.core
def test_with_config_numbers_after_the_entries_there_and_comes_last() -> None:
    env = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "a.b",
        "GIT_CONFIG_VALUE_0": "1",
        "GIT_CONFIG_PARAMETERS": "'x.y'='z'",
    }
    assert gitbin.with_config(env, [("k.v", "it's!")]) == {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "a.b",
        "GIT_CONFIG_VALUE_0": "1",
        "GIT_CONFIG_KEY_1": "k.v",
        "GIT_CONFIG_VALUE_1": "it's!",
        "GIT_CONFIG_PARAMETERS": "'x.y'='z' 'k.v'='it'\\''s'\\!''",
    }
    assert "GIT_CONFIG_PARAMETERS" not in gitbin.with_config({}, [("k.v", "1")])


def test_git_reads_with_config_as_given(repo: Repo) -> None:
    env = {**os.environ, "GIT_CONFIG_PARAMETERS": "'k.v'='user'"}
    odd = '-x it\'s!\\ "q" $HOME'
    env = gitbin.with_config(env, [("k.v", odd), ("k.w", "2")])
    assert gitbin.config_entries(r"^k\.", str(repo.path), env=env) == [
        ("k.v", odd),
        ("k.w", "2"),
        ("k.v", "user"),
        ("k.v", odd),
        ("k.w", "2"),
    ]
    assert gitbin.config_values(r"^k\.", str(repo.path), env=env) == {"k.v": odd, "k.w": "2"}
