"""When the operating system says no: one ``fatal:`` line, exit 128, no traceback,
nothing half-done (issue: hostile input and faults).

A read-only Git directory is made with ``chattr +i`` (immutable: refused even to
root, who ignores file modes), so these tests run as CI runs, as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import Repo


def _one_fatal_line(err: str) -> str:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    fatal = [line for line in err.splitlines() if line.startswith("fatal: ")]
    assert len(fatal) == 1, err
    return fatal[0]


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """``chattr +i`` on ``paths`` for the duration (skips where chattr cannot)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done: list[Path] = []
    try:
        for path in paths:
            proc = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
            if proc.returncode != 0:
                pytest.skip(f"chattr +i is not possible here: {proc.stderr.strip()}")
            done.append(path)
        yield
    finally:
        for path in reversed(done):
            subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.fixture
def registered(repo: Repo) -> Repo:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "dev")
    repo.commit()  # a new commit, free for another version
    return repo


def test_writes_in_a_read_only_refs_folder_fail_cleanly(registered: Repo) -> None:
    before = registered.tags()
    with immutable(registered.path / ".git" / "refs" / "tags"):
        for args in (("register", "churn", "--version", "v1.0.0"), ("promote", "churn", "prod")):
            result = registered.git_registry(*args)
            assert result.code == 128, result.err
            line = _one_fatal_line(result.err)
            assert "Operation not permitted" in line and "hint: nothing was created" in result.err
    assert registered.tags() == before
    registered.fsck()


def test_a_tag_object_that_cannot_be_written_fails_cleanly(registered: Repo) -> None:
    objects = registered.path / ".git" / "objects"
    folders = [objects, *(p for p in objects.iterdir() if p.is_dir())]
    before = registered.tags()
    with immutable(*folders):
        result = registered.git_registry("register", "churn", "--version", "v1.0.0")
    assert result.code == 128
    assert _one_fatal_line(result.err).startswith(
        "fatal: cannot write the tag object of 'churn@v1.0.0': "
    )
    assert registered.tags() == before


def test_hooks_install_into_a_read_only_hooks_folder_fails_cleanly(registered: Repo) -> None:
    hooks = registered.path / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    with immutable(hooks):
        result = registered.git_registry("hooks", "install")
    assert result.code == 128
    assert "Operation not permitted" in _one_fatal_line(result.err)
    assert not (hooks / "pre-push").exists()


def test_a_full_disk_on_stdout_is_one_fatal_line(registered: Repo) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            ["git", "registry", "show"],
            cwd=registered.path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert proc.returncode == 128
    assert _one_fatal_line(proc.stderr) == (
        "fatal: cannot write the output: No space left on device"
    )


def test_an_output_encoding_that_cannot_show_a_name_escapes_it(registered: Repo) -> None:
    registered.ok("promote", "churn", "prod")
    env = {"GIT_COMMITTER_NAME": "Zoë Ünïcode", "PYTHONIOENCODING": "ascii"}
    assert registered.git_registry("register", "churn", "--version", "v2.0.0", env=env).code == 0
    result = registered.git_registry("history", "churn", env={"PYTHONIOENCODING": "ascii"})
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert "Zo\\xeb \\xdcn\\xefcode" in result.out


@pytest.mark.parametrize("where", ["missing-folder", "a-directory"])
def test_github_output_that_cannot_be_written_is_one_fatal_line(
    registered: Repo, tmp_path: Path, where: str
) -> None:
    target = tmp_path / "no" / "such" / "out" if where == "missing-folder" else tmp_path
    result = registered.git_registry(
        "check-ref", "churn#dev#1", "--format", "github", env={"GITHUB_OUTPUT": str(target)}
    )
    assert result.code == 128
    line = _one_fatal_line(result.err)
    assert line.startswith(f"fatal: {target}: ")


# -- size limits before reading ----------------------------------------------------------


def test_a_huge_artifacts_yaml_is_refused_by_its_size_without_being_read(repo: Repo) -> None:
    """A 60 MB artifacts.yaml (and .registry.yaml) is a problem found from its size: the
    file is never held in memory (peak memory stays far below its size)."""
    big = "# " + "x" * 1000 + "\n"
    text = "churn:\n  path: a\n" + big * 60_000  # 60 MB
    repo.commit(files={"artifacts.yaml": text, ".registry.yaml": text})
    (repo.path / "artifacts.yaml").write_text("churn:\n  path: a\n")  # the work tree is fine
    script = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(['git', 'registry', 'check'], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stdout.write(f'{p.returncode}\\n{peak}\\n' + p.stdout)\n"
        "sys.stderr.write(p.stderr)\n"
    )
    proc = subprocess.run(
        [shutil.which("python3") or "python3", "-c", script],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=True,
    )
    code, peak, *lines = proc.stdout.splitlines()
    assert int(code) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    limit = "the limit is 1,048,576 bytes"
    assert any(line.startswith("artifacts.yaml:1:1: file is ") and limit in line for line in lines)
    assert any(line.startswith(".registry.yaml:1:1: file is ") and limit in line for line in lines)
    assert int(peak) < 60_000  # KiB: the 60 MB file was skipped, not read


def test_the_commit_hook_refuses_a_huge_staged_file_by_its_size(repo: Repo) -> None:
    repo.ok("hooks", "install")
    (repo.path / "artifacts.yaml").write_text("churn: {}\n" + "#" * (2 << 20) + "\n")
    repo.git("add", "artifacts.yaml")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "big"], cwd=repo.path, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "artifacts.yaml:1:1: file is 2,097,163 bytes; the limit is 1,048,576 bytes" in (
        proc.stderr
    )
