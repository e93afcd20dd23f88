"""``git registry register NAME [REF]``: create a version tag."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.grammar import check_artifact_name
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.plan import NewTag
    from git_registry.trailers import Metric

COMMAND = Command(
    name="register",
    summary="register a version (create NAME@vX.Y.Z)",
    description=(
        "Create an annotated tag NAME@vX.Y.Z on REF (default HEAD). Without --version, the\n"
        "highest version ever registered (deregistered ones included) is bumped: patch by\n"
        "default. The first version is v0.0.1 (v0.1.0 / v1.0.0 with --bump-minor / --bump-major).\n"
        "--metric auc=0.91 and --meta dataset=v2 (repeatable) are written as Git trailers\n"
        "(Registry-Metric: auc=0.91, Registry-Meta: dataset=v2) at the end of the tag message."
    ),
    usage=(
        "git registry register NAME [REF] [--version V | --bump-major | --bump-minor | "
        "--bump-patch] [--new] [-m MSG] [--metric KEY=NUMBER]... [--meta KEY=VALUE]... "
        "[--force] [--push] [-n] [-s | --no-sign] [-r PATH]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="artifact name, e.g. churn or path/to:model")
    p.add_argument(
        "ref", metavar="REF", nargs="?", default="HEAD", help="commit to register (default HEAD)"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--version", "--ver", metavar="V", help="the version, e.g. v1.2.0 (--ver: GTO's)"
    )
    group.add_argument(
        "--bump-major",
        dest="bump",
        action="store_const",
        const="major",
        help="bump the major version",
    )
    group.add_argument(
        "--bump-minor",
        dest="bump",
        action="store_const",
        const="minor",
        help="bump the minor version",
    )
    group.add_argument(
        "--bump-patch",
        dest="bump",
        action="store_const",
        const="patch",
        help="bump the patch version (default)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="register on a commit holding a deregistered version (GTO 1.10.1 then fails once a "
        "stage tag points at it); a commit still holds one active version",
    )
    p.add_argument(
        "--new",
        action="store_true",
        help="start a new artifact even if its name is one edit away from an existing one",
    )
    p.add_argument(
        "--simple",
        nargs="?",
        const=True,
        default=None,
        type=options.simple_value,
        metavar="true|auto",
        help="GTO's: a registration has no counter (--simple false is refused)",
    )
    options.message_push(p)
    p.add_argument(
        "--metric",
        metavar="KEY=NUMBER",
        action="append",
        default=[],
        help="a metric of the version, e.g. auc=0.91 (repeatable): a Registry-Metric trailer",
    )
    p.add_argument(
        "--meta",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="metadata of the version, e.g. dataset=v2 (repeatable; one short line): a "
        "Registry-Meta trailer",
    )
    options.gto_repo(p, url=False)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.lookups import check_new_name
    from git_registry.plan import Bump, plan_register
    from git_registry.reading import Loaded, head_annotations, load
    from git_registry.selectors import resolve_ref
    from git_registry.writing import create_tags

    options.no_counter(args, "a registration (NAME@vX.Y.Z) has no counter")
    name = check_artifact_name(args.name)
    metrics, meta = trailer_options(args.metric, args.meta)
    commit = resolve_ref(session, args.ref)

    def plan(loaded: Loaded) -> list[NewTag]:
        if not args.new:
            check_new_name(loaded.registry, name, head_annotations(session, [name])[0])
        tag = plan_register(
            loaded.registry,
            loaded.tag_names,
            name,
            commit,
            version=args.version,
            bump=Bump(args.bump) if args.bump else None,
            message=args.message,
            force=args.force,
        )
        return [_with_trailers(tag, metrics, meta)]

    with session.write_lock(f"register {name}"):
        loaded = load(session, [name])
        return create_tags(
            session, loaded, plan(loaded), replan=plan, gto_force=args.force, **options.writes(args)
        )
    return 0


def trailer_options(
    metric_options: list[str], meta_options: list[str]
) -> tuple[list[tuple[str, Metric]], list[tuple[str, str]]]:
    """``--metric`` and ``--meta`` checked (before anything is read or written).

    Raises:
        UsageError: a malformed one, or a key given twice.
    """
    from git_registry.errors import UsageError
    from git_registry.trailers import parse_meta_option, parse_metric_option

    metrics = [parse_metric_option(text) for text in metric_options]
    meta = [parse_meta_option(text) for text in meta_options]
    seen: set[str] = set()
    for key in [k for k, _ in metrics] + [k for k, _ in meta]:
        if key in seen:
            raise UsageError(f"'{key}' is given twice in --metric / --meta")
        seen.add(key)
    return metrics, meta


def _with_trailers(
    tag: NewTag, metrics: list[tuple[str, Metric]], meta: list[tuple[str, str]]
) -> NewTag:
    """``tag`` with Registry-* trailers (metrics, metadata) at the end of its message;
    an empty message becomes GTO's default first (a trailer follows a subject)."""
    if not metrics and not meta:
        return tag
    import dataclasses

    from git_registry import trailers
    from git_registry.plan import message_for

    text = tag.message
    if not text.strip():
        text = message_for(tag.kind, tag.artifact, tag.version, tag.stage)
    return dataclasses.replace(tag, message=trailers.with_trailers(text, metrics, meta))
