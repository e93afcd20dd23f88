"""A cache of parsed tag objects, kept in ``<common Git dir>/registry/tag-cache``.

Why it can never go stale: an entry is keyed by the tag object's id, and an
object id always names the same bytes, so what we derived from them (peeled
target, its type, tagger, message, or why the tag is unusable) stays true. The
target's type is checked against the target object itself before an entry is made,
and an object's type cannot change either.
What refs point at is never cached: refs are read afresh on every run, so adding,
deleting, re-pointing or packing tags behind our back cannot change an answer.
One result is not cached: "object missing", which a later fetch can change.

The file is written whole to a temporary file, then renamed over the old one
(:func:`git_registry.fsio.write_atomic`), so readers see the old or the new file,
never half of one, and two writers at once leave one of their files (the other's
new entries are read again next time). Nothing is written when nothing changed, nor when the Git
directory is read-only, nor in a server hook's quarantine.

Format: one header line ``git-registry tag-cache SCHEMA VERSION LENGTHS CRC32``
(LENGTHS: each column's length in bytes, comma-separated), then nine ``marshal``
values (never pickle: loading them runs no code), equal-length tuples, one per
column: object ids, then the :data:`Entry` fields. One value per column, not one
tuple of them all: marshal keeps a table of every object it writes, so a column
at a time takes 40% less memory to save 100,000 entries. A file that is
missing, truncated, from another schema or package version, or fails its CRC or
the checks below is ignored and rebuilt. Entries are checked for type and range
before use, so even a hand-edited cache cannot crash a command; it could make a
tag read differently, as editing ``.git`` itself could (the Git directory is
trusted, like its hooks and config). ``git config registry.cache false`` turns the
cache off; deleting the file is always safe.
"""

from __future__ import annotations

import itertools
import marshal
import os
from collections.abc import Collection

from git_registry import cachefile
from git_registry.gitvalues import ObjectId, Signature, TagRow, fast_maker

SCHEMA = 3
"""Bump when the meaning of an entry, or how a tag object is parsed, changes."""

CACHE_DIR = "registry"
CACHE_FILE = "tag-cache"
_MAGIC = b"git-registry tag-cache"

Entry = tuple[int, ObjectId, str, str, str, str, int, int]
"""``(kind, target, target_type, message, tagger name, email, time, tz offset)``.

For :data:`LIGHTWEIGHT` every other field is empty; for :data:`UNUSABLE` the
message is the problem.
"""

LIGHTWEIGHT = 0
"""The ref points straight at a non-tag object."""
ANNOTATED = 1
UNUSABLE = 3
"""A tag object that cannot be used whatever happens: malformed (see
:mod:`git_registry.tagobject`; a tag without a ``tagger`` is one since schema 3,
which dropped kind 2 for it), or its target is not of the type it says."""

_KINDS = frozenset((LIGHTWEIGHT, ANNOTATED, UNUSABLE))
# Entries outside these bounds are not cached (they would not render anyway):
# datetime handles |time| <= 2**34 s and offsets under a day.
_MAX_TIME = 2**34
_MAX_TZ = 24 * 60 - 1
_COLUMNS = 9
_NONE = ObjectId("")
_signature = fast_maker(Signature)


class TagCache:
    """The parsed tag objects of one repository, loaded once per process.

    ``entries`` maps a tag object id to its :data:`Entry`; read it directly in hot
    loops, and :meth:`add` to it.
    """

    def __init__(self, path: str | None, entries: dict[str, Entry] | None = None) -> None:
        self.path = path
        """Where the cache lives, or None for a disabled cache (never written)."""
        self.entries: dict[str, Entry] = entries if entries is not None else {}
        self.changed = False

    @classmethod
    def load(cls, common_dir: str) -> TagCache:
        """The cache of the repository whose common Git directory is ``common_dir``.

        Never fails: an unreadable or invalid file gives an empty cache.
        """
        path = os.path.join(common_dir, CACHE_DIR, CACHE_FILE)
        data = cachefile.read(path)
        return cls(path, None if data is None else _decode(data))

    @classmethod
    def disabled(cls) -> TagCache:
        """A cache that starts empty and is never written."""
        return cls(None)

    def add(self, row: TagRow) -> None:
        """Remember what the object of the tag ``row`` says.

        Never call it for a tag whose object (or a tag it leads to) was missing:
        a later fetch can bring the object, so that result may change.
        """
        entry = entry_of(row)
        if entry is not None and self.entries.get(row[1]) != entry:
            self.entries[row[1]] = entry
            self.changed = True

    def save(self, live: Collection[str] | None = None) -> bool:
        """Write the cache if it changed; False if it was not written (no change, or
        the directory is read-only). With ``live`` (the object ids refs point at now),
        entries of other objects are dropped."""
        if self.path is None or not self.changed:
            return False
        entries = self.entries
        if live is not None:
            entries = {k: v for k, v in entries.items() if k in live}
        header, parts = _encode(entries)
        if not cachefile.write(self.path, header, parts):
            return False
        self.changed = False
        return True


def entry_of(row: TagRow) -> Entry | None:
    """The cache entry for what a tag's object says, or None if it is not cached
    (a time or zone out of bounds, or no tagger)."""
    _name, _oid, target, target_type, who, message, problem = row
    if target is None:
        if problem is None:
            return (LIGHTWEIGHT, _NONE, "", "", "", "", 0, 0)
        return (UNUSABLE, _NONE, "", problem, "", "", 0, 0)
    if who is None:  # not from a tag object: the parser refuses a tag without a tagger
        return None
    if abs(who.time) > _MAX_TIME or abs(who.tz_offset) > _MAX_TZ:
        return None
    return (ANNOTATED, target, target_type, message, who.name, who.email, who.time, who.tz_offset)


def entry_row(name: str, oid: ObjectId, entry: Entry) -> TagRow:
    """The tag ref ``name`` -> ``oid`` whose object the cache describes with ``entry``."""
    kind, target, target_type, message, who, email, time, tz = entry
    if kind == ANNOTATED:
        return (name, oid, target, target_type, _signature(who, email, time, tz), message, None)
    return (name, oid, None, "", None, "", message if kind == UNUSABLE else None)


def _encode(entries: dict[str, Entry]) -> tuple[bytes, list[bytes]]:
    """The header line and the payload of the cache file, a part per column."""
    # Share equal strings (commit ids, type, tagger) so marshal writes them once.
    shared: dict[str, str] = {}
    columns: list[tuple[str | int, ...]] = [tuple(entries)]
    rows = list(entries.values())
    for i, column in enumerate(zip(*rows, strict=True) if rows else [()] * (_COLUMNS - 1)):
        if i in (1, 2, 4, 5):  # target, target_type, name, email
            column = tuple([shared.setdefault(x, x) for x in column])
        columns.append(column)
    del rows, shared
    parts = []
    while columns:
        parts.append(marshal.dumps(columns.pop(0), 4))
    lengths = b",".join(b"%d" % len(part) for part in parts)
    return cachefile.header(_MAGIC, SCHEMA, lengths, parts), parts


def _decode(data: bytes) -> dict[str, Entry]:
    framed = cachefile.payload(data, _MAGIC, SCHEMA)
    if framed is None:
        return {}
    field, payload = framed
    try:
        lengths = [int(n) for n in field.split(b",")]
        if len(lengths) != _COLUMNS or min(lengths) < 0 or sum(lengths) != len(payload):
            return {}
        starts = [0, *itertools.accumulate(lengths)]
        columns = tuple(
            marshal.loads(payload[start:end]) for start, end in itertools.pairwise(starts)
        )
    except (ValueError, EOFError, TypeError, MemoryError, RecursionError):
        return {}
    if not _valid(columns):
        return {}
    keys = columns[0]
    return dict(zip(keys, zip(*columns[1:], strict=True), strict=True))


def _valid(columns: object) -> bool:
    """Whether decoded data has exactly the shape, types and ranges we write.

    Checked column by column with built-ins (no per-entry Python loop): 100,000
    entries take milliseconds.
    """
    if type(columns) is not tuple or len(columns) != _COLUMNS:
        return False
    if any(type(c) is not tuple or len(c) != len(columns[0]) for c in columns):
        return False
    keys, kinds, target, target_type, message, name, email, time, tz = columns
    if not keys:
        return True
    for column in (keys, target, target_type, message, name, email):
        try:
            text = "".join(column)  # TypeError unless every item is a str
            if not text.isascii():  # a lone surrogate (our parser makes none) cannot print
                text.encode("utf-8")
        except (TypeError, UnicodeEncodeError):
            return False
    if not set(map(type, kinds)) <= {int} or not set(kinds) <= _KINDS:
        return False
    for column, bound in ((time, _MAX_TIME), (tz, _MAX_TZ)):
        if not set(map(type, column)) <= {int} or min(column) < -bound or max(column) > bound:
            return False
    return True
