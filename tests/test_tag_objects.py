"""Tag objects are read exactly as Git reads them (SPEC 9, Trust).

Tag objects in every malformed shape are written with ``git hash-object -t tag -w
--literally`` and a ref is pointed at them; every command must skip them with one
warning, ``check`` must list them, the server hook must refuse them, and every tag
the registry does report must peel to the commit ``git rev-parse TAG^{commit}`` names.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hooks import push

from git_registry import gitobjects, tagcache
from git_registry.gitvalues import ObjectId, Signature
from git_registry.grammar import TAG_PREFIX, refname_problem
from git_registry.tagcache import TagCache, entry_of, entry_row
from git_registry.tagobject import (
    TagHeader,
    _header_problem,
    format_tag_object,
    header_name,
    parse_tag_object,
    read_tag_row,
    signature_start,
)

from conftest import Repo


def test_object_types_looks_up_every_id_in_order_with_one_git(repo: Repo) -> None:
    commit = repo.git("rev-parse", "HEAD").strip()
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    blob = repo.git("rev-parse", "HEAD:data.txt").strip()
    repo.tag("v1")
    tag = repo.git("rev-parse", "v1").strip()
    missing = "0123456789" * 4
    git_dir = str(repo.path / ".git")
    ids = [commit, tree, blob, tag, missing, commit]
    assert gitobjects.object_types(git_dir, ids) == [
        "commit",
        "tree",
        "blob",
        "tag",
        None,
        "commit",
    ]
    assert gitobjects.object_types(git_dir, []) == []


def test_object_types_never_sends_what_is_not_a_full_lower_case_id(repo: Repo) -> None:
    commit = repo.git("rev-parse", "HEAD").strip()
    git_dir = str(repo.path / ".git")
    odd = [
        commit.upper(),
        commit[:7],
        "HEAD",
        "--batch-all-objects",
        f"{commit}\n{commit}",  # would make Git answer twice and shift every answer
        "",
    ]
    assert gitobjects.object_types(git_dir, [*odd, commit]) == [None] * len(odd) + ["commit"]
    assert gitobjects.object_types(git_dir, odd) == [None] * len(odd)


def test_object_types_of_a_repository_that_is_not_there(tmp_path: Path) -> None:
    # Git fails at once: every answer is None (the caller reports "missing"), no exception.
    assert gitobjects.object_types(str(tmp_path / "nowhere"), ["a" * 40]) == [None]


# -- building tag objects by hand ------------------------------------------------------

IDENT = "Tom Tagger <tom@example.com> 1700000100 +0000"


def header(target: str, kind: str = "commit", name: str = "x", tagger: str | None = IDENT) -> str:
    """A tag header as Git writes it (ending with its line break)."""
    lines = [f"object {target}", f"type {kind}", f"tag {name}"]
    lines += [f"tagger {tagger}"] if tagger is not None else []
    return "\n".join(lines) + "\n"


def write_object(repo: Repo, raw: bytes) -> str:
    """Store ``raw`` as a tag object, whatever its shape; return its id."""
    proc = subprocess.run(
        ["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"],
        cwd=repo.path,
        input=raw,
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode().strip()


def point(repo: Repo, name: str, oid: str) -> None:
    """Point ``refs/tags/NAME`` at ``oid``.

    ``git update-ref`` first; Git 2.39 refuses an object it cannot parse as a tag at
    all (two ``object`` lines, a missing ``type``...), yet such a ref arrives by
    other means (another Git implementation, a server without fsck, a hand edit), so
    then write the loose ref file ``update-ref`` would have written.
    """
    proc = subprocess.run(
        ["git", "update-ref", f"refs/tags/{name}", oid], cwd=repo.path, capture_output=True
    )
    if proc.returncode != 0:
        assert "nonexistent object" in proc.stderr.decode(), proc.stderr
        (repo.path / ".git" / "refs" / "tags" / name).write_text(oid + "\n")
    assert repo.git("rev-parse", f"refs/tags/{name}").strip() == oid


@dataclass
class Ids:
    """The objects a malformed tag is made of, in a repository built by :func:`setup`."""

    repo: Repo
    commit: str  # the commit the malformed tags are about (it holds churn@v1.1.0)
    other: str  # an older commit (churn@v1.0.0, churn#prod#1)
    tree: str
    fresh: str  # a newer commit with no version


Shape = Callable[[Ids, str], "tuple[bytes, str]"]
"""A malformed tag object named NAME: (its bytes, the problem expected, where '{oid}'
stands for the tag object's own id)."""


def _of_inner(ids: Ids, name: str, kind: str, inner: str, problem: str) -> tuple[bytes, str]:
    """A tag of type ``kind`` of the tag object ``inner``, and its ``problem``."""
    oid = write_object(ids.repo, inner.encode())
    return (header(oid, kind, name=name) + "\n").encode(), problem.replace("{inner}", oid)


SHAPES: dict[str, Shape] = {
    "duplicate object": lambda ids, name: (
        f"object {ids.commit}\nobject {ids.other}\ntype commit\ntag {name}\n"
        f"tagger {IDENT}\n\nm\n".encode(),
        "malformed tag object {oid}: the 'object' header appears twice",
    ),
    "duplicate type": lambda ids, name: (
        f"object {ids.commit}\ntype commit\ntype commit\ntag {name}\ntagger {IDENT}\n\n".encode(),
        "malformed tag object {oid}: the 'type' header appears twice",
    ),
    "duplicate tag": lambda ids, name: (
        f"object {ids.commit}\ntype commit\ntag {name}\ntag {name}\ntagger {IDENT}\n\n".encode(),
        "malformed tag object {oid}: the 'tag' header appears twice",
    ),
    "duplicate tagger": lambda ids, name: (
        (
            header(ids.commit, name=name) + "tagger Eve <eve@example.com> 4102444800 +0000\n\nm\n"
        ).encode(),
        "malformed tag object {oid}: the 'tagger' header appears twice",
    ),
    "three taggers": lambda ids, name: (
        (header(ids.commit, name=name) + f"tagger {IDENT}\ntagger {IDENT}\n\nm\n").encode(),
        "malformed tag object {oid}: the 'tagger' header appears 3 times",
    ),
    "missing tagger": lambda ids, name: (
        (header(ids.commit, name=name, tagger=None) + "\nold style\n").encode(),
        "malformed tag object {oid}: no 'tagger' header (a registry event needs a tagger)",
    ),
    "missing type": lambda ids, name: (
        f"object {ids.commit}\ntag {name}\ntagger {IDENT}\n\nm\n".encode(),
        "malformed tag object {oid}: no 'type' header",
    ),
    "missing object": lambda ids, name: (
        f"type commit\ntag {name}\ntagger {IDENT}\n\nm\n".encode(),
        "malformed tag object {oid}: no 'object' header",
    ),
    "reordered": lambda ids, name: (
        f"type commit\nobject {ids.commit}\ntag {name}\ntagger {IDENT}\n\nm\n".encode(),
        "malformed tag object {oid}: the headers are in the order type, object, tag, tagger "
        "(Git writes object, type, tag, tagger)",
    ),
    "unknown header": lambda ids, name: (
        f"object {ids.commit}\ntype commit\nencoding UTF-8\ntag {name}\n"
        f"tagger {IDENT}\n\n".encode(),
        "malformed tag object {oid}: unknown header 'encoding' (Git writes object, type, tag, "
        "tagger)",
    ),
    "gpgsig after tagger": lambda ids, name: (
        (header(ids.commit, name=name) + "gpgsig -----BEGIN PGP SIGNATURE-----\n \n\nm\n").encode(),
        "malformed tag object {oid}: unknown header 'gpgsig'",
    ),
    "short object id": lambda ids, name: (
        (header(ids.commit[:12], name=name) + "\nm\n").encode(),
        "malformed tag object {oid}: the 'object' header '"
        + ids.commit[:12]
        + "' is not a full lower-case 40-digit object id",
    ),
    "upper-case object id": lambda ids, name: (
        (header(ids.commit.upper(), name=name) + "\nm\n").encode(),
        "malformed tag object {oid}: the 'object' header '"
        + ids.commit.upper()
        + "' is not a full lower-case 40-digit object id",
    ),
    "unknown type": lambda ids, name: (
        (header(ids.commit, "Commit", name=name) + "\nm\n").encode(),
        "malformed tag object {oid}: the 'type' header 'Commit' is not commit, tree, blob or tag",
    ),
    "a tree said to be a commit": lambda ids, name: (
        (header(ids.tree, name=name) + "\nm\n").encode(),
        "tag {oid} says its object is a commit but " + ids.tree + " is a tree",
    ),
    "a commit said to be a tag": lambda ids, name: (
        (header(ids.commit, "tag", name=name) + "\nm\n").encode(),
        "tag {oid} says its object is a tag but " + ids.commit + " is a commit",
    ),
    "a tag said to be a commit": lambda ids, name: _of_inner(
        ids,
        name,
        "commit",
        header(ids.commit) + "\n",
        "tag {oid} says its object is a commit but {inner} is a tag",
    ),
    "a tag of a malformed tag": lambda ids, name: _of_inner(
        ids,
        name,
        "tag",
        header(ids.commit) + f"tagger {IDENT}\n\n",
        "malformed tag object {inner} (reached from tag {oid}): the 'tagger' header appears twice",
    ),
    "a tag of a tag of a tree said to be a commit": lambda ids, name: _of_inner(
        ids,
        name,
        "tag",
        header(ids.tree) + "\n",
        "tag {inner} says its object is a commit but " + ids.tree + " is a tree",
    ),
    "tagger without time": lambda ids, name: (
        (header(ids.commit, name=name, tagger="Tom Tagger <tom@example.com>") + "\n").encode(),
        "malformed tag object {oid}: the 'tagger' header 'Tom Tagger <tom@example.com>' "
        "has no time",
    ),
    "garbage zone": lambda ids, name: (
        (header(ids.commit, name=name, tagger="T <t@e> 1700000100 +zz00") + "\n").encode(),
        "malformed tag object {oid}: the tagger time and zone '1700000100 +zz00' are not "
        "'SECONDS +HHMM' (or -HHMM)",
    ),
    "tagger without email": lambda ids, name: (
        (header(ids.commit, name=name, tagger="Tom 1700000100 +0000") + "\n").encode(),
        "malformed tag object {oid}: the 'tagger' header 'Tom 1700000100 +0000' is not "
        "'Name <email> time zone'",
    ),
    "zero-padded time": lambda ids, name: (
        (header(ids.commit, name=name, tagger="T <t@e> 0001700000100 +0000") + "\n").encode(),
        "malformed tag object {oid}: the tagger time '0001700000100' has leading zeros",
    ),
    "time overflowing 64 bits": lambda ids, name: (
        (header(ids.commit, name=name, tagger="T <t@e> 9223372036854775808 +0000") + "\n").encode(),
        "malformed tag object {oid}: the tagger time '9223372036854775808' overflows a 64-bit time",
    ),
    "invalid tag name": lambda ids, name: (
        (header(ids.commit, name="a..b") + "\n").encode(),
        "malformed tag object {oid}: the 'tag' header 'a..b' is not a valid tag name "
        "(it contains '..')",
    ),
    "NUL in the header": lambda ids, name: (
        (header(ids.commit, name=name, tagger="T\0 <t@e> 1700000100 +0000") + "\n").encode(),
        "malformed tag object {oid}: the header contains a NUL byte",
    ),
    "header without an end": lambda ids, name: (
        (header(ids.commit, name=name) + "no empty line before this").encode(),
        "malformed tag object {oid}: the header does not end",
    ),
    "CR LF line ends": lambda ids, name: (
        header(ids.commit, name=name).replace("\n", "\r\n").encode() + b"\r\n",
        "malformed tag object {oid}: ",
    ),
}


def setup(repo: Repo) -> Ids:
    """churn@v1.0.0 and churn#prod#1 on the first commit, churn@v1.1.0 on the second;
    a third commit has no tag."""
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn", "prod")
    other = repo.git("rev-parse", "HEAD").strip()
    commit = repo.commit()
    repo.ok("register", "churn", "--version", "v1.1.0")
    fresh = repo.commit()
    return Ids(repo, commit, other, repo.git("rev-parse", "HEAD^{tree}").strip(), fresh)


def add_malformed(repo: Repo, ids: Ids, shape: str) -> dict[str, str]:
    """A registration and a promotion in ``shape``: tag name -> the problem expected."""
    expected = {}
    for name in ("churn@v2.0.0", "churn#prod#5"):
        raw, problem = SHAPES[shape](ids, name)
        oid = write_object(repo, raw)
        point(repo, name, oid)
        expected[name] = problem.replace("{oid}", oid)
    return expected


def reported_commits(repo: Repo) -> dict[str, str]:
    """Tag -> commit, for every event ``history --json`` reports."""
    result = repo.run("history", "--json")
    assert result.code == 0, result.err
    return {e["tag"]: e["commit"] for e in json.loads(result.out)["events"]}


def assert_reported_as_git_peels(repo: Repo) -> set[str]:
    """Every event's commit is the one Git peels its tag to; return the tags reported."""
    reported = reported_commits(repo)
    for tag, commit in reported.items():
        assert repo.git("rev-parse", "--verify", f"refs/tags/{tag}^{{commit}}").strip() == commit
    return set(reported)


def assert_warned_once(err: str, expected: dict[str, str]) -> None:
    assert "Traceback" not in err
    for name, problem in expected.items():
        lines = [line for line in err.splitlines() if line.startswith(f"warning: {name}: ")]
        assert len(lines) == 1, err
        assert problem in lines[0], (problem, lines[0])


# -- every command skips a malformed tag -------------------------------------------------


@pytest.mark.parametrize("shape", list(SHAPES))
def test_commands_skip_a_malformed_tag_with_one_warning(repo: Repo, shape: str) -> None:
    ids = setup(repo)
    expected = add_malformed(repo, ids, shape)
    for args in (("show",), ("show", "churn"), ("history",), ("history", "churn")):
        result = repo.run(*args)
        assert result.code == 0, result.err
        assert_warned_once(result.err, expected)
        assert "v2.0.0" not in result.out and "prod#5" not in result.out
    shown = repo.run("show", "--json")
    assert shown.code == 0
    assert_warned_once(shown.err, expected)
    (artifact,) = json.loads(shown.out)["artifacts"]
    assert (artifact["latest"], artifact["stages"]["prod"]["version"]) == ("v1.1.0", "v1.0.0")
    assert assert_reported_as_git_peels(repo) == {"churn@v1.0.0", "churn#prod#1", "churn@v1.1.0"}
    # The malformed promotion is skipped: prod stays where churn#prod#1 put it.
    which = repo.run("which", "churn", "prod")
    assert (which.code, which.out) == (0, "v1.0.0\n")
    assert_warned_once(which.err, expected)
    for name, problem in expected.items():
        result = repo.run("check-ref", name, "--json")
        assert result.code == 1 and result.out == ""
        assert "Traceback" not in result.err and problem in result.err
    good = repo.run("check-ref", "churn@v1.1.0", "--json")
    assert good.code == 0 and json.loads(good.out)["commit"] == ids.commit
    check = repo.run("check")
    assert check.code == 1
    for name, problem in expected.items():
        assert f"{name}: {problem}" in check.out + check.err
    # Through Git, as users run it.
    shown = repo.git_registry("show")
    assert shown.code == 0 and "v2.0.0" not in shown.out
    assert_warned_once(shown.err, expected)
    checked = repo.git_registry("check")
    assert checked.code == 1 and "Traceback" not in checked.err
    assert all(
        f"{name}: {problem}" in checked.out + checked.err for name, problem in expected.items()
    )


def test_a_well_formed_signed_tag_still_reads(repo: Repo) -> None:
    ids = setup(repo)
    signature = "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n"
    raw = header(ids.fresh, name="churn@v2.0.0") + "\nSigned release\n" + signature
    point(repo, "churn@v2.0.0", write_object(repo, raw.encode()))
    repo.fsck()
    result = repo.run("check-ref", "churn@v2.0.0", "--json")
    assert result.code == 0 and result.err == ""
    event = json.loads(result.out)
    assert (event["commit"], event["unix_time"]) == (ids.fresh, 1700000100)
    assert event["message"] == "Signed release"
    assert event["tagger"] == {"name": "Tom Tagger", "email": "tom@example.com"}
    assert repo.run("check").code == 0


def test_a_tag_with_no_message_and_no_empty_line_reads(repo: Repo) -> None:
    """``git mktag`` accepts a header ending the object (fsck: 'not having a body is
    not a crime'), so we do too."""
    ids = setup(repo)
    raw = header(ids.fresh, name="churn@v2.0.0").encode()
    made = subprocess.run(
        ["git", "mktag"], cwd=repo.path, input=raw, capture_output=True, check=True
    )
    point(repo, "churn@v2.0.0", made.stdout.decode().strip())
    event = json.loads(repo.ok("check-ref", "churn@v2.0.0", "--json"))
    assert (event["commit"], event["message"]) == (ids.fresh, "")
    assert "churn@v2.0.0" in assert_reported_as_git_peels(repo)


def test_a_tag_of_a_tag_reads_as_git_peels_it(repo: Repo) -> None:
    ids = setup(repo)
    inner = write_object(repo, (header(ids.fresh, name="inner") + "\n").encode())
    middle = write_object(repo, (header(inner, "tag", name="middle") + "\n").encode())
    point(repo, "churn@v2.0.0", write_object(repo, (header(middle, "tag") + "\n").encode()))
    repo.fsck()
    assert repo.run("check").code == 0
    assert reported_commits(repo)["churn@v2.0.0"] == ids.fresh
    assert "churn@v2.0.0" in assert_reported_as_git_peels(repo)


@pytest.mark.core
def test_times_and_zones_out_of_range_are_kept_as_written() -> None:
    """Out-of-range times are another rule's business; reading keeps them and never fails."""
    commit = "a" * 40
    for ident, time, zone in [
        ("T <t@e> 99999999999999 +2400", 99999999999999, 24 * 60),
        ("T <t@e> 0 +9959", 0, 99 * 60 + 59),
        ("T <t@e> 9223372036854775807 -9999", 2**63 - 1, -(99 * 60 + 99)),
    ]:
        parsed = parse_tag_object((header(commit, tagger=ident) + "\n").encode(), 40)
        assert isinstance(parsed, TagHeader), parsed
        assert (parsed.tagger.time, parsed.tagger.tz_offset) == (time, zone)


@pytest.mark.core
def test_problems_escape_and_shorten_what_they_quote() -> None:
    commit = "a" * 40
    raw = (header(commit, name="v1\x1b[31m\u202e" + "x" * 200) + "\n").encode()
    problem = parse_tag_object(raw, 40)
    assert isinstance(problem, str)
    assert problem.startswith("the 'tag' header 'v1\\x1b[31m\\u202e") and "\x1b" not in problem
    assert "..." in problem and len(problem) < 200
    problem = parse_tag_object(b"object \xff\n" * 3 + b"\n", 40)
    assert problem == "the 'object' header appears 3 times"
    problem = parse_tag_object(header(commit).encode() + b"\xff\x07\r\n\n", 40)
    assert problem == "unexpected header line '\\xff\\x07\\r'"
    problem = parse_tag_object(header(commit).encode() + b"x-\xffa\x07 1\n\n", 40)
    assert problem == "unknown header 'x-\\xffa\\x07' (Git writes object, type, tag, tagger)"


def test_the_object_id_has_the_repository_s_hash_length(tmp_path: Path) -> None:
    path = tmp_path / "sha256"
    made = subprocess.run(["git", "init", "-q", "--object-format=sha256", str(path)], check=False)
    if made.returncode != 0:
        pytest.skip("this Git cannot make SHA-256 repositories")
    repo = Repo(path)  # 'git init' again keeps the object format
    commit = repo.commit()
    assert len(commit) == 64
    point(repo, "churn@v1.0.0", write_object(repo, (header(commit) + "\n").encode()))
    short = write_object(repo, (header(commit[:40]) + "\n").encode())
    point(repo, "churn@v2.0.0", short)
    assert reported_commits(repo) == {"churn@v1.0.0": commit}
    check = repo.run("check")
    assert check.code == 1
    assert (
        f"churn@v2.0.0: malformed tag object {short}: the 'object' header '{commit[:40]}' is "
        "not a full lower-case 64-digit object id"
    ) in check.out + check.err


# -- the parser: never raises, says why, agrees with git mktag --------------------------

COMMIT = "0123456789abcdef0123456789abcdef01234567"
# Each header as Git writes it, then other forms of it (some fine, most not).
HEADER_FORMS = {
    "object": [
        f"object {COMMIT}",
        f"object {COMMIT[:12]}",
        "object",
        f"object  {COMMIT}",
        f"object {COMMIT} ",
    ],
    "type": ["type commit", "type Commit", "type commit ", "type", "type commits"],
    "tag": ["tag v1", "tag churn@v1.0.0", "tag a..b", "tag ", "tag x y", "tag x.lock", "tag é"],
    "tagger": [
        "tagger T <t@e> 1700000000 +0000",
        "tagger  <t@e> 0 -0130",
        "tagger Tom T. <> 1 +0100",
        "tagger T <t@e> 9223372036854775807 +9959",
        "tagger T <t@e> 9223372036854775808 +0000",
        "tagger T <t@e> 01 +0000",
        "tagger <t@e> 1 +0000",
        "tagger T <t@e>",
        "tagger T <t@e> 1 +00",
        "tagger T <t@e> 1 +0000 ",
        "tagger T> <t@e> 1 +0000",
        "tagger T <t<e> 1 +0000",
        "tagger T <t@e>> 1 +0000",
        "tagger T <t@e>1 +0000",
        "tagger T\0 <t@e> 1 +0000",
    ],
}
EXTRA_LINES = ["gpgsig x", " continued", "encoding UTF-8", ""]
HEADER_LINES = [line for forms in HEADER_FORMS.values() for line in forms] + EXTRA_LINES
# Where we are knowingly stricter than fsck: forms Git never writes.
STRICTER_THAN_GIT = [
    f"object {COMMIT.upper()}",
    "tagger T <t@e> +1 +0000",
    "tagger T <t@e>  1 +0000",
]
ENDINGS = ["\n", "\n\nmessage\n", "", "\n\n", "\n\n\0 binary body\n"]
WELL_FORMED = header(COMMIT, name="v1", tagger="T <t@e> 1700000000 +0000") + "\n"


def _edit(lines: list[str], ops: list[tuple[int, int, str]]) -> list[str]:
    """Apply (kind, position, line) edits: 0 insert, 1 delete, 2 duplicate, 3 swap."""
    lines = list(lines)
    for kind, where, line in ops:
        at = where % (len(lines) + 1)
        if kind == 0:
            lines.insert(at, line)
        elif lines and kind == 1:
            del lines[at % len(lines)]
        elif lines and kind == 2:
            lines.insert(at, lines[at % len(lines)])
        elif len(lines) > 1:
            i, j = at % len(lines), (at + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
    return lines


def headers(extra: list[str] = EXTRA_LINES) -> st.SearchStrategy[bytes]:
    """Tag objects near the shape Git writes: each header as Git writes it (most often)
    or another form of it, then a few lines inserted, deleted, duplicated or swapped."""
    forms = [
        st.one_of(st.just(good), st.just(good), st.just(good), st.sampled_from(others))
        for good, *others in HEADER_FORMS.values()
    ]
    ops = st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 5), st.sampled_from(HEADER_LINES + extra)),
        max_size=2,
    )
    return st.builds(
        lambda chosen, edits, end: ("\n".join(_edit(list(chosen), edits)) + end).encode(
            "utf-8", "surrogateescape"
        ),
        st.tuples(*forms),
        ops,
        st.sampled_from(ENDINGS),
    )


def mutations() -> st.SearchStrategy[bytes]:
    """A well-formed tag object with a few bytes replaced, inserted or removed."""

    def mutate(ops: list[tuple[int, int, bytes]]) -> bytes:
        raw = WELL_FORMED.encode()
        for where, cut, insert in ops:
            where %= len(raw) + 1
            raw = raw[:where] + insert + raw[where + cut :]
        return raw

    piece = st.sampled_from([b"", b"\n", b" ", b"<", b">", b"\0", b"\xff", b"A", b"0", b"-"])
    return st.lists(
        st.tuples(st.integers(0, 200), st.integers(0, 3), piece), min_size=1, max_size=3
    ).map(mutate)


ANY_TAG_BYTES = (
    st.binary(max_size=300)
    | headers(EXTRA_LINES + STRICTER_THAN_GIT)
    | mutations()
    | st.lists(
        st.sampled_from([b"object ", b"type ", b"tag ", b"tagger ", COMMIT.encode(), b"\n"]),
    ).map(b"".join)
)


@pytest.mark.core
@settings(max_examples=500, deadline=None)
@given(ANY_TAG_BYTES)
def test_parse_never_raises_and_says_why_in_one_short_line(raw: bytes) -> None:
    parsed = parse_tag_object(raw, 40)
    if isinstance(parsed, str):
        assert parsed.isprintable() and len(parsed) < 250, parsed
        # The fast path refused it, so the slow path found what is wrong.
        assert parsed != "the header is not in the shape Git writes", raw
    else:
        assert isinstance(parsed, TagHeader)
        # The slow path agrees that nothing is wrong.
        assert _header_problem(raw, 40) == "the header is not in the shape Git writes", raw
        assert raw.startswith(f"object {parsed.target}\ntype {parsed.target_type}\n".encode())


@pytest.mark.core
@settings(max_examples=300, deadline=None)
@given(ANY_TAG_BYTES, ANY_TAG_BYTES, st.sampled_from(["tag", "commit", "blob", "missing"]))
def test_reading_a_tag_row_never_raises(outer: bytes, inner: bytes, inner_type: str) -> None:
    def read(oid: str) -> tuple[str, bytes] | None:
        return None if inner_type == "missing" else (inner_type, inner)

    row, lasting, declared_by = read_tag_row(("tag", outer), read, "a@v1.0.0", ObjectId("f" * 40))
    name, oid, target, _type, tagger, _message, problem = row
    assert (name, oid) == ("a@v1.0.0", "f" * 40)
    assert (target is None) == (problem is not None)
    if problem is not None:
        assert problem.isprintable() and len(problem) < 400
        assert lasting == ("missing" not in problem)
    else:
        assert tagger is not None and lasting and declared_by in ("f" * 40, COMMIT)


@pytest.mark.core
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"/.@{}~^:?*[\\ \t\x7f\xe9", "lock", ".lock", "a", "-"])))
def test_the_tag_name_check_is_git_check_ref_format(pieces: list[str]) -> None:
    name = "".join(pieces)
    raw = header(COMMIT, name=name) + "\n"
    parsed = parse_tag_object(raw.encode(), 40)
    if refname_problem(TAG_PREFIX + name) is None:
        assert isinstance(parsed, TagHeader)
    else:
        assert isinstance(parsed, str) and "is not a valid tag name" in parsed


@pytest.fixture(scope="module")
def mktag_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mktag")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(path)}
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    tree = subprocess.run(
        ["git", "hash-object", "-t", "tree", "-w", "--stdin"],
        cwd=path,
        input=b"",
        capture_output=True,
        check=True,
        env=env,
    ).stdout.strip()
    commit = f"tree {tree.decode()}\nauthor A <a@e> 0 +0000\ncommitter A <a@e> 0 +0000\n\nx\n"
    made = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
            cwd=path,
            input=commit.encode(),
            capture_output=True,
            check=True,
            env=env,
        )
        .stdout.decode()
        .strip()
    )
    (path / "commit").write_text(made)
    return path


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(headers())
def test_a_tag_object_is_well_formed_exactly_when_git_mktag_accepts_it(
    mktag_repo: Path, raw: bytes
) -> None:
    commit = (mktag_repo / "commit").read_text()
    raw = raw.replace(COMMIT.encode(), commit.encode())
    ours = isinstance(parse_tag_object(raw, 40), TagHeader)
    git_says = subprocess.run(["git", "mktag"], cwd=mktag_repo, input=raw, capture_output=True)
    assert ours == (git_says.returncode == 0), (raw, parse_tag_object(raw, 40), git_says.stderr)


# -- the tag cache ----------------------------------------------------------------------


def test_problems_are_cached_and_read_back_the_same(repo: Repo) -> None:
    ids = setup(repo)
    expected: dict[str, str] = {}
    for shape in ("duplicate object", "a tree said to be a commit", "a tag of a malformed tag"):
        raw, problem = SHAPES[shape](ids, "x")
        oid = write_object(repo, raw)
        name = f"churn@v{len(expected) + 2}.0.0"
        point(repo, name, oid)
        expected[name] = problem.replace("{oid}", oid)
    cache = repo.path / ".git" / tagcache.CACHE_DIR / tagcache.CACHE_FILE
    first = [repo.run(*args) for args in (("show",), ("check",), ("history", "--json"))]
    assert cache.is_file()
    entries = TagCache.load(str(repo.path / ".git")).entries
    for name, problem in expected.items():
        oid = repo.git("rev-parse", f"refs/tags/{name}").strip()
        assert entries[oid] == (tagcache.UNUSABLE, "", "", problem, "", "", 0, 0)
        row = entry_row(name, ObjectId(oid), entries[oid])
        assert row == (name, oid, None, "", None, "", problem)
        assert entry_of(row) == entries[oid]
    again = [repo.run(*args) for args in (("show",), ("check",), ("history", "--json"))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_PARAMETERS", "'registry.cache'='false'")
        uncached = [repo.run(*args) for args in (("show",), ("check",), ("history", "--json"))]
    assert first == again == uncached
    assert all(f"{name}: {problem}" in first[1].out for name, problem in expected.items())


@pytest.mark.core
def test_an_unusable_entry_round_trips_through_the_file(tmp_path: Path) -> None:
    problem = "malformed tag object 1234: the 'tagger' header appears twice \u00e9"
    row = ("a@v1.0.0", ObjectId("1" * 40), None, "", None, "", problem)
    saved = TagCache(str(tmp_path / tagcache.CACHE_DIR / tagcache.CACHE_FILE))
    saved.add(row)
    assert saved.save()
    loaded = TagCache.load(str(tmp_path))
    assert entry_row("a@v1.0.0", ObjectId("1" * 40), loaded.entries["1" * 40]) == row


def test_a_missing_target_is_not_cached_and_is_used_once_it_arrives(repo: Repo) -> None:
    ids = setup(repo)
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    commit = f"tree {tree}\nauthor A <a@e> 1 +0000\ncommitter A <a@e> 1 +0000\n\nlate\n".encode()
    late = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "--stdin"],  # its id, not written yet
            cwd=repo.path,
            input=commit,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    oid = write_object(repo, (header(late, name="churn@v2.0.0") + "\n").encode())
    point(repo, "churn@v2.0.0", oid)
    result = repo.run("check")
    assert result.code == 1
    assert f"churn@v2.0.0: object {late} is missing from the repository" in result.out
    assert oid not in TagCache.load(str(repo.path / ".git")).entries
    subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
        cwd=repo.path,
        input=commit,
        check=True,
        capture_output=True,
    )
    assert reported_commits(repo)["churn@v2.0.0"] == late
    assert TagCache.load(str(repo.path / ".git")).entries[oid][0] == tagcache.ANNOTATED
    assert ids.fresh != late


# -- hooks refuse them -----------------------------------------------------------------

# The malformed shapes Git 2.39 itself will push (it refuses to send a tag it cannot
# parse at all, or whose object has another type than the tag says).
PUSHABLE = [
    "duplicate tagger",
    "duplicate tag",
    "missing tagger",
    "gpgsig after tagger",
    "upper-case object id",
    "tagger without time",
    "garbage zone",
]


@pytest.mark.slow
@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
@pytest.mark.parametrize("shape", PUSHABLE)
def test_pushing_a_malformed_tag_is_refused(
    repo: Repo, remote: Repo, shape: str, verify: bool
) -> None:
    ids = setup(repo)
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    assert push(repo, "main", "churn@v1.0.0", "churn@v1.1.0").returncode == 0
    raw, problem = SHAPES[shape](ids, "churn@v2.0.0")
    oid = write_object(repo, raw)
    point(repo, "churn@v2.0.0", oid)
    proc = push(repo, "churn@v2.0.0", verify=verify)
    assert proc.returncode != 0
    assert f"churn@v2.0.0: {problem.replace('{oid}', oid)}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "churn@v2.0.0" not in remote.tags()
    if not verify:
        assert "remote: " in proc.stderr  # refused by the server hook, not by the client's


# -- signatures (issue 14) ---------------------------------------------------------------------


@pytest.mark.core
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"object x\n\nmessage\n", None),
        (b"object x\n\nmessage -----BEGIN PGP SIGNATURE-----\n", None),
        (b"m\n-----BEGIN SSH SIGNATURE-----\nabc\n", (2, "ssh")),
        (b"m\n-----BEGIN PGP SIGNATURE-----\n", (2, "openpgp")),
        (b"m\n-----BEGIN PGP MESSAGE-----\n", (2, "openpgp")),
        (b"m\n-----BEGIN SIGNED MESSAGE-----\n", (2, "x509")),
        # The last marker line is the signature (what comes before was signed).
        (b"m\n-----BEGIN PGP SIGNATURE-----\nx\n-----BEGIN SSH SIGNATURE-----\n", (34, "ssh")),
        (b"-----BEGIN SSH SIGNATURE-----", (0, "ssh")),
    ],
)
def test_signature_start_as_git_finds_it(raw: bytes, expected: tuple[int, str] | None) -> None:
    assert signature_start(raw) == expected


def test_format_tag_object_is_what_mktag_and_git_tag_write(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD").strip()
    who = Signature("Cy Committer", "cy@example.com", 1700000000, -90)
    text = format_tag_object("churn#prod#1", head, who, "m")
    written = subprocess.run(
        ["git", "mktag"], cwd=repo.path, input=text, capture_output=True, text=True, check=False
    )
    assert written.returncode == 0, written.stderr
    assert repo.git("cat-file", "tag", written.stdout.strip()) == text
    assert text.splitlines()[3] == "tagger Cy Committer <cy@example.com> 1700000000 -0130"


@pytest.mark.core
def test_header_name() -> None:
    head = "a" * 40
    who = Signature("C", "c@x", 1, 0)
    assert header_name(format_tag_object("churn#prod#1", head, who, "m").encode()) == (
        "churn#prod#1"
    )
    assert header_name(b"object x\ntype commit\ntag churn#prod#1\n") is None
