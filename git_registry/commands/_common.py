"""Glue shared by the commands: load the registry once, report problems once,
write and delete tags (atomically, rolling back on failure), push.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from git_registry import annotations as ann
from git_registry import gitbin, rules
from git_registry.annotations import Annotation, FileProblem
from git_registry.errors import PushError, RegistryError, UsageError
from git_registry.grammar import (
    EventKind,
    TagFields,
    artifact_to_tag,
    check_artifact_name,
    check_stage,
    check_version,
    parse_tag_name,
    parse_tags,
)
from git_registry.plan import Deletion, NewTag, event_time
from git_registry.render import describe, describe_event
from git_registry.repo import NewTagObject
from git_registry.session import Session
from git_registry.state import Event, Registry, build_registry_rows
from git_registry.tags import ObjectId, Signature, TagRow


@dataclass(frozen=True, slots=True)
class Loaded:
    """The registry, the names of every tag in the repository, and the registry tags
    it was built from (rows and parsed names), to check what new tags would do."""

    registry: Registry
    tag_names: frozenset[str]
    rows: Sequence[TagRow] = ()
    fields: Sequence[TagFields] = ()


def load(session: Session, artifacts: Iterable[str] | None = None) -> Loaded:
    """Read the tags once and build the registry.

    With ``artifacts``, only those artifacts' tag objects are read (every tag
    name is still listed, so counters and existence checks see all of them).
    """
    if len(session.remotes) > 1:
        from git_registry.mirror import load_many

        return load_many(session, artifacts)
    if artifacts is not None:
        artifacts = list(artifacts)
    warn_if_shallow(session, artifacts)
    repo = session.repo()
    refs = repo.tag_refs()
    if artifacts is None:
        names = list(refs)
        parsed = parse_tags(names)
        selected = [(name, refs[name]) for name, p in zip(names, parsed, strict=True) if p]
        fields = [p for p in parsed if p]
        known = {p[0] for p in fields}
    else:
        # A registry tag starts with its artifact's name (':' written '=') and '@' or
        # '#': parse only those names, not all 100,000.
        wanted = set(artifacts)
        starts = tuple(artifact_to_tag(a) + c for a in wanted for c in "@#")
        names = [name for name in refs if name.startswith(starts)]
        selected, fields = [], []
        for name, p in zip(names, parse_tags(names), strict=True):
            if p is not None and p[0] in wanted:
                selected.append((name, refs[name]))
                fields.append(p)
        known = _known_artifacts(refs)
    rows = repo.read_tag_rows(selected)
    registry = build_registry_rows(rows, fields, known)
    return Loaded(registry, frozenset(refs), rows, fields)


def _known_artifacts(names: Iterable[str]) -> set[str]:
    """The artifacts named by at least one registry tag among ``names``.

    A registry tag's artifact is the part of its name before the first '@' or '#'
    (:func:`~git_registry.grammar.tag_artifact_prefix`): one name per artifact that
    parses is enough, so at most a few names per artifact are parsed.
    """
    known: set[str] = set()
    done: set[str] = set()
    for name in names:
        prefix = name.partition("@")[0].partition("#")[0]
        if prefix in done or prefix == name:
            continue
        parsed = parse_tag_name(name)
        if parsed is not None:
            known.add(parsed.artifact)
            done.add(prefix)
    return known


def head_annotations(
    session: Session, artifacts: Iterable[str]
) -> tuple[dict[str, Annotation], list[FileProblem]]:
    """Annotations at HEAD from the root ``artifacts.yaml`` and the files of ``artifacts``
    (looked up by path, not by walking the tree), and those files' problems."""
    head = session.repo().head()
    if head is None:
        return {}, []
    files = sorted({ann.FILENAME} | {ann.file_for(a)[0] for a in artifacts})
    found: dict[str, Annotation] = {}
    problems: list[FileProblem] = []
    for file in files:
        parsed = session.catalog().file_at(head, file)
        if parsed is not None:
            found.update(parsed.annotations)
            problems.extend(parsed.problems)
    return found, problems


def warn_problems(session: Session, registry: Registry, artifact: str | None = None) -> None:
    """Each problem once on stderr as a warning (only those of ``artifact`` if given)."""
    for problem in registry.problems:
        if artifact is None or problem.artifact == artifact:
            session.warn(str(problem))


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


def resolve_ref(session: Session, ref: str) -> ObjectId:
    """The commit ``ref`` names, or a fatal error saying it does not resolve."""
    commit = gitbin.resolve_commit(ref, cwd=session.repo().cwd)
    if commit is None:
        head = gitbin.resolve_commit("HEAD", cwd=session.repo().cwd)
        hint = None if head else "this repository has no commits yet; commit something first"
        raise RegistryError(f"'{ref}' does not name a commit", hint=hint)
    return commit


def remote_name(session: Session) -> str:
    """The remote that push hints and --push use: ``registry.remote``, default origin."""
    return gitbin.check_remote(
        session.config().get("registry.remote", "origin"), source="registry.remote"
    )


def _push_command(remote: str, names: Sequence[str], delete: bool) -> list[str]:
    return ["push", remote, *(["--delete"] if delete else []), *map(gitbin.tag_word, names)]


def _quoted(args: Sequence[str]) -> str:
    return "git " + " ".join(shlex.quote(a) for a in args)


Replan = Callable[[Loaded], Sequence[NewTag]]
"""Plans a write again from a fresh registry (after fetching what the remote has)."""

PUSH_RETRIES = 3


def create_tags(
    session: Session,
    loaded: Loaded,
    tags: Sequence[NewTag],
    *,
    push: bool,
    replan: Replan | None = None,
) -> None:
    """Create ``tags`` in order; if one fails, delete those already created, then fail.

    Each tag is at least one second newer than the artifact's previous event (see
    :func:`~git_registry.plan.event_time`). Prints each created tag and the exact
    ``git push`` command that publishes them (or, with ``push``, pushes them one
    tag per push). If the remote refuses a tag because someone else got there
    first (the same ``#N`` or version), and ``replan`` is given: delete our unpushed
    tags, fetch the artifact's tags, plan again and retry, a bounded number of
    times. Nothing is ever force-pushed, and only tags this command created are
    deleted.
    """
    remote = remote_name(session)  # a bad registry.remote is refused before any tag is made
    created = _create_local(session, loaded, tags)
    if not push:
        _publish(session, [t.name for t, _ in created], delete=False, push=False)
        return
    for attempt in range(PUSH_RETRIES + 1):
        from git_registry.remote import fetch_tags, push_tags

        names = [t.name for t, _ in created]
        session.out(f"Pushing to {remote}: {', '.join(names)}")
        outcomes = push_tags(remote, names, session.repo().cwd)
        for outcome in outcomes:
            if outcome.ok:
                session.out(f"Pushed {outcome.name}")
        failed = outcomes[-1] if outcomes and not outcomes[-1].ok else None
        if failed is None:
            return
        unpushed = created[len(outcomes) - 1 :]
        if replan is None or not failed.retryable or attempt == PUSH_RETRIES:
            raise PushError(
                f"push to '{remote}' failed: {failed.name} {failed.reason}; "
                f"{', '.join(t.name for t, _ in unpushed)} kept in your local repository",
                hint=f"retry with: {_quoted(['registry', 'push', remote])}",
            )
        # Someone else took the tag (or the remote's hook saw a conflict): fetch what
        # the remote has, drop our unpushed tags and plan again.
        for tag, oid in reversed(unpushed):
            session.repo().delete_tag(tag.name, oid)
        artifacts = sorted({t.artifact for t, _ in unpushed})
        session.repo().close()
        fetch_tags(remote, session.repo().cwd, session.repo().tag_refs(), artifacts)
        record_fetch(session, artifacts)
        loaded = load(session, artifacts)
        try:
            again = list(replan(loaded))
        except RegistryError as exc:
            raise PushError(
                f"{failed.name} was refused by '{remote}' ({failed.reason}), and after "
                f"fetching its tags: {exc.message}; your unpushed tag(s) were removed",
                hint=exc.hint,
            ) from exc
        todo = [t for t in again if t.name not in loaded.tag_names]
        if [t.name for t in todo] == [t.name for t, _ in unpushed]:
            raise PushError(
                f"push to '{remote}' failed: {failed.name} {failed.reason}",
                hint="the remote's tags do not explain it: see the message above",
            )
        session.warn(
            f"{failed.name} was refused by '{remote}' ({failed.reason}): someone else "
            f"was first; retrying as {', '.join(t.name for t in todo) or 'nothing new'}"
        )
        if not todo:
            return
        created = _create_local(session, loaded, todo)


def _create_local(
    session: Session, loaded: Loaded, tags: Sequence[NewTag]
) -> list[tuple[NewTag, ObjectId]]:
    repo = session.repo()
    ident = gitbin.committer_ident(cwd=repo.cwd)
    if session.config().get("tag.gpgsign", "").lower() in ("true", "yes", "on", "1"):
        session.warn(
            "tag.gpgSign is set, but git registry does not sign tags yet: the tags are unsigned"
        )
    timed: list[tuple[NewTag, Signature]] = []
    previous: int | None = None
    for tag in tags:
        when = event_time(_tag_times(loaded, tag.artifact, ident.time), ident.time)
        if previous is not None:
            when = max(when, previous + 1)
        previous = when
        timed.append((tag, dataclasses.replace(ident, time=when)))
    refuse_broken_rules(session, loaded, timed)
    # One ref transaction: a registration and its assignment land together or not at all.
    oids = repo.create_tags(
        [NewTagObject(tag.name, tag.target, tag.message, tagger) for tag, tagger in timed]
    )
    created = [(tag, oid) for (tag, _), oid in zip(timed, oids, strict=True)]
    for tag, _oid in created:
        what = describe(tag.kind, tag.artifact, tag.version, tag.stage, tag.target)
        session.out("Created tag ", (tag.name, "name"), f": {what}")
    return created


def _tag_times(loaded: Loaded, artifact: str, now: int) -> list[int]:
    """The tagger times of every loaded tag of ``artifact`` that the tagger-time rule
    accepts (a far-future tag must never push our new events' times after it)."""
    latest = now + rules.FUTURE_SKEW
    return [
        row[4].time
        for row, parsed in zip(loaded.rows, loaded.fields, strict=True)
        if parsed[0] == artifact and row[4] is not None and 0 <= row[4].time <= latest
    ]


def refuse_broken_rules(
    session: Session, loaded: Loaded, tags: Sequence[tuple[NewTag, Signature]]
) -> None:
    """Refuse to create ``tags`` (with these taggers) if the registry with them would
    break a rule it did not break without them: the rulebook the hooks apply, so a
    tag a write creates is a tag they accept.

    Raises:
        RegistryError: the first broken rule, with its hint.
    """
    rows = list(loaded.rows)
    fields = list(loaded.fields)
    for tag, tagger in tags:
        parsed = parse_tag_name(tag.name)
        assert parsed is not None, tag.name
        rows.append((tag.name, ObjectId(""), tag.target, "commit", tagger, tag.message, None))
        fields.append((parsed.artifact, parsed.kind, parsed.version, parsed.stage, parsed.counter))
    after = build_registry_rows(rows, fields)
    catalog = session.catalog()
    # A broken policy cannot say which stages are allowed: fatal for an assignment only.
    assigns = any(tag.kind is EventKind.ASSIGNMENT for tag, _ in tags)
    policy = catalog.strict_policy() if assigns else catalog.policy()
    problems = rules.problems_of_new_tags(
        loaded.registry,
        after,
        {tag.name for tag, _ in tags},
        policy.stages,
        policy.file,
        catalog.commit_problems,
    )
    if problems:
        first = problems[0]
        message = first.message.removesuffix(": ignored")
        where = f"{first.tag}: " if first.tag else ""
        raise RegistryError(f"refusing to create the tag(s): {where}{message}", hint=first.hint)


def delete_tags(session: Session, deletions: Sequence[Deletion], *, push: bool) -> None:
    """Delete tags that still point where the registry saw them, all or none; report each.

    Raises:
        RegistryError: nothing to delete; or Git refused, with its reason (nothing deleted).
    """
    if not deletions:
        raise RegistryError("there are no tags to delete")
    remote_name(session)  # a bad registry.remote is refused before any tag is deleted
    # One ref transaction: every tag still where the registry saw it is deleted, or
    # none is (a tag that moved, a held lock: Git's reason, exit 128).
    session.repo().delete_tags([(d.name, d.oid) for d in deletions])
    for deletion in deletions:
        session.out(f"Deleted tag {deletion.name} (it {describe_event(deletion.event)})")
    _publish(session, [d.name for d in deletions], delete=True, push=push)


def _publish(session: Session, names: Sequence[str], *, delete: bool, push: bool) -> None:
    remote = remote_name(session)
    args = _push_command(remote, names, delete)
    if not push:
        session.out("To publish, run:")
        session.out(f"    {_quoted(args)}")
        return
    session.out(f"Running: {_quoted(args)}")
    result = gitbin.push(remote, names, delete=delete, cwd=session.repo().cwd)
    if result.returncode == 0:
        session.out(f"Pushed to {remote}.")
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


FETCHED = os.path.join("registry", "fetched")
"""In the common Git directory: the artifacts whose registry tags ``git registry fetch``
fetched in this shallow clone, one per line (``*``: every artifact)."""


def record_fetch(session: Session, artifacts: Iterable[str] | None) -> None:
    """Note, in a shallow clone, that the registry tags of ``artifacts`` (None: all)
    were fetched, so reads stop warning that they may be missing."""
    common = session.repo().paths.common_dir
    if not os.path.exists(os.path.join(common, "shallow")):
        return
    path = os.path.join(common, FETCHED)
    with contextlib.suppress(OSError):  # a read-only Git directory: keep warning
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write("".join(f"{a}\n" for a in (["*"] if artifacts is None else artifacts)))


def warn_if_shallow(session: Session, artifacts: Sequence[str] | None) -> None:
    """In a shallow clone (a CI checkout) where ``git registry fetch`` has not fetched
    these artifacts' tags, say that answers may be incomplete, once per command."""
    if session.remotes or session.shallow_warned:
        return  # a --remote cache is shallow by design and always complete
    common = session.repo().paths.common_dir
    if not os.path.exists(os.path.join(common, "shallow")):
        return
    try:
        with open(os.path.join(common, FETCHED), encoding="utf-8") as f:
            fetched = {line.strip() for line in f}
    except (OSError, UnicodeDecodeError):
        fetched = set()
    if "*" in fetched or (artifacts is not None and fetched.issuperset(artifacts)):
        return
    session.shallow_warned = True
    session.warn(
        "this is a shallow clone: registry tags that were not fetched are unknown here, "
        "so answers may be out of date and new counters or versions may clash with the "
        "remote's (run 'git registry fetch' first)"
    )


def events_of(registry: Registry, artifact: str | None) -> list[Event]:
    """Every accepted event of the registry (or of one artifact), oldest first."""
    if artifact is not None:
        info = registry.artifacts.get(artifact)
        return list(info.events) if info else []
    events = [e for info in registry.artifacts.values() for e in info.events]
    # Event.order, spelled out: cheaper than the property for 100,000 events.
    priority = {kind: kind.priority for kind in EventKind}
    events.sort(key=lambda e: (e.tagger.time, e.counter or 0, priority[e.kind], e.tag))
    return events


def need_args(value: str | None, message: str) -> str:
    if not value:
        raise UsageError(message)
    return value
