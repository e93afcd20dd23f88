"""Shared fixtures: a hermetic Git environment and real repositories built with ``git``.

Every test runs with its own ``HOME``, no system config, a fixed identity and
fixed dates, so results are reproducible; repositories are made by the real
``git`` binary and commands run either in-process (``Repo.run``) or as
``git registry`` through Git (``Repo.git_registry``).
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from git_registry.cli import main

BIN_DIR = os.path.dirname(sys.executable)
FIXED_DATE = "1700000000 +0000"


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Own HOME, no system or global config, fixed identity and dates."""
    home = tmp_path / "home"
    home.mkdir()
    for var in list(os.environ):
        if var.startswith("GIT_") or var in ("NO_COLOR", "EMAIL"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Cy Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "cy@example.com")
    monkeypatch.setenv("GIT_AUTHOR_DATE", FIXED_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", FIXED_DATE)
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("PATH", BIN_DIR + os.pathsep + os.environ.get("PATH", ""))
    yield


@dataclass
class Result:
    """What a command printed and returned."""

    code: int
    out: str
    err: str


def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run the real ``git`` binary; return its stdout."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


class Repo:
    """A real repository made with ``git init`` (on branch main)."""

    def __init__(self, path: Path, bare: bool = False) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "-c", "init.defaultBranch=main", "init", "-q", *(["--bare"] if bare else []))
        self._n = 0

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        return git(self.path, *args, env=env, check=check)

    def commit(self, message: str | None = None, files: dict[str, str] | None = None) -> str:
        """Commit ``files`` (default: a new line in data.txt); return the commit id."""
        self._n += 1
        for name, text in (files or {"data.txt": f"revision {self._n}\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message or f"commit {self._n}")
        return self.git("rev-parse", "HEAD").strip()

    def tag(
        self,
        name: str,
        target: str = "HEAD",
        message: str | None = None,
        *,
        lightweight: bool = False,
        date: str | None = None,
    ) -> None:
        """Make a tag by hand with ``git tag`` (annotated unless ``lightweight``)."""
        env = {"GIT_COMMITTER_DATE": date} if date else None
        if lightweight:
            self.git("tag", name, target, env=env)
        else:
            self.git("tag", "-a", "-m", message or f"hand-made {name}", name, target, env=env)

    def tags(self) -> dict[str, str]:
        """Tag name -> peeled commit id, as ``git for-each-ref`` reports them."""
        out = self.git(
            "for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", "refs/tags"
        )
        result = {}
        for line in out.splitlines():
            name, oid, peeled = [*line.split(" "), ""][:3]
            result[name] = peeled or oid
        return result

    def run(self, *args: str, cwd: Path | None = None) -> Result:
        """Run ``git registry ARGS`` in-process (fast)."""
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), stdout=out, stderr=err, cwd=str(cwd or self.path))
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str) -> str:
        """Run in-process, assert exit 0 and a clean stderr; return stdout."""
        result = self.run(*args)
        assert result.code == 0, f"exit {result.code}\nstdout:\n{result.out}\nstderr:\n{result.err}"
        return result.out

    def git_registry(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run ``git registry ARGS`` through Git, as a user does."""
        proc = subprocess.run(
            ["git", "registry", *args],
            cwd=self.path,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def fsck(self) -> None:
        """``git fsck`` must find nothing wrong."""
        out = subprocess.run(
            ["git", "fsck", "--strict"], cwd=self.path, capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A repository with one commit."""
    r = Repo(tmp_path / "repo")
    r.commit("initial")
    return r


@pytest.fixture
def empty_repo(tmp_path: Path) -> Repo:
    """A repository with no commits."""
    return Repo(tmp_path / "empty")


@pytest.fixture
def remote(tmp_path: Path, repo: Repo) -> Repo:
    """A bare repository, added to ``repo`` as ``origin`` and holding its main branch."""
    bare = Repo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(bare.path))
    repo.git("push", "-q", "origin", "main")
    return bare


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def daemon(remote: Repo) -> Iterator[str]:
    """``git daemon`` on 127.0.0.1 serving ``remote`` (git://…/remote.git), pushes enabled."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--export-all",
            "--enable=receive-pack",
            "--reuseaddr",
            f"--base-path={remote.path.parent}",
            str(remote.path.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}/{remote.path.name}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
