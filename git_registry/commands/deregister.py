"""``git registry deregister NAME@vX.Y.Z``: make a version inactive."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import create_tags, delete_tags, load, parse_selector
from git_registry.errors import UsageError
from git_registry.grammar import check_version
from git_registry.plan import plan_deregister, plan_deregister_delete
from git_registry.writelock import locked


def run(args: argparse.Namespace, ctx: Context) -> int:
    selector = parse_selector(args.name, allow_stage=False, allow_latest=False)
    version = selector.version
    if args.version is not None:
        if version is not None and version != args.version:
            raise UsageError(f"two versions given: {args.name} and --version {args.version}")
        version = check_version(args.version)
    if version is None:
        raise UsageError(
            f"which version of {selector.artifact}? write {selector.artifact}@vX.Y.Z",
        )
    with locked(ctx, f"deregister {selector.artifact}@{version}"):
        loaded = load(ctx, [selector.artifact])
        if args.delete:
            delete_tags(
                ctx,
                plan_deregister_delete(loaded.registry, selector.artifact, version),
                push=args.push,
            )
            return 0
        tag = plan_deregister(
            loaded.registry,
            loaded.tag_names,
            selector.artifact,
            version,
            force=args.force,
            message=args.message,
        )
        create_tags(ctx, loaded, [tag], push=args.push)
        return 0
