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


def json(parser: argparse._ActionsContainer, *, gto: bool = False) -> None:
    """``--json``; with ``gto``, also ``--json=gto`` (GTO 1.10's shape): ``args.json`` is
    then None, ``"ours"`` or ``"gto"``."""
    if not gto:
        parser.add_argument(
            "--json", action="store_true", help="print JSON (see JSON OUTPUT in git-registry(1))"
        )
        return
    parser.add_argument(
        "--json",
        nargs="?",
        const="ours",
        choices=["ours", "gto"],
        metavar="=gto",
        help="print JSON (see JSON OUTPUT in git-registry(1))",
    )


def simple_value(text: str) -> bool | None:
    """GTO's ``--simple auto|true|false``: None (auto: a counter), True or False."""
    values = {"auto": None, "true": True, "false": False}
    if text not in values:
        raise argparse.ArgumentTypeError(f"'{text}': choose auto, true or false")
    return values[text]


def simple(parser: argparse.ArgumentParser, what: str) -> None:
    """``--simple`` (a flag), also written as GTO writes it: ``--simple true|false|auto``
    (auto and false: with a counter)."""
    parser.add_argument(
        "--simple",
        nargs="?",
        const=True,
        default=None,
        type=simple_value,
        metavar="true|false|auto",
        help=f"create {what} without a counter (GTO's --simple true; false and auto: with one)",
    )


def no_counter(args: argparse.Namespace, reason: str) -> None:
    """``--simple false`` where GTO would put a counter on the tag and we do not."""
    from git_registry.errors import UsageError

    if args.simple is False:
        raise UsageError(
            f"--simple false is not supported: {reason}",
            hint="leave --simple out: the tag is then the one GTO makes by default",
        )


def gto_repo(parser: argparse.ArgumentParser, *, url: bool) -> None:
    """GTO's ``-r/--repo``: run in the repository at PATH (as ``git -C PATH``), or, for
    the commands that take ``url``, read the remote at URL (as ``--remote URL``)."""
    parser.add_argument(
        "-r",
        "--repo",
        metavar="PATH|URL" if url else "PATH",
        help="run in the repository at PATH, as git -C PATH (GTO's -r)"
        + ("; a URL is read as --remote URL" if url else ""),
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
