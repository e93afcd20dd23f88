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
        "hidden from 'show', and its stages and latest version are no longer served\n"
        "(which, latest, show NAME#STAGE exit 1 unless --all), until a later event\n"
        "re-activates it. Warns for each stage held. --delete deletes every tag of\n"
        "the artifact instead."
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
        code = create_tags(session, loaded, [tag], **options.writes(args))
        info = loaded.registry.artifacts.get(name)
        if code == 0 and not args.dry_run and info is not None:
            # The stage holders stay (a deprecation changes none), but are no longer
            # served: say so, a deploy script reading them now fails (serving.py).
            for stage, holds in info.stages.items():
                session.warn(
                    f"{name} {holds[0].version} held {stage} ({holds[0].assignment.tag}): "
                    f"it is no longer served ('which {name} {stage}' exits 1; --all prints it)"
                )
        if code == 0 and not args.dry_run:
            _warn_gto_reactivates(session, name)
        return code


def _warn_gto_reactivates(session: Session, name: str) -> None:
    """GTO 1.10.1 counts each commit whose root artifacts.yaml declares the artifact as
    an event of it (gtocompat.py): once HEAD moves past the deprecation, GTO shows the
    artifact as active again, while git registry keeps it deprecated. Say so."""
    from git_registry.reading import gto_view

    if name not in gto_view(session, {name}).declared:
        return
    session.warn(
        f"GTO 1.10.1 shows {name} as active again after the next commit, as long as "
        f"artifacts.yaml declares it (git registry keeps it deprecated; 'git registry "
        f"remove {name} --commit' retires it in both tools)"
    )
