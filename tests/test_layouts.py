"""Every repository layout Git supports, through ``git registry`` as Git runs it: from a
subdirectory, ``git -C``, ``GIT_DIR`` / ``GIT_WORK_TREE`` (absolute and relative),
``--git-dir`` / ``--work-tree``, a linked worktree, a bare repository; all in a
repository whose path has spaces and non-ASCII characters.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import Repo, Result

pytestmark = pytest.mark.slow


@pytest.fixture
def origin(tmp_path: Path) -> Repo:
    """churn v0.0.1 in prod, annotated, with a policy; a path with spaces and accents."""
    repo = Repo(tmp_path / "dépôt de modèles ü")
    repo.commit(
        "initial",
        {
            "artifacts.yaml": "churn:\n  type: model\n",
            ".registry.yaml": "stages: [dev, prod]\n",
            "src/deep/train.py": "print('train')\n",
        },
    )
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    return repo


@dataclass
class Layout:
    """Where and how ``git registry`` is run, and the repository whose tags it sees."""

    cwd: Path
    tags_of: Path  # a directory where plain `git for-each-ref` sees the same tags
    git_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str) -> Result:
        proc = subprocess.run(
            ["git", *self.git_args, "registry", *args],
            cwd=self.cwd,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.code == 0, f"exit {result.code}\n{result.out}\n{result.err}"
        assert "Traceback" not in result.err, result.err
        return result.out


def _subdirectory(origin: Repo, tmp: Path) -> Layout:
    return Layout(origin.path / "src" / "deep", origin.path)


def _dash_c(origin: Repo, tmp: Path) -> Layout:
    return Layout(tmp, origin.path, git_args=["-C", str(origin.path / "src")])


def _git_dir_env(origin: Repo, tmp: Path) -> Layout:
    env = {"GIT_DIR": str(origin.path / ".git"), "GIT_WORK_TREE": str(origin.path)}
    return Layout(tmp, origin.path, env=env)


def _git_dir_env_relative(origin: Repo, tmp: Path) -> Layout:
    env = {"GIT_DIR": "../../.git", "GIT_WORK_TREE": "../.."}
    return Layout(origin.path / "src" / "deep", origin.path, env=env)


def _git_dir_option(origin: Repo, tmp: Path) -> Layout:
    return Layout(tmp, origin.path, git_args=[f"--git-dir={origin.path / '.git'}"])


def _git_dir_work_tree_relative(origin: Repo, tmp: Path) -> Layout:
    args = ["--git-dir=../.git", "--work-tree=.."]
    return Layout(origin.path / "src", origin.path, git_args=args)


def _worktree(origin: Repo, tmp: Path) -> Layout:
    linked = tmp / "linked worktree é"
    origin.git("worktree", "add", "-q", "-b", "side", str(linked))
    return Layout(linked / "src", origin.path)


def _bare(origin: Repo, tmp: Path) -> Layout:
    bare = tmp / "bare répertoire.git"
    origin.git("clone", "-q", "--bare", str(origin.path), str(bare))
    return Layout(bare, bare)


LAYOUTS: dict[str, Callable[[Repo, Path], Layout]] = {
    "subdirectory": _subdirectory,
    "git -C": _dash_c,
    "GIT_DIR and GIT_WORK_TREE": _git_dir_env,
    "relative GIT_DIR and GIT_WORK_TREE": _git_dir_env_relative,
    "--git-dir": _git_dir_option,
    "relative --git-dir and --work-tree": _git_dir_work_tree_relative,
    "linked worktree": _worktree,
    "bare repository": _bare,
}


@pytest.fixture(params=list(LAYOUTS))
def layout(request: pytest.FixtureRequest, origin: Repo, tmp_path: Path) -> Layout:
    outside = tmp_path / "somewhere else"
    outside.mkdir()
    return LAYOUTS[request.param](origin, outside)


def test_read_commands(layout: Layout) -> None:
    table = layout.ok("show")
    assert "churn" in table and "v0.0.1" in table
    assert "churn#prod#1" in layout.ok("history", "churn")
    assert layout.ok("which", "churn", "prod") == "v0.0.1\n"
    assert layout.ok("latest", "churn") == "v0.0.1\n"
    assert layout.ok("show", "churn#prod", "--ref") == "churn#prod#1\n"
    assert layout.ok("describe", "churn", "--type") == "model\n"
    assert layout.ok("stages") == "dev\nprod\n"
    layout.ok("check")


def test_tag_writes(layout: Layout) -> None:
    """register and promote write tags into the repository Git found, as Git sees them."""
    assert "Created tag other@v0.0.1" in layout.ok("register", "other")
    assert "Created tag other#dev#" in layout.ok("promote", "other", "dev")
    assert layout.ok("which", "other", "dev") == "v0.0.1\n"
    tags = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:strip=2) %(objecttype)", "refs/tags"],
        cwd=layout.tags_of,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_DIR")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "other@v0.0.1 tag" in tags
    assert any(t.startswith("other#dev#") and t.endswith(" tag") for t in tags)


def test_worktree_tags_are_shared_with_the_main_repository(origin: Repo, tmp_path: Path) -> None:
    layout = _worktree(origin, tmp_path)
    layout.ok("register", "other")
    assert origin.ok("latest", "other") == "v0.0.1\n"
    # The worktree's own HEAD (branch side) is the one registered, not main's.
    assert origin.git("rev-parse", "other@v0.0.1^{commit}") == origin.git("rev-parse", "side")


def test_outside_any_repository_is_fatal(tmp_path: Path) -> None:
    outside = tmp_path / "no repo"
    outside.mkdir()
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    result = Layout(outside, outside, env=env).run("show")
    assert result.code == 128
    assert result.err.startswith("fatal: not a git repository")
    assert "Traceback" not in result.err
