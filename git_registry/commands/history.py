"""``git registry history [NAME]``: every event, newest first."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import events_of, head_annotations, load, warn_problems
from git_registry.errors import NotFoundError
from git_registry.mirror import check_name
from git_registry.plan import known_hint
from git_registry.render import dump_json, event_json, events_table


def run(args: argparse.Namespace, ctx: Context) -> int:
    # LABEL:NAME with several --remote
    name = check_name(ctx.remotes, args.name) if args.name is not None else None
    registry = load(ctx, [name] if name is not None else None).registry
    warn_problems(ctx, registry, name)
    if name is not None and name not in registry.artifacts:
        raise NotFoundError(f"unknown artifact '{name}'", hint=known_hint(registry))
    events = events_of(registry, name)
    if not args.ascending:
        events.reverse()
    problems = [str(p) for p in registry.problems if name is None or p.artifact == name]
    if args.json:
        names = sorted({e.artifact for e in events})
        notes, _file_problems = head_annotations(ctx, names)
        doc = {
            "events": [event_json(e) for e in events],
            "annotations": {n: notes[n].to_json() if n in notes else None for n in names},
            "warnings": problems,
        }
        ctx.stdout.write(dump_json(doc))
        return 0
    if not events:
        ctx.message(
            "hint", "no registry events yet: register a version with 'git registry register NAME'"
        )
        return 0
    ctx.stdout.write(events_table(events, ctx.paint()))
    return 0
