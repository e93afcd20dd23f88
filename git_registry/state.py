"""The registry state (SPEC 3): events from annotated tags -> artifacts, versions, stages.

Pure: takes the tag refs read once per command and returns an immutable
:class:`Registry`. One bad tag never breaks the rest: it becomes a
:class:`Problem` (shown as a warning, listed by ``check``) and is left out.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from git_registry import rules
from git_registry.gitvalues import ObjectId, Signature, TagRef, TagRow, fast_maker, tag_row
from git_registry.grammar import (
    BAD_COUNTER,
    COUNTER_ROOM,
    EventKind,
    SemverKey,
    TagFields,
    parse_tag,
    parse_tag_name,
    semver_key,
    strip_tag_prefix,
)
from git_registry.rules import Problem

__all__ = [
    "ArtifactInfo",
    "ArtifactSummary",
    "Event",
    "Problem",
    "Registry",
    "StageHold",
    "VersionInfo",
]


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

    @property
    def deprecation(self) -> Event | None:
        """The deprecation that makes the artifact deprecated now (its newest event), or None."""
        return self.events[-1] if self.deprecated else None

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
    def used_stages(self) -> tuple[str, ...]:
        """Every stage the artifact's events name, in order of first use."""
        return tuple(dict.fromkeys(e.stage for e in self.events if e.stage is not None))

    @property
    def highest_ever(self) -> VersionInfo | None:
        """The highest version ever registered, deregistered ones included (SPEC 3.1)."""
        return self.versions[0] if self.versions else None


@dataclass(frozen=True, slots=True)
class ArtifactSummary:
    """What the registry table shows of an artifact: its latest version and the
    versions holding each stage (a cached registry gives it without decoding events)."""

    name: str
    deprecated: bool
    latest: str | None
    """The latest active version, or None."""
    stages: Mapping[str, tuple[str, ...]]
    """Per stage, every version holding it, newest assignment first; [0] is the holder."""


def summarize(info: ArtifactInfo) -> ArtifactSummary:
    """The :class:`ArtifactSummary` of ``info``."""
    return ArtifactSummary(
        info.name,
        info.deprecated,
        info.latest.version if info.latest is not None else None,
        {stage: tuple(h.version for h in held) for stage, held in info.stages.items()},
    )


@dataclass(frozen=True, slots=True)
class Registry:
    """The whole registry as the tags describe it."""

    artifacts: Mapping[str, ArtifactInfo]
    problems: tuple[Problem, ...]
    stages: tuple[str, ...]
    """Every stage ever used, in order of first use."""
    counters: Mapping[str, int] = field(default_factory=dict)
    """Largest counter on any tag of each artifact, annotated or not."""
    known: Sequence[str] = ()
    """Every artifact named by a registry tag, including those whose objects were not read
    (sorted; for a registry of some artifacts, listed only when first used)."""

    def summary(self, artifact: str) -> ArtifactSummary:
        """The artifact's :class:`ArtifactSummary` (KeyError: not an artifact)."""
        cached = getattr(self.artifacts, "summary", None)
        if cached is not None:
            found: ArtifactSummary = cached(artifact)
            return found
        return summarize(self.artifacts[artifact])

    def events_of(self, artifact: str) -> tuple[Event, ...]:
        """The artifact's events, oldest first (KeyError: not an artifact); from a
        cached registry, without decoding its versions."""
        cached = getattr(self.artifacts, "events_of", None)
        if cached is not None:
            found: tuple[Event, ...] = cached(artifact)
            return found
        return self.artifacts[artifact].events

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

    def holds(self) -> list[Event]:
        """The assignments through which versions hold their stages now (every version
        holding one, not only the newest), artifact by artifact."""
        return [
            hold.assignment
            for info in self.artifacts.values()
            for held in info.stages.values()
            for hold in held
        ]

    def problems_of(self, tag: str) -> tuple[Problem, ...]:
        """The problems reported for one tag (``NAME`` or ``refs/tags/NAME``)."""
        tag = strip_tag_prefix(tag)
        return tuple(p for p in self.problems if p.tag == tag)


def build_registry(
    refs: Iterable[TagRef], known: Iterable[str] = (), now: int | None = None
) -> Registry:
    """Build the registry from tag refs (any refs: non-registry tags are skipped).

    Args:
        refs: every tag of the repository, or only those of some artifacts.
        known: names of other artifacts whose tags were not read (for hints).
        now: the clock (Unix time) that tagger times may not be far ahead of.

    Returns:
        The registry; unusable tags are listed in ``problems`` and left out.
    """
    rows: list[TagRow] = []
    fields: list[TagFields] = []
    for ref in refs:
        parsed = parse_tag_name(ref.name)
        if parsed is not None:
            rows.append(tag_row(ref))
            fields.append(
                (parsed.artifact, parsed.kind, parsed.version, parsed.stage, parsed.counter)
            )
    return build_registry_rows(rows, fields, known, now)


# An event's sort key (Event.order) and the fields of an Event-to-be, kept as plain
# tuples while the state is worked out: with 100,000 tags, computing ``order`` per
# comparison and re-creating events (dataclasses.replace) dominated the run time.
_Order = tuple[int, int, int, str]
_Item = tuple[
    _Order,
    EventKind,
    str,
    "str | None",
    "str | None",
    "int | None",
    ObjectId,
    Signature,
    str,
    ObjectId,
]
"""(order, kind, tag, version, stage, counter, commit, tagger, message, tag object id)"""
_first = itemgetter(0)
_PRIORITY = {kind: kind.priority for kind in EventKind}


def history_key(event: Event) -> _Order:
    """:attr:`Event.order` as a sort key for many events (the property, spelled out:
    cheaper for 100,000 of them): the registry's history order."""
    return (event.tagger.time, event.counter or 0, _PRIORITY[event.kind], event.tag)


_new_event = fast_maker(Event)
_new_version = fast_maker(VersionInfo)
_new_hold = fast_maker(StageHold)


def build_registry_rows(
    rows: Sequence[TagRow],
    fields: Sequence[TagFields],
    known: Iterable[str] | Callable[[], Iterable[str]] = (),
    now: int | None = None,
    *,
    consume: bool = False,
) -> Registry:
    """:func:`build_registry` for registry tags read as rows, their names parsed.

    Args:
        rows: the tags (:data:`~git_registry.gitvalues.TagRow`), registry tags only.
        fields: each row's parsed name (:func:`~git_registry.grammar.parse_tags`).
        known: names of other artifacts whose tags were not read (for hints), or a
            function listing them, called only when they are first used.
        now: the clock (Unix time; default: the system's) for the tagger-time rule.
        consume: ``rows`` and ``fields`` are lists the caller no longer needs: they are
            emptied as they are read, so that each row is freed once its event is made
            (a whole read: 100,000 rows and their messages, tens of MB off the peak).
    """
    problems: list[Problem] = []
    counters: dict[str, int] = {}
    # Per artifact: its registrations and deregistrations, and its other events.
    by_artifact: dict[str, tuple[list[_Item], list[_Item]]] = {}
    registration, deregistration = EventKind.REGISTRATION, EventKind.DEREGISTRATION
    # The rules about one tag (rules.tag_object, rules.tagger_time, the counter's),
    # their usual case inlined: a Python call per tag costs 10% at 100,000 tags.
    latest = (int(_time.time()) if now is None else now) + rules.FUTURE_SKEW
    tz_max = rules.MAX_TZ_MINUTES
    bad_names: dict[str, str | None] = {}
    for row, parsed in _pairs(rows, fields, consume):
        artifact, kind, version, stage, counter = parsed
        name, oid, target, target_type, tagger, message, problem = row
        if ":" in artifact:  # in a folder: the name is checked once per artifact
            if artifact not in bad_names:
                bad_names[artifact] = rules.artifact_name_problem(artifact)
            why = bad_names[artifact]
            if why is not None:  # read, reported, and never followed
                problems.append(rules.bad_artifact_name(name, artifact, why))
                continue
        if counter is not None:
            if counter == BAD_COUNTER:
                problems.append(rules.bad_counter(name, artifact))
                continue
            if counter >= COUNTER_ROOM:  # read, reported, and never followed
                problems.append(rules.counter_without_room(name, artifact))
            else:
                counters[artifact] = max(counters.get(artifact, 0), counter)
        if target is None or target_type != "commit" or problem is not None:
            found = rules.tag_object(name, artifact, target, target_type, problem)
            assert found is not None
            problems.append(found)
            continue
        if tagger is None:
            problems.append(
                rules.Problem("the tag has no tagger", name, artifact, rules.Rule.TAG_OBJECT)
            )
            continue
        if not (0 <= tagger.time <= latest and -tz_max <= tagger.tz_offset <= tz_max):
            found = rules.tagger_time(name, artifact, tagger, latest - rules.FUTURE_SKEW)
            if found is not None:
                problems.append(found)
                continue
        order = (tagger.time, counter if counter is not None else 0, _PRIORITY[kind], name)
        lists = by_artifact.get(artifact)
        if lists is None:
            lists = by_artifact[artifact] = ([], [])
        lists[0 if kind is registration or kind is deregistration else 1].append(
            (order, kind, name, version, stage, counter, target, tagger, message.strip(), oid)
        )
    artifacts: dict[str, ArtifactInfo] = {}
    first_use: dict[str, _Order] = {}
    semver_keys: dict[str, SemverKey] = {}
    for artifact in sorted(by_artifact):
        # Popped: each artifact's working tuples are freed once its events are made
        # (at 100,000 tags, tens of MB off the peak).
        direct, others = by_artifact.pop(artifact)
        artifacts[artifact] = _build_artifact(
            artifact, direct, others, problems, first_use, semver_keys
        )
        del direct, others
    stages = tuple(sorted(first_use, key=lambda s: (first_use[s], s)))
    names: Sequence[str]
    if callable(known) or isinstance(known, KnownNames):
        names = KnownNames(known, artifacts)
    else:
        names = tuple(sorted(set(known) | set(artifacts)))
    return Registry(artifacts, tuple(problems), stages, counters, names)


def _pairs(
    rows: Sequence[TagRow], fields: Sequence[TagFields], consume: bool
) -> Iterator[tuple[TagRow, TagFields]]:
    """``zip(rows, fields)``; with ``consume``, the lists are emptied a slice at a time."""
    if len(rows) != len(fields):
        raise ValueError("rows and fields differ in length")
    if not consume:
        yield from zip(rows, fields, strict=True)
        return
    assert isinstance(rows, list) and isinstance(fields, list)
    step = 4096
    for start in range(0, len(rows), step):
        chunk = list(zip(rows[start : start + step], fields[start : start + step], strict=True))
        rows[start : start + step] = [None] * len(chunk)
        fields[start : start + step] = [None] * len(chunk)
        yield from chunk
        del chunk
    rows.clear()
    fields.clear()


class KnownNames(Sequence[str]):
    """Artifact names listed when first used: the artifacts of a registry of some
    artifacts, with every other artifact named by a tag (which takes listing every tag:
    only for a hint or the check of a new name)."""

    __slots__ = ("_extra", "_names", "_source")

    def __init__(self, source: Callable[[], Iterable[str]] | Iterable[str], extra: Iterable[str]):
        self._source = source
        self._extra = tuple(extra)
        self._names: tuple[str, ...] | None = None

    def _get(self) -> tuple[str, ...]:
        if self._names is None:
            source = self._source
            found = source() if callable(source) else source
            self._names = tuple(sorted(set(found) | set(self._extra)))
        return self._names

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __contains__(self, name: object) -> bool:
        return name in self._get()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KnownNames):
            other = other._get()
        return self._get() == other

    def __hash__(self) -> int:
        return hash(self._get())

    def __repr__(self) -> str:
        return repr(self._get()) if self._names is not None else "KnownNames(not listed yet)"


class _Version:
    """A version while the state is worked out: its own events and its stage events."""

    __slots__ = ("active", "commit", "direct", "staged", "version")

    def __init__(self, version: str, commit: ObjectId) -> None:
        self.version = version
        self.commit = commit
        self.direct: list[tuple[_Order, Event]] = []
        self.staged: list[tuple[_Order, Event]] = []
        self.active = True


def _build_artifact(
    name: str,
    direct: list[_Item],
    others: list[_Item],
    problems: list[Problem],
    first_use: dict[str, _Order],
    semver_keys: dict[str, SemverKey],
) -> ArtifactInfo:
    """One artifact from its registrations and deregistrations (``direct``) and its
    other events; adds to ``problems`` and to ``first_use`` (stage -> first order)."""
    direct.sort(key=_first)
    others.sort(key=_first)
    versions: dict[str, _Version] = {}
    at_commit: dict[str, list[_Version]] = {}
    accepted: list[tuple[_Order, Event]] = []
    # Registrations and deregistrations first: an assignment belongs to the version
    # registered at its commit, whenever that registration happened (as in GTO).
    shared = _add_versions(name, direct, versions, at_commit, accepted, problems)
    _add_stage_events(name, others, at_commit, accepted, problems, first_use)
    accepted.sort(key=_first)
    _check_counters(name, accepted, problems)
    stages = _stage_holds(versions)
    holding: dict[str, list[str]] = {}
    for stage, hs in stages.items():
        holding.setdefault(hs[0].version, []).append(stage)
    if shared:
        _check_shared_commits(name, shared, at_commit, problems)
    ordered = _version_infos(name, versions, holding, semver_keys)
    latest = next((i for i in ordered if i.active), None)
    deprecated = bool(accepted) and accepted[-1][1].kind is EventKind.DEPRECATION
    return ArtifactInfo(
        name=name,
        deprecated=deprecated,
        versions=ordered,
        latest=latest,
        stages=stages,
        events=tuple([e for _, e in accepted]),
    )


def _add_versions(
    name: str,
    direct: list[_Item],
    versions: dict[str, _Version],
    at_commit: dict[str, list[_Version]],
    accepted: list[tuple[_Order, Event]],
    problems: list[Problem],
) -> list[str]:
    """Registrations and deregistrations, in order, into ``versions`` and ``at_commit``;
    returns the commits that came to hold more than one version."""
    shared: list[str] = []
    for order, kind, tag, version, stage, counter, commit, tagger, message, oid in direct:
        assert version is not None
        known = versions.get(version)
        if known is None:
            if kind is EventKind.DEREGISTRATION:
                problems.append(rules.never_registered(tag, name, version))
                continue
            known = versions[version] = _Version(version, commit)
            held = at_commit.get(commit)
            if held is None:
                at_commit[commit] = [known]
            else:
                held.append(known)
                if len(held) == 2:
                    shared.append(commit)
        elif known.commit != commit:
            first = known.direct[0][1]
            problems.append(
                rules.version_two_commits(tag, name, version, commit, first.tag, known.commit)
            )
            continue
        event = _new_event(tag, kind, name, version, stage, counter, commit, tagger, message, oid)
        pair = (order, event)
        known.direct.append(pair)
        accepted.append(pair)
    return shared


def _add_stage_events(
    name: str,
    others: list[_Item],
    at_commit: dict[str, list[_Version]],
    accepted: list[tuple[_Order, Event]],
    problems: list[Problem],
    first_use: dict[str, _Order],
) -> None:
    """Assignments, unassignments and deprecations, each given to the version
    registered at its commit (a stage event with none is a problem)."""
    for order, kind, tag, version, stage, counter, commit, tagger, message, oid in others:
        if kind is EventKind.DEPRECATION:
            event = _new_event(
                tag, kind, name, version, stage, counter, commit, tagger, message, oid
            )
            accepted.append((order, event))
            continue
        candidates = at_commit.get(commit)
        if candidates is not None and len(candidates) == 1:
            owner: _Version | None = candidates[0]
        else:
            owner = _owner(candidates or [], order)
        if owner is None:
            problems.append(rules.no_version(tag, name, commit))
            continue
        registered = owner.direct[0][1]
        if tagger.time < registered.tagger.time:
            late = rules.backdated(
                tag, name, owner.version, tagger, registered.tag, registered.tagger.time
            )
            if late is not None:
                problems.append(late)
        event = _new_event(
            tag, kind, name, owner.version, stage, counter, commit, tagger, message, oid
        )
        pair = (order, event)
        owner.staged.append(pair)
        accepted.append(pair)
        assert stage is not None
        if stage not in first_use or order < first_use[stage]:
            first_use[stage] = order


def _stage_holds(versions: dict[str, _Version]) -> dict[str, tuple[StageHold, ...]]:
    """Stage -> the active versions holding it, newest assignment first; sets each
    version's ``active``."""
    holds: dict[str, list[tuple[_Order, StageHold]]] = {}
    assignment = EventKind.ASSIGNMENT
    for v in versions.values():
        v.active = active = v.direct[-1][1].kind is EventKind.REGISTRATION
        mine = v.staged
        if not active or not mine:
            continue
        # The newest event of each stage (one, most often) decides whether v holds it.
        newest = mine if len(mine) == 1 else list({p[1].stage: p for p in mine}.values())
        for order, last in newest:
            if last.kind is assignment:
                stage = last.stage
                assert stage is not None
                hold = (order, _new_hold(stage, v.version, last))
                others_held = holds.get(stage)
                if others_held is None:
                    holds[stage] = [hold]
                else:
                    others_held.append(hold)
    return {
        stage: tuple(h for _, h in sorted(hs, key=_first, reverse=True))
        for stage, hs in holds.items()
    }


def _check_shared_commits(
    name: str, shared: list[str], at_commit: dict[str, list[_Version]], problems: list[Problem]
) -> None:
    """A commit that holds more than one active version is a problem."""
    for where in sorted(shared, key=list(at_commit).index):
        live = [v for v in at_commit[where] if v.active]
        if len(live) > 1:
            # The problem is the newest registration's: the one that made the commit shared.
            made_shared = max(
                (pair for v in live for pair in v.direct if pair[1].kind is EventKind.REGISTRATION),
                key=_first,
            )[1]
            versions_here = [v.version for v in live]
            problems.append(
                rules.shared_commit(made_shared.tag, name, ObjectId(where), versions_here)
            )


def _version_infos(
    name: str,
    versions: dict[str, _Version],
    holding: dict[str, list[str]],
    semver_keys: dict[str, SemverKey],
) -> tuple[VersionInfo, ...]:
    """The artifact's versions, highest SemVer first (equal precedence, as with build
    metadata: newest registration first)."""
    infos: list[tuple[tuple[SemverKey, _Order], VersionInfo]] = []
    for v in versions.values():
        version = v.version
        key = semver_keys.get(version)
        if key is None:
            key = semver_keys[version] = semver_key(version)
        own, stage_events = v.direct, v.staged
        if len(own) == 1 and (not stage_events or own[0][0] < stage_events[0][0]):
            events = (own[0][1], *[e for _, e in stage_events])  # in order already
        else:
            events = _merged(own, stage_events)
        holds_now = holding.get(version)
        info = _new_version(
            name, version, v.commit, v.active, own[0][1], events, tuple(holds_now or ())
        )
        infos.append(((key, own[0][0]), info))
    infos.sort(key=_first, reverse=True)
    return tuple([info for _, info in infos])


def _check_counters(
    name: str, accepted: list[tuple[_Order, Event]], problems: list[Problem]
) -> None:
    """The counter-reused rule over an artifact's events in order: the first keeps it."""
    first: dict[int, str] = {}
    for _, event in accepted:
        counter = event.counter
        if counter is None:
            continue
        earlier = first.get(counter)
        if earlier is None:
            first[counter] = event.tag
        else:
            problems.append(rules.counter_reused(event.tag, name, counter, earlier))


def _merged(
    first: list[tuple[_Order, Event]], second: list[tuple[_Order, Event]]
) -> tuple[Event, ...]:
    """The events of two sorted lists, in order (no sort when they follow one another)."""
    if not second or (first and first[-1][0] < second[0][0]):
        return tuple([e for _, e in first] + [e for _, e in second])
    return tuple([e for _, e in sorted(first + second, key=_first)])


def _owner(candidates: list[_Version], order: _Order) -> _Version | None:
    """The version a stage event (sorting at ``order``) at some commit belongs to.

    Normally one version is registered at a commit. If several are, the one whose
    newest registration precedes the event and is newest wins; failing that, the
    first registered.
    """
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    best: _Version | None = None
    best_order: _Order | None = None
    for v in candidates:
        regs = [o for o, e in v.direct if e.kind is EventKind.REGISTRATION and o <= order]
        if regs and (best_order is None or max(regs) > best_order):
            best, best_order = v, max(regs)
    return best or candidates[0]
