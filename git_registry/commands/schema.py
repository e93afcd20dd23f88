"""``git registry schema``: the JSON Schema of ``artifacts.yaml``."""

from __future__ import annotations

import argparse

from git_registry.annotations import json_schema_text
from git_registry.cli import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    ctx.stdout.write(json_schema_text())
    return 0
