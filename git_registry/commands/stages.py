"""``git registry stages``: the stages of the registry."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.session import Session

COMMAND = Command(
    name="stages",
    summary="list the stages",
    description=(
        "List the stages: the allow-list of .registry.yaml (or GTO's .gto) in its order, or\n"
        "without one (or with --used), every stage ever used: those of the allow-list in its\n"
        "order, then the others in order of first use. --allowed: the allow-list only\n"
        "(nothing without one). --json=gto: GTO's JSON (a list; null for --allowed without\n"
        "an allow-list; as GTO, the stages used are those held now, sorted by name)."
    ),
    usage=("git registry stages [--used | --allowed] [--json[=gto]] [-r PATH]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--used",
        action="store_true",
        help="every stage ever used, even with an allow-list (its stages first, in its order)",
    )
    which.add_argument(
        "--allowed",
        action="store_true",
        help="the allow-list of .registry.yaml or .gto only (nothing if there is none)",
    )
    options.json(p, gto=True)
    options.gto_repo(p, url=False)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.policy import ordered_stages
    from git_registry.reading import load
    from git_registry.render import dump_json

    policy = session.catalog().policy()
    for problem in session.catalog().policy_problems():
        session.warn(str(problem))
    stages: list[str] | None
    if policy.stages is not None and not args.used:
        stages = list(policy.stages)
    elif args.allowed:
        stages = None
    else:
        registry = load(session, keep_rows=False).registry
        used = registry.stages
        stages = [s for s in ordered_stages(policy, used) if s in used]
        if args.json == "gto":
            from git_registry.gtoshape import used_stages

            stages = used_stages(registry)
    if args.json == "gto":
        session.stdout.write(dump_json(stages, indent=4))
        return 0
    if args.json:
        session.stdout.write(dump_json({"stages": stages}))
        return 0
    if stages is None:
        return 0
    for stage in stages:
        session.out(stage)
    return 0
