"""``git registry which NAME STAGE``: the version holding a stage."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import load, warn_problems
from git_registry.errors import NotFoundError
from git_registry.grammar import check_stage
from git_registry.mirror import check_name
from git_registry.plan import known_hint
from git_registry.render import dump_json, hold_json


def run(args: argparse.Namespace, ctx: Context) -> int:
    name = check_name(ctx.remotes, args.name)  # LABEL:NAME with several --remote
    stage = check_stage(args.stage)
    registry = load(ctx, [name]).registry
    warn_problems(ctx, registry, name)
    info = registry.artifacts.get(name)
    if info is None:
        raise NotFoundError(f"unknown artifact '{name}'", hint=known_hint(registry))
    holds = info.stages.get(stage, ())
    if not holds:
        raise NotFoundError(f"no version of {name} is in stage '{stage}'")
    if args.json:
        doc = {"artifact": name, "stage": stage, **hold_json(holds[0])}
        if args.all_versions:
            doc["all_versions"] = [hold_json(h) for h in holds]
        ctx.stdout.write(dump_json(doc))
        return 0
    for hold in holds if args.all_versions else holds[:1]:
        ctx.out(hold.assignment.tag if args.ref else hold.version)
    return 0
