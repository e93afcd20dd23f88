"""The parse cache (``.git/registry/parse-cache``) never changes an answer.

Committed ``artifacts.yaml`` and policy files, good and broken, are read with the
cache, from it, and without it (``registry.cache=false``): the answers and every
problem (file, line, column, message) must be the same. A corrupt, truncated or
hand-edited file is ignored; a Git directory that cannot be written still works. A
warm read does not import the YAML parser.
"""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from git_registry import parsecache, parsedform
from git_registry.annotations import parse
from git_registry.gitvalues import ObjectId
from git_registry.parsecache import ParseCache
from git_registry.policy import parse_policy
from git_registry.repo import Repository

from conftest import Repo, outputs

GOOD = """\
churn:
  type: model
  path: models/churn.pt
  description: |
    Predicts churn.
    Two lines.
  labels: [a, b]
  custom: {nested: {list: [1, 2.5, true, null, "x"]}, 1: int key, 2.5: float key, null: n}
seg:
  path: s3://bucket/seg.pt
  virtual: true
empty:
"""

BROKEN = """\
churn:
  type: not allowed
  labels: [a, a, 3]
  tags: [x]
  path: /absolute
bad name!: {}
dup:
  path: p
  path: q
gone:
  path: missing/file.txt
  virtual: false
other:
  type: weights
"""

FILES = {
    "artifacts.yaml": GOOD,
    "models/churn.pt": "weights\n",
    ".registry.yaml": "stages: [dev, prod]\ntypes: [model, dataset]\n",
}
BROKEN_FILES = {
    "team/artifacts.yaml": BROKEN,
    "syntax/artifacts.yaml": "a: [unclosed\n",
    "list/artifacts.yaml": "- a\n- b\n",
    ".registry.yaml": "stages: [dev, prod, prod, 3]\ntypes: [model, dataset]\nextra: 1\n",
}


def cache_file(repo: Repo) -> Path:
    return repo.path / ".git" / parsecache.CACHE_DIR / parsecache.CACHE_FILE


@pytest.fixture
def annotated(repo: Repo) -> Repo:
    """Valid files, and registered versions."""
    repo.commit("artifacts", files=FILES)
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("register", "seg", "--version", "v1.0.0")
    return repo


@pytest.fixture
def broken(annotated: Repo) -> Repo:
    """Then broken files at HEAD, and a hand-made tag there."""
    annotated.commit("broken", files=BROKEN_FILES)
    annotated.tag("team=gone@v1.0.0")
    return annotated


def answers(repo: Repo, *, cache: bool = True) -> dict[str, tuple[int, str, str]]:
    """What the reads say about the committed files (each run opens the repository,
    and the cache, afresh)."""
    runs = [
        ("show", "--json"),
        ("show",),
        ("show", "churn"),
        ("show", "team:gone"),
        ("check",),
        ("describe", "churn"),
        ("describe", "team:churn"),
        ("check-ref", "churn@v1.0.0"),
        ("check-ref", "team=gone@v1.0.0"),
    ]
    return outputs(repo, runs, cache=cache)


def test_same_answers_and_problems_with_and_without_the_cache(broken: Repo) -> None:
    cache_file(broken).unlink()  # written by register
    without = answers(broken, cache=False)
    assert not cache_file(broken).exists()
    assert "invalid YAML" in str(without["check"])  # the broken files are reported
    assert "duplicate key 'path'" in str(without["check"])
    assert "type 'weights' is not allowed" in str(without["check"])
    first = answers(broken)  # parsed, then cached
    assert cache_file(broken).is_file()
    warm = answers(broken)  # from the cache
    assert first == warm == without


def test_a_warm_read_does_not_import_yaml(annotated: Repo) -> None:
    annotated.ok("show")  # writes the cache
    for args in (["show"], ["check-ref", "churn@v1.0.0"], ["show", "--json"]):
        script = textwrap.dedent(
            f"""
            import io, sys
            from git_registry.cli import main
            code = main({args!r}, stdout=io.StringIO(), stderr=io.StringIO())
            print(code, 'yaml' in sys.modules, 'git_registry.yamlsafe' in sys.modules)
            """
        )
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=annotated.path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert proc.stdout.split() == ["0", "False", "False"], (args, proc.stdout, proc.stderr)


def test_a_warm_pre_push_hook_does_not_import_yaml(annotated: Repo, remote: Repo) -> None:
    annotated.ok("show")
    oid = annotated.git("rev-parse", "refs/tags/churn@v1.0.0").strip()
    line = f"refs/tags/churn@v1.0.0 {oid} refs/tags/churn@v1.0.0 {'0' * 40}\n"
    script = textwrap.dedent(
        """
        import io, sys
        sys.stdin = io.StringIO(sys.argv[1])
        from git_registry.cli import main
        code = main(["hook", "pre-push", "origin", "url"], stdin=sys.stdin)
        print(code, 'yaml' in sys.modules, 'git_registry.yamlsafe' in sys.modules)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, line],
        cwd=annotated.path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.split()[-3:] == ["0", "False", "False"], proc.stderr
    # And a real push runs the hook and is accepted.
    annotated.ok("hooks", "install")
    annotated.git("push", "-q", "origin", "refs/tags/churn@v1.0.0")


def test_the_plain_form_round_trips_what_parse_returns() -> None:
    texts: list[str | bytes] = [*FILES.values(), "", "null\n", "a:\n  b: 1\n  b: 2\n"]
    texts += [b"\xff\xfe", "x: !!python 1\n"]
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for file in ("artifacts.yaml", "a/b/artifacts.yaml"):
            for types in (None, ("model",), ()):
                parsed = parse(data, file, types=types)
                plain = marshal.loads(marshal.dumps(parsedform.plain_annotations(parsed)))  # type: ignore[arg-type]
                assert parsedform.annotations_of(plain, file) == parsed
                assert parsedform.annotations_of(plain, "other/artifacts.yaml") is None
        for file in (".registry.yaml", ".gto"):
            policy, problems = parse_policy(data, file)
            plain = marshal.loads(marshal.dumps(parsedform.plain_policy(policy, problems)))  # type: ignore[arg-type]
            assert parsedform.policy_of(plain, file) == (policy, problems)


@pytest.mark.parametrize(
    "value",
    [
        None,
        1,
        (),
        ("artifacts.yaml",),
        ("artifacts.yaml", (), (), (), 1),  # editable not a bool
        ("artifacts.yaml", (("a",) * 11,), (), (), True),  # line not an int
        ("artifacts.yaml", (), (("artifacts.yaml", 1, 1, b"bytes", None, None),), (), True),
        ("artifacts.yaml", (), (), (("a", 1, 2, "3"),), True),
        ("artifacts.yaml", (), (), (("\udc80", 1, 2, 3),), True),
        (
            "artifacts.yaml",
            (("a", "artifacts.yaml", 1, None, None, None, (), {1j: 1}, True, (0, 0), ()),),
            (),
            (),
            True,
        ),
    ],
)
def test_data_of_another_shape_is_refused(value: object) -> None:
    assert parsedform.annotations_of(value, "artifacts.yaml") is None
    assert parsedform.policy_of(value, ".registry.yaml") is None


def _corrupt(data: bytes) -> dict[str, bytes]:
    header, _, payload = data.partition(b"\n")
    flipped = bytearray(payload)
    flipped[len(flipped) // 2] ^= 0xFF
    return {
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "flipped byte": header + b"\n" + bytes(flipped),
        "other schema": data.replace(b"parse-cache 1 ", b"parse-cache 99 ", 1),
        "not marshal": header + b"\n" + b"\x00" * len(payload),
        "garbage": os.urandom(len(data)),
    }


@pytest.mark.parametrize(
    "kind", ["empty", "truncated", "flipped byte", "other schema", "not marshal", "garbage"]
)
def test_a_corrupt_cache_is_ignored_and_rebuilt(broken: Repo, kind: str) -> None:
    expected = answers(broken, cache=False)
    broken.ok("show")
    path = cache_file(broken)
    path.write_bytes(_corrupt(path.read_bytes())[kind])
    assert answers(broken) == expected
    assert ParseCache.load(str(broken.path / ".git"))._entries  # rebuilt


def test_hand_edited_values_are_not_trusted(broken: Repo) -> None:
    """A well-formed file whose values have another shape: each is parsed again."""
    expected = answers(broken, cache=False)
    answers(broken)
    cache = ParseCache.load(str(broken.path / ".git"))
    keys = list(cache._entries)
    assert any(k.startswith("artifacts ") for k in keys)
    assert any(k.startswith("policy ") for k in keys)
    for key in keys:
        cache.put(key, ("not", "what", "we", "wrote"))
    assert cache.save()
    assert answers(broken) == expected


def test_turned_off_it_is_neither_read_nor_written(broken: Repo) -> None:
    cache_file(broken).unlink()
    expected = answers(broken, cache=False)
    assert not cache_file(broken).exists()
    broken.ok("show")
    cache = ParseCache.load(str(broken.path / ".git"))
    for key in cache._entries:
        cache.put(key, parsedform.plain_annotations(parse(b"other: {}\n", "artifacts.yaml")))
    cache.save()
    before = cache_file(broken).read_bytes()
    assert answers(broken, cache=False) == expected
    assert cache_file(broken).read_bytes() == before


def test_a_git_directory_we_cannot_write_to(broken: Repo) -> None:
    """Where the cache's folder cannot be created (a file in its place: this works even
    as root), commands work and write nothing."""
    expected = answers(broken, cache=False)
    folder = broken.path / ".git" / parsecache.CACHE_DIR
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("not a folder")
    assert answers(broken) == expected
    assert folder.read_text() == "not a folder"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root ignores file modes, so chmod cannot make .git read-only",
)
def test_a_read_only_git_directory(broken: Repo) -> None:
    expected = answers(broken, cache=False)
    broken.ok("show")  # a cache written before: still read
    git_dir = broken.path / ".git"
    modes = {p: p.stat().st_mode for p in [git_dir, *git_dir.rglob("*")] if p.is_dir()}
    for path, mode in modes.items():
        path.chmod(mode & ~0o222)
    try:
        assert answers(broken) == expected
        shutil.rmtree(git_dir / parsecache.CACHE_DIR, ignore_errors=True)
        assert answers(broken) == expected
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def test_the_oldest_unused_entries_go_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsecache, "MAX_ENTRIES", 3)
    cache = ParseCache.load(str(tmp_path))
    for key in "abc":
        cache.put(key, key)
    assert cache.save()
    cache = ParseCache.load(str(tmp_path))
    assert cache.get("a") == "a"  # used: kept
    cache.put("d", "d")
    assert cache.save()
    assert list(ParseCache.load(str(tmp_path))._entries) == ["c", "a", "d"]


def _git_commands(repo: Repo, *args: str, stdin: str = "") -> list[str]:
    """The Git commands ``git registry ARGS`` runs (its exit code must be 0)."""
    trace = repo.path.parent / "trace"
    trace.unlink(missing_ok=True)
    proc = subprocess.run(
        ["git", "registry", *args],
        cwd=repo.path,
        env={**os.environ, "GIT_TRACE": str(trace)},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    said = [line.partition("trace: built-in: git ")[2] for line in trace.read_text().splitlines()]
    return [command.split()[0] for command in said if command]


def test_a_warm_read_starts_no_cat_file_nor_ls_tree(annotated: Repo) -> None:
    """What a commit holds at a path (and which artifacts.yaml it has) is cached too."""
    oid = annotated.git("rev-parse", "refs/tags/churn@v1.0.0").strip()
    push = f"refs/tags/churn@v1.0.0 {oid} refs/tags/churn@v1.0.0 {'0' * 40}\n"
    runs: list[tuple[list[str], str]] = [
        (["show"], ""),
        (["check-ref", "churn@v1.0.0"], ""),
        (["hook", "pre-push", "origin", "url"], push),
    ]
    for args, stdin in runs:
        cache_file(annotated).unlink()
        first = _git_commands(annotated, *args, stdin=stdin)
        assert "cat-file" in first, args
        assert sorted(_git_commands(annotated, *args, stdin=stdin)) == ["config", "rev-parse"]


def test_a_missing_tree_is_not_cached(repo: Repo) -> None:
    """A tree a partial clone lacks may be fetched later: 'no such path' is not kept."""
    commit = repo.commit("folder", files={"team/artifacts.yaml": "a:\n"})
    blob = repo.git("rev-parse", f"{commit}:team/artifacts.yaml").strip()
    tree = repo.git("rev-parse", f"{commit}:team").strip()
    loose = repo.path / ".git" / "objects" / tree[:2] / tree[2:]
    saved = loose.read_bytes()
    loose.unlink()
    with Repository.discover(str(repo.path)) as opened:
        assert opened.blob_id_at(ObjectId(commit), "team/artifacts.yaml") is None
    loose.write_bytes(saved)
    with Repository.discover(str(repo.path)) as opened:
        assert opened.blob_id_at(ObjectId(commit), "team/artifacts.yaml") == blob
    with Repository.discover(str(repo.path)) as opened:  # now from the cache
        assert opened.blob_id_at(ObjectId(commit), "team/artifacts.yaml") == blob
        assert opened.blob_id_at(ObjectId(commit), "team/other.yaml") is None


def test_gto_s_reading_of_artifacts_yaml_is_kept_by_blob_id(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write asks whether GTO can read the root artifacts.yaml (issue 19); the answer
    is kept by blob id (issue 20: a 1,000-artifact file takes 0.1 s), the same from the
    cache, and asked again with the caches off."""
    from git_registry import gtocompat

    from conftest import count_calls

    repo.commit("bad", {"artifacts.yaml": "churn:\n  path: c.pkl\n  description: 2024-01-01\n"})
    calls = count_calls(monkeypatch, gtocompat, "yaml12_problem")
    first = repo.run("register", "churn")
    assert first.code == 128
    assert "is not a string for GTO's YAML 1.2 reader" in first.err
    assert len(calls) == 1
    repo.commit("same file")
    second = repo.run("register", "churn")
    assert len(calls) == 1  # from the parse cache
    head = repo.git("rev-parse", "--short", "HEAD").strip()
    before = repo.git("rev-parse", "--short", "HEAD~1").strip()
    assert second.err == first.err.replace(before, head)
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'registry.cache'='false'")
    assert repo.run("register", "churn").err == second.err
    assert len(calls) == 2
