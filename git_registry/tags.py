"""Value types for what Git stores: object ids, signatures, tag objects and tag refs.

Pure: the repository module builds these from dulwich's bytes; everything above
it sees only these ``str``-based values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NewType

ObjectId = NewType("ObjectId", str)


@dataclass(frozen=True, slots=True)
class Signature:
    """A tagger or committer line: who and when (``tz_offset`` in minutes east of UTC)."""

    name: str
    email: str
    time: int
    tz_offset: int

    def datetime(self) -> datetime:
        """The time in the signer's own time zone."""
        return datetime.fromtimestamp(self.time, timezone(timedelta(minutes=self.tz_offset)))

    def iso(self) -> str:
        """ISO 8601 with the signer's offset, e.g. ``2023-11-14T22:13:20+00:00``."""
        return self.datetime().isoformat()

    def format_git(self) -> str:
        """As Git writes it in an object header: ``Name <email> 1700000000 +0000``."""
        sign = "-" if self.tz_offset < 0 else "+"
        hours, minutes = divmod(abs(self.tz_offset), 60)
        return f"{self.name} <{self.email}> {self.time} {sign}{hours:02d}{minutes:02d}"


@dataclass(frozen=True, slots=True)
class TagObject:
    """An annotated tag object, peeled: ``target`` is the first non-tag object it leads to."""

    oid: ObjectId
    target: ObjectId
    target_type: str
    tagger: Signature | None
    message: str


@dataclass(frozen=True, slots=True)
class TagRef:
    """A ref under ``refs/tags/`` as read from the repository.

    ``tag`` is None for a lightweight tag (the ref points straight at a commit or
    other non-tag object) and for a tag whose object could not be read, in which
    case ``problem`` says why.
    """

    name: str
    oid: ObjectId
    tag: TagObject | None = None
    problem: str | None = None


def short(oid: str) -> str:
    """The abbreviated object id used in human output (the full id is in ``--json``)."""
    return oid[:7]
