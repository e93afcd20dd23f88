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
        "order, then the others in order of first use."
    ),
    usage=("git registry stages [--used] [--json]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--used",
        action="store_true",
        help="every stage ever used, even with an allow-list (its stages first, in its order)",
    )
    options.json(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.policy import ordered_stages
    from git_registry.reading import load
    from git_registry.render import dump_json

    policy = session.catalog().policy()
    for problem in session.catalog().policy_problems():
        session.warn(str(problem))
    if policy.stages is not None and not args.used:
        stages = list(policy.stages)
    else:
        used = load(session, keep_rows=False).registry.stages
        stages = [s for s in ordered_stages(policy, used) if s in used]
    if args.json:
        session.stdout.write(dump_json({"stages": stages}))
        return 0
    for stage in stages:
        session.out(stage)
    return 0
