"""``git registry history [NAME]``: every event, newest first."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import UsageError
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from git_registry.state import Event

COMMAND = Command(
    name="history",
    summary="every registry event, newest first",
    description=(
        "Every event (registration, deregistration, assignment, unassignment, deprecation)\n"
        "of the registry or of one artifact, newest first: when, who, what, which commit.\n"
        "For GTO's scripts: --plain prints GTO's grep-able table and --json=gto GTO's JSON\n"
        "(a list of events); --asc is --ascending, -r PATH|URL as GTO's -r.\n"
        "--since DATE and --until DATE keep the events tagged in that time (ISO 8601,\n"
        "@UNIXTIME or N.days.ago; a date alone: from its start, --until to its end);\n"
        "--by WHO those whose tagger's name or email holds WHO (repeatable: any of them).\n"
        "--graph draws one artifact's lifecycle: a lane per stage, which version held it\n"
        "when, with promotions, rollbacks, deregistrations and deprecation marked (box\n"
        "characters; ASCII with --ascii or in a non-UTF-8 locale)."
    ),
    usage=(
        "git registry history [NAME] [--json[=gto] | --plain | --graph [--ascii]] [--ascending] "
        "[--since DATE] [--until DATE] [--by WHO]... "
        "[--remote NAME|URL]... [-r PATH|URL]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", nargs="?", help="only this artifact")
    shape = p.add_mutually_exclusive_group()
    options.json(shape, gto=True)
    shape.add_argument("--plain", action="store_true", help="GTO's grep-able table (GTO's --plain)")
    shape.add_argument(
        "--graph",
        action="store_true",
        help="draw NAME's lifecycle: one lane per stage, which version held it when",
    )
    p.add_argument(
        "--ascii", action="store_true", help="draw --graph with ASCII, not box characters"
    )
    p.add_argument("--ascending", "--asc", action="store_true", help="oldest first")
    p.add_argument(
        "--since", metavar="DATE", help="only events tagged at or after DATE (e.g. 2026-01-31)"
    )
    p.add_argument(
        "--until", metavar="DATE", help="only events tagged at or before DATE (a day: its end)"
    )
    p.add_argument(
        "--by",
        metavar="WHO",
        action="append",
        default=[],
        help="only events whose tagger's name or email holds WHO (case-insensitive; "
        "repeatable: any of them)",
    )
    options.remote(p)
    options.gto_repo(p, url=True)


def run(args: argparse.Namespace, session: Session) -> int:
    # LABEL:NAME with several --remote
    from git_registry.reading import events_of, head_annotations, load, warn_problems
    from git_registry.render import dump_json, dump_json_chunks, event_json, events_chunks
    from git_registry.selectors import check_name

    if args.ascii and not args.graph:
        raise UsageError("--ascii draws the graph: add --graph")
    if args.graph and args.name is None:
        raise UsageError(
            "--graph draws one artifact's lifecycle: name it",
            hint="git registry history NAME --graph",
        )
    wanted = None
    if args.since is not None or args.until is not None or args.by:
        import time

        from git_registry.filters import event_filter  # only then (start-up)

        wanted = event_filter(args.since, args.until, args.by, time.time())
    if args.graph and wanted:
        raise UsageError(
            "--graph draws the whole lifecycle: --since, --until and --by do not apply to it"
        )
    name = check_name(session.remotes, args.name) if args.name is not None else None
    registry = load(session, [name] if name is not None else None, keep_rows=False).registry
    warn_problems(session, registry, name)
    if name is not None and name not in registry.artifacts:
        from git_registry.lookups import unknown_artifact  # only for this message

        raise unknown_artifact(registry, name)
    events = events_of(registry, name)
    if wanted:
        events = [event for event in events if wanted.keeps(event)]
    if not args.ascending:
        events.reverse()
    problems = [str(p) for p in registry.problems if name is None or p.artifact == name]
    if args.plain or args.json == "gto":
        from git_registry import gtoshape

        docs = gtoshape.history_docs(events, ascending=args.ascending)
        if args.plain:
            session.stdout.write(gtoshape.history_plain(docs))
        else:
            session.stdout.write(dump_json(docs, indent=4))
        return 0
    if args.json:
        names = sorted({e.artifact for e in events})
        notes, _file_problems = head_annotations(session, names)
        rest = {
            "annotations": {n: notes[n].to_json() if n in notes else None for n in names},
            "warnings": problems,
        }
        # Written as encoded: 100,000 events are never one document in memory.
        for chunk in dump_json_chunks("events", map(event_json, events), rest):
            session.stdout.write(chunk)
        return 0
    if args.graph:
        assert name is not None
        _graph(args, session, registry.artifacts[name].events)
        return 0
    if not events:
        session.message(
            "hint",
            "no event matches --since, --until and --by"
            if wanted
            else "no registry events yet: register a version with 'git registry register NAME'",
        )
        return 0
    for chunk in events_chunks(events, session.paint()):
        session.stdout.write(chunk)
    return 0


def _graph(args: argparse.Namespace, session: Session, events: Sequence[Event]) -> None:
    from git_registry.lifecycle import lifecycle
    from git_registry.timeline import ASCII, UNICODE, graph_lines, unicode_ok

    used = list(dict.fromkeys(e.stage for e in events if e.stage is not None))
    if session.remotes:  # the local policy's order is not the remotes'
        stages = used
    else:
        from git_registry.reading import stage_names

        stages = stage_names(session, used)
    model = lifecycle(events[0].artifact, events, stages)
    encoding = getattr(session.stdout, "encoding", None)
    glyphs = ASCII if args.ascii or not unicode_ok(session.env, encoding) else UNICODE
    for parts in graph_lines(model, glyphs, ascending=args.ascending):
        session.out(*parts)
