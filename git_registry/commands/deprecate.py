"""``git registry deprecate NAME``: hide an artifact until a later event."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.grammar import check_artifact_name
from git_registry.session import Session

COMMAND = Command(
    name="deprecate",
    summary="deprecate an artifact (NAME@deprecated)",
    description=(
        "Create NAME@deprecated on the artifact's newest event's commit: the artifact is\n"
        "hidden from 'show' until a later event re-activates it. --delete deletes every\n"
        "tag of the artifact instead."
    ),
    usage=(
        "git registry deprecate NAME [--delete] [--force] [-m MSG] [--push] [-n] [-s | --no-sign]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument("--delete", action="store_true", help="delete all tags of the artifact instead")
    p.add_argument(
        "--force",
        action="store_true",
        help="deprecate even if already deprecated, or unknown (at HEAD)",
    )
    options.message_push(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.deleting import delete_tags
    from git_registry.plan import plan_deprecate, plan_deprecate_delete
    from git_registry.reading import load
    from git_registry.writing import create_tags

    name = check_artifact_name(args.name)
    with session.write_lock(f"deprecate {name}"):
        loaded = load(session, [name])
        if args.delete:
            delete_tags(
                session,
                plan_deprecate_delete(loaded.registry, name),
                push=args.push,
                undo=["deprecate", name],
                dry_run=args.dry_run,
                sign=args.sign,
            )
            return 0
        head = session.repo().head()
        tag = plan_deprecate(
            loaded.registry,
            loaded.tag_names,
            name,
            head=head,
            force=args.force,
            message=args.message,
        )
        return create_tags(session, loaded, [tag], **options.writes(args))
