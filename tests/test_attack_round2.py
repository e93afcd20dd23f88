"""Attack round 2: what an attacker review of the restructured code found (each test
failed before its fix: replace refs, remote URLs, hand-edited parse caches, paths with
line breaks, an empty --commit)."""

from __future__ import annotations

import marshal
import zlib
from pathlib import Path

from git_registry import __version__, parsecache

from conftest import Repo

FILES = {
    "artifacts.yaml": "churn:\n  type: model\n  path: models/churn.pt\n",
    "models/churn.pt": "w\n",
    "team/artifacts.yaml": "x:\n  path: nope\n",
}


def _cache(repo: Repo) -> Path:
    return repo.path / ".git" / parsecache.CACHE_DIR / parsecache.CACHE_FILE


def _rewrite(repo: Repo, edit) -> None:  # type: ignore[no-untyped-def]
    entries = parsecache._decode(_cache(repo).read_bytes())
    assert entries
    for key in list(entries):
        entries[key] = edit(key, entries[key])
    payload = marshal.dumps(entries, 4)
    header = b"%s %d %s %d %08x\n" % (
        parsecache._MAGIC,
        parsecache.SCHEMA,
        __version__.encode("ascii"),
        len(payload),
        zlib.crc32(payload),
    )
    _cache(repo).write_bytes(header + payload)


def test_cached_problem_with_huge_line_number_does_not_crash_check(repo: Repo) -> None:
    """parsedform accepts any int as a line number; str() of a >4300-digit int raises
    ValueError, so 'check' dies with a traceback (parsecache promises: 'a file edited
    by hand cannot crash a command')."""
    repo.commit(files=FILES)
    repo.ok("check")  # warms the cache
    assert _cache(repo).exists()

    def edit(key: str, raw: bytes) -> bytes:
        if key.startswith("artifacts ") and "team/artifacts.yaml" in key:
            value = list(marshal.loads(raw))
            value[2] = (("team/artifacts.yaml", 10**5000, 1, "boom", "team:x", None),)
            return marshal.dumps(tuple(value))
        return raw

    _rewrite(repo, edit)
    result = repo.git_registry("check")
    assert "Traceback" not in result.err, result.err
    assert result.code in (0, 1), result.err


def test_fetch_refuses_configured_remote_whose_url_starts_with_dash(repo: Repo) -> None:
    """README, Security: a configured remote's URL that starts with '-' is refused with
    a fatal: message before it reaches Git. 'show --remote evil' does; 'fetch evil'
    and 'push evil' hand it to Git (which happens to block it itself)."""
    repo.git("remote", "add", "evil", "--", "--upload-pack=touch /tmp/never")
    for args in (("fetch", "evil"), ("push", "evil")):
        result = repo.git_registry(*args)
        assert result.code == 128
        assert "cannot start with '-'" in result.err, (args, result.err)


def test_register_push_refuses_bad_remote_url_before_writing(repo: Repo) -> None:
    """README: such a remote is refused 'before a write changes anything'; with
    registry.remote naming a remote whose URL starts with '-', 'register --push'
    creates the tag, then fails to push."""
    repo.commit(files=FILES)
    repo.git("remote", "add", "evil", "--", "--upload-pack=touch /tmp/never")
    repo.git("config", "registry.remote", "evil")
    result = repo.git_registry("register", "churn", "--push")
    assert result.code == 128, result.err
    assert "churn@v0.0.1" not in repo.tags(), result.out + result.err


def test_annotate_commit_with_nothing_to_change_is_clean(repo: Repo) -> None:
    """'annotate NAME --commit' when the annotation already says that: Git's 'nothing
    to commit' surfaces as 'git commit failed: git commit exited with 1' with a hint
    that the file is changed in the work tree (it is not)."""
    repo.commit(files=FILES)
    result = repo.git_registry("annotate", "churn", "--commit", "-m", "msg")
    assert result.code == 0, result.err
    assert "artifacts.yaml at HEAD already says this: nothing to commit" in result.out
    assert "exited with 1" not in result.err, result.err
    assert "is changed in the work tree" not in result.err, result.err


def test_repository_in_a_folder_with_a_newline(tmp_path: Path) -> None:
    """discover/discover_at_head split 'git rev-parse' output on line breaks: a work
    tree whose path holds a newline is misread ('git cat-file stopped unexpectedly');
    the lines shifted, so git_dir and common_dir named other folders. Now refused."""
    repo = Repo(tmp_path / "a\nb")
    repo.commit(files=FILES)
    result = repo.git_registry("show")
    # Git prints paths one per line, unquoted: refused clearly, never misread.
    assert result.code == 128, result.err
    assert result.err.startswith("fatal: cannot tell where the repository is: its path holds")
    assert "Traceback" not in result.err


BROKEN_SUB = {"sub/artifacts.yaml": "x:\n  type: [bad]\n"}


def test_check_is_not_fooled_by_a_replace_ref(repo: Repo) -> None:
    """files_named runs 'git ls-tree' with replace refs on, while blobs are read with
    --no-replace-objects: 'git replace BROKEN CLEAN' hides every artifacts.yaml of
    BROKEN from 'check' (with or without the parse cache)."""
    clean = repo.git("rev-parse", "HEAD").strip()
    broken = repo.commit(files=BROKEN_SUB)
    assert repo.git_registry("check").code == 1
    repo.git("replace", broken, clean)
    # A cold cache (the warm one remembers ls-tree's answer from before the replace).
    result = repo.git_registry("check", env={"GIT_CONFIG_PARAMETERS": "'registry.cache'='false'"})
    assert result.code == 1, result.out + result.err


def test_server_hook_is_not_fooled_by_a_pushed_replace_ref(tmp_path: Path, repo: Repo) -> None:
    """Any pusher can push refs/replace/BROKEN -> CLEAN first: the server's pre-receive
    then lists CLEAN's files for BROKEN and lets a branch with a broken
    artifacts.yaml through (README: a push that gives the registry a problem it did
    not have is refused, whatever the client does)."""
    server = Repo(tmp_path / "srv.git", bare=True)
    repo.git("remote", "add", "origin", str(server.path))
    repo.git("push", "-q", "origin", "main")
    server.ok("hooks", "install", "--server")
    clean = repo.git("rev-parse", "HEAD").strip()
    broken = repo.commit(files=BROKEN_SUB)
    plain = repo.git("push", "--no-verify", "origin", "main", check=False)
    assert server.git("rev-parse", "main").strip() == clean  # refused: the hook works
    repo.git("replace", broken, clean)
    repo.git("push", "--no-verify", "origin", f"refs/replace/{broken}")
    repo.git("replace", "-d", broken)
    repo.git("push", "--no-verify", "origin", "main", check=False)
    assert server.git("rev-parse", "main").strip() == clean, "broken artifacts.yaml accepted"
    del plain
