"""One artifact's tags are listed without listing every tag (issue 20), and the answer
is Git's: a prefix of ``refs/tags/`` read by a binary search in a sorted
``packed-refs`` (or a scan of one without the ``sorted`` trait) plus the loose refs
of the prefix, compared with ``git for-each-ref`` on the same refs after every
change made behind git-registry's back with plain ``git``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from git_registry import refread
from git_registry.gitbin import RepoPaths
from git_registry.grammar import tag_prefixes
from git_registry.repo import Repository

from conftest import Repo, make_registry

NAMES = [
    "churn@v1.0.0",
    "churn@v1.1.0",
    "churn#prod#1",
    "churn#staging#2",
    "churn2@v1.0.0",  # a longer artifact name with the same start
    "chur@v1.0.0",
    "churn",  # not a registry tag, but its name starts like one
    "churnx#prod#1",
    "dir/sub=model@v1.0.0",
    "dir/sub=model#dev#1",
    "dir/sub=model@v1.0.0x/deeper",  # a folder under the prefix
    "dir/other@v1.0.0",
    "caf\u00e9@v1.0.0",
    "a+b@v0.1.0",
    "zeta@v1.0.0",
]


def git_view(repo: Repo, prefix: str) -> dict[str, str]:
    """What Git lists under ``refs/tags/PREFIX``, symbolic refs resolved."""
    out = repo.git("for-each-ref", "--format=%(objectname) %(refname)", "refs/tags/")
    found = {}
    for line in out.splitlines():
        oid, _, ref = line.partition(" ")
        name = ref.removeprefix("refs/tags/")
        if oid and name.startswith(prefix):
            found[name] = oid
    return found


def opened(repo: Repo) -> Repository:
    git_dir = str(repo.path / ".git")
    return Repository(RepoPaths(git_dir, git_dir, str(repo.path), False))


def ours(repo: Repo, prefixes: list[str] | None) -> dict[str, str]:
    with opened(repo) as handle:
        return dict(handle.tag_refs(prefixes))


def check_all(repo: Repo) -> None:
    prefixes = sorted({*(n[:i] for n in NAMES for i in range(1, len(n) + 1))})
    for prefix in prefixes:
        assert ours(repo, [prefix]) == git_view(repo, prefix), prefix
    for artifact in ("churn", "dir/sub:model", "caf\u00e9", "nothing"):
        first, second = tag_prefixes([artifact])
        expected = {**git_view(repo, first), **git_view(repo, second)}
        assert ours(repo, tag_prefixes([artifact])) == expected


@pytest.fixture
def tagged(repo: Repo) -> Repo:
    make_registry(repo, "churn@v1.0.0")
    for i, name in enumerate(NAMES):
        if name != "churn@v1.0.0":
            if i % 2:
                repo.git("tag", "-a", "-m", name, name)
            else:
                repo.git("tag", name)
    return repo


def test_loose_packed_and_both(tagged: Repo) -> None:
    check_all(tagged)  # loose
    tagged.git("pack-refs", "--all")
    assert "sorted" in (tagged.path / ".git" / "packed-refs").read_text().splitlines()[0]
    assert "\n^" in (tagged.path / ".git" / "packed-refs").read_text()  # peeled lines
    check_all(tagged)
    # Behind our back: re-pointed (a loose ref over the packed one), deleted, added.
    tagged.commit("another")
    tagged.git("tag", "-f", "churn@v1.1.0")
    tagged.git("tag", "-d", "churn#prod#1")
    tagged.git("tag", "churn#prod#9")
    check_all(tagged)


def test_a_broken_loose_ref_hides_the_packed_one(tagged: Repo) -> None:
    tagged.git("pack-refs", "--all")
    (tagged.path / ".git" / "refs" / "tags" / "churn@v1.0.0").write_text("not an id\n")
    assert "churn@v1.0.0" not in ours(tagged, tag_prefixes(["churn"]))
    assert "churn@v1.1.0" in ours(tagged, tag_prefixes(["churn"]))


def test_lock_files_are_not_refs(tagged: Repo) -> None:
    tagged.git("pack-refs", "--all")
    oid = tagged.git("rev-parse", "churn@v1.0.0").strip()
    (tagged.path / ".git" / "refs" / "tags" / "churn@v9.0.0.lock").write_text(oid + "\n")
    assert "churn@v9.0.0.lock" not in ours(tagged, tag_prefixes(["churn"]))
    check_all(tagged)


def test_symbolic_refs(tagged: Repo) -> None:
    tagged.git("pack-refs", "--all")
    tagged.git("symbolic-ref", "refs/tags/churn@v7.0.0", "refs/tags/zeta@v1.0.0")  # packed target
    tagged.git("symbolic-ref", "refs/tags/churn@v8.0.0", "refs/heads/main")  # not a tag
    tagged.git("tag", "loose-target")
    tagged.git("symbolic-ref", "refs/tags/churn#dev#5", "refs/tags/loose-target")
    found = ours(tagged, tag_prefixes(["churn"]))
    assert found["churn@v7.0.0"] == tagged.git("rev-parse", "refs/tags/zeta@v1.0.0").strip()
    assert found["churn#dev#5"] == tagged.git("rev-parse", "refs/tags/loose-target").strip()
    assert "churn@v8.0.0" not in found  # as the full listing: only tags are followed
    assert ours(tagged, []) == {}  # no prefix: nothing
    everything = ours(tagged, None)
    assert {n: o for n, o in everything.items() if n.startswith(("churn@", "churn#"))} == found


@pytest.mark.parametrize("header", ["# pack-refs with: peeled fully-peeled \n", ""])
def test_a_packed_refs_file_without_the_sorted_trait_is_scanned(tagged: Repo, header: str) -> None:
    tagged.git("pack-refs", "--all")
    path = tagged.path / ".git" / "packed-refs"
    lines = path.read_text().splitlines(keepends=True)[1:]
    records: list[list[str]] = []
    for line in lines:
        if line.startswith("^"):
            records[-1].append(line)
        else:
            records.append([line])
    random.Random(4).shuffle(records)
    path.write_text(header + "".join("".join(r) for r in records))
    check_all(tagged)


def test_the_first_packed_line_of_a_name_wins(tagged: Repo) -> None:
    tagged.git("pack-refs", "--all")
    path = tagged.path / ".git" / "packed-refs"
    text = path.read_text()
    line = next(x for x in text.splitlines() if x.endswith(" refs/tags/churn@v1.0.0"))
    other = tagged.git("rev-parse", "zeta@v1.0.0").strip()
    path.write_text(text.replace(line + "\n", line + "\n" + f"{other} refs/tags/churn@v1.0.0\n"))
    assert ours(tagged, tag_prefixes(["churn"]))["churn@v1.0.0"] == line.split()[0]


def test_binary_search_over_many_packed_refs(tmp_path: Path) -> None:
    """Every prefix of a large sorted file, peeled lines included, as a scan finds it."""
    oid = "1" * 40
    names = sorted({f"m{i % 97:02d}{'@' if i % 3 else '#'}v{i}" for i in range(3000)})
    lines = ["# pack-refs with: peeled fully-peeled sorted \n"]
    for i, name in enumerate(names):
        lines.append(f"{oid} refs/tags/{name}\n")
        if i % 2:
            lines.append(f"^{'2' * 40}\n")
    common = tmp_path
    (common / "packed-refs").write_text("".join(lines))
    for prefix in ["m0", "m05@", "m05#", "m96@", "m97", "a", "z", "m42#v1", "m"]:
        expected = {n: oid for n in names if n.startswith(prefix)}
        assert refread.prefixed_tags(str(common), [prefix]) == expected
        assert refread.packed_tag(str(common), names[5]) == oid


@pytest.mark.parametrize("packed", [False, True])
def test_one_artifact_reads_list_its_tags_only(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, packed: bool
) -> None:
    """which, latest, show NAME, history NAME, check-ref, describe and writes of one artifact
    list neither every tag nor read the other artifacts' cached entries; an unknown
    artifact's hint lists them all (only then)."""
    from git_registry import tagcache

    from conftest import count_calls

    make_registry(repo, "churn@v1.0.0 churn#prod#1 seg@v0.0.1 seg#prod#1 other@v1.0.0")
    if packed:
        repo.git("pack-refs", "--all")
    repo.ok("show")  # the cache holds every artifact's segment
    listed = count_calls(monkeypatch, refread, "all_tags")
    segments: list[int] = []
    decode = tagcache._decode_segment

    def counted(raw: bytes, length: int, crc: int) -> dict[str, tagcache.Entry]:
        segments.append(1)
        return decode(raw, length, crc)

    monkeypatch.setattr(tagcache, "_decode_segment", counted)
    for args in (
        ("which", "churn", "prod"),
        ("latest", "churn"),
        ("show", "churn"),
        ("history", "churn"),
        ("check-ref", "churn@v1.0.0"),
    ):
        repo.ok(*args)
        assert (listed, len(segments)) == ([], 1), args
        segments.clear()
    repo.commit()
    repo.ok("register", "churn", "--version", "v2.0.0")
    repo.ok("promote", "churn@v2.0.0", "prod")
    assert repo.run("describe", "churn").code == 1  # not annotated; its tags read only
    assert listed == []
    result = repo.run("which", "chrun", "prod")
    assert result.code == 1
    assert "did you mean 'churn'?" in result.err
    assert len(listed) == 1  # the hint's list of known artifacts


def test_a_prefix_never_reads_outside_refs_tags(tagged: Repo) -> None:
    """An artifact name that climbs out of the folder (typed by a user, or a symbolic
    ref's target) is looked up in packed-refs only, never as a file outside
    refs/tags/."""
    oid = tagged.git("rev-parse", "churn@v1.0.0").strip()
    outside = tagged.path / ".git" / "x@v1.0.0"
    outside.write_text(oid + "\n")
    assert ours(tagged, ["../../x@", "../../x#", "./churn@", "a//b@"]) == {}
    tags = tagged.path / ".git" / "refs" / "tags"
    (tags / "churn@v9.0.0").write_text("ref: refs/tags/../../x@v1.0.0\n")
    assert "churn@v9.0.0" not in ours(tagged, tag_prefixes(["churn"]))
    result = tagged.run("which", "../../x", "prod")
    assert result.code != 0
    assert outside.read_text() == oid + "\n"
