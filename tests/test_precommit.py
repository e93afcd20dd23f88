"""The pre-commit framework's hooks (.pre-commit-hooks.yaml), run by the real
``pre-commit`` against this repository (``try-repo``) and against a local clone of it
(``pre-commit install`` and a real ``git commit``).

pre-commit installs a python hook's environment with pip: git-registry from the local
repository, its dependencies (dulwich, PyYAML, semver, colorama, and setuptools to
build it) from the package index pip is configured with. Without an index these
tests skip, and say so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import BIN_DIR, Repo, git

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
BROKEN = 'churn:\n  type: "bad type"\n'
PROBLEM = "error: artifacts.yaml:2:9: artifact 'churn', key 'type': invalid type 'bad type'"


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = shutil.which("pre-commit", path=BIN_DIR)
    if exe is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    where = tmp_path_factory.mktemp("index-check")
    download = ["download", "--no-deps", "--timeout", "10", "--retries", "0", "-d", str(where)]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *download, "dulwich"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(
            "no package index: pre-commit cannot install the hook's dependencies "
            f"(pip download dulwich: {proc.stderr.strip().splitlines()[-1:]})"
        )
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [os.path.join(BIN_DIR, "pre-commit"), *args],
        cwd=cwd,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_hook_definitions() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["git-registry-check"]["stages"][0] == "pre-commit"
    assert hooks["git-registry-check-commit-msg"]["stages"] == ["commit-msg"]
    for hook in hooks.values():
        assert hook["entry"] == "git-registry hook commit-msg"
        assert hook["language"] == "python" and hook["pass_filenames"] is False


def test_run_all_files_checks_the_staged_files(repo: Repo, pre_commit_home: Path) -> None:
    (repo.path / "artifacts.yaml").write_text(BROKEN)
    repo.git("add", "artifacts.yaml")
    args = ("try-repo", str(ROOT), "git-registry-check", "--all-files")
    proc = pre_commit(pre_commit_home, repo.path, *args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert PROBLEM in proc.stdout
    (repo.path / "artifacts.yaml").write_text("churn:\n  type: model\n")
    repo.git("add", "artifacts.yaml")
    proc = pre_commit(pre_commit_home, repo.path, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "git-registry (staged artifacts.yaml and .registry.yaml)" in proc.stdout
    assert "Passed" in proc.stdout


def test_commit_msg_variant(repo: Repo, pre_commit_home: Path) -> None:
    (repo.path / "artifacts.yaml").write_text(BROKEN)
    repo.git("add", "artifacts.yaml")
    message = repo.path / ".git" / "COMMIT_EDITMSG"
    message.write_text("add churn\n")
    proc = pre_commit(
        pre_commit_home,
        repo.path,
        *("try-repo", str(ROOT), "git-registry-check-commit-msg"),
        *("--hook-stage", "commit-msg", "--commit-msg-filename", str(message)),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert PROBLEM in proc.stdout


def test_pre_commit_install_refuses_a_commit(
    repo: Repo, pre_commit_home: Path, tmp_path: Path
) -> None:
    """A local clone of this repository as the hook repository, ``pre-commit install``
    (the ordinary pre-commit stage), then a real ``git commit``."""
    clone = tmp_path / "hook-repo"
    git(tmp_path, "clone", "-q", str(ROOT), str(clone))
    hooks = yaml.safe_load((clone / ".pre-commit-hooks.yaml").read_text())
    if hooks[0]["stages"][0] != "pre-commit":
        pytest.skip("the committed .pre-commit-hooks.yaml predates the pre-commit stage")
    rev = git(clone, "rev-parse", "HEAD").strip()
    config = {"repos": [{"repo": str(clone), "rev": rev, "hooks": [{"id": "git-registry-check"}]}]}
    (repo.path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    repo.commit("pre-commit config")
    proc = pre_commit(pre_commit_home, repo.path, "install")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (repo.path / "artifacts.yaml").write_text(BROKEN)
    repo.git("add", "artifacts.yaml")
    head = repo.git("rev-parse", "HEAD").strip()
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "broken"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert PROBLEM in proc.stdout + proc.stderr
    assert repo.git("rev-parse", "HEAD").strip() == head  # nothing was committed
    (repo.path / "artifacts.yaml").write_text("churn:\n  type: model\n")
    repo.git("add", "artifacts.yaml")
    repo.git("commit", "-q", "-m", "churn")
    assert repo.git("rev-parse", "HEAD").strip() != head
