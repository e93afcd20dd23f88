"""Value types for what Git stores: object ids, signatures, tag objects and tag refs.

Pure: the Git layer (:mod:`git_registry.repo`, :mod:`git_registry.tagobject`) builds
these from Git's bytes; everything above it sees only these ``str``-based values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Start-up: typing (3 ms) and datetime (1 ms) are not imported at run time; mypy reads
# this name as typing.TYPE_CHECKING.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any, NewType, TypeVar

    ObjectId = NewType("ObjectId", str)
    _T = TypeVar("_T")
else:

    def ObjectId(value):  # typing.NewType at run time: the value itself
        return value


def fast_maker(cls: type[_T]) -> Callable[..., _T]:
    """A constructor for the frozen, slotted dataclass ``cls`` that takes every field
    positionally and fills its slots directly.

    ``fast_maker(C)(*values) == C(*values)``, in half the time: a frozen dataclass's
    ``__init__`` goes through ``object.__setattr__`` for each field, which is what
    dominates building 100,000 events. Only for classes without defaults or
    ``__post_init__``.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    setters = {f"_set_{n}": getattr(cls, n).__set__ for n in names}
    body = "".join(f"    _set_{n}(self, {n})\n" for n in names)
    source = f"def make({', '.join(names)}):\n    self = _new(_cls)\n{body}    return self\n"
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls, **setters}
    exec(source, scope)
    make: Callable[..., _T] = scope["make"]
    return make


@dataclass(frozen=True, slots=True)
class Signature:
    """A tagger or committer line: who and when (``tz_offset`` in minutes east of UTC)."""

    name: str
    email: str
    time: int
    tz_offset: int

    def datetime(self) -> datetime:
        """The time in the signer's own time zone."""
        from datetime import datetime, timedelta, timezone

        return datetime.fromtimestamp(self.time, timezone(timedelta(minutes=self.tz_offset)))

    def iso(self) -> str:
        """ISO 8601 with the signer's offset, e.g. ``2023-11-14T22:13:20+00:00``."""
        return self.datetime().isoformat()


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


TagRow = tuple[str, ObjectId, "ObjectId | None", str, "Signature | None", str, "str | None"]
"""A :class:`TagRef` as a plain tuple, for reading 100,000 tags fast:
``(name, oid, target, target_type, tagger, message, problem)``. ``target`` is None for
a lightweight tag and for an unusable one, whose ``problem`` says why; the other fields
are those of its :class:`TagObject`."""


def tag_row(ref: TagRef) -> TagRow:
    """``ref`` as a :data:`TagRow`."""
    tag = ref.tag
    if tag is None or ref.problem is not None:
        return (ref.name, ref.oid, None, "", None, "", ref.problem)
    return (ref.name, ref.oid, tag.target, tag.target_type, tag.tagger, tag.message, None)


def tag_ref_of(row: TagRow) -> TagRef:
    """The :class:`TagRef` a :data:`TagRow` stands for."""
    name, oid, target, target_type, tagger, message, problem = row
    if target is None:
        return TagRef(name, oid, None, problem)
    return TagRef(name, oid, TagObject(oid, target, target_type, tagger, message))


def short(oid: str) -> str:
    """The abbreviated object id used in human output (the full id is in ``--json``)."""
    return oid[:7]
