"""``git registry push [REMOTE] [NAME…]``: publish the registry tags the remote lacks,
one tag per push, oldest event first."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import events_of, load
from git_registry.commands.fetch import split_remote
from git_registry.errors import EXIT_NOT_FOUND
from git_registry.remote import list_tags, push_tag


def run(args: argparse.Namespace, ctx: Context) -> int:
    remote, names = split_remote(ctx, list(args.words))
    repo = ctx.repo()
    theirs = list_tags(remote, repo.cwd, names or None)
    loaded = load(ctx, names or None)
    selected: list[str | None] = list(names) if names else [None]
    events = [e for name in selected for e in events_of(loaded.registry, name)]
    events.sort(key=lambda e: e.order)
    todo = []
    for event in events:
        there = theirs.get(event.tag)
        if there is None:
            todo.append(event.tag)
        elif there.oid != event.oid:
            ctx.warn(f"{remote} has a different {event.tag}: not pushed (yours is kept)")
    for problem in loaded.registry.problems:
        if problem.tag and problem.tag not in theirs:
            ctx.warn(f"not pushed: {problem}")
    if not todo:
        ctx.out(
            f"Nothing to push: {remote} has every registry tag"
            + (f" of {', '.join(names)}" if names else "")
        )
        return 0
    if args.dry_run:
        for name in todo:
            ctx.out(f"would push {name}")
        return 0
    failed = 0
    for name in todo:
        outcome = push_tag(remote, name, repo.cwd)
        if outcome.ok:
            ctx.out(f"Pushed {name}")
        else:
            failed += 1
            ctx.message("error", f"{name} was not pushed: {outcome.reason}")
    if failed:
        ctx.message("error", f"{failed} of {len(todo)} tag(s) were not pushed to {remote}")
        return EXIT_NOT_FOUND
    return 0
