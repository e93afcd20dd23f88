"""``git registry help [COMMAND]``: a command's help, or the overview, without ``man``.

The manual page is ``git help registry``: Git turns ``git registry --help`` into
it as well, so this command is for systems without ``man``.
"""

from __future__ import annotations

import argparse

from git_registry.cli import Context, build_parser
from git_registry.errors import UsageError


def run(args: argparse.Namespace, ctx: Context) -> int:
    parser = build_parser()
    if args.topic is None:
        ctx.stdout.write(parser.format_help())
        return 0
    commands = next(
        action.choices
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    command = commands.get(args.topic)
    if command is None:
        raise UsageError(
            f"'{args.topic}' is not a git registry command",
            hint="'git registry help' lists the commands",
        )
    ctx.stdout.write(command.format_help())
    return 0
