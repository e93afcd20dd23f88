"""``git registry check-ref REF``: what event a registry tag created (for CI)."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import load
from git_registry.errors import NotFoundError
from git_registry.grammar import parse_tag, strip_tag_prefix
from git_registry.render import describe_event, dump_json, event_json


def run(args: argparse.Namespace, ctx: Context) -> int:
    name = strip_tag_prefix(args.ref)
    if args.ref.startswith("refs/") and not args.ref.startswith("refs/tags/"):
        raise NotFoundError(f"'{args.ref}' is not a tag: registry events are tags under refs/tags/")
    parsed = parse_tag(name)
    if parsed is None:
        raise NotFoundError(
            f"'{name}' is not a registry tag",
            hint="registry tags look like NAME@vX.Y.Z, NAME#STAGE#N, NAME#STAGE!#N, "
            "NAME@vX.Y.Z! or NAME@deprecated",
        )
    loaded = load(ctx, [parsed.artifact])
    if name not in loaded.tag_names:
        raise NotFoundError(
            f"there is no tag '{name}' in this repository",
            hint=f"fetch it with: git fetch origin tag '{name}'",
        )
    event = loaded.registry.event(name)
    if event is None:
        reasons = "; ".join(p.message for p in loaded.registry.problems_of(name))
        raise NotFoundError(f"{name} is not a registry event: {reasons or 'ignored'}")
    if args.json:
        ctx.stdout.write(dump_json(event_json(event)))
    else:
        ctx.out(f"{name}: {describe_event(event)}")
    return 0
