"""``git registry stages``: the stages of the registry."""

from __future__ import annotations

import argparse

from git_registry.cli import Context
from git_registry.commands._common import load
from git_registry.render import dump_json


def run(args: argparse.Namespace, ctx: Context) -> int:
    registry = load(ctx).registry
    if args.json:
        ctx.stdout.write(dump_json({"stages": list(registry.stages)}))
        return 0
    for stage in registry.stages:
        ctx.out(stage)
    return 0
