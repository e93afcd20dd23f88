"""Options that several commands share, declared once (a command calls these
from its ``arguments(parser)``)."""

from __future__ import annotations

import argparse


def message_push(parser: argparse.ArgumentParser) -> None:
    """``-m MSG`` and ``--push``, for the commands that create tags."""
    parser.add_argument(
        "-m", "--message", metavar="MSG", help="tag message (default: GTO's message)"
    )
    parser.add_argument(
        "--push", action="store_true", help="push the new tags to the remote with 'git push'"
    )
    parser.add_argument(
        "-n",
        "--dry-run",
        action="store_true",
        help="print what would be created and every rule it is checked against; create nothing",
    )
    sign = parser.add_mutually_exclusive_group()
    sign.add_argument(
        "-s",
        "--sign",
        action="store_true",
        default=None,
        help="sign the new tags as 'git tag -s' does (default: registry.sign, tag.gpgSign, "
        "or when the policy needs it)",
    )
    sign.add_argument(
        "--no-sign", dest="sign", action="store_false", help="do not sign the new tags"
    )


TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (start-up)
    from typing import TypedDict

    class Writes(TypedDict):
        push: bool
        sign: bool | None
        dry_run: bool


def writes(args: argparse.Namespace) -> Writes:
    """What :func:`message_push` read that a write takes (``push``, ``sign``, ``dry_run``)."""
    return {"push": args.push, "sign": args.sign, "dry_run": args.dry_run}


def commit_push(parser: argparse.ArgumentParser) -> None:
    """``--commit``, ``-m MSG`` and ``--push``, for the commands that edit artifacts.yaml."""
    parser.add_argument("--commit", action="store_true", help="commit the file (only that file)")
    parser.add_argument("-m", "--message", metavar="MSG", help="the commit message")
    parser.add_argument(
        "--push", action="store_true", help="push the commit (needs --commit) with 'git push'"
    )


def json(parser: argparse.ArgumentParser) -> None:
    """``--json``."""
    parser.add_argument(
        "--json", action="store_true", help="print JSON (see JSON OUTPUT in git-registry(1))"
    )


def remote(parser: argparse.ArgumentParser) -> None:
    """``--remote NAME|URL`` (repeatable), for the commands that read a registry."""
    parser.add_argument(
        "--remote",
        metavar="NAME|URL",
        action="append",
        help="read this remote's registry without cloning it (repeatable: one table, "
        "artifacts named REMOTE:NAME)",
    )
