"""The test suite's own rules: the core tier starts no process, no test asserts on a
clock, and ``make_registry`` writes the tags ``git registry`` writes."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from conftest import CoreTierError, Repo, make_registry, no_processes

TESTS = Path(__file__).resolve().parent

# -- the core tier starts no process ---------------------------------------------------------


@pytest.mark.core
def test_no_processes_stops_git_by_any_path() -> None:
    git = shutil.which("git")
    assert git is not None
    with no_processes() as started:
        with pytest.raises(CoreTierError):
            subprocess.run(["git", "--version"], capture_output=True, check=False)
        with pytest.raises(CoreTierError):
            subprocess.run([git, "--version"], capture_output=True, check=False)
        with pytest.raises(CoreTierError):
            os.system("git --version")
    assert len(started) == 3
    assert all("git" in what for what in started)


def test_no_processes_ends_with_its_block() -> None:
    with no_processes() as started:
        pass
    assert subprocess.run(["git", "--version"], capture_output=True, check=False).returncode == 0
    assert started == []


def test_a_core_test_that_starts_git_fails(pytester: pytest.Pytester) -> None:
    """The autouse fixture fails core tests that start a process, even when the code
    under test swallows the error; other tests may run git."""
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makeini("[pytest]\naddopts = --strict-markers\nmarkers =\n    core\n    slow\n")
    pytester.makepyfile(
        test_tier="""
        import subprocess
        import pytest

        @pytest.mark.core
        def test_core_runs_git():
            subprocess.run(["git", "--version"], capture_output=True)

        @pytest.mark.core
        def test_core_swallows_the_error():
            try:
                subprocess.run(["git", "--version"], capture_output=True)
            except Exception:
                pass

        @pytest.mark.core
        def test_core_pure():
            assert sorted("cab") == ["a", "b", "c"]

        def test_repository_tier_runs_git():
            assert subprocess.run(["git", "--version"], capture_output=True).returncode == 0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    # Both core tests that ran git error in the fixture's teardown; the one that did not
    # swallow the error fails as well.
    result.assert_outcomes(passed=3, failed=1, errors=2)
    result.stdout.fnmatch_lines(["*CoreTierError: a core test may start no process (no git)*"])
    result.stdout.fnmatch_lines(["*a core test started processes: ?\"subprocess.Popen ?'git'*"])


# -- no assertion on a clock -----------------------------------------------------------------

_CLOCKS = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
    ("time", "process_time"),
    ("time", "thread_time"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
}
_SHELL_CLOCKS = ("EPOCHREALTIME", "EPOCHSECONDS", "timeit")


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        owner = func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        return (name, func.attr) in _CLOCKS
    return isinstance(func, ast.Name) and func.id in {c for _, c in _CLOCKS if c != "time"}


def _names(target: ast.AST) -> list[str]:
    """The variables an assignment to ``target`` binds (not ``obj`` of ``obj.attr = …``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List | ast.Starred):
        inner = target.elts if not isinstance(target, ast.Starred) else [target.value]
        return [name for t in inner for name in _names(t)]
    return []


def clock_assertions(source: str, filename: str = "<test>") -> list[str]:
    """Where ``source`` asserts on a clock: an ``assert`` (or a comparison handed to
    ``pytest.approx``) that reads a clock, or a value computed from a clock reading in
    the same function. A clock used for a deadline or a timestamp is fine."""
    found = [f"{filename}: mentions {word}" for word in _SHELL_CLOCKS if word in source]
    tree = ast.parse(source, filename)
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
    for scope in scopes:
        tainted: set[str] = set()

        def reads_clock(node: ast.AST, tainted: set[str] = tainted) -> bool:
            return any(
                _is_clock_call(n) or (isinstance(n, ast.Name) and n.id in tainted)
                for n in ast.walk(node)
            )

        changed = True
        while changed:  # names computed from clock readings, transitively
            changed = False
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if reads_clock(node.value):
                        new = {n for t in targets for n in _names(t)} - tainted
                        if new:
                            tainted |= new
                            changed = True
        for node in ast.walk(scope):
            if isinstance(node, ast.Assert) and reads_clock(node.test):
                found.append(f"{filename}:{node.lineno}: asserts on a clock reading")
            if (
                isinstance(node, ast.keyword)
                and node.arg == "deadline"
                and not (isinstance(node.value, ast.Constant) and node.value.value is None)
            ):
                found.append(f"{filename}:{node.value.lineno}: a hypothesis deadline")
    return sorted(set(found))


def test_no_test_asserts_on_a_clock() -> None:
    found = []
    for path in sorted(TESTS.glob("*.py")):
        if path.name == "test_tiers.py":  # the rule's own examples below
            continue
        found += clock_assertions(path.read_text(), path.name)
    assert found == [], "bound the work, not the time (timings belong in bench/)"


@pytest.mark.core
@pytest.mark.parametrize(
    "source",
    [
        "import time\ndef test():\n    start = time.monotonic()\n    work()\n"
        "    assert time.monotonic() - start < 3\n",
        "from time import perf_counter\ndef test():\n    t0 = perf_counter()\n"
        "    spent = perf_counter() - t0\n    assert spent < 0.1\n",
        "import time\ndef test():\n    assert work(time.time()) < 1\n",
        "def test():\n    took = run('echo $EPOCHREALTIME')\n",
        "@settings(max_examples=9, deadline=500)\n@given(st.text())\ndef test(s):\n    pass\n",
    ],
)
def test_a_clock_assertion_is_found(source: str) -> None:
    assert len(clock_assertions(source)) == 1


@pytest.mark.core
def test_hypothesis_has_no_deadline_and_no_slow_data_check() -> None:
    profile = settings.get_profile("bounded-work")
    assert settings.default == profile
    assert profile.deadline is None
    assert HealthCheck.too_slow in profile.suppress_health_check


@pytest.mark.core
def test_a_clock_for_a_deadline_or_a_date_is_not_an_assertion() -> None:
    source = (
        "import time\ndef wait(proc):\n    deadline = time.monotonic() + 60\n"
        "    while time.monotonic() < deadline:\n        if proc.poll() is not None:\n"
        "            break\n    assert proc.returncode == 0\n"
        "def test():\n    set_mtime(time.time() - 3600)\n    assert run() == 0\n"
    )
    assert clock_assertions(source) == []


# -- make_registry ---------------------------------------------------------------------------

# What the fixtures build, with the commands that build it through the CLI.
SAME_AS_THE_CLI: dict[str, tuple[str, list[tuple[str, ...] | None]]] = {
    "churn_staged_and_seg": (
        "churn@v1.0.0 churn#prod#1 commit churn@v1.1.0 churn#staging#2 seg@v0.0.1",
        [
            ("register", "churn", "--version", "v1.0.0"),
            ("promote", "churn", "prod"),
            None,
            ("register", "churn", "--version", "v1.1.0"),
            ("promote", "churn", "staging"),
            ("register", "seg"),
        ],
    ),
    "churn_staged_seg_deprecated": (
        "churn@v1.0.0 churn#prod#1 commit churn@v1.1.0 churn#staging#2 commit "
        "churn@v2.0.0-rc.1 churn#dev#3 seg@v0.1.0 seg@deprecated",
        [
            ("register", "churn", "--version", "v1.0.0"),
            ("promote", "churn", "prod"),
            None,
            ("register", "churn", "--version", "v1.1.0"),
            ("promote", "churn", "staging"),
            None,
            ("register", "churn", "--version", "v2.0.0-rc.1"),
            ("promote", "churn@v2.0.0-rc.1", "dev"),
            ("register", "seg", "--version", "v0.1.0"),
            ("deprecate", "seg"),
        ],
    ),
    "cancels_and_folders": (
        "models/cv=seg@v0.0.1 models/cv=seg#dev#1 commit models/cv=seg@v0.0.2 "
        "models/cv=seg@v0.0.1! models/cv=seg#dev!#2->v0.0.1 churn@v0.0.1 churn#prod "
        "churn@deprecated->v0.0.1",
        [
            ("register", "models/cv:seg"),
            ("promote", "models/cv:seg", "dev"),
            None,
            ("register", "models/cv:seg"),
            ("deregister", "models/cv:seg@v0.0.1"),
            ("unassign", "models/cv:seg@v0.0.1", "dev", "--force"),
            ("register", "churn"),
            ("promote", "churn", "prod", "--simple"),
            ("deprecate", "churn"),
        ],
    ),
}


def _tag_objects(repo: Repo) -> list[str]:
    return repo.git(
        "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", "refs/tags"
    ).splitlines()


@pytest.mark.parametrize("case", SAME_AS_THE_CLI)
def test_make_registry_writes_the_tags_git_registry_writes(tmp_path: Path, case: str) -> None:
    spec, commands = SAME_AS_THE_CLI[case]
    by_hand = Repo(tmp_path / "by-hand")
    by_hand.commit("initial")
    make_registry(by_hand, spec)
    by_cli = Repo(tmp_path / "by-cli")
    by_cli.commit("initial")
    for command in commands:
        if command is None:
            by_cli.commit()
        else:
            by_cli.ok(*command)
    # The same tag objects, byte for byte: names, targets, messages, taggers, times.
    assert _tag_objects(by_hand) == _tag_objects(by_cli)
    assert len(_tag_objects(by_hand)) == len(spec.split()) - spec.split().count("commit")
    by_hand.fsck()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("churn", "not a spec word: 'churn'"),
        ("churn#prod", "churn#prod: 0 versions at HEAD; add ->VERSION"),
        ("churn@v1.0.0 churn@v2.0.0 churn#prod", "churn#prod: 2 versions at HEAD; add ->VERSION"),
        ("churn@v1.0.0 churn#prod->v2.0.0", "git rev-parse"),
    ],
)
def test_make_registry_refuses_a_spec_it_cannot_follow(repo: Repo, spec: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        make_registry(repo, spec)
