"""An artifact's lifecycle as lanes: per stage, which version held it from which event
to which (issue 18). The static site draws it as SVG, ``history NAME --graph`` with box
characters; both from this one model.

Pure: an artifact's events (:attr:`~git_registry.state.ArtifactInfo.events`, in order)
are replayed with the rules :mod:`git_registry.state` applies to all of them at once,
so that after the last event the lanes end with the holders ``show`` prints (SPEC 3):
a version holds a stage while it is active (its newest registration or deregistration
is a registration) and its newest event for that stage is an assignment; of those, the
stage's holder is the one assigned last. An unassignment (``rollback``) or a
deregistration of the holder hands the stage back to the previous one still assigned.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from git_registry.grammar import EventKind
from git_registry.state import Event


class Mark(enum.Enum):
    """What an event did, as the timeline marks it."""

    REGISTRATION = "registered"
    PROMOTION = "promoted"
    ROLLBACK = "rolled back"
    """An unassignment after which an earlier version holds the stage again."""
    UNASSIGNMENT = "unassigned"
    """An unassignment that left the stage empty (or took a version that did not hold it)."""
    DEREGISTRATION = "deregistered"
    DEPRECATION = "deprecated"


@dataclass(frozen=True, slots=True)
class Step:
    """One event and the lanes just after it."""

    event: Event
    mark: Mark
    holders: tuple[str | None, ...]
    """Per lane (:attr:`Lifecycle.stages`), the version holding it after the event."""
    changed: tuple[int, ...]
    """The lanes whose holder this event changed."""
    deprecated: bool
    """The artifact is deprecated after the event (a later event revives it, SPEC 3)."""


@dataclass(frozen=True, slots=True)
class Span:
    """Version ``version`` held lane ``stage`` from step ``start`` to step ``end``
    (exclusive; None: it holds it now)."""

    stage: str
    version: str
    start: int
    end: int | None


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """An artifact's steps (one per event, oldest first) over its stage lanes."""

    artifact: str
    stages: tuple[str, ...]
    steps: tuple[Step, ...]

    def spans(self, lane: int) -> list[Span]:
        """The intervals during which one version held lane ``lane``, oldest first."""
        stage = self.stages[lane]
        out: list[Span] = []
        holder: str | None = None
        since = 0
        for index in (i for i, s in enumerate(self.steps) if lane in s.changed):
            if holder is not None:
                out.append(Span(stage, holder, since, index))
            holder, since = self.steps[index].holders[lane], index
        if holder is not None:
            out.append(Span(stage, holder, since, None))
        return out

    def deprecated_ranges(self) -> list[tuple[int, int | None]]:
        """The steps during which the artifact was deprecated: (from, to exclusive or None)."""
        out: list[tuple[int, int | None]] = []
        start: int | None = None
        for i, step in enumerate(self.steps):
            if step.deprecated and start is None:
                start = i
            elif not step.deprecated and start is not None:
                out.append((start, i))
                start = None
        if start is not None:
            out.append((start, None))
        return out


def lifecycle(artifact: str, events: Sequence[Event], stages: Sequence[str] = ()) -> Lifecycle:
    """Replay an artifact's events (oldest first) into lanes.

    Args:
        artifact: the artifact's name.
        events: its accepted events in registry order (``ArtifactInfo.events``).
        stages: the lanes' order (the policy's); stages the events use that are not
            listed follow in order of first use, and listed stages never used are left out.

    Returns:
        The lifecycle: one step per event.
    """
    used = list(dict.fromkeys(e.stage for e in events if e.stage is not None))
    lanes = [s for s in stages if s in used] + [s for s in used if s not in stages]
    lane_of = {s: i for i, s in enumerate(lanes)}
    active: dict[str, bool] = {}
    # stage -> version -> index of its newest assignment, while that is its newest event
    assigned: list[dict[str, int]] = [{} for _ in lanes]
    holders: list[str | None] = [None] * len(lanes)
    steps: list[Step] = []
    for index, event in enumerate(events):
        kind, version = event.kind, event.version
        before = list(holders)
        if version is None:  # a deprecation: the lanes stay as they are
            pass
        elif kind is EventKind.REGISTRATION or kind is EventKind.DEREGISTRATION:
            active[version] = kind is EventKind.REGISTRATION
            for lane, held in enumerate(assigned):
                if version in held:
                    _recompute(lane, held, active, holders)
        else:
            lane = lane_of[event.stage or ""]
            held = assigned[lane]
            held.pop(version, None)
            if kind is EventKind.ASSIGNMENT:
                held[version] = index
                if active.get(version, False):
                    holders[lane] = version  # assigned last: the holder
            elif holders[lane] == version:
                _recompute(lane, held, active, holders)
        changed = tuple(i for i, (a, b) in enumerate(zip(before, holders, strict=True)) if a != b)
        steps.append(
            Step(
                event,
                _mark(event, changed, holders, lane_of),
                tuple(holders),
                changed,
                kind is EventKind.DEPRECATION,
            )
        )
    return Lifecycle(artifact, tuple(lanes), tuple(steps))


def _recompute(
    lane: int, held: dict[str, int], active: dict[str, bool], holders: list[str | None]
) -> None:
    """The holder of one lane: the active version assigned last (a scan, needed only
    when the holder may have changed otherwise than by a new assignment)."""
    live = [(at, v) for v, at in held.items() if active.get(v, False)]
    holders[lane] = max(live)[1] if live else None


def _mark(
    event: Event, changed: tuple[int, ...], holders: list[str | None], lane_of: dict[str, int]
) -> Mark:
    kind = event.kind
    if kind is EventKind.UNASSIGNMENT:
        lane = lane_of[event.stage or ""]
        return Mark.ROLLBACK if lane in changed and holders[lane] is not None else Mark.UNASSIGNMENT
    return {
        EventKind.REGISTRATION: Mark.REGISTRATION,
        EventKind.ASSIGNMENT: Mark.PROMOTION,
        EventKind.DEREGISTRATION: Mark.DEREGISTRATION,
        EventKind.DEPRECATION: Mark.DEPRECATION,
    }[kind]
