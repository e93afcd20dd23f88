"""``git registry schema [--policy]``: the JSON Schema of ``artifacts.yaml`` (or of
``.registry.yaml``)."""

from __future__ import annotations

import argparse

from git_registry.artifact_schema import json_schema_text
from git_registry.commands import Command
from git_registry.session import Session

COMMAND = Command(
    name="schema",
    summary="print the JSON Schema of artifacts.yaml (or .registry.yaml)",
    description=(
        "Print the JSON Schema (draft 2020-12) of artifacts.yaml, or with --policy of\n"
        ".registry.yaml, for editors and CI."
    ),
    usage=("git registry schema [--policy]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--policy", action="store_true", help="the schema of .registry.yaml (the team policy)"
    )


def run(args: argparse.Namespace, session: Session) -> int:
    session.stdout.write(json_schema_text(policy=args.policy))
    return 0
