"""``git registry diff A B``: what changes if B replaces A (say, promoting B to prod)."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import RegistryError, UsageError
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from git_registry.annotations import Annotation
    from git_registry.gitvalues import ObjectId
    from git_registry.state import ArtifactInfo, Registry, VersionInfo
    from git_registry.trailers import Trailers
    from git_registry.versiondiff import Change, LogCommit, MetricChange

COMMAND = Command(
    name="diff",
    summary="what changes between two versions of an artifact",
    description=(
        "Compare two versions of one artifact, each NAME@vX.Y.Z, NAME@latest or\n"
        "NAME#STAGE (git registry diff churn#prod churn@latest: what changes if latest\n"
        "is promoted to prod): the two versions and their commits; the commits B has\n"
        "and A lacks, and those A has and B lacks (when B is older, or they diverged),\n"
        "each with its files as git log --stat; the change to the artifact's entry in\n"
        "artifacts.yaml between the two commits; the metrics (with their deltas) and\n"
        "metadata of register --metric / --meta. --json prints all of it."
    ),
    usage="git registry diff A B [--json] [--max-count N]",
)

MAX_COUNT = 100


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="A", help="the version now, e.g. churn#prod")
    p.add_argument("new", metavar="B", help="the version to compare, e.g. churn@latest")
    options.json(p)
    p.add_argument(
        "--max-count",
        metavar="N",
        type=_count,
        default=MAX_COUNT,
        help=f"list at most N commits each way (default {MAX_COUNT}); the rest are counted",
    )


def _count(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"'{text}' is not a count from 1 to 100000")
    return int(text)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.reading import load, warn_problems
    from git_registry.selectors import parse_selector
    from git_registry.trailers import of_version
    from git_registry.versiondiff import annotation_changes, meta_changes, metric_changes

    old_sel, new_sel = parse_selector(args.old), parse_selector(args.new)
    for text, sel in ((args.old, old_sel), (args.new, new_sel)):
        if sel.version is None and sel.stage is None and not sel.latest:
            raise UsageError(
                f"'{text}' names an artifact, not a version",
                hint=f"name one: {sel.artifact}@vX.Y.Z, {sel.artifact}@latest or "
                f"{sel.artifact}#STAGE",
            )
    if old_sel.artifact != new_sel.artifact:
        raise UsageError(
            f"diff compares two versions of one artifact: '{args.old}' is of "
            f"{old_sel.artifact}, '{args.new}' of {new_sel.artifact}"
        )
    name = old_sel.artifact
    registry = load(session, [name]).registry
    warn_problems(session, registry, name)
    info = _artifact(registry, name)
    old, new = _version(session, info, args.old), _version(session, info, args.new)
    repo = session.repo()
    added, more_added = _log(session, old.commit, new.commit, args.max_count)
    removed, more_removed = _log(session, new.commit, old.commit, args.max_count)
    old_trailers, new_trailers = of_version(old), of_version(new)
    for v, found in ((old, old_trailers), (new, new_trailers)) if old is not new else ():
        for problem in found.problems:
            session.warn(f"{v.registration.tag}: {problem}")
    diff = _Diff(
        old=old,
        new=new,
        added=added,
        more_added=more_added,
        removed=removed,
        more_removed=more_removed,
        annotation=annotation_changes(
            _annotation(session, old.commit, name), _annotation(session, new.commit, name)
        ),
        metrics=metric_changes(old_trailers, new_trailers),
        meta=meta_changes(old_trailers.meta, new_trailers.meta),
        trailers=(old_trailers, new_trailers),
        ancestor=repo.is_ancestor(old.commit, new.commit),
    )
    if args.json:
        from git_registry.render import dump_json

        session.stdout.write(dump_json(_json(args, diff)))
        return 0
    _text(args, session, diff)
    return 0


class _Diff:
    """What ``diff`` found (a plain holder; the command's own)."""

    def __init__(
        self,
        *,
        old: VersionInfo,
        new: VersionInfo,
        added: list[LogCommit],
        more_added: int,
        removed: list[LogCommit],
        more_removed: int,
        annotation: list[Change],
        metrics: list[MetricChange],
        meta: list[Change],
        trailers: tuple[Trailers, Trailers],
        ancestor: bool,
    ) -> None:
        self.old, self.new = old, new
        self.added, self.more_added = added, more_added
        self.removed, self.more_removed = removed, more_removed
        self.annotation, self.metrics, self.meta = annotation, metrics, meta
        self.trailers = trailers
        self.ancestor = ancestor

    @property
    def same(self) -> bool:
        return self.old.version == self.new.version

    @property
    def relation(self) -> str:
        """How B's commit stands to A's: same, newer, older, diverged."""
        if self.old.commit == self.new.commit:
            return "same"
        if self.ancestor:
            return "newer"
        return "older" if not self.added else "diverged"


def _artifact(registry: Registry, name: str) -> ArtifactInfo:
    info = registry.artifacts.get(name)
    if info is None:
        from git_registry.lookups import unknown_artifact

        raise unknown_artifact(registry, name)
    return info


def _version(session: Session, info: ArtifactInfo, text: str) -> VersionInfo:
    """The version a selector names (as ``show`` serves it: a deprecated artifact's
    stages and latest version are refused)."""
    from git_registry.errors import NotFoundError
    from git_registry.selectors import parse_selector
    from git_registry.serving import Served, check_served

    sel = parse_selector(text)
    if sel.version is not None:
        found = info.version(sel.version)
        if found is None:
            raise NotFoundError(f"{info.name} has no version {sel.version}")
        if not found.active:
            session.warn(f"{info.name} {found.version} is deregistered")
        return found
    check_served(
        session,
        info,
        Served.STAGE if sel.stage else Served.LATEST,
        stage=sel.stage,
        show_all=False,
        retry=None,
    )
    if sel.stage is not None:
        hold = info.holder(sel.stage)
        version = info.version(hold.version) if hold is not None else None
        if version is None:
            from git_registry.lookups import empty_stage
            from git_registry.reading import stage_names

            raise empty_stage(info.name, sel.stage, stage_names(session, info.used_stages))
        return version
    if info.latest is None:
        raise NotFoundError(f"{info.name} has no active versions")
    return info.latest


def _log(session: Session, old: ObjectId, new: ObjectId, limit: int) -> tuple[list[LogCommit], int]:
    """The commits ``new`` has and ``old`` lacks (at most ``limit``), and how many more."""
    from git_registry.versiondiff import parse_log

    if old == new:
        return [], 0
    repo = session.repo()
    try:
        commits = parse_log(repo.log_numstat(old, new, limit + 1))
    except ValueError as exc:
        raise RegistryError(f"cannot read the log between the versions: {exc}") from None
    if len(commits) <= limit:
        return commits, 0
    return commits[:limit], repo.count_commits(old, new) - limit


def _annotation(session: Session, commit: ObjectId, name: str) -> Annotation | None:
    from git_registry.catalog import AnnotationError

    try:
        return session.catalog().annotation(commit, name)
    except (AnnotationError, RegistryError) as exc:
        session.warn(f"no annotation for {name} at {commit[:7]}: {exc.message}")
        return None


def _version_json(v: VersionInfo) -> dict[str, Any]:
    from git_registry.render import version_json

    return version_json(v)


def _json(args: argparse.Namespace, diff: _Diff) -> dict[str, Any]:
    return {
        "artifact": diff.old.artifact,
        "old": {"selector": args.old, **_version_json(diff.old)},
        "new": {"selector": args.new, **_version_json(diff.new)},
        "same_version": diff.same,
        "relation": diff.relation,
        "commits_added": [c.to_json() for c in diff.added],
        "more_commits_added": diff.more_added,
        "commits_removed": [c.to_json() for c in diff.removed],
        "more_commits_removed": diff.more_removed,
        "annotation": [c.to_json() for c in diff.annotation],
        "metrics": [m.to_json() for m in diff.metrics],
        "meta": [c.to_json() for c in diff.meta],
    }


def _text(args: argparse.Namespace, session: Session, diff: _Diff) -> None:
    from git_registry.gitvalues import short
    from git_registry.render import when

    old, new = diff.old, diff.new
    for label, text, v in (("A", args.old, old), ("B", args.new, new)):
        stages = f" [{', '.join(v.stages)}]" if v.stages else ""
        state = "" if v.active else " (deregistered)"
        session.out(
            f"{label}  {text}: {v.version}{state}{stages}  commit {short(v.commit)}  "
            f"{v.registration.tag}  {when(v.registration.tagger)}"
        )
    if diff.same:
        session.out()
        session.out(f"Both are {old.artifact} {old.version}: nothing changes.")
        return
    _text_log(session, diff)
    session.out()
    if diff.annotation:
        session.out("Annotation (artifacts.yaml):")
        for change in diff.annotation:
            session.out(f"  {change.key}: {_shown(change.old)} -> {_shown(change.new)}")
    else:
        session.out("Annotation (artifacts.yaml): unchanged")
    _text_trailers(session, diff)


def _text_log(session: Session, diff: _Diff) -> None:
    from git_registry.gitvalues import short

    old, new = diff.old, diff.new
    session.out()
    if diff.relation == "same":
        session.out("Commits: both versions are on the same commit")
        return
    sections = [
        (
            diff.added,
            diff.more_added,
            f"Commits in B, not in A ({short(old.commit)}..{short(new.commit)})",
        ),
        (
            diff.removed,
            diff.more_removed,
            f"Commits in A, not in B ({short(new.commit)}..{short(old.commit)})",
        ),
    ]
    if diff.relation == "older":
        session.out("B is older than A: B replacing A takes these commits back.")
    elif diff.relation == "diverged":
        session.out("A and B diverged: each has commits the other lacks.")
    first = True
    for commits, more, title in sections:
        if not commits:
            continue
        if not first:
            session.out()
        first = False
        total = len(commits) + more
        session.out(f"{title}: {total}")
        for line in stat_lines(commits):
            session.out(line)
        if more:
            session.out(f"  ... and {more} more (--max-count N lists more)")


def stat_lines(commits: list[LogCommit]) -> list[str]:
    """``git log --stat``-like lines: each commit, then ``path | N ++--`` per file."""
    from git_registry.gitvalues import short
    from git_registry.render import count, when

    lines = []
    for c in commits:
        lines.append(f"  {short(c.commit)}  {when(c.author)}  {c.author.name}  {c.subject}")
        width = max((len(f.path) for f in c.files), default=0)
        biggest = max(((f.added or 0) + (f.deleted or 0) for f in c.files), default=0)
        for f in c.files:
            if f.added is None or f.deleted is None:
                lines.append(f"      {f.path:<{width}} | Bin")
                continue
            changed = f.added + f.deleted
            scale = 1.0 if biggest <= 40 else 40 / biggest
            plus = "+" * round(f.added * scale)
            minus = "-" * round(f.deleted * scale)
            lines.append(f"      {f.path:<{width}} | {changed} {plus}{minus}".rstrip())
        if c.files:
            added = sum(f.added or 0 for f in c.files)
            deleted = sum(f.deleted or 0 for f in c.files)
            lines.append(
                f"      {count(len(c.files), 'file')} changed, "
                f"{count(added, 'insertion')}(+), {count(deleted, 'deletion')}(-)"
            )
    return lines


def _text_trailers(session: Session, diff: _Diff) -> None:
    from git_registry.versiondiff import format_delta

    if diff.metrics:
        session.out("Metrics:")
        width = max(len(m.key) for m in diff.metrics)
        for m in diff.metrics:
            before = m.old.text if m.old is not None else "-"
            after = m.new.text if m.new is not None else "-"
            delta = format_delta(m.delta)
            session.out(
                f"  {m.key:<{width}}  {before} -> {after}" + (f"  ({delta})" if delta else "")
            )
    else:
        session.out("Metrics: none recorded")
    if diff.meta:
        session.out("Metadata:")
        width = max(len(c.key) for c in diff.meta)
        for c in diff.meta:
            session.out(f"  {c.key:<{width}}  {c.old or '-'} -> {c.new or '-'}")
    elif any(t.meta for t in diff.trailers):
        session.out("Metadata: unchanged")


def _shown(value: object) -> str:
    """An annotation value on one line: JSON's spelling (null, true, "text", lists)."""
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)
