"""``git registry remove NAME``: remove an entry from ``artifacts.yaml``."""

from __future__ import annotations

import argparse

from git_registry import annotations as ann
from git_registry.cli import Context
from git_registry.commands._edit import edit
from git_registry.errors import RegistryError
from git_registry.grammar import check_artifact_name
from git_registry.writelock import locked


def run(args: argparse.Namespace, ctx: Context) -> int:
    name = check_artifact_name(args.name)
    file, _key = ann.file_for(name)

    def change(_current: ann.Annotation | None, present: bool) -> None:
        if not present:
            raise RegistryError(
                f"there is no entry for {name} in {file}", hint="nothing was changed"
            )
        return None

    with locked(ctx, f"remove {name}"):
        edit(
            ctx,
            name,
            change,
            commit=args.commit,
            push=args.push,
            message=args.message or f"Remove artifact {name} from {file}",
        )
    ctx.out(f"Removed {name} from {file}")
    return 0
