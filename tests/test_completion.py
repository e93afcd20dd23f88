"""Shell completion in real shells: bash with Git's own completion script, zsh on a
real TAB in a pseudo-terminal, fish with ``complete -C``; the scripts stay in step
with the parser; ``git registry completion`` prints them; on a 10,000-tag repository
a TAB runs no Python and makes Git list only the refs it needs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from git_registry.cli import command_parsers, option_table

from conftest import BIN_DIR, Repo
from shells import (
    BASH_COMPLETION,
    COMPLETION,
    GIT_BASH_COMPLETION,
    ROOT,
    TmuxBash,
    bash_complete,
    fish_complete,
    installed_prefix,
    site_packages,
    zsh_complete,
)

needs_git_completion = pytest.mark.skipif(
    not GIT_BASH_COMPLETION.is_file(),
    reason=f"Git's bash completion script is not installed ({GIT_BASH_COMPLETION}; "
    "Debian's git package ships it; .ci/run installs it)",
)
needs_bash_completion = pytest.mark.skipif(
    not BASH_COMPLETION.is_file() or not GIT_BASH_COMPLETION.is_file(),
    reason="bash-completion is not installed (.ci/run installs it)",
)
needs_tmux = pytest.mark.skipif(
    shutil.which("tmux") is None or not GIT_BASH_COMPLETION.is_file(),
    reason="tmux or Git's bash completion is not installed (.ci/run installs them)",
)
needs_zsh = pytest.mark.skipif(
    shutil.which("zsh") is None, reason="zsh is not installed (.ci/run installs it)"
)
needs_fish = pytest.mark.skipif(
    shutil.which("fish") is None, reason="fish is not installed (.ci/run installs it)"
)

COMMON = {"--help", "--color", "--no-color"}


def _commands() -> dict[str, argparse.ArgumentParser]:
    return command_parsers()


def _long_options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for o in option_table(parser) if o.startswith("--") and o not in COMMON}


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Options that take the next word as their value."""
    return {o for o, value in option_table(parser).items() if value and o not in COMMON}


def _primary() -> dict[str, argparse.ArgumentParser]:
    """Each command once, under its own word (an alias shares its command's parser)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for name, parser in _commands().items():
        if all(parser is not seen for seen in found.values()):
            found[name] = parser
    return found


PRIMARY = _primary()


@pytest.fixture
def churn_segment_cv_seg(tmp_path: Path) -> Repo:
    """churn (v1.0.0 deregistered, v1.1.0 in prod, v1.2.0 in staging), segment,
    models/cv:seg in dev, and newmodel annotated but never registered."""
    repo = Repo(tmp_path / "registry repo")
    repo.commit(
        "policy and annotations",
        {
            ".registry.yaml": "stages: [dev, staging,   # the order of the columns\n  prod]\n",
            "artifacts.yaml": "churn:\n  type: model\nsegment:\n  type: model\n"
            "'newmodel':\n  type: dataset\n",
        },
    )
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.commit()
    repo.ok("register", "churn", "--version", "v1.1.0")
    repo.commit()
    repo.ok("register", "churn", "--version", "v1.2.0")
    repo.ok("register", "segment", "--version", "v0.4.1")
    repo.ok("register", "models/cv:seg")
    repo.ok("deregister", "churn@v1.0.0")
    repo.ok("promote", "churn@v1.1.0", "prod")
    repo.ok("promote", "churn", "staging")
    repo.ok("promote", "models/cv:seg", "dev")
    return repo


# -- the scripts and the parser ---------------------------------------------------------


def _bash_variables() -> dict[str, set[str]]:
    text = (COMPLETION / "git-registry.bash").read_text()
    return {
        m["name"]: set(m["value"].split())
        for m in re.finditer(r'^(?P<name>__git_registry_\w+)="(?P<value>[^"]*)"', text, re.M)
    }


def test_bash_script_lists_every_command_and_option() -> None:
    variables = _bash_variables()
    assert variables["__git_registry_commands"] == set(_commands())
    for name, parser in PRIMARY.items():
        key = name.replace("-", "_")
        assert variables[f"__git_registry_opts_{key}"] == _long_options(parser), name
        assert variables.get(f"__git_registry_args_{key}", set()) == _value_options(parser), name


def _zsh_branches() -> dict[str, str]:
    text = (COMPLETION / "_git-registry").read_text()
    body = text[text.index("case $cmd in") : text.index("if [[ $state == version ]]")]
    return {
        m["name"]: m["body"]
        for m in re.finditer(r"^ {8}\((?P<name>[a-z-]+)\)\n(?P<body>.*?);;", body, re.M | re.S)
    }


def test_zsh_script_lists_every_command_and_option() -> None:
    text = (COMPLETION / "_git-registry").read_text()
    listed = re.findall(r"^    '([a-z-]+):", text, re.M)
    assert set(listed) == set(_commands())
    branches = _zsh_branches()
    for name, parser in PRIMARY.items():
        found = set(re.findall(r"(--[a-z][a-z-]*)[=\[}]", branches[name]))
        assert found == _long_options(parser), name


def test_fish_script_lists_every_command_and_option() -> None:
    text = (COMPLETION / "git-registry.fish").read_text()
    listed = re.findall(r"-n __git_registry_needs_command -a ([a-z-]+)", text)
    assert set(listed) == set(_commands())
    options: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        using = re.match(r"set (?:-l )?n '__git_registry_using ([a-z-]+)'", line)
        if using:
            current = using[1]
            options[current] = set()
        elif current and line.startswith("$c ") and "-n $n" in line:
            options[current].update("--" + o for o in re.findall(r" -l ([a-z-]+)", line))
    for name, parser in PRIMARY.items():
        assert options.get(name, set()) == _long_options(parser), name


def test_completion_command_prints_each_script(repo: Repo) -> None:
    for shell, file in [
        ("bash", "git-registry.bash"),
        ("zsh", "_git-registry"),
        ("fish", "git-registry.fish"),
    ]:
        assert repo.ok("completion", shell) == (COMPLETION / file).read_text()
    result = repo.run("completion", "tcsh")
    assert result.code == 129
    assert "invalid choice" in result.err


def test_package_data_is_the_completion_folder() -> None:
    """One source of truth: the package's completion folder is completion/."""
    package = ROOT / "git_registry" / "completion"
    assert package.resolve() == COMPLETION.resolve()


@pytest.mark.slow
def test_install_puts_scripts_where_shells_look(tmp_path: Path) -> None:
    prefix = installed_prefix()
    for installed, source in [
        ("share/bash-completion/completions/git-registry.bash", "git-registry.bash"),
        ("share/zsh/site-functions/_git-registry", "_git-registry"),
        ("share/fish/vendor_completions.d/git-registry.fish", "git-registry.fish"),
        ("share/fish/vendor_conf.d/git-registry-conf.fish", "git-registry-conf.fish"),
    ]:
        assert (prefix / installed).read_text() == (COMPLETION / source).read_text()
        packaged = site_packages(prefix) / "git_registry" / "completion" / source
        assert not packaged.is_symlink()
        assert packaged.read_text() == (COMPLETION / source).read_text()
    # The installed package (not this work tree) prints them.
    proc = subprocess.run(
        [str(prefix / "bin" / "git-registry"), "completion", "zsh"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == (COMPLETION / "_git-registry").read_text()


# -- bash ----------------------------------------------------------------------------------


def _set(reply: list[str]) -> set[str]:
    return {item.rstrip(" ") for item in reply}


@pytest.mark.slow
@needs_git_completion
def test_bash_commands_and_options(churn_segment_cv_seg: Repo) -> None:
    lines = [
        "git registry ",
        "git registry pro",
        "git reg",
        "git registry --",
        "git registry --color=",
        "git registry promote --",
        "git registry assign --",
        "git registry show --all",
        "git registry promote churn --message ",
        "git registry completion ",
        "git registry hooks ",
        "git registry help he",
    ]
    out = dict(zip(lines, bash_complete(churn_segment_cv_seg.path, lines), strict=True))
    assert _set(out["git registry "]) == set(_commands())
    assert out["git registry pro"] == ["promote "]
    assert "registry " in out["git reg"]  # Git lists git-registry from PATH
    assert _set(out["git registry --"]) == {"--color=", "--no-color", "--version", "--help"}
    assert _set(out["git registry --color="]) == {"always", "never", "auto"}
    promote = _long_options(_commands()["promote"]) | {"--color=", "--no-color", "--help"}
    assert _set(out["git registry promote --"]) == promote
    assert _set(out["git registry assign --"]) == promote
    assert _set(out["git registry show --all"]) == {"--all", "--all-versions"}
    assert out["git registry promote churn --message "] == []  # free text
    assert _set(out["git registry completion "]) == {"bash", "zsh", "fish"}
    assert _set(out["git registry hooks "]) == {"install", "uninstall", "status"}
    assert _set(out["git registry help he"]) == {"help"}


@pytest.mark.slow
@needs_git_completion
def test_bash_artifacts_versions_and_stages(churn_segment_cv_seg: Repo) -> None:
    lines = [
        "git registry promote ",
        "git registry register ",
        "git registry promote ch",
        "git registry promote churn@",
        "git registry show churn@",
        "git registry show churn@v1.1",
        "git registry show churn#",
        "git registry promote churn ",
        "git registry assign churn@v1.2.0 st",
        "git registry which churn ",
        "git registry unassign models/cv:seg ",
        "git registry show models/cv:",
        "git registry show models/cv:seg@",
        "git registry deregister se",
        "git registry deregister churn@",
        "git registry promote churn --version ",
        "git registry check-ref churn#",
        "git registry check-ref refs/tags/models/cv=seg@",
        "git registry latest models/",
        "git registry get churn@",
        "git registry get churn#",
        "git registry get churn --out",
    ]
    out = dict(zip(lines, bash_complete(churn_segment_cv_seg.path, lines), strict=True))
    assert _set(out["git registry promote "]) == {"churn", "segment", "models/cv:seg"}
    assert _set(out["git registry register "]) == {"churn", "segment", "models/cv:seg", "newmodel"}
    assert out["git registry promote ch"] == ["churn "]
    # Deregistered versions are not offered for a promotion; show lists them, and @latest.
    assert _set(out["git registry promote churn@"]) == {"churn@v1.1.0", "churn@v1.2.0"}
    assert _set(out["git registry show churn@"]) == {
        "churn@v1.0.0",
        "churn@v1.1.0",
        "churn@v1.2.0",
        "churn@latest",
    }
    assert out["git registry show churn@v1.1"] == ["churn@v1.1.0 "]
    assert _set(out["git registry show churn#"]) == {"churn#prod", "churn#staging"}
    # The policy's stages, in its order.
    assert out["git registry promote churn "] == ["dev ", "staging ", "prod "]
    assert out["git registry assign churn@v1.2.0 st"] == ["staging "]
    assert _set(out["git registry which churn "]) == {"prod", "staging"}
    assert _set(out["git registry unassign models/cv:seg "]) == {"dev"}
    # bash replaces only what follows the ':' (a COMP_WORDBREAKS character).
    assert out["git registry show models/cv:"] == ["seg "]
    assert _set(out["git registry show models/cv:seg@"]) == {"seg@v0.0.1", "seg@latest"}
    assert out["git registry deregister se"] == ["segment@"]  # no space: a version follows
    assert _set(out["git registry deregister churn@"]) == {"churn@v1.1.0", "churn@v1.2.0"}
    assert _set(out["git registry promote churn --version "]) == {"v1.1.0", "v1.2.0"}
    assert _set(out["git registry check-ref churn#"]) == {
        tag for tag in churn_segment_cv_seg.tags() if tag.startswith("churn#")
    }
    assert out["git registry check-ref refs/tags/models/cv=seg@"] == ["seg@v0.0.1 "]
    assert out["git registry latest models/"] == ["models/cv:seg "]
    assert _set(out["git registry get churn@"]) == _set(out["git registry show churn@"])
    assert _set(out["git registry get churn#"]) == {"churn#prod", "churn#staging"}
    assert out["git registry get churn --out"] == ["--output "]


@pytest.mark.slow
@needs_git_completion
def test_bash_follows_git_C_and_git_dir(churn_segment_cv_seg: Repo, tmp_path: Path) -> None:
    """Values come from the repository `git -C DIR` or `--git-dir` names, not the cwd."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    # Git's completion takes a -C path as typed: use one without a space.
    link = tmp_path / "link"
    link.symlink_to(churn_segment_cv_seg.path)
    lines = [
        f"git -C {link} registry promote churn@",
        f"git --git-dir={link}/.git registry promote ",
        "git registry promote ",
    ]
    out = bash_complete(outside, lines)
    assert _set(out[0]) == {"churn@v1.1.0", "churn@v1.2.0"}
    assert _set(out[1]) == {"churn", "segment", "models/cv:seg"}
    assert out[2] == []  # outside a repository: nothing


@pytest.mark.slow
@needs_bash_completion
def test_bash_loads_the_installed_script_on_demand(churn_segment_cv_seg: Repo) -> None:
    """Installed under share/bash-completion/completions, the script is found by
    Git's completion (through bash-completion's loader) with nothing sourced by hand,
    both for `git registry` and for `git-registry`."""
    share = installed_prefix() / "share"
    env = {"XDG_DATA_DIRS": f"{share}:/usr/share"}
    lines = ["git registry pro", "git registry promote churn@", "git-registry sh"]
    out = bash_complete(churn_segment_cv_seg.path, lines, ours=None, load_git=False, env=env)
    assert out[0] == ["promote "]
    assert _set(out[1]) == {"churn@v1.1.0", "churn@v1.2.0"}
    assert out[2] == ["show "]
    # Without the installed script nothing completes the command's arguments.
    bare = bash_complete(
        churn_segment_cv_seg.path, ["git registry promote churn@"], ours=None, load_git=False
    )
    assert _set(bare[0]) != {"churn@v1.1.0", "churn@v1.2.0"}


@pytest.mark.slow
@needs_git_completion
def test_bash_completion_runs_no_python(churn_segment_cv_seg: Repo, tmp_path: Path) -> None:
    """With no Python on PATH (and git-registry not runnable), completion still works."""
    trap = tmp_path / "trap"
    trap.mkdir()
    marker = tmp_path / "python-ran"
    for name in ("python", "python3", "git-registry"):
        script = trap / name
        script.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
        script.chmod(0o755)
    git_dir = os.path.dirname(shutil.which("git") or "/usr/bin/git")
    env = {"PATH": f"{trap}:{git_dir}:/usr/bin:/bin"}
    out = bash_complete(
        churn_segment_cv_seg.path,
        ["git registry promote churn@", "git registry show churn#"],
        env=env,
    )
    assert _set(out[0]) == {"churn@v1.1.0", "churn@v1.2.0"}
    assert _set(out[1]) == {"churn#prod", "churn#staging"}
    assert not marker.exists()


@pytest.mark.slow
@needs_git_completion
def test_bash_splits_words_at_at_sign(churn_segment_cv_seg: Repo) -> None:
    """Without bash-completion, '@' is in COMP_WORDBREAKS: bash replaces only from
    the '@' on, so the candidates start there."""
    lines = [
        "git registry promote churn@",
        "git registry show churn@v1.1",
        "git registry show models/cv:seg@",
        "git registry promote churn@v1.1.0 ",
        "git registry which churn@v1.1.0 ",
        "git registry promote churn --ref churn@v1.2",
        "git registry deregister churn@",
        "git registry check-ref refs/tags/churn@v1.1",
        "git registry promote ch",
    ]
    out = dict(
        zip(lines, bash_complete(churn_segment_cv_seg.path, lines, at_breaks=True), strict=True)
    )
    assert _set(out["git registry promote churn@"]) == {"@v1.1.0", "@v1.2.0"}
    assert out["git registry show churn@v1.1"] == ["@v1.1.0 "]
    assert _set(out["git registry show models/cv:seg@"]) == {"@v0.0.1", "@latest"}
    # The word before is churn@v1.1.0, one argument: the stages come next.
    assert out["git registry promote churn@v1.1.0 "] == ["dev ", "staging ", "prod "]
    assert _set(out["git registry which churn@v1.1.0 "]) == {"prod", "staging"}
    assert out["git registry promote churn --ref churn@v1.2"] == ["@v1.2.0 "]
    assert _set(out["git registry deregister churn@"]) == {"@v1.1.0", "@v1.2.0"}
    assert out["git registry check-ref refs/tags/churn@v1.1"] == ["@v1.1.0 "]
    assert out["git registry promote ch"] == ["churn "]


@pytest.fixture
def tmux_env(tmp_path: Path) -> dict[str, str]:
    """A home with no ~/.inputrc, and a hosts file whose one name would show up if
    bash fell back to completing host names after '@'."""
    home = tmp_path / "tmux-home"
    home.mkdir()
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 fallback-hostname\n")
    return {**os.environ, "HOME": str(home), "HOSTFILE": str(hosts), "INPUTRC": "/dev/null"}


@pytest.mark.slow
@needs_tmux
@pytest.mark.parametrize(
    "with_bash_completion",
    [
        pytest.param(False, id="git-completion-alone"),
        pytest.param(
            True,
            id="with-bash-completion",
            marks=pytest.mark.skipif(
                not BASH_COMPLETION.is_file(), reason="bash-completion is not installed"
            ),
        ),
    ],
)
def test_bash_on_a_terminal_completes_versions_not_hosts(
    churn_segment_cv_seg: Repo, tmp_path: Path, tmux_env: dict[str, str], with_bash_completion: bool
) -> None:
    """TAB in an interactive bash (tmux): `churn@` lists churn's versions, not host
    names, with Git's completion alone (bash's default COMP_WORDBREAKS, '@' in it)
    and with bash-completion; `churn#` lists its stages."""
    scratch = tmp_path / "tmux"
    scratch.mkdir()
    bash = TmuxBash(
        churn_segment_cv_seg.path,
        scratch,
        bash_completion=with_bash_completion,
        env=tmux_env,
    )
    try:
        screen = bash.tab(
            "git registry promote churn@",
            lambda s: "v1.1.0" in s and "v1.2.0" in s and "fallback-hostname" not in s,
        )
        assert "@v1." in screen.splitlines()[0]  # the shared part was put on the line
        assert "v1.0.0" not in screen  # deregistered
        screen = bash.tab("git registry promote churn@v1.1", lambda s: "churn@v1.1.0" in s)
        assert screen.splitlines()[0].rstrip() == "$ git registry promote churn@v1.1.0"
        screen = bash.tab("git registry promote models/cv:seg@", lambda s: "v0.0.1" in s)
        assert screen.splitlines()[0].rstrip() == "$ git registry promote models/cv:seg@v0.0.1"
        screen = bash.tab(
            "git registry show churn#", lambda s: "churn#prod" in s and "churn#staging" in s
        )
        # Nothing to offer: no host names, no file names either.
        bash.tab("git registry promote nosuch@", lambda s: s.strip().endswith("nosuch@"))
        screen = bash.screen()
        assert "fallback-hostname" not in screen
        assert ".registry.yaml" not in screen
    finally:
        bash.close()


# -- zsh and fish --------------------------------------------------------------------------


def _shell_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "shell-home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PATH": BIN_DIR + os.pathsep + os.environ["PATH"],
    }


@pytest.mark.slow
@needs_zsh
def test_zsh_completes_git_registry(churn_segment_cv_seg: Repo, tmp_path: Path) -> None:
    lines = [
        "git reg",
        "git registry pro",
        "git registry promote --f",
        "git registry promote ",
        "git registry promote churn@",
        "git registry promote churn ",
        "git registry which churn ",
        "git registry show models/cv:seg@",
        "git registry show churn#",
        "git registry promote churn --version ",
        "git-registry sh",
        "git registry --color=",
        "git registry get churn#",
        "git registry get --pr",
    ]
    fpath = installed_prefix() / "share" / "zsh" / "site-functions"
    out = dict(
        zip(
            lines,
            zsh_complete(churn_segment_cv_seg.path, fpath, lines, _shell_env(tmp_path)),
            strict=True,
        )
    )
    assert "registry" in out["git reg"]  # listed from the #description line
    assert out["git registry pro"] == ["promote"]
    assert out["git registry promote --f"] == ["--force"]
    assert set(out["git registry promote "]) == {"churn", "segment", "models/cv:seg"}
    assert out["git registry promote churn@"] == ["churn@v1.1.0", "churn@v1.2.0"]
    assert out["git registry promote churn "] == ["dev", "prod", "staging"]
    assert out["git registry which churn "] == ["prod", "staging"]
    assert out["git registry show models/cv:seg@"] == [
        "models/cv:seg@latest",
        "models/cv:seg@v0.0.1",
    ]
    assert out["git registry show churn#"] == ["churn#prod", "churn#staging"]
    assert out["git registry promote churn --version "] == ["v1.1.0", "v1.2.0"]
    assert out["git-registry sh"] == ["show"]
    assert out["git registry get churn#"] == ["churn#prod", "churn#staging"]
    assert out["git registry get --pr"] == ["--print-url"]
    assert out["git registry --color="] == ["--color=always", "--color=auto", "--color=never"]


@pytest.mark.slow
@needs_fish
def test_fish_completes_git_registry(churn_segment_cv_seg: Repo, tmp_path: Path) -> None:
    env = _shell_env(tmp_path)
    share = installed_prefix() / "share"
    env["XDG_DATA_DIRS"] = f"{share}:/usr/share"
    # git-registry: fish finds the installed script in vendor_completions.d by itself.
    direct = [
        "git-registry pro",
        "git-registry promote ",
        "git-registry promote churn@",
        "git-registry promote churn ",
        "git-registry promote churn --version ",
        "git-registry show models/cv:seg@",
        "git-registry deregister se",
        "git-registry register --bump-m",
        "git-registry get churn#",
        "git-registry get --pr",
    ]
    out = dict(zip(direct, fish_complete(churn_segment_cv_seg.path, direct, env), strict=True))
    assert out["git-registry pro"] == ["promote"]
    assert out["git-registry promote "] == ["churn", "models/cv:seg", "segment"]
    assert out["git-registry promote churn@"] == ["churn@v1.1.0", "churn@v1.2.0"]
    assert out["git-registry promote churn "] == ["dev", "prod", "staging"]
    assert out["git-registry promote churn --version "] == ["v1.1.0", "v1.2.0"]
    assert out["git-registry show models/cv:seg@"] == [
        "models/cv:seg@latest",
        "models/cv:seg@v0.0.1",
    ]
    assert out["git-registry deregister se"] == ["segment@"]
    assert out["git-registry register --bump-m"] == ["--bump-major", "--bump-minor"]
    assert out["git-registry get churn#"] == ["churn#prod", "churn#staging"]
    assert out["git-registry get --pr"] == ["--print-url"]
    # git registry: forwarded by fish's Git completion, on fish 3.6.0 by the installed
    # vendor_conf.d file (fish reads it at start-up): nothing sourced by hand.
    forwarded = ["git registry pro", "git registry promote churn@", "git registry show churn#"]
    out = dict(
        zip(forwarded, fish_complete(churn_segment_cv_seg.path, forwarded, env), strict=True)
    )
    assert out["git registry pro"] == ["promote"]
    assert out["git registry promote churn@"] == ["churn@v1.1.0", "churn@v1.2.0"]
    assert out["git registry show churn#"] == ["churn#prod", "churn#staging"]
    # fish's own Git completion still loads.
    assert "checkout" in fish_complete(churn_segment_cv_seg.path, ["git che"], env)[0]


# -- speed ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10,000 registry tags (200 artifacts × 25 versions × (1 + 1 promotion)), packed
    refs as after a clone or `git gc`."""
    out = tmp_path_factory.mktemp("big") / "repo"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "make_repo.py"),
            str(out),
            *("-a", "200", "-v", "25", "-c", "1000", "-p", "1", "--refs", "packed"),
        ],
        check=True,
        capture_output=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    )
    return out


@pytest.mark.slow
@needs_git_completion
def test_bash_completion_on_10000_tags_runs_no_python_and_reads_only_what_it_needs(
    big_repo: Path, tmp_path: Path
) -> None:
    tags = subprocess.run(
        ["git", "for-each-ref", "--count=20000", "refs/tags"],
        cwd=big_repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.count("\n")
    assert tags == 10_000
    # A bound on the work, not on the time: every git process a TAB starts is logged.
    shim, log = tmp_path / "shim", tmp_path / "git.log"
    shim.mkdir()
    (shim / "git").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{shutil.which("git")}" "$@"\n'
    )
    (shim / "git").chmod(0o755)
    env = {"PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}
    cases = {
        "git registry promote ": "",
        "git registry promote model-007@": "model-007@",
        "git registry promote model-007 ": "",
        "git registry show model-150#": "model-150#",
        "git registry register mod": "mod",
    }
    for line, typed in cases.items():
        log.write_text("")
        result = bash_complete(big_repo, [line], env=env)[0]
        calls = log.read_text().splitlines()
        assert result and 1 <= len(calls) <= 3, (line, calls)
        for call in calls:
            command, *args = call.split()
            # No Python on TAB (never `git registry`): Git's plumbing only.
            assert command in ("for-each-ref", "show"), (line, call)
            if command == "for-each-ref":
                # Git lists only the refs that match what was typed, not all 10,000.
                assert all(a.startswith(f"refs/tags/{typed}") for a in args[1:]), (line, call)
    result = bash_complete(big_repo, ["git registry promote model-007@"])[0]
    assert len(result) == 25


@pytest.mark.slow
@needs_git_completion
@needs_zsh
@needs_fish
def test_at_completes_its_options_and_commits_in_each_shell(
    churn_segment_cv_seg: Repo, tmp_path: Path
) -> None:
    repo = churn_segment_cv_seg
    repo.git("branch", "fix-1")
    bash = dict(
        zip(
            ["git registry at --", "git registry at fix"],
            bash_complete(repo.path, ["git registry at --", "git registry at fix"]),
            strict=True,
        )
    )
    assert _set(bash["git registry at --"]) == {
        "--contains",
        "--json",
        "--color=",
        "--no-color",
        "--help",
    }
    assert _set(bash["git registry at fix"]) == {"fix-1"}
    env = _shell_env(tmp_path)
    fpath = installed_prefix() / "share" / "zsh" / "site-functions"
    zsh = zsh_complete(repo.path, fpath, ["git registry at --con", "git registry at fix"], env)
    assert zsh == [["--contains"], ["fix-1"]]
    env["XDG_DATA_DIRS"] = f"{installed_prefix() / 'share'}:/usr/share"
    fish = fish_complete(repo.path, ["git-registry at --con", "git-registry at fix"], env)
    assert fish == [["--contains"], ["fix-1"]]
