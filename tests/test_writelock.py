"""The registry write lock (``.git/registry/write.lock``): writes never race.

Several ``git registry`` processes write in one repository at once; every counter
stays unique and no ``annotate`` edit is lost. A lock left by a dead process is
taken over; a live one makes a write fail with a clear message after
``registry.lockTimeout``; a Git directory that cannot be written gives a clear
fatal error.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from git_registry import writelock
from git_registry.cli import main
from git_registry.errors import RegistryError
from git_registry.grammar import parse_tag

from conftest import Repo, Result, make_registry

Run = Callable[..., tuple[int, list[str]]]
LOCK_MESSAGE = "fatal: another git registry command is writing to this repository: "


def lock_file(repo: Repo) -> Path:
    return repo.path / ".git" / "registry" / "write.lock"


def write_owner(repo: Repo, pid: int, *, host: str | None = None, command: str = "x") -> Path:
    """Write a lock file as if process ``pid`` held the lock."""
    owner = writelock.Owner(pid, host or socket.gethostname(), 1700000000.0, command)
    path = lock_file(repo)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(owner.encode())
    return path


def dead_pid() -> int:
    """The id of a process that has exited (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def run_loop(repo: Repo, commands: list[list[str]]) -> list[tuple[list[str], Result]]:
    """Run ``git registry`` commands one after another, as a shell loop does."""
    return [(args, repo.git_registry(*args)) for args in commands]


def assert_ok_or_lock_message(args: list[str], result: Result) -> None:
    """A write either succeeded or failed with the lock's clear message."""
    if result.code == 0:
        return
    lines = result.err.splitlines()
    assert result.code == 128, (args, result)
    assert lines[0].startswith(LOCK_MESSAGE), (args, result)
    assert lines[1].startswith("hint: "), (args, result)


def registry_tags(repo: Repo) -> list[str]:
    return [name for name in repo.tags() if parse_tag(name) is not None]


@pytest.fixture
def churn_registered(repo: Repo) -> Repo:
    """``repo`` with churn v0.0.1 registered."""
    return make_registry(repo, "churn@v0.0.1")


# -- concurrent writers ----------------------------------------------------------------


@pytest.mark.slow
def test_four_writers_at_once_never_share_a_counter(churn_registered: Repo) -> None:
    repo = churn_registered
    commits = [repo.commit() for _ in range(8)]
    loops = [
        [["promote", "churn", "prod", "--force"]] * 8,
        [["assign", "churn", "dev", "--force"]] * 8,
        [["unassign", "churn@v0.0.1", "prod", "--force"]] * 8,
        [["register", "churn", commit, "--force"] for commit in commits],
    ]
    with ThreadPoolExecutor(len(loops)) as pool:
        results = [r for loop in pool.map(lambda c: run_loop(repo, c), loops) for r in loop]
    for args, result in results:
        assert_ok_or_lock_message(args, result)

    parsed = [parse_tag(name) for name in registry_tags(repo)]
    counters = Counter(p.counter for p in parsed if p is not None and p.counter is not None)
    assert [n for n, times in counters.items() if times > 1] == []
    # Each successful promote/assign/unassign took the next counter: 1, 2, ... with no gap.
    counted = sum(1 for args, r in results if r.code == 0 and args[0] != "register")
    assert sorted(counters) == list(range(1, counted + 1))
    versions = [p.version for p in parsed if p is not None and p.version is not None]
    registered = sum(1 for args, r in results if r.code == 0 and args[0] == "register")
    assert len(versions) == len(set(versions)) == 1 + registered
    assert not lock_file(repo).exists()
    repo.fsck()


@pytest.mark.slow
def test_three_annotate_loops_lose_no_edit(repo: Repo) -> None:
    loops = [[["annotate", "churn", "--label", f"{who}{i}"] for i in range(10)] for who in "abc"]
    with ThreadPoolExecutor(len(loops)) as pool:
        results = [r for loop in pool.map(lambda c: run_loop(repo, c), loops) for r in loop]
    for args, result in results:
        assert_ok_or_lock_message(args, result)
    added = {args[3] for args, r in results if r.code == 0}
    document = yaml.safe_load((repo.path / "artifacts.yaml").read_text())
    assert set(document["churn"]["labels"]) == added
    assert len(document["churn"]["labels"]) == len(added) > 0
    # Nothing but the edited file in the work tree (no temporary file), no lock left.
    status = repo.git("status", "--porcelain", "--ignored", "--untracked-files=all")
    assert status == "?? artifacts.yaml\n"
    assert not lock_file(repo).exists()
    assert [p for p in lock_file(repo).parent.iterdir() if "artifacts" in p.name] == []


# -- stale and live locks --------------------------------------------------------------


def test_a_stale_lock_is_taken_over(churn_registered: Repo) -> None:
    pid = dead_pid()
    write_owner(churn_registered, pid, command="promote churn prod")
    result = churn_registered.git_registry("promote", "churn", "prod")
    assert result.code == 0, result
    assert result.err == (
        f"warning: removed a stale registry lock: process {pid} "
        "('git registry promote churn prod') since "
        f"{time.strftime('%Y-%m-%d %H:%M:%S %z', time.localtime(1700000000))}\n"
    )
    assert "churn#prod#1" in churn_registered.tags()
    assert not lock_file(churn_registered).exists()


def test_a_stale_lock_is_taken_over_once_by_many_waiters(churn_registered: Repo) -> None:
    pid = dead_pid()
    write_owner(churn_registered, pid)
    commands = [["promote", "churn", f"s{i}"] for i in range(4)]
    with ThreadPoolExecutor(len(commands)) as pool:
        results = list(pool.map(lambda args: churn_registered.git_registry(*args), commands))
    for args, result in zip(commands, results, strict=True):
        assert_ok_or_lock_message(args, result)
    assert sum("removed a stale registry lock" in r.err for r in results) == 1
    counters = [
        p.counter for p in map(parse_tag, registry_tags(churn_registered)) if p and p.counter
    ]
    assert sorted(counters) == list(range(1, sum(r.code == 0 for r in results) + 1))
    assert not lock_file(churn_registered).exists()


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process whose pid a test writes into the lock file."""
    proc = subprocess.Popen(["sleep", "300"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_live_lock_makes_a_write_fail_after_the_timeout(
    churn_registered: Repo, sleeper: subprocess.Popen[bytes]
) -> None:
    path = write_owner(churn_registered, sleeper.pid, command="promote churn prod")
    held = path.read_bytes()
    churn_registered.git("config", "registry.lockTimeout", "0.5")
    before = churn_registered.tags()
    result = churn_registered.git_registry("promote", "churn", "prod")
    since = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(1700000000))
    assert result.code == 128
    assert result.out == ""
    assert result.err == (
        f"{LOCK_MESSAGE}process {sleeper.pid} ('git registry promote churn prod') since "
        f"{since}; gave up after 0.5 s\n"
        "hint: wait for it and try again (registry.lockTimeout sets how long to wait); "
        f"if no such process is running, remove {path}\n"
    )
    assert churn_registered.tags() == before
    assert path.read_bytes() == held  # someone else's lock is never removed

    # annotate waits for the same lock, and changes nothing.
    result = churn_registered.run("annotate", "churn", "--label", "x")
    assert result.code == 128 and result.err.startswith(LOCK_MESSAGE), result
    assert not (churn_registered.path / "artifacts.yaml").exists()

    # Once the holder is gone, its lock is stale: the next write takes it over.
    sleeper.kill()
    sleeper.wait()
    result = churn_registered.run("promote", "churn", "prod")
    assert result.code == 0, result
    assert "removed a stale registry lock" in result.err
    assert not path.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["register", "churn", "--force"],
        ["promote", "churn", "prod"],
        ["unassign", "churn", "prod", "--force"],
        ["unassign", "churn", "prod", "--delete"],
        ["deregister", "churn@v0.0.1"],
        ["deregister", "churn@v0.0.1", "--delete"],
        ["deprecate", "churn"],
        ["deprecate", "churn", "--delete"],
        ["annotate", "churn", "--label", "x"],
        ["remove", "churn"],
    ],
)
def test_every_write_takes_the_lock(
    churn_registered: Repo, sleeper: subprocess.Popen[bytes], command: list[str]
) -> None:
    churn_registered.ok("promote", "churn", "prod")
    churn_registered.ok("annotate", "churn", "--label", "a")
    yaml_before = (churn_registered.path / "artifacts.yaml").read_bytes()
    before = churn_registered.tags()
    write_owner(churn_registered, sleeper.pid)
    churn_registered.git("config", "registry.lockTimeout", "0")
    result = churn_registered.run(*command)
    assert result.code == 128
    assert result.err.startswith(LOCK_MESSAGE + f"process {sleeper.pid} ")
    assert "gave up after not waiting (registry.lockTimeout is 0)\n" in result.err
    assert churn_registered.tags() == before
    assert (churn_registered.path / "artifacts.yaml").read_bytes() == yaml_before


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_a_zombie_holds_no_lock(churn_registered: Repo) -> None:
    """A process that exited but was not reaped yet still has its pid: it is dead."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped
        write_owner(churn_registered, proc.pid)
        result = churn_registered.run("promote", "churn", "prod")
        assert result.code == 0, result
        assert "removed a stale registry lock" in result.err
    finally:
        proc.wait()


def test_linked_worktrees_share_the_lock(
    churn_registered: Repo, sleeper: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    churn_registered.git("worktree", "add", "-q", str(tmp_path / "wt"))
    write_owner(churn_registered, sleeper.pid)
    churn_registered.git("config", "registry.lockTimeout", "0")
    result = churn_registered.run("promote", "churn", "prod", cwd=tmp_path / "wt")
    assert result.code == 128
    assert f"remove {lock_file(churn_registered)}\n" in result.err


def test_a_lock_from_another_host_is_never_taken_over(churn_registered: Repo) -> None:
    path = write_owner(churn_registered, dead_pid(), host="build\x1b[31m-7")
    churn_registered.git("config", "registry.lockTimeout", "0.1")
    result = churn_registered.run("promote", "churn", "prod")
    assert result.code == 128
    assert " on host build\\x1b[31m-7 ('git registry x') since " in result.err.splitlines()[0]
    assert path.exists()


def test_a_lock_that_names_no_owner_is_waited_for(churn_registered: Repo) -> None:
    lock_file(churn_registered).parent.mkdir(exist_ok=True)
    lock_file(churn_registered).write_bytes(b"")  # created, its owner not written yet
    churn_registered.git("config", "registry.lockTimeout", "0.1")
    result = churn_registered.run("register", "churn", "--force")
    assert result.code == 128
    assert result.err.splitlines()[0] == (
        f"{LOCK_MESSAGE}a process that did not say who it is; gave up after 0.1 s"
    )
    assert lock_file(churn_registered).exists()


@pytest.mark.parametrize("data", [b"", b"pid 12\n", b"\xff\xfe garbage"])
def test_a_lock_that_names_no_owner_is_taken_over_once_it_is_old(
    churn_registered: Repo, data: bytes
) -> None:
    """A writer killed between creating the file and writing its owner (or a crash
    before the contents reached the disk) leaves a file that never names a dead
    owner: once it is older than a writer needs to write its owner, it is stale."""
    path = lock_file(churn_registered)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    old = time.time() - 3600
    os.utime(path, (old, old))
    churn_registered.git("config", "registry.lockTimeout", "0")
    result = churn_registered.run("promote", "churn", "prod")
    assert result.code == 0, result
    assert result.err.startswith(
        "warning: removed a stale registry lock: a lock file that names no owner (written "
    )
    assert "churn#prod#1" in churn_registered.tags()
    assert not path.exists()


def test_an_old_lock_that_names_no_owner_is_waited_for_while_another_waiter_takes_it(
    churn_registered: Repo,
) -> None:
    import fcntl

    path = lock_file(churn_registered)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"")
    old = time.time() - 3600
    os.utime(path, (old, old))
    churn_registered.git("config", "registry.lockTimeout", "0.1")
    with open(path, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = churn_registered.run("register", "churn", "--force")
    assert result.code == 128
    assert "a process that did not say who it is; gave up after 0.1 s" in result.err
    assert path.exists()


def test_a_stale_lock_another_waiter_is_taking_over_is_waited_for(churn_registered: Repo) -> None:
    """A waiter taking over a stale lock holds an flock on it: others wait meanwhile."""
    import fcntl

    path = write_owner(churn_registered, dead_pid())
    churn_registered.git("config", "registry.lockTimeout", "0.1")
    with open(path, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = churn_registered.run("register", "churn", "--force")
    assert result.code == 128
    assert "(no longer running); gave up after 0.1 s" in result.err
    assert path.exists()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", ""])
def test_a_bad_lock_timeout_is_a_fatal_error(churn_registered: Repo, value: str) -> None:
    churn_registered.git("config", "registry.lockTimeout", value)
    before = churn_registered.tags()
    result = churn_registered.run("promote", "churn", "prod")
    assert result.code == 128
    assert result.err == (
        f"fatal: bad registry.lockTimeout value '{value}': not a number of seconds\n"
        "hint: set it with e.g. 'git config registry.lockTimeout 10' (0: do not wait)\n"
    )
    assert churn_registered.tags() == before


def test_the_timeout_from_git_c(churn_registered: Repo, sleeper: subprocess.Popen[bytes]) -> None:
    write_owner(churn_registered, sleeper.pid)
    result = churn_registered.git_registry(
        "promote", "churn", "prod", env={"GIT_CONFIG_PARAMETERS": "'registry.locktimeout'='0'"}
    )
    assert result.code == 128
    assert "gave up after not waiting" in result.err


# -- the lock in one process -----------------------------------------------------------


def test_the_lock_is_not_reentrant_and_is_released(tmp_path: Path) -> None:
    common = str(tmp_path)
    with writelock.write_lock(common, "outer", timeout=0) as path:
        owner = writelock.Owner.decode(Path(path).read_bytes())
        assert owner is not None and (owner.pid, owner.command) == (os.getpid(), "outer")
        with (
            pytest.raises(RegistryError, match=f"process {os.getpid()} "),
            writelock.write_lock(common, "inner", timeout=0),
        ):
            pass  # pragma: no cover
        assert Path(path).exists()
    assert not Path(path).exists()


def test_the_lock_is_released_on_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError), writelock.write_lock(str(tmp_path), "x") as path:
        raise ValueError
    assert not Path(path).exists()


def test_a_lock_replaced_while_held_is_not_removed(tmp_path: Path) -> None:
    with writelock.write_lock(str(tmp_path), "x") as path:
        os.unlink(path)
        Path(path).write_bytes(b"someone else's\n")
    assert Path(path).read_bytes() == b"someone else's\n"


@pytest.mark.parametrize(
    "data",
    [b"", b"pid 12\n", b"pid x\nhost h\nstarted 1\ncommand c\n", b"pid 1\nhost h", b"\xff\n"],
)
def test_an_owner_that_cannot_be_read(data: bytes) -> None:
    assert writelock.Owner.decode(data) is None


def test_owner_round_trip_keeps_one_short_line_commands() -> None:
    owner = writelock.Owner(12, "h", 1.5, "annotate churn\n--label x")
    assert writelock.Owner.decode(owner.encode()) == writelock.Owner(
        12, "h", 1.5, "annotate churn --label x"
    )
    long = writelock.Owner.decode(writelock.Owner(12, "h", 1.5, "x" * 10_000).encode())
    assert long is not None and long.command == "x" * 500


# -- a Git directory that cannot be written --------------------------------------------


def test_a_file_where_the_registry_folder_should_be(churn_registered: Repo) -> None:
    """(Works as root too: modes do not stop root, a file in the way does.)"""
    folder = churn_registered.path / ".git" / "registry"
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("not a folder")
    before = churn_registered.tags()
    for command in (["promote", "churn", "prod"], ["annotate", "churn", "--label", "x"]):
        result = churn_registered.git_registry(*command)
        assert result.code == 128
        lines = result.err.splitlines()
        assert lines[0].startswith(
            f"fatal: cannot lock the registry for writing: cannot create {folder}/write.lock: "
        ), result.err
        assert lines[1:] == [
            "hint: commands that write need write access to the repository's Git directory"
        ]
        assert "Traceback" not in result.err
    assert churn_registered.tags() == before
    assert folder.read_text() == "not a folder"


def test_a_folder_where_the_lock_should_be(churn_registered: Repo) -> None:
    lock_file(churn_registered).mkdir(parents=True)
    result = churn_registered.run("promote", "churn", "prod")
    assert result.code == 128
    assert result.err.splitlines()[0].endswith("write.lock: it is a folder")


NOBODY = 65534


def _as_nobody(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"),
            *(sys.executable, "-m", "git_registry", *args),
        ],
        cwd=repo,
        env={**os.environ, "HOME": str(repo), "GIT_CONFIG_PARAMETERS": "'safe.directory'='*'"},
        capture_output=True,
        text=True,
        check=False,
    )


@contextlib.contextmanager
def copy_for_another_user(repo: Repo) -> Iterator[tuple[Path, Run]]:
    """A copy of ``repo`` for a user file modes apply to, and how to run ``git registry``
    in it as that user: nobody when we are root (root ignores modes), else ourselves."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and not shutil.which("setpriv"):
        pytest.skip("root ignores file modes, and setpriv is missing to run as user nobody")
    top = Path(tempfile.mkdtemp(prefix="registry-ro-", dir="/tmp"))
    try:
        top.chmod(0o755)
        copy = top / "repo"
        shutil.copytree(repo.path, copy, symlinks=True)
        (copy / ".git" / "registry").mkdir(exist_ok=True)

        def run(*command: str) -> tuple[int, list[str]]:
            if is_root:
                proc = _as_nobody(copy, *command)
                return proc.returncode, proc.stderr.splitlines()
            err = io.StringIO()
            code = main(list(command), stdout=io.StringIO(), stderr=err, cwd=str(copy))
            return code, err.getvalue().splitlines()

        if is_root:
            for path in [copy, *copy.rglob("*")]:
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
            code, lines = run("--version")
            if code != 0:
                pytest.skip(f"user nobody cannot run this Python: {lines[-3:]}")
        yield copy, run
    finally:
        for path in [top, *top.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(top, ignore_errors=True)


def git_tags(repo: Path) -> str:
    tags = ["git", "-c", "safe.directory=*", "tag"]
    return subprocess.run(tags, cwd=repo, capture_output=True, text=True, check=True).stdout


def test_a_read_only_registry_folder(churn_registered: Repo) -> None:
    """``.git/registry`` read-only (the rest writable): one fatal line, no traceback."""
    with copy_for_another_user(churn_registered) as (copy, run):
        folder = copy / ".git" / "registry"
        folder.chmod(0o555)
        for command in (["promote", "churn", "prod"], ["annotate", "churn", "--label", "x"]):
            code, lines = run(*command)
            assert code == 128, lines
            assert lines == [
                "fatal: cannot lock the registry for writing: cannot create "
                f"{folder}/write.lock: Permission denied",
                "hint: commands that write need write access to the repository's Git directory",
            ]
        # A stale lock in it cannot be taken over: say so at once, without waiting.
        folder.chmod(0o755)
        pid = dead_pid()
        owner = writelock.Owner(pid, socket.gethostname(), 1700000000.0, "register churn")
        (folder / "write.lock").write_bytes(owner.encode())
        folder.chmod(0o555)
        code, lines = run("promote", "churn", "prod")
        assert code == 128, lines
        assert lines == [
            f"fatal: the registry is locked by {owner.describe()}, which is no longer "
            "running, and its lock cannot be removed: Permission denied",
            f"hint: remove {folder}/write.lock",
        ]
        assert git_tags(copy) == "churn@v0.0.1\n"
        assert not (copy / "artifacts.yaml").exists()


# -- annotate writes artifacts.yaml atomically ------------------------------------------


def test_annotate_in_a_read_only_work_tree(repo: Repo) -> None:
    """The new artifacts.yaml is written in the Git directory, then renamed into place:
    a folder it cannot be renamed into gives a clean error, and nothing is left over."""
    repo.ok("annotate", "churn", "--label", "a")
    with copy_for_another_user(repo) as (copy, run):
        before = (copy / "artifacts.yaml").read_bytes()
        copy.chmod(0o555)
        code, lines = run("annotate", "churn", "--label", "b")
        assert code == 128, lines
        assert lines == [
            "fatal: cannot write artifacts.yaml: Permission denied",
            "hint: artifacts.yaml was not changed",
        ]
        assert (copy / "artifacts.yaml").read_bytes() == before
        assert sorted(os.listdir(copy)) == [".git", "artifacts.yaml", "data.txt"]
        left = set(os.listdir(copy / ".git" / "registry")) - {"parse-cache"}  # read, kept
        assert left == set()  # no temporary file, no lock


def test_annotate_leaves_no_temporary_file_when_the_rename_fails(tmp_path: Path) -> None:
    from git_registry.editing import _write_atomically

    scratch, target = tmp_path / "scratch", tmp_path / "work" / "artifacts.yaml"
    target.mkdir(parents=True)  # a folder in the file's place: the rename fails
    (tmp_path / "file").write_text("")
    # In the Git directory, in the file's folder, or (no usable scratch) next to the file.
    for where in (scratch, target.parent, tmp_path / "file" / "scratch"):
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            with pytest.raises(IsADirectoryError):
                _write_atomically(folder, b"a: {}\n", str(where))
        finally:
            os.close(folder)
        assert os.listdir(scratch) == []
        assert os.listdir(target.parent) == ["artifacts.yaml"]
