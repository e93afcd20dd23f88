"""``git registry unassign NAME[@V] STAGE``: take a stage away from a version."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import (
    Loaded,
    create_tags,
    delete_tags,
    load,
    parse_selector,
)
from git_registry.plan import NewTag, plan_unassign, plan_unassign_delete
from git_registry.writelock import locked


def run(args: argparse.Namespace, ctx: Context) -> int:
    selector = parse_selector(args.name, allow_stage=False, allow_latest=False)
    with locked(ctx, f"unassign {args.name} {args.stage}"):
        loaded = load(ctx, [selector.artifact])
        if args.delete:
            deletions = plan_unassign_delete(
                loaded.registry, selector.artifact, args.stage, version=selector.version
            )
            delete_tags(ctx, deletions, push=args.push)
            return 0

        def plan(loaded: Loaded) -> list[NewTag]:
            return [
                plan_unassign(
                    loaded.registry,
                    loaded.tag_names,
                    selector.artifact,
                    args.stage,
                    version=selector.version,
                    simple=args.simple,
                    force=args.force,
                    message=args.message,
                )
            ]

        create_tags(ctx, loaded, plan(loaded), push=args.push, replan=plan)
        return 0
