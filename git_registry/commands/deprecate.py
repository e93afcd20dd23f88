"""``git registry deprecate NAME``: hide an artifact until a later event."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import UsageError
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
        "the artifact instead. --ref REF: deprecate at that commit.\n"
        "GTO's forms: 'deprecate NAME VERSION' deregisters the version (as deregister\n"
        "NAME@VERSION) and 'deprecate NAME VERSION STAGE' unassigns the stage (as unassign\n"
        "NAME@VERSION STAGE), with the same options (-d is --delete)."
    ),
    usage=(
        "git registry deprecate NAME [VERSION [STAGE]] [--ref REF] [-d | --delete] [--force] "
        "[--simple] [-m MSG] [--push] [-n] [-s | --no-sign] [-r PATH]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument(
        "version", metavar="VERSION", nargs="?", help="deregister this version (GTO's form)"
    )
    p.add_argument(
        "stage", metavar="STAGE", nargs="?", help="unassign this stage of VERSION (GTO's form)"
    )
    p.add_argument(
        "-d",
        "--delete",
        action="store_true",
        help="delete all tags of the artifact (version, stage) instead",
    )
    p.add_argument("--ref", metavar="REF", help="deprecate at this commit (default: its newest)")
    options.simple(p, "NAME#STAGE! (with STAGE)")
    p.add_argument(
        "--force",
        action="store_true",
        help="deprecate even if already deprecated, or unknown (at HEAD)",
    )
    options.message_push(p)
    options.gto_repo(p, url=False)


def _dispatch(args: argparse.Namespace, session: Session) -> int | None:
    """GTO's ``deprecate NAME VERSION [STAGE]``: run deregister or unassign (their
    own code, with these options); None for ``deprecate NAME``."""
    if args.version is None or args.stage is None:
        options.no_counter(
            args, "a deprecation or deregistration has a counter only if the plain tag exists"
        )
    if args.version is None:
        return None
    if args.ref is not None:
        raise UsageError("--ref deprecates an artifact: it takes no VERSION")
    shared = {
        "name": f"{args.name}@{args.version}",
        "delete": args.delete,
        "force": args.force,
        "message": args.message,
        **options.writes(args),
    }
    if args.stage is None:
        from git_registry.commands import deregister

        return deregister.run(argparse.Namespace(version=None, **shared), session)
    from git_registry.commands import unassign

    return unassign.run(argparse.Namespace(stage=args.stage, simple=args.simple, **shared), session)


def run(args: argparse.Namespace, session: Session) -> int:
    dispatched = _dispatch(args, session)
    if dispatched is not None:
        return dispatched
    from git_registry.deleting import delete_tags
    from git_registry.plan import plan_deprecate, plan_deprecate_delete
    from git_registry.reading import load
    from git_registry.selectors import resolve_ref
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
        commit = resolve_ref(session, args.ref) if args.ref is not None else None
        tag = plan_deprecate(
            loaded.registry,
            loaded.tag_names,
            name,
            head=head,
            commit=commit,
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
