"""``git registry remove NAME``: remove an entry from ``artifacts.yaml``."""

from __future__ import annotations

import argparse

from git_registry import annotations as ann
from git_registry import options
from git_registry.commands import Command
from git_registry.errors import RegistryError
from git_registry.grammar import check_artifact_name
from git_registry.session import Session

COMMAND = Command(
    name="remove",
    summary="remove an artifact's entry from artifacts.yaml",
    description=(
        "Remove NAME's entry from the work tree's artifacts.yaml; other entries are kept\n"
        "exactly as they are. Its tags are not touched. --commit commits only that file."
    ),
    usage=("git registry remove NAME [--commit [-m MSG]] [--push]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the artifact")
    options.commit_push(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.editing import edit

    name = check_artifact_name(args.name)
    file, _key = ann.file_for(name)

    def change(_current: ann.Annotation | None, present: bool) -> None:
        if not present:
            raise RegistryError(
                f"there is no entry for {name} in {file}", hint="nothing was changed"
            )
        return None

    with session.write_lock(f"remove {name}"):
        edit(
            session,
            name,
            change,
            commit=args.commit,
            push=args.push,
            message=args.message or f"Remove artifact {name} from {file}",
            done=f"Removed {name} from {file}",
        )
    return 0
