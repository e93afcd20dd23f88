"""``git registry register NAME [REF]``: create a version tag."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import Loaded, create_tags, load, resolve_ref
from git_registry.grammar import check_artifact_name
from git_registry.plan import Bump, NewTag, plan_register
from git_registry.writelock import locked


def run(args: argparse.Namespace, ctx: Context) -> int:
    name = check_artifact_name(args.name)
    commit = resolve_ref(ctx, args.ref)

    def plan(loaded: Loaded) -> list[NewTag]:
        return [
            plan_register(
                loaded.registry,
                loaded.tag_names,
                name,
                commit,
                version=args.version,
                bump=Bump(args.bump) if args.bump else None,
                message=args.message,
                force=args.force,
            )
        ]

    with locked(ctx, f"register {name}"):
        loaded = load(ctx, [name])
        create_tags(ctx, loaded, plan(loaded), push=args.push, replan=plan)
    return 0
