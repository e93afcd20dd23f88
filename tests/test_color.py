"""Configuration and colour as Git does them: ``git -c`` overrides (Git passes them in
``GIT_CONFIG_PARAMETERS``), and colour decided by ``--color`` / ``--no-color``, then
``NO_COLOR``, then ``color.registry``, then ``color.ui``, then whether stdout is a
terminal (a real pseudo-terminal here), never with ``TERM=dumb`` and never in JSON.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import time

import pytest

from git_registry.cli import main

from conftest import Repo, Result, make_registry

ESC = "\x1b["


@pytest.fixture
def churn_in_prod(repo: Repo) -> Repo:
    """churn v0.0.1 in prod."""
    return make_registry(repo, "churn@v0.0.1 churn#prod#1")


def run(
    repo: Repo, *args: str, env: dict[str, str] | None = None, config: dict[str, str] | None = None
) -> Result:
    """In-process, stdout a pipe-like StringIO (not a terminal)."""
    for key, value in (config or {}).items():
        repo.git("config", key, value)
    out, err = io.StringIO(), io.StringIO()
    full_env = {**os.environ, **(env or {})}
    code = main(list(args), stdout=out, stderr=err, env=full_env, cwd=str(repo.path))
    return Result(code, out.getvalue(), err.getvalue())


def coloured(result: Result) -> bool:
    assert result.code == 0, result.err
    assert ESC not in result.err
    return ESC in result.out


@pytest.mark.parametrize(
    ("args", "env", "config", "expected"),
    [
        # Nothing set and not a terminal: no colour.
        ([], {}, {}, False),
        (["--color=auto"], {}, {}, False),
        # The option beats everything.
        (["--color"], {"NO_COLOR": "1"}, {"color.registry": "never"}, True),
        (["--color=always"], {"NO_COLOR": "1"}, {}, True),
        (["--no-color"], {}, {"color.registry": "always", "color.ui": "always"}, False),
        (["--color=never"], {}, {"color.registry": "always"}, False),
        # NO_COLOR beats the configuration.
        ([], {"NO_COLOR": "1"}, {"color.registry": "always"}, False),
        ([], {"NO_COLOR": "1"}, {"color.ui": "always"}, False),
        # color.registry beats color.ui.
        ([], {}, {"color.registry": "always", "color.ui": "never"}, True),
        ([], {}, {"color.registry": "false", "color.ui": "always"}, False),
        ([], {}, {"color.ui": "always"}, True),
        # As in Git (git_config_colorbool): true means auto, false and "" mean never.
        ([], {}, {"color.ui": "true"}, False),
        ([], {}, {"color.ui": "1"}, False),
        ([], {}, {"color.registry": "", "color.ui": "always"}, False),
        ([], {}, {"color.registry": "off", "color.ui": "always"}, False),
        # auto (and TERM=dumb) follow the terminal: a pipe here.
        ([], {}, {"color.registry": "auto", "color.ui": "always"}, False),
        # always means always, even for a dumb terminal, as in Git.
        ([], {"TERM": "dumb"}, {"color.registry": "always"}, True),
    ],
)
def test_colour_order(
    churn_in_prod: Repo,
    args: list[str],
    env: dict[str, str],
    config: dict[str, str],
    expected: bool,
) -> None:
    """--color/--no-color > NO_COLOR > color.registry > color.ui > terminal."""
    for command in (["show"], ["show", "churn"], ["history"]):
        result = run(churn_in_prod, *command, *args, env=env, config=config)
        assert coloured(result) is expected, (command, args, env, config)
        # The same text either way.
        plain = run(churn_in_prod, *command, "--no-color")
        assert _strip(result.out) == plain.out


def _strip(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("option", ["--color", "--color=always"])
def test_json_is_never_coloured(churn_in_prod: Repo, option: str) -> None:
    for command in (["show"], ["show", "churn"], ["history"], ["which", "churn", "prod"]):
        result = run(churn_in_prod, *command, "--json", option, config={"color.ui": "always"})
        assert result.code == 0
        assert ESC not in result.out
        json.loads(result.out)


# -- through Git: git -c KEY=VALUE reaches us in GIT_CONFIG_PARAMETERS ---------------------


def test_git_c_color_registry(churn_in_prod: Repo) -> None:
    on = _git(churn_in_prod, "-c", "color.registry=always", "registry", "show")
    assert ESC in on.stdout
    off = _git(
        churn_in_prod, "-c", "color.ui=always", "-c", "color.registry=never", "registry", "show"
    )
    assert ESC not in off.stdout
    ui = _git(churn_in_prod, "-c", "color.ui=always", "registry", "show")
    assert ESC in ui.stdout
    # A -c override beats the repository's configuration, as in Git.
    churn_in_prod.git("config", "color.registry", "never")
    assert ESC in _git(churn_in_prod, "-c", "color.registry=always", "registry", "show").stdout
    assert ESC not in _git(churn_in_prod, "registry", "show").stdout


def test_git_c_registry_key(churn_in_prod: Repo) -> None:
    """registry.remote from `git -c` names the remote in the push hint."""
    churn_in_prod.commit()
    proc = _git(churn_in_prod, "-c", "registry.remote=upstream", "registry", "register", "churn")
    assert "    git push upstream churn@v0.0.2\n" in proc.stdout
    # Without it: origin.
    churn_in_prod.commit()
    proc = _git(churn_in_prod, "registry", "register", "churn")
    assert "    git push origin churn@v0.0.3\n" in proc.stdout


def _git(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", *args], cwd=repo.path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc


# -- a real terminal -----------------------------------------------------------------------


def _in_terminal(repo: Repo, args: list[str], env: dict[str, str]) -> str:
    """Run `git registry ARGS` with stdout (and stderr) on a pseudo-terminal; return
    what it printed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        ["git", "registry", *args],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env={**os.environ, **env},
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed: the command is done
                break
            if not chunk:
                break
            output += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 0, output
    return output.decode()


def test_auto_colours_a_terminal(churn_in_prod: Repo) -> None:
    assert ESC in _in_terminal(churn_in_prod, ["show"], {"TERM": "xterm"})
    assert ESC in _in_terminal(churn_in_prod, ["show", "--color=auto"], {"TERM": "xterm"})
    churn_in_prod.git("config", "color.registry", "auto")
    assert ESC in _in_terminal(churn_in_prod, ["history"], {"TERM": "xterm"})


def test_a_terminal_without_colour(churn_in_prod: Repo) -> None:
    assert ESC not in _in_terminal(churn_in_prod, ["show"], {"TERM": "dumb"})
    assert ESC not in _in_terminal(churn_in_prod, ["show"], {"TERM": "xterm", "NO_COLOR": "1"})
    assert ESC not in _in_terminal(churn_in_prod, ["show", "--no-color"], {"TERM": "xterm"})
    assert ESC not in _in_terminal(churn_in_prod, ["show", "--json"], {"TERM": "xterm"})
    churn_in_prod.git("config", "color.ui", "never")
    assert ESC not in _in_terminal(churn_in_prod, ["show"], {"TERM": "xterm"})


def test_a_pipe_is_not_coloured(churn_in_prod: Repo) -> None:
    proc = _git(churn_in_prod, "registry", "show")
    assert ESC not in proc.stdout
    assert "churn" in proc.stdout


def test_git_c_reaches_a_terminal_run(churn_in_prod: Repo) -> None:
    """`git -c color.registry=never` turns off what a terminal would turn on."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        ["git", "-c", "color.registry=never", "registry", "show"],
        cwd=churn_in_prod.path,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm"},
    )
    os.close(slave)
    proc.wait(timeout=60)
    output = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    assert b"churn" in output
    assert ESC.encode() not in output


def test_a_colour_setting_that_is_not_one_is_fatal_as_in_git(churn_in_prod: Repo) -> None:
    result = run(churn_in_prod, "show", config={"color.ui": "bogus"})
    assert result.code == 128
    assert result.err == "fatal: bad boolean config value 'bogus' for 'color.ui'\n"


def test_color_ui_true_colours_a_terminal(churn_in_prod: Repo) -> None:
    """true means auto: a terminal gets colour (a pipe does not: test_colour_order)."""
    churn_in_prod.git("config", "color.ui", "true")
    assert ESC in _in_terminal(churn_in_prod, ["show"], {"TERM": "xterm"})


@pytest.mark.parametrize("place", ["before", "after"])
def test_color_takes_its_value_with_a_space_as_help_shows_it(
    churn_in_prod: Repo, place: str
) -> None:
    for when, coloured in (("always", True), ("never", False)):
        args = ["--color", when, "show"] if place == "before" else ["show", "--color", when]
        result = run(churn_in_prod, *args, config={"color.ui": "auto"})
        assert result.code == 0, result.err
        assert (ESC in result.out) is coloured, (args, result.out)
    # A bare --color followed by an operand still means always, and leaves it alone.
    result = run(churn_in_prod, "show", "--color", "churn")
    assert result.code == 0 and ESC in result.out and "v" in _strip(result.out)
