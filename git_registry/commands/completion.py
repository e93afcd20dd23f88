"""``git registry completion bash|zsh|fish``: print the shell completion script.

The scripts are package data (``git_registry/completion`` is the repository's
``completion/`` folder), so this works from an editable install too; pip also
installs them as data files where the shells look for them.
"""

from __future__ import annotations

import argparse
from importlib.resources import files

from git_registry.cli import Context

SCRIPTS = {"bash": "git-registry.bash", "zsh": "_git-registry", "fish": "git-registry.fish"}
"""Shell -> the script's file name in ``completion/`` (the name each shell looks for)."""


def script(shell: str) -> str:
    """The completion script for ``shell`` (``bash``, ``zsh`` or ``fish``)."""
    path = files("git_registry").joinpath("completion").joinpath(SCRIPTS[shell])
    return path.read_text(encoding="utf-8")


def run(args: argparse.Namespace, ctx: Context) -> int:
    ctx.stdout.write(script(args.shell))
    return 0
