"""``git registry completion bash|zsh|fish``: print the shell completion script.

The scripts are package data (``git_registry/completion`` is the repository's
``completion/`` folder), so this works from an editable install too; pip also
installs them as data files where the shells look for them.
"""

from __future__ import annotations

import argparse
from importlib.resources import files

from git_registry.commands import Command
from git_registry.session import Session

COMMAND = Command(
    name="completion",
    summary="print the shell completion script",
    description=(
        "Print the completion script for SHELL. Installed with pip, the scripts are also in\n"
        "share/bash-completion/completions, share/zsh/site-functions and\n"
        "share/fish/vendor_completions.d. One step per shell (see the README):\n"
        "  bash: source <(git registry completion bash)               in ~/.bashrc\n"
        "  zsh:  git registry completion zsh > ~/.zfunc/_git-registry  (~/.zfunc in $fpath)\n"
        "  fish: git registry completion fish > ~/.config/fish/conf.d/git-registry.fish"
    ),
    usage=("git registry completion (bash | zsh | fish)"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "shell", metavar="SHELL", choices=["bash", "zsh", "fish"], help="bash, zsh or fish"
    )


SCRIPTS = {"bash": "git-registry.bash", "zsh": "_git-registry", "fish": "git-registry.fish"}
"""Shell -> the script's file name in ``completion/`` (the name each shell looks for)."""


def script(shell: str) -> str:
    """The completion script for ``shell`` (``bash``, ``zsh`` or ``fish``)."""
    path = files("git_registry").joinpath("completion").joinpath(SCRIPTS[shell])
    return path.read_text(encoding="utf-8")


def run(args: argparse.Namespace, session: Session) -> int:
    session.stdout.write(script(args.shell))
    return 0
