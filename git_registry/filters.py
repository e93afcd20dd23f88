"""Filters of the read commands: ``show --type/--label/--stage`` over the registry
table, ``history --since/--until/--by`` over events. Pure: values in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from git_registry.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.annotations import Annotation
    from git_registry.state import ArtifactInfo, ArtifactSummary, Event


@dataclass(frozen=True, slots=True)
class ArtifactFilter:
    """``show --type T --label L --stage S``: every one given must hold (AND)."""

    type: str | None = None
    labels: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.type is not None or self.labels or self.stages)

    def keeps(self, info: ArtifactInfo | ArtifactSummary | None, note: Annotation | None) -> bool:
        """Whether an artifact (its state, its annotation at HEAD) passes."""
        if self.type is not None and (note is None or note.type != self.type):
            return False
        if self.labels and (note is None or not set(self.labels) <= set(note.labels)):
            return False
        held = info.stages if info is not None else {}
        return all(held.get(stage) for stage in self.stages)


def artifact_filter(
    types: Sequence[str], labels: Sequence[str], stages: Sequence[str]
) -> ArtifactFilter:
    """The filter of ``--type``, ``--label`` and ``--stage`` (each repeatable).

    Raises:
        UsageError: two different types (an artifact has one), or an empty value.
    """
    for option, given in (("--type", types), ("--label", labels), ("--stage", stages)):
        if any(not value.strip() for value in given):
            raise UsageError(f"{option} needs a value")
    distinct = sorted(set(types))
    if len(distinct) > 1:
        raise UsageError(
            f"--type {distinct[0]} --type {distinct[1]}: an artifact has one type, and the "
            "filters are combined with AND"
        )
    return ArtifactFilter(
        distinct[0] if distinct else None,
        tuple(dict.fromkeys(labels)),
        tuple(dict.fromkeys(stages)),
    )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """``history --since --until --by``: tagger time in [since, until], tagger name or
    email holding one of ``authors`` (case-insensitive, as ``git log --author``)."""

    since: int | None = None
    until: int | None = None
    authors: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.since is not None or self.until is not None or bool(self.authors)

    def keeps(self, event: Event) -> bool:
        tagger = event.tagger
        if self.since is not None and tagger.time < self.since:
            return False
        if self.until is not None and tagger.time > self.until:
            return False
        if self.authors:
            who = f"{tagger.name} <{tagger.email}>".casefold()
            return any(author in who for author in self.authors)
        return True


_RELATIVE_RE = re.compile(r"(\d{1,6})[. ](second|minute|hour|day|week)s?[. ]ago", re.IGNORECASE)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_DATE_ONLY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str, option: str, now: float, *, end: bool = False) -> int:
    """A ``--since`` / ``--until`` value as Unix time.

    Takes ISO 8601 (``2026-01-31``, ``2026-01-31T14:00``, ``2026-01-31 14:00:00+02:00``,
    ``...Z``; without an offset, the local time zone, as Git), a Unix time
    (``@1700000000``, as Git), ``N.days.ago`` (seconds, minutes, hours, days,
    weeks; also ``"N days ago"``), ``now``, ``today`` and ``yesterday``. A date alone
    is the start of that day, or with ``end`` (``--until``) its end, so that
    ``--until 2026-01-31`` includes that day.

    Raises:
        UsageError: anything else.
    """
    from datetime import datetime, timedelta  # only when a date is given (start-up)

    value = text.strip()
    word = value.lower()
    if word == "now":
        return int(now)
    if word in ("today", "yesterday"):
        start = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if word == "yesterday":
            start -= timedelta(days=1)
        return int(start.timestamp()) + (86399 if end else 0)
    relative = _RELATIVE_RE.fullmatch(value)
    if relative:
        return int(now) - int(relative[1]) * _UNIT_SECONDS[relative[2].lower()]
    if value.startswith("@") and value[1:].isdigit() and len(value) <= 13:
        return int(value[1:])
    try:
        when = datetime.fromisoformat(value)
        if _DATE_ONLY_RE.fullmatch(value) and end:
            when += timedelta(days=1, seconds=-1)
        return int(when.timestamp())  # naive: local time, as Git reads a date without a zone
    except (ValueError, OverflowError, OSError):
        raise UsageError(
            f"{option} '{text}': not a date: use ISO 8601 (2026-01-31, 2026-01-31T14:00:00Z, "
            "2026-01-31 14:00+02:00), @UNIXTIME, N.days.ago, today or yesterday"
        ) from None


def event_filter(
    since: str | None, until: str | None, authors: Sequence[str], now: float
) -> EventFilter:
    """The filter of ``--since``, ``--until`` and ``--by`` (repeatable: any of them).

    Raises:
        UsageError: a bad date, ``--since`` after ``--until``, or an empty ``--by``.
    """
    start = parse_date(since, "--since", now) if since is not None else None
    stop = parse_date(until, "--until", now, end=True) if until is not None else None
    if start is not None and stop is not None and start > stop:
        raise UsageError(f"--since {since} is after --until {until}: no event can match")
    if any(not author.strip() for author in authors):
        raise UsageError("--by needs a name or an email (or a part of one)")
    return EventFilter(start, stop, tuple(a.strip().casefold() for a in authors))
