"""``git registry promote NAME[@V] STAGE`` (alias ``assign``): assign a stage."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import create_tags, load, parse_selector, resolve_ref
from git_registry.errors import UsageError
from git_registry.grammar import check_version
from git_registry.plan import plan_promote


def run(args: argparse.Namespace, ctx: Context) -> int:
    selector = parse_selector(args.name, allow_stage=False, allow_latest=False)
    version = selector.version
    if args.version is not None:
        if version is not None and version != args.version:
            raise UsageError(f"two versions given: {args.name} and --version {args.version}")
        version = check_version(args.version)
    commit = resolve_ref(ctx, args.ref) if args.ref is not None else None
    loaded = load(ctx, [selector.artifact])
    plan = plan_promote(
        loaded.registry,
        loaded.tag_names,
        selector.artifact,
        args.stage,
        version=version,
        commit=commit,
        policy=ctx.catalog().strict_policy(),
        simple=args.simple,
        force=args.force,
        message=args.message,
    )
    tags = [plan.assignment] if plan.registration is None else [plan.registration, plan.assignment]
    create_tags(ctx, loaded.registry, tags, push=args.push)
    return 0
