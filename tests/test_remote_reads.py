"""Reading remotes: concurrent ``--remote`` reads of one cache, relative remote URLs,
Git's own error messages, several remotes addressed as ``LABEL:NAME``, and ``fetch``
reporting the tags Git would not store. Real repositories and real bare remotes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from git_registry import remote as remote_module

from conftest import Repo, git

CACHE = Path("home") / ".cache" / "git-registry" / "remotes"


def clone(remote: Repo, path: Path) -> Repo:
    git(remote.path.parent, "clone", "-q", str(remote.path), str(path))
    r = Repo.__new__(Repo)
    r.path = path
    r._n = 100
    return r


def registry(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``git registry ARGS`` in ``cwd`` as a user would."""
    return subprocess.Popen(
        ["git", "registry", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def fatal_and_hint(err: str) -> tuple[str, str]:
    """The whole of stderr is a ``fatal:`` line and a ``hint:`` line (no traceback, no
    advice from Git)."""
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("fatal: "), err
    assert lines[1].startswith("hint: "), err
    return lines[0], lines[1]


def one_fatal_line(err: str) -> str:
    """The whole of stderr is one ``fatal:`` line (no traceback, no advice from Git)."""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fatal: "), err
    return lines[0]


@pytest.fixture
def published(repo: Repo, remote: Repo) -> Repo:
    """churn v0.0.1 in prod, on the remote ``origin``."""
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.git("push", "-q", "origin", "main", "--tags")
    return repo


# -- 1. several reads of one remote at once ----------------------------------------------


@pytest.mark.slow
def test_four_reads_of_one_remote_at_once_all_succeed(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    """Each round starts without a cache (all four create it at once); the last round
    updates an existing cache with new tags (all four fetch them at once)."""
    reader = clone(remote, tmp_path / "reader")
    cache = tmp_path / CACHE
    rounds = 6
    for n in range(rounds):
        if n < rounds - 1:
            shutil.rmtree(cache, ignore_errors=True)
        else:
            published.commit()
            published.ok("register", "churn", "--bump-minor")
            published.ok("promote", "churn", "staging")
            published.git("push", "-q", "origin", "main", "--tags")
        procs = [registry(reader.path, "show", "--remote", "origin") for _ in range(4)]
        results = [finish(p) for p in procs]
        for code, out, err in results:
            assert (code, err) == (0, ""), f"round {n}: exit {code}\n{err}"
            assert out == results[0][1]
    assert "v0.1.0" in results[0][1] and "staging" in results[0][1]
    # One cache and its lock; no temporary folder left behind.
    names = sorted(p.suffix for p in cache.iterdir())
    assert names == [".git", ".lock"]


def test_a_held_cache_lock_is_waited_for_then_one_fatal_line(
    published: Repo, tmp_path: Path
) -> None:
    import fcntl

    assert published.run("show", "--remote", "origin").code == 0
    (lock,) = (tmp_path / CACHE).glob("*.lock")
    published.git("config", "registry.lockTimeout", "0")
    with open(lock, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = published.run("which", "churn", "prod", "--remote", "origin")
    assert result.code == 128
    line = one_fatal_line(result.err.split("\nhint: ")[0])
    assert line == (
        "fatal: another git registry command is updating the cache of remote 'origin': "
        "gave up waiting after 0 s"
    )
    assert "registry.lockTimeout" in result.err
    # Released (the holder ended): the next read goes through.
    assert published.ok("which", "churn", "prod", "--remote", "origin") == "v0.0.1\n"


def test_a_bad_lock_timeout_is_refused(published: Repo) -> None:
    published.git("config", "registry.lockTimeout", "soon")
    result = published.run("show", "--remote", "origin")
    assert result.code == 128
    assert result.err.startswith("fatal: bad registry.lockTimeout value 'soon'")


def test_a_cache_is_created_whole_or_not_at_all(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    """A remote whose tag cannot be fetched leaves no cache (so no later read sees a
    half-filled one); a temporary folder left by a killed command is removed."""
    (remote.path / "refs" / "tags" / "churn@v9.9.9").write_text("1" * 40 + "\n")
    result = published.run("show", "--remote", "origin")
    assert result.code == 128
    line, hint = fatal_and_hint(result.err)
    assert line.startswith(f"fatal: could not read from remote 'origin' ({remote.path}): ")
    assert hint == (
        "hint: check the remote and your access to it: git remote -v; git ls-remote origin"
    )
    assert "1111111111" in line  # Git's own words about the object it could not get
    cache = tmp_path / CACHE
    assert not list(cache.glob("*.git")) and not list(cache.glob("*.tmp-*"))

    (remote.path / "refs" / "tags" / "churn@v9.9.9").unlink()
    (lock,) = cache.glob("*.lock")
    leftover = cache / (lock.stem + ".tmp-killed")
    (leftover / "objects").mkdir(parents=True)
    assert published.ok("latest", "churn", "--remote", "origin") == "v0.0.1\n"
    assert not leftover.exists()
    assert [p.suffix for p in cache.glob(lock.stem + ".*")] in (
        [".git", ".lock"],
        [".lock", ".git"],
    )


def test_an_unwritable_cache_folder_is_one_fatal_line(published: Repo, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("")
    env = {"XDG_CACHE_HOME": str(not_a_folder)}
    code, _out, err = finish(registry(published.path, "show", "--remote", "origin", env=env))
    assert code == 128
    assert err.startswith("fatal: cannot write the cache of remote registries: ")
    assert "Traceback" not in err


# -- 2. relative URLs, resolved as Git resolves them ---------------------------------------


def test_a_remote_with_a_relative_url(published: Repo, remote: Repo, tmp_path: Path) -> None:
    reader = Repo(tmp_path / "reader")
    reader.git("remote", "add", "rel", "../remote.git")
    (reader.path / "sub" / "deep").mkdir(parents=True)
    # Git resolves it from the top of the work tree, wherever it runs.
    assert reader.git("ls-remote", "rel", "refs/tags/churn@v0.0.1")
    for where in (reader.path, reader.path / "sub" / "deep"):
        assert reader.run("which", "churn", "prod", "--remote", "rel", cwd=where).out == "v0.0.1\n"
        assert reader.run("latest", "churn", "--remote", "../remote.git", cwd=where).code == 0
    assert "churn" in reader.git_registry("show", "--remote", "rel").out


def test_relative_urls_of_different_repositories_do_not_share_a_cache(
    published: Repo, tmp_path: Path
) -> None:
    """Two readers whose remote is '../srv.git' read two different servers."""
    other = Repo(tmp_path / "other" / "work")
    other.commit()
    other.ok("register", "segment", "--bump-major")
    git(tmp_path, "clone", "-q", "--bare", str(other.path), str(tmp_path / "other" / "srv.git"))
    git(tmp_path, "clone", "-q", "--bare", str(published.path), str(tmp_path / "srv.git"))
    first = Repo(tmp_path / "first")
    second = Repo(tmp_path / "other" / "second")
    for reader in (first, second):
        reader.git("remote", "add", "up", "../srv.git")
    assert first.ok("latest", "churn", "--remote", "up") == "v0.0.1\n"
    assert second.ok("latest", "segment", "--remote", "up") == "v1.0.0\n"
    assert second.run("latest", "churn", "--remote", "up").code == 1


def test_a_bare_repository_resolves_relative_urls_as_git_does(
    published: Repo, tmp_path: Path
) -> None:
    """In a bare repository Git resolves them from where it runs, not from the top."""
    bare = Repo(tmp_path / "mirror.git", bare=True)
    bare.git("remote", "add", "rel", "../remote.git")
    assert bare.git("ls-remote", "rel", "refs/tags/churn@v0.0.1")
    assert bare.ok("latest", "churn", "--remote", "rel") == "v0.0.1\n"
    refs = bare.path / "refs"
    assert git(refs, "ls-remote", "rel", check=False) == ""  # Git finds nothing there
    result = bare.run("latest", "churn", "--remote", "rel", cwd=refs)
    assert result.code == 128
    assert fatal_and_hint(result.err)[0] == (
        "fatal: could not read from remote 'rel' (../remote.git): '../remote.git' does not "
        "appear to be a git repository"
    )


# -- 3. errors: the remote's name and Git's first line ---------------------------------------


def test_an_unknown_remote_is_said_to_be_not_configured(repo: Repo, tmp_path: Path) -> None:
    for args in (["show"], ["which", "churn", "prod"], ["latest", "churn"], ["history"]):
        result = repo.run(*args, "--remote", "nosuch")
        assert result.code == 128
        assert fatal_and_hint(result.err) == (
            "fatal: remote 'nosuch' is not configured in this repository",
            "hint: add it: git remote add nosuch URL (or give a URL)",
        )
    repo.git("remote", "add", "up", str(tmp_path / "up.git"))
    result = repo.run("policy", "--remote", "nosuch")
    assert result.code == 128
    assert fatal_and_hint(result.err)[0] == (
        "fatal: remote 'nosuch' is not configured in this repository (configured: up)"
    )
    # A word Git reads as a path or a URL is not a remote's name: Git's reason.
    for word in ("./nosuch", "nosuch.example:repo.git"):
        result = repo.run("show", "--remote", word)
        assert result.code == 128
        assert fatal_and_hint(result.err)[0].startswith(
            f"fatal: could not read from remote '{word}': "
        )


def test_an_unknown_remote_outside_any_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    code, _out, err = finish(registry(outside, "show", "--remote", "nosuch"))
    assert code == 128
    assert fatal_and_hint(err) == (
        "fatal: remote 'nosuch' is not configured: not in a Git repository",
        "hint: give the remote's URL, or run this in a clone that has the remote",
    )


def test_unreachable_configured_remote_names_it(repo: Repo, tmp_path: Path) -> None:
    repo.git("remote", "add", "gone", str(tmp_path / "gone.git"))
    code, _out, err = finish(registry(repo.path, "latest", "churn", "--remote", "gone"))
    assert code == 128
    gone = tmp_path / "gone.git"
    assert fatal_and_hint(err) == (
        f"fatal: could not read from remote 'gone' ({gone}): '{gone}' does not appear to be "
        "a git repository",
        "hint: check the remote and your access to it: git remote -v; git ls-remote gone",
    )


def test_fetch_and_push_name_an_unreadable_remote_too(repo: Repo, tmp_path: Path) -> None:
    for command in ("fetch", "push"):
        result = repo.run(command)  # origin: registry.remote's default, not configured
        assert result.code == 128
        assert fatal_and_hint(result.err) == (
            "fatal: remote 'origin' is not configured in this repository",
            "hint: add it: git remote add origin URL (or give a URL)",
        )
    gone = tmp_path / "gone.git"
    repo.git("remote", "add", "origin", str(gone))
    for command in ("fetch", "push"):
        result = repo.run(command)
        assert result.code == 128
        assert fatal_and_hint(result.err)[0] == (
            f"fatal: could not read from remote 'origin' ({gone}): '{gone}' does not appear "
            "to be a git repository"
        )


# -- 4. several remotes: every name show prints works everywhere ------------------------------


@pytest.fixture
def two_remotes(tmp_path: Path) -> tuple[Path, Path]:
    """Two servers with a root artifact and a folder artifact (models:seg in dev)."""
    source = Repo(tmp_path / "source")
    source.commit(files={"models/artifacts.yaml": "seg:\n  path: seg.pt\n  type: model\n"})
    source.commit(files={"models/seg.pt": "weights\n"})
    source.ok("register", "churn")
    source.ok("register", "models:seg")
    source.ok("promote", "models:seg", "dev")
    servers = []
    for name in ("ra", "rb"):
        server = tmp_path / f"{name}.git"
        git(tmp_path, "clone", "-q", "--bare", str(source.path), str(server))
        servers.append(server)
    return servers[0], servers[1]


def test_every_name_show_prints_works_in_the_other_commands(
    two_remotes: tuple[Path, Path], repo: Repo
) -> None:
    ra, rb = two_remotes
    remotes = ["--remote", str(ra), "--remote", str(rb)]
    result = repo.run("show", "--json", *remotes)
    assert (result.code, result.err) == (0, "")  # no shallow-clone warning for caches
    names = [a["name"] for a in json.loads(result.out)["artifacts"]]
    assert names == ["ra:churn", "ra:models:seg", "rb:churn", "rb:models:seg"]
    for name in names:
        for command in (
            ["show", name],
            ["show", f"{name}@latest", "--version"],
            ["latest", name],
            ["history", name],
        ):
            result = repo.run(*command, *remotes)
            assert (result.code, result.err) == (0, ""), (command, result.err)
        assert name in repo.ok("history", name, "--json", *remotes)
    for name in ("ra:models:seg", "rb:models:seg"):
        assert repo.ok("which", name, "dev", *remotes) == "v0.0.1\n"
        assert repo.ok("show", f"{name}#dev", "--ref", *remotes) == "models=seg#dev#1\n"
    # A plain name is not one of the table's: not found, and the hint lists the names.
    result = repo.run("which", "models:seg", "dev", *remotes)
    assert result.code == 1 and "ra:models:seg" in result.err
    # What follows the label is checked as any artifact name.
    result = repo.run("latest", "ra:a:b:c", *remotes)
    assert result.code == 128 and "invalid artifact name 'a:b:c'" in result.err


def test_two_remotes_with_one_label(two_remotes: tuple[Path, Path], tmp_path: Path) -> None:
    ra, _rb = two_remotes
    copy = tmp_path / "elsewhere" / "ra.git"
    copy.parent.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(ra), str(copy))
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    remotes = ["--remote", str(ra), "--remote", str(copy)]
    code, out, err = finish(registry(nowhere, "show", *remotes))
    assert (code, err) == (0, "")
    assert "ra-2:models:seg" in out
    code, out, err = finish(registry(nowhere, "which", "ra-2:models:seg", "dev", *remotes))
    assert (code, out, err) == (0, "v0.0.1\n", "")


def test_a_remote_read_with_git_dir_set_reads_the_remote_only(
    published: Repo, remote: Repo, tmp_path: Path
) -> None:
    """'git --git-dir=X registry show --remote URL' reads URL; X is not written to."""
    other = Repo(tmp_path / "other")
    other.commit(files={"artifacts.yaml": "seg:\n  path: s3://seg\n"})
    other.ok("register", "seg")
    config = other.git("config", "--list", "--local")
    proc = subprocess.run(
        [
            "git",
            f"--git-dir={other.path / '.git'}",
            "registry",
            "show",
            "--remote",
            str(remote.path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    rows = [line.split()[0] for line in proc.stdout.splitlines()[1:]]
    assert rows == ["churn"]
    assert set(other.tags()) == {"seg@v0.0.1"}
    assert other.git("config", "--list", "--local") == config


# -- 5. fetch: tags Git will not store are named -------------------------------------------


def test_fetch_names_a_tag_a_local_ref_is_in_the_way_of(
    repo: Repo, remote: Repo, tmp_path: Path
) -> None:
    repo.commit(files={"models/x/artifacts.yaml": "seg:\n  path: s3://seg\n"})
    repo.ok("register", "models/x:seg")
    repo.ok("register", "churn")
    repo.git("push", "-q", "origin", "main", "--tags")
    other = clone(remote, tmp_path / "other")
    for tag in list(other.tags()):
        other.git("tag", "-d", tag)
    other.git("tag", "models")  # a release tag whose name is the remote tag's folder
    result = other.run("fetch")
    assert result.code == 128
    assert result.out == "Fetched registry tags from origin: 1 new, 1 not fetched\n"
    line = one_fatal_line(result.err.split("\nhint: ")[0])
    assert line.startswith("fatal: cannot fetch tag models/x=seg@v0.0.1 from 'origin': ")
    assert "'refs/tags/models' exists" in line and "1 other tag was fetched" in line
    assert "prune" not in result.err
    assert set(other.tags()) == {"models", "churn@v0.0.1"}
    other.fsck()


def test_fetch_keeps_a_differing_local_assignment_and_says_what_it_fetched(
    repo: Repo, remote: Repo, tmp_path: Path
) -> None:
    repo.ok("register", "churn")
    repo.commit()
    repo.ok("register", "churn", "--bump-minor")
    other = clone(remote, tmp_path / "other")
    other.git("fetch", "-q", str(repo.path), "--tags")
    repo.ok("promote", "churn", "prod", "--version", "v0.1.0")
    other.ok("promote", "churn", "prod", "--version", "v0.0.1")  # the same churn#prod#1
    repo.ok("register", "segment")
    repo.git("push", "-q", "origin", "main", "--tags")
    result = other.run("fetch")
    assert result.code == 0, result.err
    assert result.out == ("Fetched registry tags from origin: 1 new, 1 differing local tags kept\n")
    assert "warning: tag churn#prod#1 differs from origin's: kept yours" in result.err
    assert other.ok("which", "churn", "prod") == "v0.0.1\n"


def test_a_tag_made_while_fetching_is_kept_not_an_error(
    repo: Repo, remote: Repo, tmp_path: Path
) -> None:
    """fetch_tags read the local tags before another command made one with the same
    name: Git refuses to clobber it, and the tag is reported as kept."""
    repo.ok("register", "churn")
    repo.git("push", "-q", "origin", "main", "--tags")
    other = clone(remote, tmp_path / "other")
    other.git("tag", "-d", "churn@v0.0.1")
    other.git("tag", "-a", "-m", "mine", "churn@v0.0.1", "HEAD")
    result = remote_module.fetch_tags(
        "origin", str(other.path), {}, shallow=False
    )  # stale: saw no tags
    assert (result.fetched, result.kept, result.failed) == ([], ["churn@v0.0.1"], [])
    assert other.git("cat-file", "tag", "churn@v0.0.1").rstrip().endswith("mine")


def test_fetch_a_relative_path_from_the_top(published: Repo, tmp_path: Path) -> None:
    reader = Repo(tmp_path / "reader")
    result = reader.run("fetch", "../remote.git")
    assert result.code == 0, result.err
    assert result.out == "Fetched registry tags from ../remote.git: 2 new\n"


def test_remote_tables_order_stage_columns_as_the_local_table(tmp_path: Path) -> None:
    """show --remote orders its stage columns as show does: the stages of the policy
    at HEAD (of the repository it runs in) in its order, then the others in order of
    first use (across the remotes, in --remote order); never alphabetically."""
    source = Repo(tmp_path / "source")
    source.commit()
    source.ok("register", "churn")
    source.ok("register", "seg")
    source.ok("promote", "churn", "qa")  # before the policy: a stage it does not list
    source.commit(files={".registry.yaml": "stages: [prod, staging, dev]\n"})
    source.ok("promote", "churn", "dev")
    source.ok("promote", "seg", "staging")
    source.ok("promote", "churn", "prod")
    ra = tmp_path / "ra.git"
    git(tmp_path, "clone", "-q", "--bare", str(source.path), str(ra))
    other = Repo(tmp_path / "other")
    other.commit(files={".registry.yaml": "stages: [dev, zeta]\n"})
    other.ok("register", "net")
    other.ok("promote", "net", "zeta")
    rb = tmp_path / "rb.git"
    git(tmp_path, "clone", "-q", "--bare", str(other.path), str(rb))
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()

    def columns(cwd: Path, *remotes: Path) -> list[str]:
        args = [a for r in remotes for a in ("--remote", str(r))]
        code, out, err = finish(registry(cwd, "show", *args))
        assert (code, err) == (0, "")
        header = [h for h in out.splitlines()[0].split() if h.startswith("#")]
        code, out, err = finish(registry(cwd, "show", "--json", *args))
        assert json.loads(out)["stages"] == [h[1:] for h in header]
        return header

    local = source.ok("show").splitlines()[0].split()
    assert columns(source.path, ra) == [h for h in local if h.startswith("#")]
    assert columns(source.path, ra) == ["#prod", "#staging", "#dev", "#qa"]
    assert columns(source.path, rb, ra) == ["#prod", "#staging", "#dev", "#zeta", "#qa"]
    assert columns(other.path, ra, rb) == ["#dev", "#zeta", "#qa", "#staging", "#prod"]
    # Outside any repository: no policy (the order of first use; these tags were all
    # made within a second or two, so that order is not asserted here).
    assert sorted(columns(nowhere, ra)) == ["#dev", "#prod", "#qa", "#staging"]
