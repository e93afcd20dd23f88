"""``git registry latest NAME``: the highest active version by SemVer."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import load, warn_problems
from git_registry.errors import NotFoundError
from git_registry.mirror import check_name
from git_registry.plan import known_hint
from git_registry.render import dump_json, version_json


def run(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(ctx.remotes, args.name)  # LABEL:NAME with several --remote
    registry = load(ctx, [name]).registry
    warn_problems(ctx, registry, name)
    info = registry.artifacts.get(name)
    if info is None:
        raise NotFoundError(f"unknown artifact '{name}'", hint=known_hint(registry))
    if info.latest is None:
        raise NotFoundError(f"{name} has no active versions")
    if args.json:
        ctx.stdout.write(dump_json(version_json(info.latest)))
    else:
        ctx.out(info.latest.registration.tag if args.ref else info.latest.version)
    return 0
