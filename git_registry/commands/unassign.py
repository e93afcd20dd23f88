"""``git registry unassign NAME[@V] STAGE``: take a stage away from a version."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.session import Session

COMMAND = Command(
    name="unassign",
    summary="take a stage away from a version (NAME#STAGE!#N)",
    description=(
        "Create the unassignment tag NAME#STAGE!#N for the version holding STAGE (or\n"
        "NAME@vX.Y.Z); the stage falls back to the version that held it before.\n"
        "--delete deletes that version's tags for the stage instead. Says which version\n"
        "holds the stage now (rollback: the one before)."
    ),
    usage=(
        "git registry unassign NAME[@vX.Y.Z] STAGE [--delete] [--simple] [--force] "
        "[-m MSG] [--push] [-n] [-s | --no-sign]"
    ),
    aliases=("rollback",),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME[@vX.Y.Z]", help="artifact, optionally with the version")
    p.add_argument("stage", metavar="STAGE", help="the stage")
    p.add_argument(
        "--delete", action="store_true", help="delete the stage's tags of that version instead"
    )
    p.add_argument("--simple", action="store_true", help="create NAME#STAGE! without a counter")
    p.add_argument(
        "--force",
        action="store_true",
        help="unassign even if the version is not in the stage, or its commit holds two "
        "versions (GTO 1.10.1 cannot read the tag)",
    )
    options.message_push(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.deleting import delete_tags
    from git_registry.plan import NewTag, plan_unassign, plan_unassign_delete
    from git_registry.reading import Loaded, load
    from git_registry.selectors import parse_selector
    from git_registry.writing import create_tags, say_holders

    selector = parse_selector(args.name, allow_stage=False, allow_latest=False)
    with session.write_lock(f"unassign {args.name} {args.stage}"):
        loaded = load(session, [selector.artifact])
        if args.delete:
            deletions = plan_unassign_delete(
                loaded.registry, selector.artifact, args.stage, version=selector.version
            )
            delete_tags(
                session,
                deletions,
                push=args.push,
                undo=["unassign", args.name, args.stage],
                dry_run=args.dry_run,
                sign=args.sign,
            )
            if not args.dry_run:
                say_holders(session, selector.artifact, [args.stage])
            return 0

        def plan(loaded: Loaded) -> list[NewTag]:
            return [
                plan_unassign(
                    loaded.registry,
                    loaded.tag_names,
                    selector.artifact,
                    args.stage,
                    version=selector.version,
                    simple=bool(args.simple),
                    force=args.force,
                    message=args.message,
                )
            ]

        code = create_tags(
            session, loaded, plan(loaded), replan=plan, gto_force=args.force, **options.writes(args)
        )
        if code == 0 and not args.dry_run:
            say_holders(session, selector.artifact, [args.stage])
        return code
