"""The registry state cache (``.git/registry/state-cache``, issue 20): a whole read
(``show``, ``history``, ``check``, ``stages``) answers from it only while the refs are
exactly those it was built from, never stale, never a crash on a damaged file."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from git_registry import cachefile, state, statecache
from git_registry.gitbin import RepoPaths
from git_registry.repo import Repository

from conftest import Repo, generated, make_registry, outputs

WHOLE_READS = (
    ("show",),
    ("show", "--all"),
    ("show", "--json", "--all"),
    ("show", "--all-versions"),
    ("history",),
    ("history", "--json"),
    ("history", "--plain"),
    ("check", "--json"),
    ("stages", "--used"),
)


def state_file(repo: Repo) -> Path:
    return repo.path / ".git" / "registry" / "state-cache"


def whole(repo: Repo, *, cache: bool = True) -> dict[str, tuple[int, str, str]]:
    """What every whole read says (in-process, each run reading the files afresh)."""
    return outputs(repo, WHOLE_READS, cache=cache)


def assert_cached_and_same(repo: Repo) -> None:
    """The answers with the state cache (written now, then read) are those without it."""
    state_file(repo).unlink(missing_ok=True)
    without = whole(repo, cache=False)
    assert not state_file(repo).exists()
    first = whole(repo)  # builds the state and writes the cache
    assert state_file(repo).is_file()
    again = whole(repo)  # reads it
    assert first == again == without


@pytest.fixture
def reg(repo: Repo) -> Repo:
    return make_registry(
        repo,
        "churn@v1.0.0 churn#prod#1 commit churn@v1.1.0 churn#staging#2 churn#prod#3 "
        "churn#prod!#4 commit seg@v0.0.1 seg#dev#1 churn@v1.0.0! models/cv=seg@v0.1.0",
    )


def test_a_whole_read_writes_it(reg: Repo) -> None:
    assert not state_file(reg).exists()
    reg.ok("show")
    assert state_file(reg).is_file()


def test_hits_build_nothing_and_answer_the_same(reg: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = whole(reg, cache=False)
    reg.ok("show")
    stat = state_file(reg).stat()

    def refuse(*_args: object, **_kwargs: object) -> state.Registry:
        raise AssertionError("the state was built, not read from the state cache")

    monkeypatch.setattr("git_registry.reading.build_registry_rows", refuse)
    assert whole(reg) == expected
    again = state_file(reg).stat()
    assert (again.st_ino, again.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)  # not rewritten


def test_one_artifact_reads_neither_read_nor_write_it(reg: Repo) -> None:
    reg.ok("which", "seg", "dev")
    reg.ok("show", "churn")
    reg.ok("history", "churn")
    assert not state_file(reg).exists()


def test_refs_changed_behind_its_back(reg: Repo) -> None:
    assert_cached_and_same(reg)
    first = reg.git("rev-parse", "HEAD~2").strip()
    # Added: a registration by hand, a lightweight tag, a tag of a tree.
    reg.tag("churn@v1.2.0", "HEAD", "by hand")
    reg.tag("churn@v1.3.0", "HEAD~1", lightweight=True)
    reg.tag("seg@v9.0.0", "HEAD^{tree}")
    assert_cached_and_same(reg)
    # Re-pointed with the same names; a copy of another tag's object.
    reg.git("tag", "-f", "-a", "-m", "moved", "churn@v1.2.0", first)
    reg.git("update-ref", "refs/tags/churn#staging#2", reg.git("rev-parse", "seg@v0.0.1").strip())
    assert_cached_and_same(reg)
    # Packed, then a packed one deleted, then a loose one over a packed one.
    reg.git("pack-refs", "--all")
    assert_cached_and_same(reg)
    reg.git("tag", "-d", "seg#dev#1")
    assert_cached_and_same(reg)
    reg.tag("seg#dev#1", "seg@v0.0.1", "again")
    assert_cached_and_same(reg)


def _cycle(repo: Repo) -> tuple[dict[str, tuple[int, str, str]], dict[str, tuple[int, str, str]]]:
    """Fill the state cache, then return (answers now, answers without any cache)."""
    repo.ok("show")
    assert state_file(repo).is_file()
    return whole(repo), whole(repo, cache=False)


def test_a_loose_ref_rewritten_in_place_at_once(reg: Repo) -> None:
    """No time stamp is trusted: a ref file rewritten in the same instant, same size,
    same inode, is seen (the digest is of the contents)."""
    before = whole(reg)
    ref = reg.path / ".git" / "refs" / "tags" / "churn#prod#3"
    other = reg.git("rev-parse", "churn#prod#1").strip()
    stat = ref.stat()
    with open(ref, "r+b") as f:  # same inode, same size
        f.write(other.encode() + b"\n")
    os.utime(ref, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old time stamp
    now, without = _cycle(reg)
    assert now == without != before


def test_a_packed_refs_line_edited_by_hand(reg: Repo) -> None:
    reg.git("pack-refs", "--all")
    before = whole(reg)
    packed = reg.path / ".git" / "packed-refs"
    old = reg.git("rev-parse", "churn#prod#3").strip()
    new = reg.git("rev-parse", "churn#prod#1").strip()
    stat = packed.stat()
    text = packed.read_bytes()
    assert text.count(old.encode()) == 1
    with open(packed, "r+b") as f:
        f.write(text.replace(old.encode(), new.encode()))
    os.utime(packed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    now, without = _cycle(reg)
    assert now == without != before


def test_symbolic_refs_under_refs_tags(reg: Repo) -> None:
    reg.git("symbolic-ref", "refs/tags/churn@v5.0.0", "refs/tags/churn@v1.0.0")
    assert_cached_and_same(reg)
    reg.git("symbolic-ref", "refs/tags/churn@v5.0.0", "refs/tags/seg@v0.0.1")  # re-pointed
    now, without = _cycle(reg)
    assert now == without
    reg.git("symbolic-ref", "refs/tags/seg@v6.0.0", "refs/heads/main")
    now, without = _cycle(reg)
    assert now == without
    reg.commit()  # the branch moves: the symbolic ref to it is no tag either way
    now, without = _cycle(reg)
    assert now == without


def test_a_missing_object_is_never_cached(reg: Repo) -> None:
    reg.tag("churn@v3.0.0", "HEAD", "arrives late")
    oid = reg.git("rev-parse", "churn@v3.0.0").strip()
    loose = reg.path / ".git" / "objects" / oid[:2] / oid[2:]
    data = loose.read_bytes()
    loose.unlink()
    result = reg.run("show")
    assert f"object {oid} is missing" in result.err
    assert not state_file(reg).exists()
    loose.write_bytes(data)  # the object arrives, no ref changes
    assert "v3.0.0" in reg.ok("show")
    assert state_file(reg).is_file()
    assert whole(reg) == whole(reg, cache=False)


def test_a_tag_from_the_future_is_never_cached(reg: Repo) -> None:
    """A tag dated ahead of the clock is ignored until the clock gets there: the
    answer depends on the clock, not only on the refs."""
    reg.tag("churn@v4.0.0", "HEAD", "later", date="2090-01-01 00:00:00 +0000")
    result = reg.run("show")
    assert "in the future" in result.err
    assert not state_file(reg).exists()


def test_turned_off_it_is_neither_read_nor_written(
    reg: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg.git("config", "registry.cache", "false")
    reg.ok("show")
    assert not state_file(reg).exists()
    reg.git("config", "registry.cache", "true")
    reg.ok("show")
    assert state_file(reg).is_file()
    # A file left from before is not read while the cache is off.
    reg.git("config", "registry.cache", "false")

    def refuse(*_args: object) -> None:
        raise AssertionError("read while turned off")

    monkeypatch.setattr(statecache, "load", refuse)
    reg.ok("show")


# -- damaged files ---------------------------------------------------------------------


def _rewritten(path: Path, change: Any) -> None:
    """Rewrite the state cache with ``change(index, segments)`` applied to its decoded
    values, every CRC and length made right again (a hand edit that checks pass)."""
    data = path.read_bytes()
    eol = data.index(b"\n")
    length = int(data[:eol].split(b" ")[-2])
    found = cachefile.payload(
        data[: eol + 1 + length], b"git-registry state-cache", statecache.SCHEMA
    )
    assert found is not None
    index = list(marshal.loads(found[1]))
    rest = data[eol + 1 + length :]
    segments = []
    for size in index[3]:
        segments.append(list(marshal.loads(rest[:size])))
        rest = rest[size:]
    change(index, segments)
    encoded = [marshal.dumps(tuple(s)) for s in segments]
    index[3] = tuple(len(s) for s in encoded)
    index[4] = tuple(zlib.crc32(s) for s in encoded)
    head_part = marshal.dumps(tuple(index))
    head = cachefile.header(
        b"git-registry state-cache", statecache.SCHEMA, b"%d" % len(head_part), [head_part]
    )
    path.write_bytes(head + head_part + b"".join(encoded))


def _edits() -> dict[str, Any]:
    def kind_out_of_range(index: list[Any], segments: list[list[Any]]) -> None:
        columns = list(segments[0][1])
        columns[1] = bytes([200] * len(columns[1]))
        segments[0][1] = tuple(columns)

    def tag_is_a_number(index: list[Any], segments: list[list[Any]]) -> None:
        columns = list(segments[0][1])
        columns[0] = tuple(range(len(columns[0])))
        segments[0][1] = tuple(columns)

    def time_out_of_range(index: list[Any], segments: list[list[Any]]) -> None:
        columns = list(segments[-1][1])
        columns[8] = tuple(2**60 for _ in columns[8])
        segments[-1][1] = tuple(columns)

    def latest_past_the_end(index: list[Any], segments: list[list[Any]]) -> None:
        segments[0][3] = 99

    def summary_of_another_shape(index: list[Any], segments: list[list[Any]]) -> None:
        index[2] = tuple(("yes", 3, None) for _ in index[2])

    def version_points_past_events(index: list[Any], segments: list[list[Any]]) -> None:
        versions = [list(v) for v in segments[0][2]]
        versions[0][3] = 10_000
        segments[0][2] = tuple(tuple(v) for v in versions)

    def order_of_another_length(index: list[Any], segments: list[list[Any]]) -> None:
        index[5] = (b"\0\0\0\0", b"\0\0\0\0")

    def segment_replaced_by_a_string(index: list[Any], segments: list[list[Any]]) -> None:
        segments[0] = list("abcde")

    return {
        f.__name__: f
        for f in (
            kind_out_of_range,
            tag_is_a_number,
            time_out_of_range,
            latest_past_the_end,
            summary_of_another_shape,
            version_points_past_events,
            order_of_another_length,
            segment_replaced_by_a_string,
        )
    }


@pytest.mark.parametrize("edit", sorted(_edits()))
def test_a_hand_edited_file_whose_checks_pass_crashes_nothing(reg: Repo, edit: str) -> None:
    expected = whole(reg, cache=False)
    reg.ok("show")
    _rewritten(state_file(reg), _edits()[edit])
    # The file still loads (its checks pass): the damage is met when decoding, where
    # the read falls back to building the state.
    paths = RepoPaths(str(reg.path / ".git"), str(reg.path / ".git"), str(reg.path), False)
    listing = Repository(paths)
    listing.tag_refs(fingerprint=True)
    assert listing.refs_fingerprint is not None
    assert statecache.load(str(state_file(reg)), listing.refs_fingerprint, _never) is not None
    assert whole(reg) == expected


def _never() -> state.Registry:
    raise AssertionError("not called while loading")


def _damages(good: bytes) -> dict[str, bytes]:
    eol = good.index(b"\n")
    return {
        "empty": b"",
        "header only": good[: eol + 1],
        "truncated in the index": good[: eol + 10],
        "truncated in a segment": good[:-7],
        "a byte flipped in the index": good[: eol + 5]
        + bytes([good[eol + 5] ^ 0xFF])
        + good[eol + 6 :],
        "a byte flipped in the last segment": good[:-3] + bytes([good[-3] ^ 0xFF]) + good[-2:],
        "another schema": good.replace(
            b"state-cache %d " % statecache.SCHEMA, b"state-cache 999 ", 1
        ),
        "another version": good.replace(b" ", b"  ", 1),
        "trailing bytes": good + b"more",
        "garbage": os.urandom(4096),
        "a tag cache in its place": b"git-registry tag-cache 4 0.0.0 0 00000000\n",
    }


@pytest.mark.parametrize("damage", sorted(_damages(b"header\n" + bytes(64))))
def test_a_damaged_file_is_ignored(reg: Repo, damage: str) -> None:
    expected = whole(reg, cache=False)
    reg.ok("show")
    good = state_file(reg).read_bytes()
    state_file(reg).write_bytes(_damages(good)[damage])
    assert whole(reg) == expected


def test_a_folder_in_its_place(reg: Repo) -> None:
    expected = whole(reg, cache=False)
    (reg.path / ".git" / "registry" / "state-cache").mkdir(parents=True)
    assert whole(reg) == expected


def test_another_repositorys_file_is_not_used(reg: Repo, tmp_path: Path) -> None:
    """A file copied from a repository with other refs has another key."""
    other = Repo(tmp_path / "other")
    other.commit()
    make_registry(other, "churn@v9.9.9 churn#prod#1")
    other.ok("show")
    expected = whole(reg, cache=False)
    state_file(reg).parent.mkdir(exist_ok=True)
    state_file(reg).write_bytes(state_file(other).read_bytes())
    assert whole(reg) == expected


# -- concurrency, scale --------------------------------------------------------------------


def _generated(tmp_path: Path, refs: str) -> Repo:
    return generated(
        tmp_path / f"generated-{refs}",
        *("-a", "8", "-v", "6", "-p", "2", "--refs", refs),
        *("--unassign-every", "3", "--deregister-every", "4", "--deprecate", "2"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("refs", ["loose", "packed"])
def test_same_answers_with_and_without_it_on_generated_repositories(
    tmp_path: Path, refs: str
) -> None:
    repo = _generated(tmp_path, refs)
    assert_cached_and_same(repo)
    doc = json.loads(repo.ok("history", "--json"))
    assert len(doc["events"]) > 100


@pytest.mark.slow
def test_writers_and_readers_at_once(tmp_path: Path) -> None:
    """Commands that write the file race with ones that read it, and with tags added
    meanwhile: each answer is that of the refs it listed, and the file left is whole."""
    repo = _generated(tmp_path, "packed")
    procs = [
        subprocess.Popen(
            ["git", "registry", *args],
            cwd=repo.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in (["show", "--json"], ["history", "--json"], ["show", "--json"], ["check"])
    ]
    repo.tag("model-001@v99.0.0", "HEAD", "meanwhile")
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), err.decode()
    assert [p for p in os.listdir(state_file(repo).parent) if "tmp" in p] == []
    assert whole(repo) == whole(repo, cache=False)


def test_repository_fingerprint_follows_the_listing(reg: Repo) -> None:
    """Equal digests for equal listings, whatever the order the folder lists files in;
    another digest when a ref differs."""
    paths = RepoPaths(str(reg.path / ".git"), str(reg.path / ".git"), str(reg.path), False)
    first = Repository(paths)
    first.tag_refs(fingerprint=True)
    again = Repository(paths)
    again.tag_refs(fingerprint=True)
    assert first.refs_fingerprint is not None
    assert first.refs_fingerprint == again.refs_fingerprint
    reg.tag("extra")
    third = Repository(paths)
    third.tag_refs(fingerprint=True)
    assert third.refs_fingerprint != first.refs_fingerprint
    prefix = Repository(paths)
    prefix.tag_refs(["churn@"], fingerprint=True)
    assert prefix.refs_fingerprint is None  # only whole listings have one
