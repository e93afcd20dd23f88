"""``git registry latest NAME``: the highest active version by SemVer."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import NotFoundError
from git_registry.session import Session

COMMAND = Command(
    name="latest",
    summary="the latest version",
    description=(
        "Print the highest active version of NAME, by SemVer (exit 1 if there is none).\n"
        "A deprecated artifact's latest version is not served: exit 1 and say so, unless --all."
    ),
    usage=("git registry latest NAME [--ref] [--all] [--json] [--remote NAME|URL]..."),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument("--ref", action="store_true", help="print the version's tag")
    p.add_argument(
        "--all", action="store_true", help="print it even if the artifact is deprecated (warns)"
    )
    options.json(p)
    options.remote(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.reading import load, warn_problems
    from git_registry.render import dump_json, version_json
    from git_registry.selectors import check_name
    from git_registry.serving import Served, check_served, deprecation_json

    name = check_name(session.remotes, args.name)  # LABEL:NAME with several --remote
    registry = load(session, [name]).registry
    warn_problems(session, registry, name)
    info = registry.artifacts.get(name)
    if info is None:
        from git_registry.lookups import unknown_artifact  # only for this message

        raise unknown_artifact(registry, name)
    check_served(
        session,
        info,
        Served.LATEST,
        show_all=args.all,
        retry=f"git registry latest {name} --all" if info.latest else None,
        json_doc={"artifact": name} if args.json else None,
    )
    if info.latest is None:
        raise NotFoundError(f"{name} has no active versions")
    if args.json:
        session.stdout.write(dump_json({**version_json(info.latest), **deprecation_json(info)}))
    else:
        session.out(info.latest.registration.tag if args.ref else info.latest.version)
    return 0
