"""The registry state (SPEC 3): events from annotated tags -> artifacts, versions, stages.

Pure: takes the tag refs read once per command and returns an immutable
:class:`Registry`. One bad tag never breaks the rest: it becomes a
:class:`Problem` (shown as a warning, listed by ``check``) and is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from git_registry.grammar import EventKind, TagName, parse_tag, semver_key, strip_tag_prefix
from git_registry.tags import ObjectId, Signature, TagRef, short

_NO_TAGGER = Signature("", "", 0, 0)


@dataclass(frozen=True, slots=True)
class Event:
    """One registry event: an annotated tag pointing (after peeling) at a commit.

    For assignments and unassignments ``version`` is the version registered at
    the tag's commit (the tag name itself carries only the stage).
    """

    tag: str
    kind: EventKind
    artifact: str
    version: str | None
    stage: str | None
    counter: int | None
    commit: ObjectId
    tagger: Signature
    message: str
    oid: ObjectId

    @property
    def order(self) -> tuple[int, int, int, str]:
        """Event order: tagger time, then counter, then GTO's event priority, then name.

        GTO breaks same-second ties by tag name only, so ``#10`` sorts before
        ``#9``; comparing counters as numbers first fixes that (SPEC 3.2).
        """
        counter = self.counter if self.counter is not None else 0
        return (self.tagger.time, counter, self.kind.priority, self.tag)


@dataclass(frozen=True, slots=True)
class Problem:
    """A tag (or artifact) that could not be used, and why."""

    message: str
    tag: str | None = None
    artifact: str | None = None

    def __str__(self) -> str:
        return f"{self.tag}: {self.message}" if self.tag else self.message


@dataclass(frozen=True, slots=True)
class StageHold:
    """A version holding a stage, through its newest still-active assignment."""

    stage: str
    version: str
    assignment: Event


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of an artifact. ``events`` are its own, oldest first."""

    artifact: str
    version: str
    commit: ObjectId
    active: bool
    registration: Event
    events: tuple[Event, ...]
    stages: tuple[str, ...]
    """Stages this version currently holds (it is the stage holder)."""


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One artifact: its versions (highest first), stage holders and events."""

    name: str
    deprecated: bool
    versions: tuple[VersionInfo, ...]
    latest: VersionInfo | None
    stages: Mapping[str, tuple[StageHold, ...]]
    """Per stage, every version holding it, newest assignment first; [0] is the holder."""
    events: tuple[Event, ...]

    def version(self, version: str) -> VersionInfo | None:
        """The version named ``version`` (active or not), or None."""
        for info in self.versions:
            if info.version == version:
                return info
        return None

    def holder(self, stage: str) -> StageHold | None:
        """The version holding ``stage``, or None."""
        holds = self.stages.get(stage)
        return holds[0] if holds else None

    def versions_at(self, commit: str) -> tuple[VersionInfo, ...]:
        """Versions registered at ``commit``, newest registration last."""
        return tuple(
            sorted(
                (v for v in self.versions if v.commit == commit),
                key=lambda v: v.registration.order,
            )
        )

    @property
    def highest_ever(self) -> VersionInfo | None:
        """The highest version ever registered, deregistered ones included (SPEC 3.1)."""
        return self.versions[0] if self.versions else None


@dataclass(frozen=True, slots=True)
class Registry:
    """The whole registry as the tags describe it."""

    artifacts: Mapping[str, ArtifactInfo]
    problems: tuple[Problem, ...]
    stages: tuple[str, ...]
    """Every stage ever used, in order of first use."""
    counters: Mapping[str, int] = field(default_factory=dict)
    """Largest counter on any tag of each artifact, annotated or not."""
    known: tuple[str, ...] = ()
    """Every artifact named by a registry tag, including those whose objects were not read."""

    def next_counter(self, artifact: str) -> int:
        """The counter for a new ``#N`` tag: 1 + the largest on any tag of the artifact."""
        return self.counters.get(artifact, 0) + 1

    def event(self, tag: str) -> Event | None:
        """The event a tag (``NAME`` or ``refs/tags/NAME``) created, or None if it is not
        a (usable) registry event."""
        tag = strip_tag_prefix(tag)
        parsed = parse_tag(tag)
        if parsed is None or parsed.artifact not in self.artifacts:
            return None
        for event in self.artifacts[parsed.artifact].events:
            if event.tag == tag:
                return event
        return None

    def problems_of(self, tag: str) -> tuple[Problem, ...]:
        """The problems reported for one tag (``NAME`` or ``refs/tags/NAME``)."""
        tag = strip_tag_prefix(tag)
        return tuple(p for p in self.problems if p.tag == tag)


def build_registry(refs: Iterable[TagRef], known: Iterable[str] = ()) -> Registry:
    """Build the registry from tag refs (any refs: non-registry tags are skipped).

    Args:
        refs: every tag of the repository, or only those of some artifacts.
        known: names of other artifacts whose tags were not read (for hints).

    Returns:
        The registry; unusable tags are listed in ``problems`` and left out.
    """
    problems: list[Problem] = []
    counters: dict[str, int] = {}
    by_artifact: dict[str, list[Event]] = {}
    for ref in refs:
        parsed = parse_tag(ref.name)
        if parsed is None:
            continue
        if parsed.counter is not None:
            counters[parsed.artifact] = max(counters.get(parsed.artifact, 0), parsed.counter)
        event = _event(ref, parsed, problems)
        if event is not None:
            by_artifact.setdefault(parsed.artifact, []).append(event)
    artifacts = {
        name: _build_artifact(name, events, problems)
        for name, events in sorted(by_artifact.items())
    }
    first_use: dict[str, tuple[int, int, int, str]] = {}
    for info in artifacts.values():
        for event in info.events:
            if event.stage is not None and (
                event.stage not in first_use or event.order < first_use[event.stage]
            ):
                first_use[event.stage] = event.order
    stages = tuple(sorted(first_use, key=lambda s: (first_use[s], s)))
    names = tuple(sorted(set(known) | set(artifacts)))
    return Registry(artifacts, tuple(problems), stages, counters, names)


def _event(ref: TagRef, parsed: TagName, problems: list[Problem]) -> Event | None:
    if ref.problem is not None:
        problems.append(Problem(ref.problem, ref.name, parsed.artifact))
        return None
    tag = ref.tag
    if tag is None:
        problems.append(
            Problem(
                "lightweight tag ignored: registry events are annotated tags "
                "(recreate it with 'git tag -a', or fetch the annotated tag)",
                ref.name,
                parsed.artifact,
            )
        )
        return None
    if tag.target_type != "commit":
        problems.append(
            Problem(
                f"points at a {tag.target_type}, not a commit: ignored", ref.name, parsed.artifact
            )
        )
        return None
    return Event(
        tag=ref.name,
        kind=parsed.kind,
        artifact=parsed.artifact,
        version=parsed.version,
        stage=parsed.stage,
        counter=parsed.counter,
        commit=tag.target,
        tagger=tag.tagger or _NO_TAGGER,
        message=tag.message.strip(),
        oid=tag.oid,
    )


@dataclass(slots=True)
class _Version:
    version: str
    commit: ObjectId
    direct: list[Event] = field(default_factory=list)
    staged: list[Event] = field(default_factory=list)


def _build_artifact(name: str, events: list[Event], problems: list[Problem]) -> ArtifactInfo:
    events.sort(key=lambda e: e.order)
    versions: dict[str, _Version] = {}
    at_commit: dict[str, list[_Version]] = {}
    accepted: list[Event] = []

    # Registrations and deregistrations first: an assignment belongs to the version
    # registered at its commit, whenever that registration happened (as in GTO).
    for event in events:
        if event.kind not in (EventKind.REGISTRATION, EventKind.DEREGISTRATION):
            continue
        assert event.version is not None
        known = versions.get(event.version)
        if known is None:
            if event.kind is EventKind.DEREGISTRATION:
                problems.append(
                    Problem(
                        f"deregisters {event.version}, which was never registered: ignored",
                        event.tag,
                        name,
                    )
                )
                continue
            known = versions[event.version] = _Version(event.version, event.commit)
            at_commit.setdefault(event.commit, []).append(known)
        elif known.commit != event.commit:
            first = known.direct[0]
            problems.append(
                Problem(
                    f"{event.version} of {name} is already registered at commit "
                    f"{short(known.commit)} (tag {first.tag}); this tag points at "
                    f"{short(event.commit)}: ignored",
                    event.tag,
                    name,
                )
            )
            continue
        known.direct.append(event)
        accepted.append(event)

    for event in events:
        if event.kind is EventKind.DEPRECATION:
            accepted.append(event)
        elif event.kind in (EventKind.ASSIGNMENT, EventKind.UNASSIGNMENT):
            owner = _owner(at_commit.get(event.commit, []), event)
            if owner is None:
                problems.append(
                    Problem(
                        f"points at commit {short(event.commit)}, where {name} has no "
                        "registered version: ignored",
                        event.tag,
                        name,
                    )
                )
                continue
            event = dataclasses.replace(event, version=owner.version)
            owner.staged.append(event)
            accepted.append(event)
    accepted.sort(key=lambda e: e.order)

    holds: dict[str, list[StageHold]] = {}
    active: dict[str, bool] = {}
    for v in versions.values():
        active[v.version] = v.direct[-1].kind is EventKind.REGISTRATION
        if not active[v.version]:
            continue
        last_by_stage: dict[str, Event] = {}
        for event in v.staged:
            assert event.stage is not None
            last_by_stage[event.stage] = event
        for stage, last in last_by_stage.items():
            if last.kind is EventKind.ASSIGNMENT:
                holds.setdefault(stage, []).append(StageHold(stage, v.version, last))
    stages = {
        stage: tuple(sorted(hs, key=lambda h: h.assignment.order, reverse=True))
        for stage, hs in holds.items()
    }
    holding: dict[str, list[str]] = {}
    for stage, hs in stages.items():
        holding.setdefault(hs[0].version, []).append(stage)

    for commit, vs in at_commit.items():
        live = [v.version for v in vs if active[v.version]]
        if len(live) > 1:
            problems.append(
                Problem(
                    f"commit {short(commit)} holds {len(live)} active versions of {name} "
                    f"({', '.join(live)}); stage tags on it go to the newest registration",
                    None,
                    name,
                )
            )

    infos = [
        VersionInfo(
            artifact=name,
            version=v.version,
            commit=v.commit,
            active=active[v.version],
            registration=v.direct[0],
            events=tuple(sorted(v.direct + v.staged, key=lambda e: e.order)),
            stages=tuple(holding.get(v.version, ())),
        )
        for v in versions.values()
    ]
    # Highest SemVer first; equal precedence (build metadata) by newest registration.
    infos.sort(key=lambda i: (semver_key(i.version), i.registration.order), reverse=True)
    latest = next((i for i in infos if i.active), None)
    deprecated = bool(accepted) and accepted[-1].kind is EventKind.DEPRECATION
    return ArtifactInfo(
        name=name,
        deprecated=deprecated,
        versions=tuple(infos),
        latest=latest,
        stages=stages,
        events=tuple(accepted),
    )


def _owner(candidates: list[_Version], event: Event) -> _Version | None:
    """The version a stage event at some commit belongs to.

    Normally one version is registered at a commit. If several are, the one whose
    newest registration precedes the event and is newest wins; failing that, the
    first registered.
    """
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    best: _Version | None = None
    best_order: tuple[int, int, int, str] | None = None
    for v in candidates:
        regs = [
            e.order for e in v.direct if e.kind is EventKind.REGISTRATION and e.order <= event.order
        ]
        if regs and (best_order is None or max(regs) > best_order):
            best, best_order = v, max(regs)
    return best or candidates[0]
