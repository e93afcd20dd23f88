"""``git registry promote NAME[@V] STAGE`` (alias ``assign``): assign a stage."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import UsageError
from git_registry.grammar import check_version
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.reading import Loaded

COMMAND = Command(
    name="promote",
    summary="assign a stage to a version (create NAME#STAGE#N)",
    description=(
        "Assign STAGE to a version: NAME@vX.Y.Z, --version V, the version at --ref REF\n"
        "(registering that commit first if it has no version), or else the latest version.\n"
        "Creates NAME#STAGE#N, N being one more than the largest counter of the artifact.\n"
        "A version that holds STAGE only by fallback (a newer assignment was unassigned)\n"
        "is pinned to it by a new assignment; one that holds it through the stage's\n"
        "newest assignment is refused without --force.\n"
        "If NAME's artifacts.yaml entry at the version's commit says 'requires: [A, B]', the\n"
        "promotion is refused unless A and B each have a version in STAGE; --force overrides\n"
        "it and records the override in the tag's message (Registry-Override: requires).\n"
        "GTO's form, 'assign NAME [REF] --stage STAGE [--version V]', is accepted too: the\n"
        "operand after NAME is then REF (default HEAD, registering it as version V if it\n"
        "has none); with --version and no REF, V is the version to assign."
    ),
    usage=(
        "git registry promote NAME[@vX.Y.Z] STAGE [--version V | --ref REF] [--simple] "
        "[--force] [--new] [-m MSG] [--push] [-n] [-s | --no-sign]\n"
        "   or: git registry assign NAME [REF] --stage STAGE [--version V] [-r PATH] ...  (GTO)"
    ),
    aliases=("assign",),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME[@vX.Y.Z]", help="artifact, optionally with the version")
    p.add_argument(
        "stage",
        metavar="STAGE",
        nargs="?",
        help="stage to assign, e.g. prod (with --stage: REF, GTO's form)",
    )
    p.add_argument(
        "--stage",
        dest="stage_option",
        metavar="STAGE",
        help="GTO's form: the stage; the operand after NAME is then REF (default HEAD)",
    )
    p.add_argument(
        "--version", metavar="V", help="version to promote (with --ref: the version to register)"
    )
    p.add_argument(
        "--ref",
        metavar="REF",
        help="promote the version at this commit, registering it first if needed",
    )
    options.simple(p, "NAME#STAGE")
    p.add_argument(
        "--force",
        action="store_true",
        help="assign even if the version holds the stage through its newest assignment, its "
        "commit holds two versions (GTO 1.10.1 cannot read the tag), or the artifacts it "
        "requires have no version in the stage (recorded in the tag's message)",
    )
    p.add_argument(
        "--new",
        action="store_true",
        help="start a new stage (or, with --ref, a new artifact) even if its name is one edit "
        "away from an existing one",
    )
    p.add_argument(
        "--sr",
        "--skip-registration",
        dest="skip_registration",
        action="store_true",
        help="GTO's: refused here (a stage is always assigned to a registered version)",
    )
    options.message_push(p)
    options.gto_repo(p, url=False)


def _gto_form(args: argparse.Namespace) -> None:
    """GTO's ``assign NAME [REF] --stage S [--version V]`` as our own arguments: with
    REF, V names the version registered there; without, V is the version assigned;
    with neither, the version at HEAD (registered if it has none)."""
    if args.skip_registration:
        raise UsageError(
            "--sr/--skip-registration is not supported: a stage is assigned to a registered "
            "version only",
            hint="register the commit first (git registry register NAME REF), then assign",
        )
    if args.stage_option is None:
        return
    ref, args.stage = args.stage, args.stage_option
    if ref is not None and args.ref is not None:
        raise UsageError(f"two refs given: {ref} and --ref {args.ref}")
    if ref is not None:
        args.ref = ref
    elif args.version is None and args.ref is None:
        args.ref = "HEAD"


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.plan import NewTag, plan_promote
    from git_registry.reading import load
    from git_registry.selectors import parse_selector, resolve_ref
    from git_registry.writing import create_tags

    _gto_form(args)
    if args.stage is None:
        raise UsageError("which stage? write promote NAME STAGE (or GTO's --stage STAGE)")
    selector = parse_selector(args.name, allow_stage=False, allow_latest=False)
    version = selector.version
    if args.version is not None:
        if version is not None and version != args.version:
            raise UsageError(f"two versions given: {args.name} and --version {args.version}")
        version = check_version(args.version)
    commit = resolve_ref(session, args.ref) if args.ref is not None else None

    calls = [0]
    fallback: list[str] = []

    def plan(loaded: Loaded) -> list[NewTag]:
        # On a retry after a lost push race, someone else may have just assigned the
        # same stage to the same version: the user asked for an assignment, so make
        # one with the next counter rather than fail.
        calls[0] += 1
        if not args.new and calls[0] == 1:
            _check_new(session, loaded, selector.artifact, args.stage, commit is not None)
        made = plan_promote(
            loaded.registry,
            loaded.tag_names,
            selector.artifact,
            args.stage,
            version=version,
            commit=commit,
            simple=bool(args.simple),
            force=args.force or calls[0] > 1,
            message=args.message,
        )
        if made.fallback is not None and calls[0] == 1:
            fallback.append(made.fallback)
        if made.registration is None:
            return [made.assignment]
        return [made.registration, made.assignment]

    with session.write_lock(f"promote {args.name} {args.stage}"):
        loaded = load(session, [selector.artifact])
        tags = plan(loaded)
        held = f"{selector.artifact} {tags[-1].version} held {args.stage} only by fallback"
        if fallback and args.dry_run:
            session.out(f"{held} ({fallback[0]}): a new assignment would pin it")
        code = create_tags(
            session,
            loaded,
            tags,
            replan=plan,
            gto_force=args.force,
            requires_force=args.force,
            **options.writes(args),
        )
        if fallback and not args.dry_run and code == 0:  # said once it is done, not before
            session.out(f"{held} ({fallback[0]}): the new assignment pins it")
        return code


def _check_new(
    session: Session, loaded: Loaded, artifact: str, stage: str, registers: bool
) -> None:
    """A stage (or, registering with --ref, an artifact) that would be new and is one
    edit away from one that exists is a likely typo: refused without --new. (A policy
    that lists its stages refuses any other, by the rulebook: no question here.)"""
    from git_registry.lookups import check_new_name, check_new_stage
    from git_registry.reading import head_annotations

    info = loaded.registry.artifacts.get(artifact)
    if session.catalog().policy().stages is None:
        check_new_stage(stage, info.used_stages if info else ())
    if registers:
        check_new_name(loaded.registry, artifact, head_annotations(session, [artifact])[0])
