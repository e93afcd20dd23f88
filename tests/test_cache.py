"""The tag cache (``.git/registry/tag-cache``) never changes an answer.

Tags are added, deleted, re-pointed and packed behind its back with plain ``git``;
the file is corrupted in every way we can think of; two processes write it at
once; the Git directory cannot be written. Each time the answers must be exactly
those of a run with the cache turned off (``registry.cache=false``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from git_registry import tagcache
from git_registry.gitbin import RepoPaths
from git_registry.repo import Repository
from git_registry.tagcache import TagCache

from conftest import NO_CACHE, Repo, generated, make_registry, outputs


def cache_file(repo: Repo) -> Path:
    return repo.path / ".git" / tagcache.CACHE_DIR / tagcache.CACHE_FILE


def cached_ids(repo: Repo) -> set[str]:
    return set(TagCache.load(str(repo.path / ".git")).entries)


def answers(repo: Repo, *, cache: bool = True) -> dict[str, tuple[int, str, str]]:
    """Everything the read commands say about the registry (in-process: each run opens
    the repository, and reads the cache, afresh)."""
    tags = repo.git("tag", "--list").split()
    # One artifact's commands first: they read (and cache) that artifact's tags only.
    runs: list[tuple[str, ...]] = []
    for artifact in sorted({t.partition("@")[0].partition("#")[0] for t in tags} - set(tags)):
        runs += [("show", artifact, "--json"), ("history", artifact), ("latest", artifact)]
        runs += [("which", artifact, "prod"), ("describe", artifact)]
    runs += [("which", "chrun", "prod")]  # unknown: the hint lists every artifact
    runs += [("show", "--json", "--all"), ("history", "--json"), ("show", "--all")]
    for tag in tags:
        runs.append(("check-ref", "--json", tag))
    return outputs(repo, runs, cache=cache)


def assert_same_with_and_without_cache(repo: Repo) -> None:
    with_cache = answers(repo)  # what is cached is used, the rest read and added
    assert cache_file(repo).is_file()
    again = answers(repo)  # now every object comes from the cache
    without = answers(repo, cache=False)
    assert with_cache == again == without


@pytest.fixture
def churn_staged_and_seg(repo: Repo) -> Repo:
    """churn: v1.0.0 (prod), v1.1.0 (staging); seg: v0.0.1."""
    return make_registry(
        repo, "churn@v1.0.0 churn#prod#1 commit churn@v1.1.0 churn#staging#2 seg@v0.0.1"
    )


def test_cache_is_written_once_and_used(churn_staged_and_seg: Repo) -> None:
    assert not cache_file(churn_staged_and_seg).parent.exists()  # tags made by git: no cache
    first = churn_staged_and_seg.ok("show", "--json")
    assert cache_file(churn_staged_and_seg).is_file()
    oids = set(
        churn_staged_and_seg.git("for-each-ref", "--format=%(objectname)", "refs/tags").split()
    )
    assert cached_ids(churn_staged_and_seg) == oids
    stat = cache_file(churn_staged_and_seg).stat()
    assert churn_staged_and_seg.ok("show", "--json") == first
    assert churn_staged_and_seg.ok("history", "--json")
    # Nothing changed: nothing written.
    again = cache_file(churn_staged_and_seg).stat()
    assert (again.st_ino, again.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_turned_off_it_is_neither_read_nor_written(
    churn_staged_and_seg: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not cache_file(churn_staged_and_seg).parent.exists()  # tags made by git: no cache
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'registry.cache'='false'")
    churn_staged_and_seg.ok("show")
    assert not cache_file(churn_staged_and_seg).exists()
    churn_staged_and_seg.git("config", "registry.cache", "no")
    monkeypatch.delenv("GIT_CONFIG_PARAMETERS")
    churn_staged_and_seg.ok("show")
    assert not cache_file(churn_staged_and_seg).exists()
    churn_staged_and_seg.git("config", "registry.cache", "true")
    churn_staged_and_seg.ok("show")
    assert cache_file(churn_staged_and_seg).is_file()


def test_tags_changed_behind_its_back(churn_staged_and_seg: Repo) -> None:
    assert_same_with_and_without_cache(churn_staged_and_seg)
    first = churn_staged_and_seg.git("rev-parse", "HEAD~1").strip()
    # Add: a hand-made registration, a lightweight tag, a tag on a tree, a tag of a tag.
    churn_staged_and_seg.tag("churn@v1.2.0", "HEAD", "by hand")
    churn_staged_and_seg.tag("churn@v1.3.0", "HEAD~1", lightweight=True)
    churn_staged_and_seg.tag("seg@v9.0.0", "HEAD^{tree}")
    churn_staged_and_seg.tag("inner", first)
    churn_staged_and_seg.git("tag", "-a", "-m", "outer", "churn#dev#7", "inner")
    assert_same_with_and_without_cache(churn_staged_and_seg)
    # Re-point: the same names, other objects.
    churn_staged_and_seg.git("tag", "-f", "-a", "-m", "moved", "churn@v1.2.0", first)
    churn_staged_and_seg.git("tag", "-f", "churn#prod#1", "HEAD")  # now lightweight
    inner = churn_staged_and_seg.git("rev-parse", "churn@v1.1.0").strip()
    churn_staged_and_seg.git(
        "update-ref", "refs/tags/churn#staging#2", inner
    )  # a copy of another tag
    assert_same_with_and_without_cache(churn_staged_and_seg)
    # Delete, then pack every ref, then delete a packed one.
    churn_staged_and_seg.git("tag", "-d", "churn@v1.0.0", "inner")
    churn_staged_and_seg.git("pack-refs", "--all")
    assert not (churn_staged_and_seg.path / ".git" / "refs" / "tags" / "churn@v1.1.0").exists()
    assert_same_with_and_without_cache(churn_staged_and_seg)
    churn_staged_and_seg.git("tag", "-d", "seg@v0.0.1")
    churn_staged_and_seg.git(
        "update-ref",
        "refs/tags/churn@v1.1.0",
        churn_staged_and_seg.git("rev-parse", "seg@v9.0.0").strip(),
    )
    assert_same_with_and_without_cache(churn_staged_and_seg)
    # Writes of our own, with the cache holding the old objects (on a new commit: HEAD
    # carries hand-made stage tags dated before any registration there could be).
    churn_staged_and_seg.commit()
    churn_staged_and_seg.ok("register", "churn", "--version", "v2.0.0")
    churn_staged_and_seg.ok("deprecate", "seg", "--force")
    assert_same_with_and_without_cache(churn_staged_and_seg)
    # The cache forgets tags that are gone once it is next written.
    churn_staged_and_seg.tag("late@v0.0.1")
    churn_staged_and_seg.ok("show")
    live = set(
        churn_staged_and_seg.git("for-each-ref", "--format=%(objectname)", "refs/tags").split()
    )
    assert cached_ids(churn_staged_and_seg) == live


def test_a_missing_object_is_not_cached(churn_staged_and_seg: Repo) -> None:
    """A ref whose object is missing is reported; once the object arrives, it is used."""
    churn_staged_and_seg.tag("churn@v3.0.0", "HEAD", "arrives late")
    oid = churn_staged_and_seg.git("rev-parse", "churn@v3.0.0").strip()
    loose = churn_staged_and_seg.path / ".git" / "objects" / oid[:2] / oid[2:]
    data = loose.read_bytes()
    loose.unlink()
    result = churn_staged_and_seg.run("check-ref", "churn@v3.0.0")
    assert result.code == 1
    assert f"object {oid} is missing" in result.out + result.err
    assert oid not in cached_ids(churn_staged_and_seg)
    loose.write_bytes(data)
    assert churn_staged_and_seg.ok("check-ref", "churn@v3.0.0").startswith("churn@v3.0.0: ")
    assert oid in cached_ids(churn_staged_and_seg)


def _file(
    segments: dict[str, bytes],
    schema: int = tagcache.SCHEMA,
    version: str | None = None,
    lengths: list[int] | None = None,
    index: bytes | None = None,
) -> bytes:
    """A cache file: the header line, the index (of ``segments``, with their lengths or
    ``lengths``; or ``index`` as given), then the segments."""
    import marshal
    import zlib

    from git_registry import __version__

    names = tuple(segments)
    sizes = lengths if lengths is not None else [len(segments[n]) for n in names]
    offsets = [sum(len(segments[n]) for n in names[:i]) for i in range(len(names))]
    crcs = tuple(zlib.crc32(segments[n]) for n in names)
    if index is None:
        index = marshal.dumps((names, tuple(offsets), tuple(sizes), crcs), 4)
    header = b"git-registry tag-cache %d %s %d %08x\n" % (
        schema,
        (version or __version__).encode(),
        len(index),
        zlib.crc32(index),
    )
    return header + index + b"".join(segments.values())


def _segments(good: bytes) -> dict[str, bytes]:
    """The segments (name -> one marshal value of columns) of the cache file ``good``."""
    import marshal

    eol = good.index(b"\n")
    length = int(good[:eol].split(b" ")[-2])
    names, offsets, lengths, _crcs = marshal.loads(good[eol + 1 : eol + 1 + length])
    base = eol + 1 + length
    found = {
        name: good[base + offset : base + offset + size]
        for name, offset, size in zip(names, offsets, lengths, strict=True)
    }
    assert base + sum(lengths) == len(good)
    return found


def _corruptions(good: bytes) -> dict[str, bytes | None]:
    import marshal

    segments = _segments(good)
    assert set(segments) == {"churn", "seg"}

    def with_churn(columns: Any) -> bytes:
        """The file with the segment ``churn`` replaced (a valid CRC)."""
        raw = columns if isinstance(columns, bytes) else marshal.dumps(columns, 4)
        return _file({**segments, "churn": raw})

    columns = list(marshal.loads(segments["churn"]))
    assert len(columns) == tagcache._COLUMNS
    bad_type = list(columns)
    bad_type[7] = tuple("1700000000" for _ in bad_type[7])  # times as strings
    bad_tz = list(columns)
    bad_tz[8] = tuple(99999 for _ in bad_tz[8])
    surrogate = list(columns)
    surrogate[3] = tuple("\udcff" for _ in surrogate[3])
    short = list(columns)
    short[2] = short[2][:-1]
    code = marshal.dumps(compile("raise SystemExit(3)", "x", "exec"))
    lies = [columns[0], *(x[::-1] for x in columns[1:])]  # valid, but entries shuffled
    sizes = [len(part) for part in segments.values()]
    names = tuple(segments)
    return {
        "empty": b"",
        "garbage": os.urandom(4096),
        "truncated": good[: len(good) // 2],
        "header only": good[: good.index(b"\n") + 1],
        "bit flip": good[:-10] + bytes([good[-10] ^ 1]) + good[-9:],
        "bit flip in the index": _file(segments)[:60] + b"\xff" + _file(segments)[61:],
        "other schema": _file(segments, schema=tagcache.SCHEMA + 1),
        "other version": _file(segments, version="0.0.0-other"),
        "wrong length": good + b"x",
        "wrong types": with_churn(tuple(bad_type)),
        "offset out of range": with_churn(tuple(bad_tz)),
        "surrogates": with_churn(tuple(surrogate)),
        "ragged columns": with_churn(tuple(short)),
        "a tuple per entry": with_churn(tuple(zip(*columns, strict=True))),
        "a column too many": with_churn((*columns, columns[0])),
        "a column too few": with_churn(tuple(columns[:-1])),
        "misaligned lengths": _file(segments, lengths=[sizes[0] + 1, sizes[1] - 1]),
        "negative length": _file(segments, lengths=[-1, sizes[0] + sizes[1] + 1]),
        "lengths past the end": _file(segments, lengths=[sizes[0], sizes[1] + 100]),
        "index not marshal": _file(segments, index=b"\x00" * 8),
        "index of another shape": _file(segments, index=marshal.dumps((names, (0, 1)), 4)),
        "code object": with_churn(code),
        "not marshal": with_churn(b"\x00" * 8),
        "a directory": None,
        # A valid file whose entries were swapped by hand: the cache trusts the Git
        # directory as Git trusts its hooks (see tagcache's docstring), so this one
        # may change answers; here it only has to be read without crashing.
        "shuffled": with_churn(tuple(lies)),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "empty",
        "garbage",
        "truncated",
        "header only",
        "bit flip",
        "bit flip in the index",
        "other schema",
        "other version",
        "wrong length",
        "wrong types",
        "offset out of range",
        "surrogates",
        "ragged columns",
        "a tuple per entry",
        "a column too many",
        "a column too few",
        "misaligned lengths",
        "negative length",
        "lengths past the end",
        "index not marshal",
        "index of another shape",
        "code object",
        "not marshal",
        "a directory",
        "shuffled",
    ],
)
def test_a_corrupt_cache_is_ignored_and_rebuilt(churn_staged_and_seg: Repo, kind: str) -> None:
    expected = answers(churn_staged_and_seg, cache=False)
    churn_staged_and_seg.ok("show")
    path = cache_file(churn_staged_and_seg)
    bad = _corruptions(path.read_bytes())[kind]
    path.unlink()
    if bad is None:
        path.mkdir()
        (path / "file").write_text("in the way")
    else:
        path.write_bytes(bad)
    found = answers(churn_staged_and_seg)
    if kind == "shuffled":
        assert all(code in (0, 1) for code, _out, _err in found.values())
        return
    assert found == expected
    if bad is None:
        assert path.is_dir()  # left alone; every run reads the objects again
        assert answers(churn_staged_and_seg) == expected
    else:
        assert len(cached_ids(churn_staged_and_seg)) == len(churn_staged_and_seg.tags())  # rebuilt


def test_a_cache_from_the_future_is_not_trusted_blindly(churn_staged_and_seg: Repo) -> None:
    """A well-formed file of another version is ignored even if its entries look right."""
    churn_staged_and_seg.ok("show")
    path = cache_file(churn_staged_and_seg)
    path.write_bytes(_file(_segments(path.read_bytes()), version="999.0.0"))
    assert cached_ids(churn_staged_and_seg) == set()


WRITER = textwrap.dedent(
    """
    import sys
    from git_registry.tagcache import TagCache
    from git_registry.gitvalues import ObjectId, Signature

    common, who = sys.argv[1], sys.argv[2]
    for round in range(40):
        cache = TagCache.load(common)
        for i in range(300):
            oid = ObjectId(f"{who}{round:03d}{i:04d}".ljust(40, "0"))
            sig = Signature("W " + who, "w@example.com", 1700000000 + i, 60)
            cache.add((f"t{i}", oid, ObjectId("c" * 40), "commit", sig, "m", None))
        cache.save()
    """
)


@pytest.mark.slow
def test_two_processes_writing_at_once(churn_staged_and_seg: Repo) -> None:
    churn_staged_and_seg.ok("show")
    common = str(churn_staged_and_seg.path / ".git")
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, common, who], stderr=subprocess.PIPE)
        for who in ("a", "b")
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    entries = TagCache.load(common).entries
    # The file is one writer's last complete version: every entry it has is intact.
    assert len(entries) >= 300
    assert {e[4] for e in entries.values() if e[0] == tagcache.ANNOTATED} <= {
        "W a",
        "W b",
        "Cy Committer",
    }
    leftovers = [
        p for p in os.listdir(os.path.dirname(cache_file(churn_staged_and_seg))) if "tmp" in p
    ]
    assert leftovers == []
    assert_same_with_and_without_cache(churn_staged_and_seg)


@pytest.mark.slow
def test_two_commands_at_once_on_a_generated_repository(tmp_path: Path) -> None:
    repo = _generated(tmp_path)
    procs = [
        subprocess.Popen(
            ["git", "registry", *args],
            cwd=repo.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in (["show", "--json"], ["history", "--json"], ["show", "--json"])
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        outputs.append(out)
    assert outputs[0] == outputs[2]
    assert len(cached_ids(repo)) == len(repo.tags())


def test_a_git_directory_we_cannot_write_to(churn_staged_and_seg: Repo) -> None:
    """Where the cache's folder cannot be created, commands work and write nothing.

    (A file named ``registry`` in its place: this works even as root, for whom
    file modes do not stop writes.)
    """
    expected = answers(churn_staged_and_seg, cache=False)
    assert not cache_file(churn_staged_and_seg).parent.exists()  # tags made by git: no cache
    (churn_staged_and_seg.path / ".git" / tagcache.CACHE_DIR).write_text("not a folder")
    assert answers(churn_staged_and_seg) == expected
    assert (churn_staged_and_seg.path / ".git" / tagcache.CACHE_DIR).read_text() == "not a folder"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root ignores file modes, so chmod cannot make .git read-only "
    "(test_a_git_directory_another_user_cannot_write covers it as root)",
)
def test_a_read_only_git_directory(churn_staged_and_seg: Repo) -> None:
    expected = answers(churn_staged_and_seg, cache=False)
    git_dir = churn_staged_and_seg.path / ".git"
    modes = {}
    for path in [git_dir, *git_dir.rglob("*")]:
        if path.is_dir():
            modes[path] = path.stat().st_mode
            path.chmod(modes[path] & ~0o222)
    try:
        assert answers(churn_staged_and_seg) == expected
        assert not cache_file(churn_staged_and_seg).exists()
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    # A cache written before the Git directory became read-only is still read.
    churn_staged_and_seg.ok("show")
    for path in modes:
        path.chmod(modes[path] & ~0o222)
    try:
        assert answers(churn_staged_and_seg) == expected
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


NOBODY = 65534


def _as_nobody(repo: Path, *args: str, cache: bool = True) -> tuple[int, str, str]:
    """Run ``git registry ARGS`` in ``repo`` as user nobody (for whom modes apply)."""
    params = "'safe.directory'='*'" + ("" if cache else " 'registry.cache'='false'")
    proc = subprocess.run(
        [
            *("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"),
            *(sys.executable, "-m", "git_registry", *args),
        ],
        cwd=repo,
        env={**os.environ, "HOME": str(repo), "GIT_CONFIG_PARAMETERS": params},
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv")),
    reason="needs root and setpriv to run as another user (test_a_read_only_git_directory "
    "covers it for other users)",
)
def test_a_git_directory_another_user_cannot_write(churn_staged_and_seg: Repo) -> None:
    """As root (CI), run the commands as nobody in a copy of the repository that nobody
    can read but not write: the answers are the same and no cache appears."""
    shutil.rmtree(cache_file(churn_staged_and_seg).parent, ignore_errors=True)
    top = Path(tempfile.mkdtemp(prefix="registry-ro-", dir="/tmp"))
    try:
        top.chmod(0o755)
        copy = top / "repo"
        shutil.copytree(churn_staged_and_seg.path, copy, symlinks=True)
        for path in [copy, *copy.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        probe = _as_nobody(copy, "--version")
        if probe[0] != 0:
            pytest.skip(f"user nobody cannot run this Python installation: {probe[2][-200:]}")
        runs = [("show", "--json", "--all"), ("history", "--json"), ("check-ref", "churn#prod#1")]
        for args in runs:
            expected = _as_nobody(copy, *args, cache=False)
            assert expected[0] == 0, expected
            assert _as_nobody(copy, *args) == expected
            assert churn_staged_and_seg.run(*args).out == expected[1]
        assert not (copy / ".git" / tagcache.CACHE_DIR).exists()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _generated(tmp_path: Path) -> Repo:
    return generated(
        tmp_path / "generated",
        *("-a", "6", "-v", "5", "-p", "2"),
        *("--unassign-every", "3", "--deregister-every", "4", "--deprecate", "1"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("refs", ["loose", "packed"])
def test_same_answers_with_and_without_cache_on_a_generated_repository(
    tmp_path: Path, refs: str
) -> None:
    repo = _generated(tmp_path)
    if refs == "packed":
        repo.git("pack-refs", "--all")
    for args in (("show", "--json", "--all"), ("history", "--json")):
        with_cache = repo.git_registry(*args)
        assert with_cache.code == 0, with_cache.err
        assert json.loads(with_cache.out)
        assert repo.git_registry(*args) == with_cache  # from the cache
        assert repo.git_registry(*args, env=NO_CACHE) == with_cache
    assert answers(repo) == answers(repo, cache=False)


def test_repository_reads_agree_with_git(tmp_path: Path) -> None:
    """What read_tags reports (cached or not) is what ``git for-each-ref`` says."""
    repo = _generated(tmp_path)
    shutil.rmtree(repo.path / ".git" / tagcache.CACHE_DIR, ignore_errors=True)
    git_dir = str(repo.path / ".git")
    paths = RepoPaths(git_dir, git_dir, str(repo.path), False)
    expected = {}
    fmt = "%(refname:strip=2) %(*objectname) %(taggerdate:unix) %(taggeremail)"
    for line in repo.git("for-each-ref", f"--format={fmt}", "refs/tags").splitlines():
        name, target, when, email = line.split(" ")
        expected[name] = (target, int(when), email.strip("<>"))
    for _ in range(2):  # first from Git, then from the cache
        with Repository(paths) as handle:
            refs = handle.read_tags(handle.tag_refs().items())
        found = {}
        for ref in refs:
            assert ref.tag is not None and ref.tag.tagger is not None
            found[ref.name] = (ref.tag.target, ref.tag.tagger.time, ref.tag.tagger.email)
        assert found == expected


def test_a_one_artifact_read_prunes_its_own_segment_only(churn_staged_and_seg: Repo) -> None:
    """The cache is one segment per artifact (issue 20): a read of churn adds churn's
    new tags, forgets churn's deleted ones, and copies seg's segment as it was."""
    repo = churn_staged_and_seg
    repo.ok("show")
    gone = repo.git("rev-parse", "churn@v1.0.0").strip()
    seg_before = repo.git("rev-parse", "seg@v0.0.1").strip()
    repo.git("tag", "-d", "churn@v1.0.0")
    repo.tag("churn@v1.2.0", "HEAD", "by hand")
    repo.git("tag", "-d", "seg@v0.0.1")  # seg is not read: its entry stays
    assert repo.ok("latest", "churn").strip() == "v1.2.0"
    ids = cached_ids(repo)
    assert gone not in ids
    assert repo.git("rev-parse", "churn@v1.2.0").strip() in ids
    assert seg_before in ids
    repo.tag("late@v0.0.1")
    repo.ok("show")  # a whole read forgets every tag that is gone
    live = set(repo.git("for-each-ref", "--format=%(objectname)", "refs/tags").split())
    assert cached_ids(repo) == live
    assert_same_with_and_without_cache(repo)
