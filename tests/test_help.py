"""Help as in Git: ``git registry help [COMMAND]`` without man, ``git help registry`` and
``git registry --help`` opening the installed manual page, and a light start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from git_registry.cli import build_parser, command_parsers

from conftest import Repo
from shells import ROOT, installed_prefix

needs_man = pytest.mark.skipif(
    shutil.which("man") is None, reason="man (man-db) is not installed (.ci/run installs it)"
)


def _commands() -> dict[str, argparse.ArgumentParser]:
    return command_parsers()


def test_help_prints_the_overview_and_each_command(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "not a repository"
    outside.mkdir()
    overview = repo.run("help", cwd=outside)
    assert overview.code == 0
    assert overview.out == build_parser().format_help()
    for name, parser in _commands().items():
        result = repo.run("help", name, cwd=outside)
        assert result.code == 0
        assert result.out == parser.format_help()
    assert repo.ok("help", "assign") == repo.ok("help", "promote")


def test_help_of_an_unknown_command_is_a_usage_error(repo: Repo) -> None:
    result = repo.run("help", "promot")
    assert result.code == 129
    assert result.err == (
        "error: 'promot' is not a git registry command\n"
        "hint: 'git registry help' lists the commands\n"
    )
    assert result.out == ""


def test_command_help_goes_to_us(repo: Repo) -> None:
    """After a command, --help is ours (Git only rewrites `git registry --help`)."""
    result = repo.git_registry("show", "--help")
    assert result.code == 0
    assert result.out.startswith("usage: git registry show ")


# -- the installed manual page ------------------------------------------------------------


def _man_env(prefix: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "MANPAGER": "cat",
        "PAGER": "cat",
        "MANWIDTH": "80",
        "GIT_PAGER": "cat",
    }
    env.pop("MANPATH", None)
    return env


@pytest.mark.slow
@needs_man
def test_man_finds_the_installed_page() -> None:
    """man finds PREFIX/share/man for PREFIX/bin on PATH (a venv, ~/.local), or MANPATH."""
    prefix = installed_prefix()
    page = prefix / "share" / "man" / "man1" / "git-registry.1"
    assert page.read_text() == (ROOT / "man" / "git-registry.1").read_text()
    found = subprocess.run(
        ["man", "-w", "git-registry"],
        env=_man_env(prefix),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()).resolve() == page.resolve()
    env = {**_man_env(prefix), "PATH": os.environ["PATH"], "MANPATH": str(prefix / "share/man")}
    found = subprocess.run(
        ["man", "-w", "git-registry"], env=env, capture_output=True, text=True, check=True
    )
    assert Path(found.stdout.strip()).resolve() == page.resolve()


@pytest.mark.slow
@needs_man
@pytest.mark.parametrize(
    "args", [["help", "registry"], ["registry", "--help"], ["help", "git-registry"]]
)
def test_git_help_opens_the_installed_page(repo: Repo, args: list[str]) -> None:
    env = {**_man_env(installed_prefix()), "GIT_TRACE": "1"}
    proc = subprocess.run(
        ["git", *args], cwd=repo.path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "GIT-REGISTRY(1)" in proc.stdout
    assert "git-registry - a model and artifact registry kept in Git tags" in proc.stdout
    assert "SHELL COMPLETION" in proc.stdout
    # Git itself turns it into `git help`, never running git-registry.
    assert "trace: built-in: git help" in proc.stderr
    assert "exec: git-registry" not in proc.stderr


# -- the packaged page: help --man ------------------------------------------------------------


@needs_man
def test_help_man_shows_the_packaged_page_in_an_editable_install(repo: Repo) -> None:
    """The tests run from an editable install, which puts no page in a man path."""
    from git_registry import manual

    page = manual.page_path()
    assert page is not None
    assert Path(page).read_text() == (ROOT / "man" / "git-registry.1").read_text()
    result = repo.git_registry("help", "--man", env={"MANPAGER": "cat", "MANWIDTH": "80"})
    assert result.code == 0, result.err
    assert "GIT-REGISTRY(1)" in result.out and "SHELL COMPLETION" in result.out


@pytest.mark.slow
@needs_man
def test_help_man_in_a_wheel_install(tmp_path: Path) -> None:
    prefix = installed_prefix()
    (page,) = prefix.glob("lib/*/site-packages/git_registry/man/git-registry.1")
    assert page.read_text() == (ROOT / "man" / "git-registry.1").read_text()
    proc = subprocess.run(
        [str(prefix / "bin" / "git-registry"), "help", "-m"],
        cwd=tmp_path,
        env={**_man_env(prefix), "MANPATH": str(tmp_path)},  # no man path holds it
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "GIT-REGISTRY(1)" in proc.stdout


def test_help_man_without_man(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no man here
    result = repo.run("help", "--man")
    assert result.code == 128
    assert result.err.startswith("fatal: man is not installed: the manual page is /")
    assert result.err.endswith(
        "git-registry.1\nhint: 'git registry help COMMAND' prints a command's help without man\n"
    )


def test_help_man_without_the_page(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    from git_registry import manual

    monkeypatch.setattr(manual, "PAGE", "missing.1")
    result = repo.run("help", "--man")
    assert (result.code, result.out) == (128, "")
    assert result.err.startswith(
        "fatal: the manual page is not in this installation of git-registry\n"
    )


def test_help_man_takes_no_command(repo: Repo) -> None:
    result = repo.run("help", "--man", "promote")
    assert result.code == 129
    assert result.err == (
        "error: --man shows the whole manual: give no COMMAND\n"
        "hint: 'git registry help COMMAND' prints one command's help\n"
    )


# -- start-up -------------------------------------------------------------------------------

HEAVY = ("dulwich", "yaml", "semver", "colorama", "git_registry.repo", "git_registry.state")


@pytest.mark.parametrize(
    "args", [["-h"], ["help"], ["help", "promote"], ["promote", "-h"], ["completion", "bash"]]
)
def test_light_commands_import_only_the_standard_library(args: list[str], tmp_path: Path) -> None:
    code = (
        "import json, sys, io, contextlib\n"
        "from git_registry.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({args!r})\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    exit_code, modules = json.loads(proc.stdout)
    assert exit_code == 0
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]
    assert heavy == []
    # Not even typing: `git registry -h` runs on every completion of Git's own.
    if args == ["-h"]:
        assert "typing" not in modules


def test_top_level_help_is_the_parsers_own_text() -> None:
    from git_registry.entry import render_overview
    from git_registry.overview import OVERVIEW

    assert render_overview() == OVERVIEW, (
        "regenerate it: python -m git_registry.entry --write-overview"
    )


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_script_help_prints_the_overview_without_argparse(flag: str, tmp_path: Path) -> None:
    code = (
        "import json, sys, io, contextlib\n"
        f"sys.argv = ['git-registry', {flag!r}]\n"
        "from git_registry.entry import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main()\n"
        "print(json.dumps([code, out.getvalue(), sorted(sys.modules)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    exit_code, text, modules = json.loads(proc.stdout)
    assert exit_code == 0
    assert text.startswith("usage: git registry [-h]") and "check-ref" in text
    assert "argparse" not in modules and "git_registry.cli" not in modules
    via_git = subprocess.run(
        ["git", "registry", flag], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    if flag == "-h":  # (Git turns --help into `git help registry`)
        assert via_git.returncode == 0 and via_git.stdout == text


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("promte", "hint: did you mean 'promote'?"),
        ("rolback", "hint: did you mean 'rollback'?"),
        ("xyzzy", "hint: 'git registry -h' lists the commands"),
    ],
)
def test_a_mistyped_command_gets_a_suggestion(repo: Repo, typed: str, hint: str) -> None:
    result = repo.run(typed, "churn", "prod")
    assert result.code == 129
    assert f"error: '{typed}' is not a git registry command" in result.err
    assert result.err.rstrip().endswith(hint)
    assert result.err.startswith("usage: git registry")
