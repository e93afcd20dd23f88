"""GTO 1.10's command forms (README, Switching from GTO): GTO 1.10.1 and ``git registry``
run the same argument vectors on identical repositories; writes must make the same tags
(names, targets, messages), reads must print the same (the shapes GTO scripts parse).

The only differences in the argument vectors are the documented ones: ``--json``
becomes ``--json=gto`` (our ``--json`` keeps our shape). Nothing is normalised in the
outputs compared: both tools read the same tags, so timestamps, authors and commit ids
are the same values.

GTO is run as a subprocess without the ``GIT_*_DATE`` variables (its pygit2 backend
refuses them), each write in a later second than the previous one, so that no two of
its events share a second (the tools order same-second events differently on purpose).
A missing GTO fails these tests unless ``GIT_REGISTRY_SKIP_GTO=1`` (as in
``test_gto_interop.py``).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from git_registry.cli import main
from git_registry.gtoshape import NOTHING, plain_table

from conftest import Repo

GTO = os.path.join(os.path.dirname(sys.executable), "gto")
GTO_VERSION = "1.10.1"
SKIP_GTO = os.environ.get("GIT_REGISTRY_SKIP_GTO") == "1"

gto = pytest.mark.gto


def _gto_problem() -> str | None:
    if not os.access(GTO, os.X_OK):
        return f"GTO is not installed (no executable {GTO})"
    proc = subprocess.run([GTO, "--version"], capture_output=True, text=True, check=False)
    if GTO_VERSION not in proc.stdout:
        return f"GTO {GTO_VERSION} is required, found: {proc.stdout.strip()} {proc.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def gto_problem() -> str | None:
    return _gto_problem()


@pytest.fixture
def require_gto(gto_problem: str | None) -> None:
    if gto_problem is None:
        return
    if SKIP_GTO:
        pytest.skip(f"GIT_REGISTRY_SKIP_GTO=1: {gto_problem}")
    pytest.fail(
        f"{gto_problem}. Install the test extra (pip install -e '.[test]'), "
        "or set GIT_REGISTRY_SKIP_GTO=1 to skip the GTO tests.",
        pytrace=False,
    )


class Gto:
    """The real ``gto``, each write started in a later second than the last ended."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.last_second = 0
        self.env = env

    def run(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**(self.env or os.environ), "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
        for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
            env.pop(var, None)
        return subprocess.run(
            [GTO, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )

    def write(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        while int(time.time()) <= self.last_second:
            time.sleep(1.02 - time.time() % 1)
        proc = self.run(cwd, *args)
        self.last_second = int(time.time())
        return proc


def tag_table(repo: Repo) -> list[tuple[str, str, str]]:
    """Every tag: name, the commit it leads to, its message."""
    out = repo.git(
        "for-each-ref",
        "--format=%(refname:strip=2)%00%(*objectname)%00%(contents)%00",
        "refs/tags",
    )
    fields = out.split("\0")
    rows = []
    for i in range(0, len(fields) - 1, 3):
        rows.append((fields[i].lstrip("\n"), fields[i + 1], fields[i + 2].rstrip("\n")))
    return rows


def run_in(cwd: Path, *args: str) -> tuple[int, str]:
    """``git registry ARGS`` in-process in ``cwd`` (no repository needed): exit code and
    stdout."""
    out = io.StringIO()
    code = main(list(args), stdout=out, stderr=io.StringIO(), cwd=str(cwd))
    return code, out.getvalue()


def ours(repo: Repo, monkeypatch: pytest.MonkeyPatch, when: int, *args: str) -> int:
    """``git registry ARGS`` in-process, its tags dated ``when``; the exit code."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"{when} +0000")
    return repo.run(*args).code


# -- writes: the same command lines make the same tags ---------------------------------

WRITES: list[tuple[str, ...]] = [
    ("register", "m"),
    ("assign", "m", "--stage", "dev"),  # the version at HEAD
    ("commit",),
    ("assign", "m", "HEAD", "--stage", "prod", "--version", "v1.0.0"),  # registers HEAD first
    ("assign", "m", "--stage", "staging", "--version", "v0.0.1", "--simple", "true"),
    ("assign", "m", "--stage", "qa", "--version", "v0.0.1", "--simple", "false"),
    ("assign", "m", "--stage", "prod", "--version", "v0.0.1", "-m", "hotfix"),
    ("promote", "n", "--stage", "dev"),  # GTO's alias; registers n at HEAD
    ("deprecate", "m", "v0.0.1", "staging", "--simple", "true"),  # unassign
    ("deprecate", "m", "v1.0.0", "prod"),  # unassign with a counter
    ("deprecate", "m", "v0.0.1"),  # deregister
    ("commit",),
    ("register", "m", "--ver", "v2.0.0", "--simple", "true"),
    ("register", "m", "--bump-minor"),
    ("deprecate", "n", "--ref", "HEAD"),
    ("register", "k", "-r", "."),
    ("assign", "k", "--stage", "dev", "-r", "."),
    ("deprecate", "k", "-d"),  # deletes every tag of k
    # refused by both, and nothing made: already in the stage; no such version
    ("assign", "m", "--stage", "dev", "--version", "v0.0.1"),
    ("deprecate", "m", "v9.9.9"),
]


@gto
def test_the_same_write_command_lines_make_the_same_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, require_gto: None
) -> None:
    by_gto, by_us = Repo(tmp_path / "by-gto"), Repo(tmp_path / "by-us")
    assert by_gto.commit("initial") == by_us.commit("initial")
    runner = Gto()
    when = 1700000100
    for args in WRITES:
        if args == ("commit",):
            assert by_gto.commit() == by_us.commit()
            continue
        proc = runner.write(by_gto.path, *args)
        when += 100
        code = ours(by_us, monkeypatch, when, *args)
        assert (code == 0) == (proc.returncode == 0), (args, code, proc.stdout, proc.stderr)
        assert tag_table(by_us) == tag_table(by_gto), args
    names = [name for name, _, _ in tag_table(by_us)]
    assert "m#staging" in names and "m#staging!" in names and "m#qa#3" in names
    assert not any(name.startswith("k") for name in names)


@gto
def test_gto_registration_from_assign_with_a_ref_names_the_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, require_gto: None
) -> None:
    """``assign NAME REF --stage S`` on a commit without a version registers the next
    one (no --version); on a commit with one, assigns that one; --version with REF
    that has another version is refused by both."""
    by_gto, by_us = Repo(tmp_path / "by-gto"), Repo(tmp_path / "by-us")
    by_gto.commit("initial")
    by_us.commit("initial")
    runner = Gto()
    when = 1700000100
    steps: list[tuple[str, ...]] = [
        ("register", "m", "--version", "v1.2.3"),
        ("commit",),
        ("assign", "m", "HEAD", "--stage", "prod"),  # registers v1.2.4
        ("assign", "m", "HEAD~1", "--stage", "dev"),  # v1.2.3, already registered
        ("assign", "m", "HEAD", "--stage", "qa", "--version", "v3.0.0"),  # HEAD has v1.2.4
    ]
    for args in steps:
        if args == ("commit",):
            assert by_gto.commit() == by_us.commit()
            continue
        proc = runner.write(by_gto.path, *args)
        when += 100
        code = ours(by_us, monkeypatch, when, *args)
        assert (code == 0) == (proc.returncode == 0), (args, code, proc.stderr)
        assert tag_table(by_us) == tag_table(by_gto), args
    assert "m@v1.2.4" in [n for n, _, _ in tag_table(by_us)]


# -- reads: the same command lines print the same --------------------------------------


@pytest.fixture(scope="module")
def gto_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry written by GTO itself (real, distinct seconds): m with three versions
    (v1.0.0 and v0.0.1 both hold prod: the newest assignment is v0.0.1's; an unassigned
    stage; a deregistered version), n deprecated, p in dev."""
    problem = _gto_problem()
    if problem is not None:
        if SKIP_GTO:
            pytest.skip(f"GIT_REGISTRY_SKIP_GTO=1: {problem}")
        pytest.fail(problem, pytrace=False)
    path = tmp_path_factory.mktemp("gto-registry") / "repo"
    env = {  # as the hermetic fixture makes it (this fixture is set up before that one)
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(path.parent),
        "XDG_CONFIG_HOME": str(path.parent / ".config"),
        "GIT_AUTHOR_NAME": "Ada Author",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Cy Committer",
        "GIT_COMMITTER_EMAIL": "cy@example.com",
        "GIT_AUTHOR_DATE": "1700000000 +0000",
        "GIT_COMMITTER_DATE": "1700000000 +0000",
    }
    path.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)

    git("-c", "init.defaultBranch=main", "init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "one")
    runner = Gto(env)
    steps: list[tuple[str, ...]] = [
        ("register", "m", "--version", "v0.0.1"),
        ("register", "n"),
        ("commit",),
        ("register", "m", "--version", "v1.0.0"),
        ("assign", "m", "--stage", "prod", "--version", "v1.0.0"),
        ("assign", "m", "--stage", "prod", "--version", "v0.0.1"),
        ("assign", "m", "--stage", "staging", "--version", "v1.0.0"),
        ("deprecate", "m", "v1.0.0", "staging"),
        ("commit",),
        ("register", "m", "--version", "v0.5.0"),
        ("deprecate", "m", "v0.5.0"),
        ("assign", "p", "HEAD", "--stage", "dev"),
        ("assign", "n", "--stage", "qa", "--version", "v0.0.1"),
        ("deprecate", "n"),
    ]
    for args in steps:
        if args == ("commit",):
            git("commit", "-q", "--allow-empty", "-m", "more")
            continue
        proc = runner.write(path, *args)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return path


READS: list[tuple[str, ...]] = [
    ("show", "--plain"),
    ("show", "-d", "--plain"),
    ("show", "--deprecated", "--plain", "--sort", "semver"),
    ("show", "--json"),
    ("show", "-d", "--json"),
    ("show", "--json", "--sort", "semver"),
    ("show", "--name"),
    ("show", "m", "--plain"),
    ("show", "m", "--ro", "--plain"),
    ("show", "m", "-d", "--plain"),
    ("show", "m", "--plain", "--sort", "semver"),
    ("show", "m", "--version"),
    ("show", "m", "--stage"),
    ("show", "m", "--ref"),
    ("show", "m@v1.0.0", "--plain"),
    ("show", "p#dev", "--plain"),
    ("show", "m", "--version", "-r", "."),
    ("history", "--plain"),
    ("history", "m", "--plain", "--asc"),
    ("history", "--json"),
    ("history", "n", "--json", "--ascending"),
    ("stages", "--allowed"),
    ("stages", "--json"),
    ("stages", "--used", "--json"),
    ("stages", "--allowed", "--json"),
    ("stages", "--json", "-r", "."),
    ("check-ref", "m#prod#2", "--json"),
    ("check-ref", "m@v0.5.0!", "--json"),
    ("check-ref", "n@deprecated", "--json"),
    ("check-ref", "m#staging!#4", "--json"),
    ("check-ref", "m#prod#2", "--name"),
    ("check-ref", "m#prod#2", "--version"),
    ("check-ref", "m#prod#2", "--stage"),
    ("check-ref", "m#prod#2", "--event"),
    ("check-ref", "n@deprecated", "--version"),  # nothing, as GTO
    ("check-ref", "m@v1.0.0", "--stage"),
    ("check-ref", "refs/tags/p@v0.0.1", "--event", "-r", "."),
]


def _ours_for(args: tuple[str, ...]) -> list[str]:
    """GTO's argument vector, with the documented --json=gto."""
    return ["--json=gto" if a == "--json" else a for a in args]


@gto
def test_the_same_read_command_lines_print_the_same(gto_registry: Path) -> None:
    runner = Gto()
    tags = subprocess.run(
        ["git", "tag"], cwd=gto_registry, capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"m#prod#2", "m@v0.5.0!", "n@deprecated", "m#staging!#4", "p@v0.0.1"} <= set(tags)
    for args in READS:
        proc = runner.run(gto_registry, *args)
        assert proc.returncode == 0, (args, proc.stderr)
        out = subprocess.run(
            ["git", "registry", *_ours_for(args)],
            cwd=gto_registry,
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, (args, out.stderr)
        assert out.stdout == proc.stdout, args
        if "--json" in args:
            json.loads(out.stdout)
    # The two versions holding prod: the sort decides which one is shown.
    for sort, shown in [("semver", "v1.0.0"), ("timestamp", "v0.0.1")]:
        plain = runner.run(gto_registry, "show", "--plain", "--sort", sort).stdout
        header, m_row = plain.splitlines()[:2]
        assert m_row.split()[header.split().index("#prod")] == shown, sort


@gto
def test_gto_repo_option_reads_another_folder(gto_registry: Path, tmp_path: Path) -> None:
    """``-r PATH`` from another directory, and ``-r URL`` read as --remote URL."""
    runner = Gto()
    expected = runner.run(tmp_path, "show", "--plain", "-r", str(gto_registry)).stdout
    assert run_in(tmp_path, "show", "--plain", "-r", str(gto_registry)) == (0, expected)
    url = f"file://{gto_registry}"
    by_url = run_in(tmp_path, "history", "m", "-r", url, "--json")
    assert by_url == run_in(tmp_path, "history", "m", "--remote", url, "--json")
    assert by_url[0] == 0
    assert json.loads(by_url[1])["events"]


@gto
def test_empty_registry_prints_what_gto_prints(tmp_path: Path, require_gto: None) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("initial")
    runner = Gto()
    for args in [("show", "--plain"), ("history", "--plain"), ("show", "--json")]:
        expected = runner.run(repo.path, *args).stdout
        assert repo.ok(*_ours_for(args)) == expected, args
    assert repo.ok("show", "--plain") == NOTHING + "\n"


# -- the plain table, against the library GTO prints it with ----------------------------


@pytest.mark.core
def test_plain_table_is_tabulates_plain_format() -> None:
    tabulate = pytest.importorskip("tabulate").tabulate
    cases: list[tuple[list[str], list[list[str | None]]]] = [
        (["name", "latest", "#prod"], [["churn", "v1.0.0", None], ["a", None, "v0.0.1"]]),
        (["commit", "ref"], [["0123456", "m@v1.0.0"], ["1234567", "m@v1.0.1"]]),  # digits
        (["commit", "ref"], [["0123456", "m@v1.0.0"], ["ab12345", "m@v1.0.1"]]),  # mixed
        (["a-long-header", "b"], [["x", "y"]]),
        (["stage"], [[""], ["prod, dev"]]),
    ]
    for headers, rows in cases:
        expected = tabulate(rows, headers=headers, tablefmt="plain", missingval="-")
        assert plain_table(headers, rows) == expected + "\n", (headers, rows)


@pytest.mark.core
def test_plain_table_escapes_what_it_prints() -> None:
    assert "\x1b" not in plain_table(["name"], [["a\x1b[31m"]])


# -- forms that are refused, and why ---------------------------------------------------


def test_gto_forms_that_are_refused(repo: Repo) -> None:
    repo.ok("register", "m")
    cases: list[tuple[tuple[str, ...], int, str]] = [
        (("assign", "m", "--stage", "prod", "--sr"), 129, "--sr/--skip-registration"),
        (("assign", "m", "--stage", "prod", "--skip-registration"), 129, "not supported"),
        (("assign", "m"), 129, "which stage?"),
        (("assign", "m", "HEAD", "--stage", "prod", "--ref", "HEAD"), 129, "two refs"),
        (("assign", "m", "--stage", "prod", "--simple=maybe"), 129, "choose auto"),
        (("register", "m", "--simple", "false"), 129, "has no counter"),
        (("deprecate", "m", "--simple", "false"), 129, "--simple false"),
        (("deprecate", "m", "v0.0.1", "--simple", "false"), 129, "--simple false"),
        (("deprecate", "m", "v0.0.1", "--ref", "HEAD"), 129, "takes no VERSION"),
        (("show", "m", "--json=gto"), 129, "--json=gto prints the registry only"),
        (("show", "m", "--name"), 129, "--name lists the registry's artifacts"),
        (("show", "--stage"), 129, "--stage needs an artifact"),
        (("show", "--sort", "semver"), 129, "--plain or --json=gto"),
        (("show", "--sort", "newest"), 129, "invalid choice"),
        (("show", "--plain", "--json"), 129, "not allowed with"),
        (("show", "--json=theirs"), 129, "invalid choice"),
        (("check-ref", "m@v0.0.1", "--name", "--version"), 129, "not allowed with"),
        (("show", "-r", "no-such-folder"), 128, "cannot change to 'no-such-folder'"),
        (("stages", "-r", "https://example.com/r.git"), 129, "-r takes a PATH"),
        (("assign", "m", "--stage", "p", "-r", "git@example.com:r.git"), 129, "-r takes a PATH"),
        (("check-ref", "no-tag", "--name"), 1, "not a registry tag"),
    ]
    before = repo.tags()
    for args, code, message in cases:
        result = repo.run(*args)
        assert result.code == code, (args, result.out, result.err)
        assert message in result.err, (args, result.err)
        assert result.out == "", args
    assert repo.tags() == before


def test_gto_forms_keep_our_own_meanings(repo: Repo) -> None:
    repo.ok("register", "m")
    # Our form is unchanged without --stage; with it, the operand is a REF.
    assert "m#prod#1" in repo.ok("assign", "m", "prod")
    assert "m#dev#2" in repo.ok("promote", "m@v0.0.1", "--stage", "dev")
    # --simple alone is still a flag; a stage named like a value can come first.
    assert "m#qa" in repo.ok("promote", "m", "qa", "--simple")
    assert "m#true#3" in repo.ok("promote", "m", "true", "--simple", "false")
    # --json gto: gto is the artifact (not found), --json=gto the shape.
    assert repo.run("show", "--json", "gto").code == 1
    assert json.loads(repo.ok("show", "--json=gto"))["m"]["version"] == "v0.0.1"
    assert "artifacts" in json.loads(repo.ok("show", "--json"))
    # A ref that is no event: exit 1, or nothing and 0 with --allow-other.
    result = repo.run("check-ref", "no-tag", "--name", "--allow-other")
    assert (result.code, result.out) == (0, "")
    # -r PATH is git -C PATH, for writes too.
    other = Repo(repo.path.parent / "other")
    other.commit("initial")
    assert "k@v0.0.1" in repo.ok("register", "k", "-r", str(other.path))
    assert "k@v0.0.1" in other.tags()
    assert "k@v0.0.1" not in repo.tags()


def test_deprecate_dispatches_to_the_commands_it_names(repo: Repo) -> None:
    repo.ok("register", "m")
    repo.ok("promote", "m", "prod")
    dry = repo.ok("deprecate", "m", "v0.0.1", "prod", "-n")
    assert dry == repo.ok("unassign", "m@v0.0.1", "prod", "-n")
    assert repo.ok("deprecate", "m", "v0.0.1", "-n") == repo.ok("deregister", "m@v0.0.1", "-n")
    deleted = repo.run("deprecate", "m", "v0.0.1", "prod", "-d")
    assert deleted.code == 0, deleted.err
    assert "m#prod#1" not in repo.tags()
    repo.commit()
    made = repo.ok("deprecate", "m", "--ref", "HEAD")
    assert "m@deprecated" in made
    assert repo.tags()["m@deprecated"] == repo.git("rev-parse", "HEAD").strip()
