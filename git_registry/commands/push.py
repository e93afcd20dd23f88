"""``git registry push [REMOTE] [NAME…]``: publish the registry tags the remote lacks,
one tag per push, oldest event first."""

from __future__ import annotations

import argparse

from git_registry.commands import Command
from git_registry.commands.fetch import split_remote
from git_registry.errors import EXIT_NOT_FOUND
from git_registry.session import Session

COMMAND = Command(
    name="push",
    summary="push the registry tags a remote lacks, one per push",
    description=(
        "Push the registry tags (all, or those of the NAMEs) that the remote lacks, oldest\n"
        "event first, one tag per 'git push' so that each fires its own CI event. Tags the\n"
        "remote has with other contents are reported, never forced. REMOTE defaults to\n"
        "registry.remote, then origin."
    ),
    usage=("git registry push [REMOTE] [NAME...] [--dry-run]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "words", metavar="[REMOTE] [NAME]", nargs="*", help="a remote or URL, then artifacts"
    )
    p.add_argument("-n", "--dry-run", action="store_true", help="list what would be pushed")


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.reading import events_of, load
    from git_registry.remote import list_tags
    from git_registry.writing import push_each

    remote, names = split_remote(session, list(args.words))
    repo = session.repo()
    theirs = list_tags(remote, repo.cwd, names or None, env=session.env)
    loaded = load(session, names or None)
    selected: list[str | None] = list(names) if names else [None]
    events = [e for name in selected for e in events_of(loaded.registry, name)]
    events.sort(key=lambda e: e.order)
    todo = []
    for event in events:
        there = theirs.get(event.tag)
        if there is None:
            todo.append(event.tag)
        elif there.oid != event.oid:
            session.warn(f"{remote} has a different {event.tag}: not pushed (yours is kept)")
    for problem in loaded.registry.problems:
        if problem.tag and problem.tag not in theirs:
            session.warn(f"not pushed: {problem}")
    if not todo:
        session.out(
            f"Nothing to push: {remote} has every registry tag"
            + (f" of {', '.join(names)}" if names else "")
        )
        return 0
    if args.dry_run:
        for name in todo:
            session.out(f"would push {name}")
        return 0
    outcomes = push_each(session, remote, todo, keep_going=True)
    for outcome in outcomes:
        if not outcome.ok:
            session.message("error", f"{outcome.name} was not pushed: {outcome.reason}")
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        if len(todo) == 1:
            what = "the tag was"
        else:
            what = f"{failed} of the {len(todo)} tags {'was' if failed == 1 else 'were'}"
        session.message("error", f"{what} not pushed to {remote}")
        return EXIT_NOT_FOUND
    return 0
