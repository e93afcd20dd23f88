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

Format (schema 4): one segment per artifact, so that a command about one artifact
reads that artifact's entries only, not 100,000 of them. A tag's segment is named by
its name up to its first ``@`` or ``#`` (``churn@v1.0.0`` and ``churn#prod#3``:
``churn``; a name with neither: the segment ``""``); an object two tags of different
artifacts point at is in both segments. The file: one header line ``git-registry
tag-cache SCHEMA VERSION INDEX-LENGTH INDEX-CRC32``, then the index, a ``marshal``
value ``(names, offsets, lengths, crc32s)`` (four equal-length tuples: where each
segment is after the index, and its CRC), then the segments. A segment is one
``marshal`` value: nine equal-length tuples, one per column, object ids then the
:data:`Entry` fields (one value per column: smaller and faster to load than a tuple
per entry). ``marshal``, never pickle: loading it runs no code. A file that is
missing, truncated, from another schema or package version, or whose index fails its
CRC or checks is ignored and rebuilt; a segment that fails its CRC or the checks
below is ignored (its tags are read again). Entries are checked for type and range
before use, so even a hand-edited cache cannot crash a command; it could make a
tag read differently, as editing ``.git`` itself could (the Git directory is
trusted, like its hooks and config). ``git config registry.cache false`` turns the
cache off; deleting the file is always safe.
"""

from __future__ import annotations

import marshal
import os
import zlib
from collections.abc import Callable, Collection, Iterable

from git_registry import __version__, cachefile
from git_registry.gitvalues import ObjectId, Signature, TagRow, fast_maker

SCHEMA = 4
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
_INDEX_FIELDS = 4
_NONE = ObjectId("")
_signature = fast_maker(Signature)


def segment_of(name: str) -> str:
    """The segment of the tag ``name``: its name up to its first ``@`` or ``#``."""
    return name.partition("@")[0].partition("#")[0] if "@" in name or "#" in name else ""


class TagCache:
    """The parsed tag objects of one repository, read segment by segment as needed.

    :meth:`entries_of` gives the entries of some segments (object id -> :data:`Entry`)
    to read in hot loops; :meth:`add` adds to them.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        """Where the cache lives, or None for a disabled cache (never written)."""
        self._index: dict[str, tuple[int, int, int]] | None = None
        self._base = 0  # where the segments start in the file
        # A segment's values are entries, or (added by this run, in the segments of
        # _changed) the rows themselves, made entries when written: a first run adds
        # 100,000 rows it keeps anyway, and need not hold a second tuple for each.
        self._segments: dict[str, dict[str, Entry | TagRow]] = {}
        self._changed: set[str] = set()

    @classmethod
    def load(cls, common_dir: str) -> TagCache:
        """The cache of the repository whose common Git directory is ``common_dir``
        (read lazily: its index on first use, each segment when asked for).

        Never fails: an unreadable or invalid file gives an empty cache.
        """
        return cls(os.path.join(common_dir, CACHE_DIR, CACHE_FILE))

    @classmethod
    def disabled(cls) -> TagCache:
        """A cache that starts empty and is never written."""
        return cls(None)

    @property
    def changed(self) -> bool:
        """Whether entries were added since the cache was loaded or saved."""
        return bool(self._changed)

    @property
    def entries(self) -> dict[str, Entry]:
        """Every entry of every segment (object id -> entry)."""
        return self.entries_of(None)

    def entries_of(self, segments: Iterable[str] | None) -> dict[str, Entry]:
        """The entries of the tags whose segments (:func:`segment_of`) are ``segments``
        (None: all), object id -> entry: a new dict, which :meth:`add` does not change."""
        index = self._read_index()
        names = list(index) if segments is None else list(dict.fromkeys(segments))
        read = self._read_segments([n for n in names if n not in self._segments and n in index])
        if segments is not None:  # kept for add(); a whole read is not (memory)
            self._segments.update(read)  # type: ignore[arg-type]
        found: dict[str, Entry] = {}
        for name in names:
            segment = self._segments.get(name) or read.get(name)
            if segment:
                found.update(_entries(segment) if name in self._changed else segment)  # type: ignore[arg-type]
        del read
        if segments is None:  # added, in segments the file does not have
            for name, segment in self._segments.items():
                if name not in index:
                    found.update(_entries(segment))
        return found

    def add(self, row: TagRow) -> None:
        """Remember what the object of the tag ``row`` says.

        Never call it for a tag whose object (or a tag it leads to) was missing:
        a later fetch can bring the object, so that result may change.
        """
        entry = entry_of(row)
        if entry is None:
            return
        name = segment_of(row[0])
        segment = self._segment(name)
        known = segment.get(row[1])
        if known is None or _entry(known) != entry:
            segment[row[1]] = row
            self._changed.add(name)

    def save(
        self,
        live: Collection[str] | Callable[[], Collection[str]] | None = None,
        scope: Collection[str] | None = None,
        segments: Collection[str] | Callable[[], Collection[str]] | None = None,
    ) -> bool:
        """Write the cache if it changed; False if it was not written (no change, or
        the directory is read-only).

        Args:
            live: the object ids the tags of the segments ``scope`` point at now:
                their entries for other objects are dropped (or a function giving
                them, called only if the file has entries to drop).
            scope: the segments whose every tag ``live`` covers; None: every segment.
            segments: with ``scope`` None, the segments some tag is in now: the
                others are dropped (None: none is).
        """
        if self.path is None or not self._changed:
            return False
        old = cachefile.read(self.path)
        on_disk = _index_of(old) if old is not None else None
        if on_disk is None or not on_disk[0]:
            live = None  # a new file: everything in it was read now, for live tags
        elif callable(live):
            live = live()
        if callable(segments):
            segments = segments() if live is not None else None
        # name -> (bytes, CRC): a copied segment keeps the CRC it had, so that one
        # damaged on disk stays detectable.
        parts: dict[str, tuple[bytes, int]] = {}

        def pruned(name: str) -> bool:
            return live is not None and (scope is None or name in scope)

        if old is not None and on_disk is not None:
            # Segments we did not change are copied as the file has them now (another
            # writer's included), unless pruned below.
            index, base = on_disk
            for name, (offset, length, crc) in index.items():
                if name in self._changed or (pruned(name) and name in self._segments):
                    continue
                if live is not None and scope is None and name not in (segments or ()):
                    continue  # no tag is in it any more
                parts[name] = (old[base + offset : base + offset + length], crc)
        for name, segment in self._segments.items():
            if pruned(name):
                assert live is not None and not callable(live)
                kept = {k: v for k, v in segment.items() if k in live}
                unchanged = len(kept) == len(segment) and name not in self._changed
                if unchanged and old is not None and on_disk is not None and name in on_disk[0]:
                    offset, length, crc = on_disk[0][name]
                    parts[name] = (old[on_disk[1] + offset : on_disk[1] + offset + length], crc)
                    continue
                segment = kept
            elif name not in self._changed:
                continue
            if segment:
                raw = _encode_segment(segment)
                parts[name] = (raw, zlib.crc32(raw))
        names = tuple(sorted(parts))
        offsets, lengths, crcs = [], [], []
        at = 0
        for name in names:
            raw, crc = parts[name]
            offsets.append(at)
            lengths.append(len(raw))
            crcs.append(crc)
            at += len(raw)
        index_bytes = marshal.dumps((names, tuple(offsets), tuple(lengths), tuple(crcs)), 4)
        header = b"%s %d %s %d %08x\n" % (
            _MAGIC,
            SCHEMA,
            __version__.encode("ascii"),
            len(index_bytes),
            zlib.crc32(index_bytes),
        )
        if not cachefile.write(self.path, header, [index_bytes, *(parts[n][0] for n in names)]):
            return False
        self._changed.clear()
        self._index = None  # read again from the new file
        self._segments = {}
        return True

    def _segment(self, name: str) -> dict[str, Entry | TagRow]:
        segment = self._segments.get(name)
        if segment is None:
            if name in self._read_index():
                self._segments.update(self._read_segments([name]))  # type: ignore[arg-type]
            segment = self._segments.setdefault(name, {})
        return segment

    def _read_index(self) -> dict[str, tuple[int, int, int]]:
        if self._index is None:
            self._index = {}
            if self.path is not None:
                found = _read_head(self.path)
                if found is not None:
                    self._index, self._base = found
        return self._index

    def _read_segments(self, names: list[str]) -> dict[str, dict[str, Entry]]:
        """The segments ``names`` (in the index), read and checked; one that cannot be
        read or fails its checks is empty."""
        found: dict[str, dict[str, Entry]] = {}
        if not names or self.path is None:
            return found
        assert self._index is not None
        data: bytes | None = None
        try:
            with open(self.path, "rb") as f:
                if len(names) > 32:  # read the file whole: fewer calls
                    data = f.read()
                for name in names:
                    offset, length, crc = self._index[name]
                    if data is not None:
                        raw = data[self._base + offset : self._base + offset + length]
                    else:
                        f.seek(self._base + offset)
                        raw = f.read(length)
                    found[name] = _decode_segment(raw, length, crc)
        except OSError:
            pass
        for name in names:
            found.setdefault(name, {})
        return found


def _read_head(path: str) -> tuple[dict[str, tuple[int, int, int]], int] | None:
    """The index of the cache file ``path`` and where its segments start, or None."""
    try:
        with open(path, "rb") as f:
            line = f.readline(200)
            fields = _header_fields(line)
            if fields is None:
                return None
            length, crc = fields
            raw = f.read(length)
    except OSError:
        return None
    index = _check_index(raw, length, crc)
    return None if index is None else (index, len(line) + length)


def _index_of(data: bytes) -> tuple[dict[str, tuple[int, int, int]], int] | None:
    """:func:`_read_head` of a file's bytes."""
    eol = data.find(b"\n", 0, 200)
    fields = _header_fields(data[: eol + 1]) if eol > 0 else None
    if fields is None:
        return None
    length, crc = fields
    index = _check_index(data[eol + 1 : eol + 1 + length], length, crc)
    if index is None:
        return None
    base = eol + 1 + length
    if any(base + offset + size > len(data) for offset, size, _crc in index.values()):
        return None
    return index, base


def _header_fields(line: bytes) -> tuple[int, int] | None:
    """The index's length and CRC from the header line, if it is this version's."""
    fields = line.rstrip(b"\n").split(b" ")
    expected = [*_MAGIC.split(b" "), b"%d" % SCHEMA, __version__.encode("ascii")]
    if not line.endswith(b"\n") or len(fields) != len(expected) + 2:
        return None
    if fields[: len(expected)] != expected:
        return None
    try:
        length, crc = int(fields[-2]), int(fields[-1], 16)
    except ValueError:
        return None
    return (length, crc) if length >= 0 else None


def _check_index(raw: bytes, length: int, crc: int) -> dict[str, tuple[int, int, int]] | None:
    if len(raw) != length or zlib.crc32(raw) != crc:
        return None
    try:
        value = marshal.loads(raw)
    except (ValueError, EOFError, TypeError, MemoryError, RecursionError):
        return None
    if type(value) is not tuple or len(value) != _INDEX_FIELDS:
        return None
    if any(type(c) is not tuple or len(c) != len(value[0]) for c in value):
        return None
    names, offsets, lengths, crcs = value
    if not all(type(n) is str for n in names):
        return None
    for column in (offsets, lengths, crcs):
        if not all(type(x) is int and x >= 0 for x in column):
            return None
    return dict(zip(names, zip(offsets, lengths, crcs, strict=True), strict=True))


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


def _entry(value: Entry | TagRow) -> Entry | None:
    """An entry, or the entry of a row added this run."""
    return value if len(value) == 8 else entry_of(value)


def _entries(segment: dict[str, Entry | TagRow]) -> dict[str, Entry]:
    found = {}
    for oid, value in segment.items():
        entry = _entry(value)
        if entry is not None:
            found[oid] = entry
    return found


def _encode_segment(segment: dict[str, Entry | TagRow]) -> bytes:
    """A segment's bytes: its columns as one marshal value."""
    entries = _entries(segment)
    rows = list(entries.values())
    # Equal strings (commit ids, type, tagger) made one object, so marshal writes each
    # once and a read makes one object of it, not one per entry.
    shared: dict[str, str] = {}
    columns: list[tuple[str | int, ...]] = [tuple(entries)]
    for i, column in enumerate(zip(*rows, strict=True) if rows else [()] * (_COLUMNS - 1)):
        if i in (1, 2, 4, 5):  # target, target_type, name, email
            column = tuple([shared.setdefault(x, x) for x in column])
        columns.append(tuple(column))
    return marshal.dumps(tuple(columns), 4)


def _decode_segment(raw: bytes, length: int, crc: int) -> dict[str, Entry]:
    """The entries of a segment's bytes; empty if they fail their CRC or checks."""
    if len(raw) != length or zlib.crc32(raw) != crc:
        return {}
    try:
        columns = marshal.loads(raw)
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
