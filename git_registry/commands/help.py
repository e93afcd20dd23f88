"""``git registry help [COMMAND]``: a command's help, or the overview, without ``man``.

The manual page is ``git help registry``: Git turns ``git registry --help`` into
it as well, so this command is for systems without ``man``, and ``--man`` shows the
page packaged with git-registry, which ``git help`` does not find in an editable
install.
"""

from __future__ import annotations

import argparse

from git_registry.commands import Command
from git_registry.errors import UsageError
from git_registry.session import Session

COMMAND = Command(
    name="help",
    summary="print a command's help (the manual: git help registry)",
    description=(
        "Print the help of COMMAND, or the list of commands, without 'man'. The manual\n"
        "page is 'git help registry' (or 'man git-registry'); --man shows the page\n"
        "packaged with git-registry, whatever the install (an editable install puts none\n"
        "where 'git help' looks)."
    ),
    usage=("git registry help [COMMAND | --man]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("topic", metavar="COMMAND", nargs="?", help="the command")
    p.add_argument(
        "-m",
        "--man",
        action="store_true",
        help="show the manual page packaged with git-registry (with man)",
    )


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry import cli
    from git_registry.commands import WORDS

    if args.man:
        if args.topic is not None:
            raise UsageError(
                "--man shows the whole manual: give no COMMAND",
                hint="'git registry help COMMAND' prints one command's help",
            )
        from git_registry import manual

        session.stdout.flush()
        return manual.show(session.env)
    if args.topic is None:
        from git_registry.overview import OVERVIEW

        session.stdout.write(OVERVIEW)
        return 0
    if args.topic not in WORDS:
        raise UsageError(
            f"'{args.topic}' is not a git registry command",
            hint="'git registry help' lists the commands",
        )
    session.stdout.write(cli.command_parser(args.topic).format_help())
    return 0
