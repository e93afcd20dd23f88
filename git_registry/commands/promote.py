"""``git registry promote NAME[@V] STAGE`` (alias ``assign``): assign a stage."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import (
    Loaded,
    create_tags,
    load,
    parse_selector,
    resolve_ref,
)
from git_registry.errors import UsageError
from git_registry.grammar import check_version
from git_registry.plan import NewTag, plan_promote
from git_registry.writelock import locked


def run(args: argparse.Namespace, ctx: Context) -> int:
    selector = parse_selector(args.name, allow_stage=False, allow_latest=False)
    version = selector.version
    if args.version is not None:
        if version is not None and version != args.version:
            raise UsageError(f"two versions given: {args.name} and --version {args.version}")
        version = check_version(args.version)
    commit = resolve_ref(ctx, args.ref) if args.ref is not None else None

    calls = [0]

    def plan(loaded: Loaded) -> list[NewTag]:
        # On a retry after a lost push race, someone else may have just assigned the
        # same stage to the same version: the user asked for an assignment, so make
        # one with the next counter rather than fail.
        calls[0] += 1
        made = plan_promote(
            loaded.registry,
            loaded.tag_names,
            selector.artifact,
            args.stage,
            version=version,
            commit=commit,
            simple=args.simple,
            force=args.force or calls[0] > 1,
            message=args.message,
        )
        if made.registration is None:
            return [made.assignment]
        return [made.registration, made.assignment]

    with locked(ctx, f"promote {args.name} {args.stage}"):
        loaded = load(ctx, [selector.artifact])
        create_tags(ctx, loaded, plan(loaded), push=args.push, replan=plan)
    return 0
