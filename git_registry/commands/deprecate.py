"""``git registry deprecate NAME``: hide an artifact until a later event."""

from __future__ import annotations

import argparse

from git_registry import gitbin
from git_registry.cli import Context
from git_registry.commands._common import create_tags, delete_tags, load
from git_registry.grammar import check_artifact_name
from git_registry.plan import plan_deprecate, plan_deprecate_delete
from git_registry.writelock import locked


def run(args: argparse.Namespace, ctx: Context) -> int:
    name = check_artifact_name(args.name)
    with locked(ctx, f"deprecate {name}"):
        loaded = load(ctx, [name])
        if args.delete:
            delete_tags(ctx, plan_deprecate_delete(loaded.registry, name), push=args.push)
            return 0
        head = gitbin.resolve_commit("HEAD", cwd=ctx.repo().cwd)
        tag = plan_deprecate(
            loaded.registry,
            loaded.tag_names,
            name,
            head=head,
            force=args.force,
            message=args.message,
        )
        create_tags(ctx, loaded, [tag], push=args.push)
        return 0
