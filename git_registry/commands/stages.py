"""``git registry stages``: the stages of the registry."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import load
from git_registry.render import dump_json


def run(args: argparse.Namespace, ctx: Context) -> int:
    policy = ctx.catalog().policy()
    for problem in ctx.catalog().policy_problems():
        ctx.warn(str(problem))
    if policy.stages is not None and not args.used:
        stages = list(policy.stages)
    else:
        stages = list(load(ctx).registry.stages)
    if args.json:
        ctx.stdout.write(dump_json({"stages": stages}))
        return 0
    for stage in stages:
        ctx.out(stage)
    return 0
