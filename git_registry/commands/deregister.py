"""``git registry deregister NAME@vX.Y.Z``: make a version inactive."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import UsageError
from git_registry.grammar import check_version
from git_registry.session import Session

COMMAND = Command(
    name="deregister",
    summary="deregister a version (NAME@vX.Y.Z!)",
    description=(
        "Create NAME@vX.Y.Z! so the version is no longer active (it keeps its number:\n"
        "new versions bump past it). --delete deletes every tag of the version instead."
    ),
    usage=(
        "git registry deregister NAME@vX.Y.Z [--delete] [--force] [-m MSG] [--push] [-n] "
        "[-s | --no-sign]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME@vX.Y.Z", help="the version to deregister")
    p.add_argument("--version", metavar="V", help="the version, if NAME has no @vX.Y.Z")
    p.add_argument("--delete", action="store_true", help="delete all tags of the version instead")
    p.add_argument("--force", action="store_true", help="deregister even if already deregistered")
    options.message_push(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.deleting import delete_tags
    from git_registry.plan import plan_deregister, plan_deregister_delete
    from git_registry.reading import load
    from git_registry.selectors import parse_selector
    from git_registry.writing import create_tags, say_holders

    selector = parse_selector(args.name, allow_stage=False, allow_latest=False)
    version = selector.version
    if args.version is not None:
        if version is not None and version != args.version:
            raise UsageError(f"two versions given: {args.name} and --version {args.version}")
        version = check_version(args.version)
    if version is None:
        raise UsageError(
            f"which version of {selector.artifact}? write {selector.artifact}@vX.Y.Z",
        )
    with session.write_lock(f"deregister {selector.artifact}@{version}"):
        loaded = load(session, [selector.artifact])
        info = loaded.registry.artifacts.get(selector.artifact)
        held = info.version(version) if info is not None else None
        stages = list(held.stages) if held is not None and not args.dry_run else []
        if args.delete:
            delete_tags(
                session,
                plan_deregister_delete(loaded.registry, selector.artifact, version),
                push=args.push,
                undo=["deregister", f"{selector.artifact}@{version}"],
                dry_run=args.dry_run,
                sign=args.sign,
            )
            say_holders(session, selector.artifact, stages, deregistered=version)
            return 0
        tag = plan_deregister(
            loaded.registry,
            loaded.tag_names,
            selector.artifact,
            version,
            force=args.force,
            message=args.message,
        )
        code = create_tags(session, loaded, [tag], **options.writes(args))
        if code == 0:
            say_holders(session, selector.artifact, stages, deregistered=version)
        return code
