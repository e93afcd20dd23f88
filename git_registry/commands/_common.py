"""Glue shared by the commands: load the registry once, report problems once,
write and delete tags (atomically, rolling back on failure), push.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from git_registry import annotations as ann
from git_registry import gitbin
from git_registry.annotations import Annotation, FileProblem
from git_registry.cli import Context
from git_registry.errors import PushError, RegistryError, UsageError
from git_registry.grammar import check_artifact_name, check_stage, check_version, parse_tag
from git_registry.plan import Deletion, NewTag, event_time
from git_registry.render import describe, describe_event
from git_registry.state import Event, Registry, build_registry
from git_registry.tags import ObjectId


@dataclass(frozen=True, slots=True)
class Loaded:
    """The registry, and the names of every tag in the repository."""

    registry: Registry
    tag_names: frozenset[str]


def load(ctx: Context, artifacts: Iterable[str] | None = None) -> Loaded:
    """Read the tags once and build the registry.

    With ``artifacts``, only those artifacts' tag objects are read (every tag
    name is still listed, so counters and existence checks see all of them).
    """
    repo = ctx.repo()
    refs = repo.tag_refs()
    wanted = set(artifacts) if artifacts is not None else None
    selected = []
    known = set()
    for name, oid in refs.items():
        parsed = parse_tag(name)
        if parsed is None:
            continue
        known.add(parsed.artifact)
        if wanted is None or parsed.artifact in wanted:
            selected.append((name, oid))
    registry = build_registry(repo.read_tags(selected), known)
    return Loaded(registry, frozenset(refs))


def head_annotations(
    ctx: Context, artifacts: Iterable[str]
) -> tuple[dict[str, Annotation], list[FileProblem]]:
    """Annotations at HEAD from the root ``artifacts.yaml`` and the files of ``artifacts``
    (looked up by path, not by walking the tree), and those files' problems."""
    head = ctx.repo().head()
    if head is None:
        return {}, []
    files = sorted({ann.FILENAME} | {ann.file_for(a)[0] for a in artifacts})
    found: dict[str, Annotation] = {}
    problems: list[FileProblem] = []
    for file in files:
        parsed = ctx.catalog().file_at(head, file)
        if parsed is not None:
            found.update(parsed.annotations)
            problems.extend(parsed.problems)
    return found, problems


def warn_problems(ctx: Context, registry: Registry, artifact: str | None = None) -> None:
    """Each problem once on stderr as a warning (only those of ``artifact`` if given)."""
    for problem in registry.problems:
        if artifact is None or problem.artifact == artifact:
            ctx.warn(str(problem))


@dataclass(frozen=True, slots=True)
class Selector:
    """``NAME``, ``NAME@vX.Y.Z``, ``NAME@latest`` or ``NAME#STAGE``."""

    artifact: str
    version: str | None = None
    stage: str | None = None
    latest: bool = False


_SELECTOR_RE = re.compile(r"^(?P<artifact>[^@#]+)(?:@(?P<version>[^@#]+)|#(?P<stage>[^@#]+))?$")


def parse_selector(text: str, *, allow_stage: bool = True, allow_latest: bool = True) -> Selector:
    """Parse a selector typed by a user; invalid parts get the grammar's message."""
    match = _SELECTOR_RE.match(text)
    if match is None:
        raise RegistryError(
            f"cannot understand '{text}'",
            hint="write NAME, NAME@vX.Y.Z"
            + (", NAME@latest" if allow_latest else "")
            + (" or NAME#STAGE" if allow_stage else ""),
        )
    artifact = check_artifact_name(match["artifact"])
    version, stage = match["version"], match["stage"]
    if version in ("latest", "greatest"):
        if not allow_latest:
            raise RegistryError(f"'{text}': @latest is not allowed here")
        return Selector(artifact, latest=True)
    if version is not None:
        return Selector(artifact, version=check_version(version))
    if stage is not None:
        if not allow_stage:
            raise RegistryError(f"'{text}': a stage is not allowed here")
        return Selector(artifact, stage=check_stage(stage))
    return Selector(artifact)


def resolve_ref(ctx: Context, ref: str) -> ObjectId:
    """The commit ``ref`` names, or a fatal error saying it does not resolve."""
    commit = gitbin.resolve_commit(ref, cwd=ctx.repo().cwd)
    if commit is None:
        head = gitbin.resolve_commit("HEAD", cwd=ctx.repo().cwd)
        hint = None if head else "this repository has no commits yet; commit something first"
        raise RegistryError(f"'{ref}' does not name a commit", hint=hint)
    return commit


def remote_name(ctx: Context) -> str:
    """The remote that push hints and --push use: ``registry.remote``, default origin."""
    return ctx.config().get("registry.remote", "origin")


def _push_command(remote: str, names: Sequence[str], delete: bool) -> list[str]:
    return ["push", remote, *(["--delete"] if delete else []), *names]


def _quoted(args: Sequence[str]) -> str:
    return "git " + " ".join(shlex.quote(a) for a in args)


def create_tags(ctx: Context, registry: Registry, tags: Sequence[NewTag], *, push: bool) -> None:
    """Create ``tags`` in order; if one fails, delete those already created, then fail.

    Each tag is at least one second newer than the artifact's previous event (see
    :func:`~git_registry.plan.event_time`). Prints each created tag and the exact
    ``git push`` command that publishes them (or runs it with ``push``).
    """
    repo = ctx.repo()
    for tag in tags:
        ctx.catalog().check_target(tag.target, tag.artifact)
    ident = gitbin.committer_ident(cwd=repo.cwd)
    if ctx.config().get("tag.gpgsign", "").lower() in ("true", "yes", "on", "1"):
        ctx.warn(
            "tag.gpgSign is set, but git registry does not sign tags yet: the tags are unsigned"
        )
    created: list[tuple[NewTag, ObjectId]] = []
    previous: int | None = None
    try:
        for tag in tags:
            when = event_time(registry, tag.artifact, ident.time)
            if previous is not None:
                when = max(when, previous + 1)
            previous = when
            tagger = dataclasses.replace(ident, time=when)
            created.append((tag, repo.create_tag(tag.name, tag.target, tag.message, tagger)))
    except RegistryError:
        for tag, oid in reversed(created):
            repo.delete_tag(tag.name, oid)
        raise
    paint = ctx.paint()
    for tag, _oid in created:
        what = describe(tag.kind, tag.artifact, tag.version, tag.stage, tag.target)
        ctx.out(f"Created tag {paint(tag.name, 'name')}: {what}")
    _publish(ctx, [t.name for t in tags], delete=False, push=push)


def delete_tags(ctx: Context, deletions: Sequence[Deletion], *, push: bool) -> None:
    """Delete tags that still point where the registry saw them; report each."""
    if not deletions:
        raise RegistryError("there are no tags to delete")
    repo = ctx.repo()
    deleted = []
    for deletion in deletions:
        if repo.delete_tag(deletion.name, deletion.oid):
            deleted.append(deletion)
            ctx.out(f"Deleted tag {deletion.name} (it {describe_event(deletion.event)})")
        else:
            ctx.warn(f"tag {deletion.name} changed since it was read: not deleted")
    if deleted:
        _publish(ctx, [d.name for d in deleted], delete=True, push=push)


def _publish(ctx: Context, names: Sequence[str], *, delete: bool, push: bool) -> None:
    remote = remote_name(ctx)
    args = _push_command(remote, names, delete)
    if not push:
        ctx.out("To publish, run:")
        ctx.out(f"    {_quoted(args)}")
        return
    ctx.out(f"Running: {_quoted(args)}")
    result = gitbin.push(remote, [*(["--delete"] if delete else []), *names], cwd=ctx.repo().cwd)
    if result.returncode == 0:
        ctx.out(f"Pushed to {remote}.")
        return
    detail = _push_failure(result)
    kept = "deleted locally" if delete else "kept in your local repository"
    raise PushError(
        f"push to '{remote}' failed: {detail}; the tag(s) are {kept}",
        hint=f"retry with: {_quoted(args)}",
    )


def _push_failure(result: gitbin.GitResult) -> str:
    reasons = []
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "!":
            ref = parts[1].split(":")[-1].removeprefix("refs/tags/")
            reasons.append(f"{ref} {parts[2]}")
    if reasons:
        return "; ".join(reasons)
    lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return (fatal or lines or [f"git push exited with {result.returncode}"])[-1]


def events_of(registry: Registry, artifact: str | None) -> list[Event]:
    """Every accepted event of the registry (or of one artifact), oldest first."""
    if artifact is not None:
        info = registry.artifacts.get(artifact)
        return list(info.events) if info else []
    events = [e for info in registry.artifacts.values() for e in info.events]
    events.sort(key=lambda e: e.order)
    return events


def need_args(value: str | None, message: str) -> str:
    if not value:
        raise UsageError(message)
    return value
