"""``git registry which NAME STAGE``: the version holding a stage."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.grammar import check_stage
from git_registry.session import Session

COMMAND = Command(
    name="which",
    summary="the version in a stage",
    description=(
        "Print the version of NAME holding STAGE (exit 1 if none does). A deprecated\n"
        "artifact's stages are not served: exit 1 and say so, unless --all."
    ),
    usage=(
        "git registry which NAME STAGE [--ref] [--all-versions] [--all] [--json] "
        "[--remote NAME|URL]..."
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument("stage", metavar="STAGE", help="the stage")
    p.add_argument("--ref", action="store_true", help="print the tag that assigned the stage")
    p.add_argument(
        "--all-versions", action="store_true", help="every version holding the stage, newest first"
    )
    p.add_argument(
        "--all", action="store_true", help="print it even if the artifact is deprecated (warns)"
    )
    options.json(p)
    options.remote(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.reading import load, warn_problems
    from git_registry.render import dump_json, hold_json
    from git_registry.selectors import check_name
    from git_registry.serving import Served, check_served, deprecation_json

    name = check_name(session.remotes, args.name)  # LABEL:NAME with several --remote
    stage = check_stage(args.stage)
    registry = load(session, [name]).registry
    warn_problems(session, registry, name)
    info = registry.artifacts.get(name)
    if info is None:
        from git_registry.lookups import unknown_artifact  # only for this message

        raise unknown_artifact(registry, name)
    holds = info.stages.get(stage, ())
    check_served(
        session,
        info,
        Served.STAGE,
        stage=stage,
        show_all=args.all,
        retry=f"git registry which {name} {stage} --all" if holds else None,
        json_doc={"artifact": name, "stage": stage} if args.json else None,
    )
    if not holds:
        from git_registry.lookups import empty_stage  # only for this message
        from git_registry.reading import stage_names

        raise empty_stage(name, stage, stage_names(session, registry.stages))
    if args.json:
        doc = {"artifact": name, "stage": stage, **hold_json(holds[0]), **deprecation_json(info)}
        if args.all_versions:
            doc["all_versions"] = [hold_json(h) for h in holds]
        session.stdout.write(dump_json(doc))
        return 0
    for hold in holds if args.all_versions else holds[:1]:
        session.out(hold.assignment.tag if args.ref else hold.version)
    return 0
