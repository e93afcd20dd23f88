"""``git registry at REV``: the versions registered on a commit, or (``--contains``)
the versions whose commits contain it (issue 17 part 3, GTO #312)."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.gitvalues import ObjectId
    from git_registry.state import ArtifactInfo, Registry, VersionInfo

COMMAND = Command(
    name="at",
    summary="the versions on a commit, or whose commits contain it",
    description=(
        "List every version registered on the commit REV names (a branch, a tag, HEAD~2,\n"
        "an object id), with the stages it holds; exit 1 if there is none. --contains lists\n"
        "the versions whose commits contain REV instead (REV itself or a descendant: which\n"
        "versions include this fix?). Deregistered versions are listed too, marked, and so\n"
        "are the versions of deprecated artifacts (whose stages are not served)."
    ),
    usage="git registry at REV [--contains] [--json]",
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev", metavar="REV", help="a commit: a branch, a tag, HEAD~2, an object id")
    p.add_argument(
        "--contains",
        action="store_true",
        help="the versions whose commits contain REV (REV or a descendant of it)",
    )
    options.json(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.errors import NotFoundError
    from git_registry.gitvalues import short
    from git_registry.reading import load
    from git_registry.selectors import resolve_ref

    commit = resolve_ref(session, args.rev)
    registry = load(session, keep_rows=False).registry
    if args.contains:
        every = {v.commit for info in registry.artifacts.values() for v in info.versions}
        commits = session.repo().containing(commit, every)
        commits.add(commit)
    else:
        commits = {commit}
    found = versions_on(registry, commits)
    if args.json:
        from git_registry.render import dump_json

        session.stdout.write(dump_json(_json(args, commit, registry, found)))
    if not found:
        where = f"commit {short(commit)}" + ("" if args.rev == commit else f" ({args.rev})")
        if args.contains:
            message = f"no version's commit contains {where}"
            hint = "a version includes a commit once a version is registered on a descendant"
        else:
            message = f"no version is registered on {where}"
            hint = f"which versions include it: git registry at {_quoted(args.rev)} --contains"
        raise NotFoundError(message, hint=None if args.json else hint)
    if not args.json:
        _print(session, registry, found)
    return 0


def versions_on(registry: Registry, commits: set[ObjectId]) -> list[VersionInfo]:
    """The versions registered on ``commits``, artifact by artifact (by name), each
    artifact's in order of registration."""
    found: list[VersionInfo] = []
    for name in sorted(registry.artifacts):
        info = registry.artifacts[name]
        mine = [v for v in info.versions if v.commit in commits]
        found.extend(sorted(mine, key=lambda v: v.registration.order))
    return found


def _status(info: ArtifactInfo, version: VersionInfo) -> str:
    if not version.active:
        return "deregistered"
    return "deprecated" if info.deprecated else "active"


def _print(session: Session, registry: Registry, found: list[VersionInfo]) -> None:
    from git_registry.gitvalues import short
    from git_registry.render import EMPTY, table

    rows = [
        [
            v.artifact,
            v.version,
            _status(registry.artifacts[v.artifact], v),
            ", ".join(v.stages) or EMPTY,
            short(v.commit),
            v.registration.tag,
        ]
        for v in found
    ]
    headers = ["artifact", "version", "status", "stages", "commit", "tag"]
    styles = ["name", "version", None, "stage", "commit", "dim"]
    session.stdout.write(table(headers, rows, session.paint(), styles))


def _json(
    args: argparse.Namespace, commit: ObjectId, registry: Registry, found: list[VersionInfo]
) -> dict[str, object]:
    from git_registry.render import version_json

    versions = []
    for v in found:
        info = registry.artifacts[v.artifact]
        versions.append({**version_json(v), "deprecated": info.deprecated})
    return {"rev": args.rev, "commit": commit, "contains": args.contains, "versions": versions}


def _quoted(rev: str) -> str:
    import shlex

    return shlex.quote(rev)
