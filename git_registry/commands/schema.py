"""``git registry schema``: the JSON Schema of ``artifacts.yaml``."""

from __future__ import annotations

import argparse

from git_registry.artifact_schema import json_schema_text
from git_registry.commands import Command
from git_registry.session import Session

COMMAND = Command(
    name="schema",
    summary="print the JSON Schema of artifacts.yaml",
    description=("Print the JSON Schema (draft 2020-12) of artifacts.yaml, for editors and CI."),
    usage=("git registry schema"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace, session: Session) -> int:
    session.stdout.write(json_schema_text())
    return 0
