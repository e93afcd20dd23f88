"""A cache of the whole registry state, kept in ``<common Git dir>/registry/state-cache``.

Why it can never go stale: the registry a whole read builds (:mod:`git_registry.state`)
is a pure function of the tag refs (names and object ids) and of their objects, and an
object id always names the same bytes. The file is keyed by a digest of what the
listing of the refs is a function of (:meth:`Repository.tag_refs`: the bytes of
``packed-refs`` and every loose ref file's name and content, or the names and ids Git
listed), taken on every run before the file is read: a tag added, deleted, re-pointed
or packed behind our back changes the digest, and the file is then ignored and written
again. Two results are never written, because something other than the refs can
change them: an object missing from the repository (a fetch can bring it without
changing a ref), and a tag dated in the future (the clock makes it valid later).
Unlike Git's index, nothing here trusts a file's time stamps: the digest is of the
refs' contents, so no edit is too quick to be seen.

What a hit saves is building the state (100,000 events sorted and made objects): an
artifact's versions, stage holders and events are decoded from its segment only when
it is looked at (:class:`LazyArtifacts`), so ``show``'s table, which needs each
artifact's latest version and stage holders only, reads the summaries in the index
and decodes no event; ``history`` decodes the events alone.

Format (schema 1): one header line ``git-registry state-cache SCHEMA VERSION
INDEX-LENGTH CRC32`` (:mod:`git_registry.cachefile`; the CRC covers the whole
payload, checked when the file is read), then the index, a ``marshal`` value, then
one segment per artifact, each a ``marshal`` value. ``marshal``, never pickle: loading
it runs no code. A file that is missing, truncated, from another schema or package
version, of other refs, or whose CRC fails is ignored; a value of the wrong shape in a
segment (a hand-edited file with a matching CRC) makes the read fall back to building
the state (:class:`LazyArtifacts` ``rebuild``). ``git config registry.cache false``
turns it off with the tag cache; deleting the file is always safe.
"""

from __future__ import annotations

import marshal
import os
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping
from itertools import repeat
from typing import Any, BinaryIO

from git_registry import cachefile
from git_registry.gitvalues import Signature, fast_maker
from git_registry.grammar import EventKind
from git_registry.rules import Problem, Rule
from git_registry.state import (
    ArtifactInfo,
    ArtifactSummary,
    Event,
    Registry,
    StageHold,
    VersionInfo,
    history_key,
)

SCHEMA = 1
"""Bump when what an entry means, or how the state is built, changes."""

_MAGIC = b"git-registry state-cache"
_KINDS = tuple(EventKind)
_KIND_INDEX = {kind: i for i, kind in enumerate(_KINDS)}
_RULES = {rule.value: rule for rule in Rule}
_new_event = fast_maker(Event)
_new_version = fast_maker(VersionInfo)
_new_hold = fast_maker(StageHold)
_new_info = fast_maker(ArtifactInfo)
_new_signature = fast_maker(Signature)
_new_summary = fast_maker(ArtifactSummary)
_DECODE_ERRORS = (TypeError, ValueError, IndexError, KeyError, AttributeError, EOFError)


def cacheable(registry: Registry, lasting: bool) -> bool:
    """Whether ``registry`` is the same on every later run with the same refs: no row
    was a passing result (``lasting``) and no tag's time is judged against the clock."""
    return lasting and not any(p.rule is Rule.TAGGER_TIME for p in registry.problems)


# -- writing --------------------------------------------------------------------------


def save(path: str, fingerprint: bytes, registry: Registry, tags_read: int) -> bool:
    """Write the state cache for the refs whose digest is ``fingerprint``; False if it
    cannot be written (a read-only Git directory: no error, a cache only saves time)."""
    names = tuple(registry.artifacts)
    segments = [marshal.dumps(_encode_artifact(registry.artifacts[n])) for n in names]
    summaries = tuple(_summary_tuple(registry.summary(n)) for n in names)
    problems = tuple(
        (p.message, p.tag, p.artifact, None if p.rule is None else p.rule.value, p.hint)
        for p in registry.problems
    )
    index_value: Any = (
        fingerprint,
        names,
        summaries,
        tuple(len(s) for s in segments),
        tuple(zlib.crc32(s) for s in segments),
        _history_order(registry, names),
        problems,
        registry.stages,
        tuple(registry.counters.items()),
        tuple(registry.known),
        tags_read,
    )
    index = marshal.dumps(index_value)
    head = cachefile.header(_MAGIC, SCHEMA, b"%d" % len(index), [index])
    return cachefile.write(path, head, [index, *segments])


def _history_order(registry: Registry, names: tuple[str, ...]) -> tuple[bytes, bytes]:
    """Every event's place in the registry's history (as :func:`reading.events_of`
    sorts them): two columns of 32-bit numbers, the artifact's index in ``names`` and
    the event's in the artifact's events."""
    placed = [
        (e, a, i)
        for a, name in enumerate(names)
        for i, e in enumerate(registry.artifacts[name].events)
    ]
    placed.sort(key=lambda p: history_key(p[0]))
    artifacts = array("I", [p[1] for p in placed])
    positions = array("I", [p[2] for p in placed])
    return artifacts.tobytes(), positions.tobytes()


def _summary_tuple(summary: ArtifactSummary) -> tuple[object, ...]:
    return (summary.deprecated, summary.latest, tuple(summary.stages.items()))


def _encode_artifact(info: ArtifactInfo) -> Any:  # marshal's values
    events = info.events
    position = {id(e): i for i, e in enumerate(events)}
    columns = (
        tuple(e.tag for e in events),
        bytes(_KIND_INDEX[e.kind] for e in events),
        tuple(e.version for e in events),
        tuple(e.stage for e in events),
        tuple(e.counter for e in events),
        tuple(e.commit for e in events),
        tuple(e.tagger.name for e in events),
        tuple(e.tagger.email for e in events),
        tuple(e.tagger.time for e in events),
        tuple(e.tagger.tz_offset for e in events),
        tuple(e.message for e in events),
        tuple(e.oid for e in events),
    )
    versions = tuple(
        (
            v.version,
            v.commit,
            v.active,
            _position(position, v.registration),
            tuple(_position(position, e) for e in v.events),
            v.stages,
        )
        for v in info.versions
    )
    latest = -1
    for i, v in enumerate(info.versions):
        if v is info.latest:
            latest = i
    if info.latest is not None and latest < 0:
        raise ValueError("the latest version is not one of the versions")
    holds = tuple(
        (stage, tuple((h.version, _position(position, h.assignment)) for h in held))
        for stage, held in info.stages.items()
    )
    return (info.deprecated, columns, versions, latest, holds)


def _position(position: dict[int, int], event: Event) -> int:
    found = position.get(id(event))
    if found is None:
        raise ValueError(f"{event.tag} is not one of the artifact's events")
    return found


# -- reading --------------------------------------------------------------------------


def load(
    path: str, fingerprint: bytes, rebuild: Callable[[], Registry]
) -> tuple[Registry, int] | None:
    """The registry cached for the refs whose digest is ``fingerprint``, and how many
    registry tags it was built from; None if the file is missing, damaged, another
    version's or of other refs. ``rebuild`` builds the registry the slow way: used if
    a segment turns out to be damaged."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (kept open: segments are read later)
    except OSError:
        return None
    try:
        registry = _load_index(file, fingerprint, rebuild)
    except (*_DECODE_ERRORS, OSError):
        registry = None
    if registry is None:
        file.close()
    return registry


def _load_index(
    file: BinaryIO, fingerprint: bytes, rebuild: Callable[[], Registry]
) -> tuple[Registry, int] | None:
    head = file.readline(300)
    if b" " not in head:
        return None
    index_length = int(head.rsplit(b" ", 2)[1])
    data = head + file.read(index_length)
    found = cachefile.payload(data, _MAGIC, SCHEMA)
    if found is None or int(found[0]) != index_length:
        return None
    index = marshal.loads(found[1])
    key, names, summaries, lengths, crcs, order, problems, stages, counters, known, tags = index
    if key != fingerprint:
        return None
    artifacts = LazyArtifacts(file, len(data), names, summaries, lengths, crcs, order, rebuild)
    # Each value's type checked, never converted: a hand-edited file whose CRC passes
    # must fall back to building the state, not print an int as a problem (a crash).
    registry = Registry(
        artifacts,
        tuple(
            Problem(_str(m), _optional_str(t), _optional_str(a), _rule(r), _optional_str(h))
            for m, t, a, r, h in problems
        ),
        tuple(map(_str, stages)),
        {_str(k): _int(v) for k, v in counters},
        tuple(map(_str, known)),
    )
    return registry, _int(tags)


_STR = {str}
_OPTIONAL_STR = {str, type(None)}
_OPTIONAL_INT = {int, type(None)}


class LazyArtifacts(Mapping[str, ArtifactInfo]):
    """The artifacts of a cached registry: each decoded from its segment (read from
    the open file) when first looked up; summaries (:meth:`summary`), events
    (:meth:`events_of`) and the whole history in order (:meth:`history`) without
    decoding the rest."""

    def __init__(
        self,
        file: BinaryIO,
        start: int,
        names: tuple[str, ...],
        summaries: tuple[Any, ...],
        lengths: tuple[int, ...],
        crcs: tuple[int, ...],
        order: tuple[bytes, bytes],
        rebuild: Callable[[], Registry],
    ) -> None:
        if not (len(names) == len(summaries) == len(lengths) == len(crcs)):
            raise ValueError("the index's columns differ in length")
        self._file = file
        self._rebuild = rebuild
        self._rebuilt: Registry | None = None
        self._names = names
        self._order = order
        self._where: dict[str, tuple[int, int, int, Any]] = {}
        offset = start
        for name, summary, length, crc in zip(names, summaries, lengths, crcs, strict=True):
            if type(name) is not str or type(length) is not int or length < 0:
                raise TypeError("a malformed index entry")
            self._where[name] = (offset, length, crc, summary)
            offset += length
        if offset != os.fstat(file.fileno()).st_size:
            raise ValueError("the segments do not fill the file")
        self._infos: dict[str, ArtifactInfo] = {}
        self._events: dict[str, tuple[Event, ...]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __contains__(self, name: object) -> bool:
        return name in self._where

    def __getitem__(self, name: str) -> ArtifactInfo:
        info = self._infos.get(name)
        if info is None:
            if name not in self._where:
                raise KeyError(name)
            try:
                info = self._decode(name)
            except _DECODE_ERRORS:
                info = self._fallback().artifacts[name]
            self._infos[name] = info
            self._events.pop(name, None)
        return info

    def summary(self, name: str) -> ArtifactSummary:
        """The artifact's latest version and stage holders, decoding nothing else."""
        raw = self._where[name][3]
        try:
            deprecated, latest, stages = raw
            held = {str(s): tuple(str(v) for v in versions) for s, versions in stages}
            if type(deprecated) is not bool or not (latest is None or type(latest) is str):
                raise TypeError("a malformed summary")
            return _new_summary(name, deprecated, latest, held)
        except _DECODE_ERRORS:
            return self._fallback().summary(name)

    def events_of(self, name: str) -> tuple[Event, ...]:
        """The artifact's events, oldest first, without its versions and holders."""
        info = self._infos.get(name)
        if info is not None:
            return info.events
        events = self._events.get(name)
        if events is None:
            try:
                events = _events(name, self._segment(name)[1])
            except _DECODE_ERRORS:
                events = self._fallback().artifacts[name].events
            self._events[name] = events
        return events

    def history(self) -> list[Event]:
        """Every event of every artifact, in the registry's order (as
        :func:`reading.events_of` sorts them), without sorting them."""
        every = [self.events_of(name) for name in self._names]
        artifacts, positions = array("I"), array("I")
        try:
            artifacts.frombytes(self._order[0])
            positions.frombytes(self._order[1])
            found = list(map(_pick, map(every.__getitem__, artifacts), positions))
            if len(found) == sum(map(len, every)):
                return found
        except _DECODE_ERRORS:
            pass
        events = [e for events in every for e in events]  # a damaged order: sort them
        events.sort(key=history_key)
        return events

    def _fallback(self) -> Registry:
        if self._rebuilt is None:
            self._rebuilt = self._rebuild()
        return self._rebuilt

    def _segment(self, name: str) -> Any:
        offset, length, crc, _ = self._where[name]
        data = os.pread(self._file.fileno(), length, offset)
        if len(data) != length or zlib.crc32(data) != crc:
            raise ValueError("a damaged segment")
        value = marshal.loads(data)
        if type(value) is not tuple or len(value) != 5:
            raise ValueError("a segment of another shape")
        return value

    def _decode(self, name: str) -> ArtifactInfo:
        deprecated, columns, versions, latest, holds = self._segment(name)
        events = self._events.get(name)
        if events is None:
            events = _events(name, columns)
        infos = tuple(
            _new_version(
                name,
                _str(version),
                _str(commit),
                bool(active),
                events[registration],
                tuple(events[i] for i in own),
                tuple(_str(s) for s in stages),
            )
            for version, commit, active, registration, own, stages in versions
        )
        stage_holds = {
            _str(stage): tuple(_new_hold(stage, _str(version), events[i]) for version, i in held)
            for stage, held in holds
        }
        if type(latest) is not int or type(deprecated) is not bool:
            raise ValueError("a segment of another shape")
        return _new_info(
            name, deprecated, infos, infos[latest] if latest >= 0 else None, stage_holds, events
        )


def _pick(events: tuple[Event, ...], position: int) -> Event:
    return events[position]


def _str(value: object) -> Any:
    if type(value) is not str:
        raise ValueError("a value of another type")
    return value


def _optional_str(value: object) -> Any:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError("a value of another type")
    return value


def _rule(value: object) -> Rule | None:
    return None if value is None else _RULES[_str(value)]


def _events(name: str, columns: Any) -> tuple[Event, ...]:
    """An artifact's events from their columns, each column's types checked at once (a
    cache edited by hand must not crash a command)."""
    if type(columns) is not tuple or len(columns) != 12:
        raise ValueError("event columns of another shape")
    tags, kinds, versions, stages, counters, commits = columns[:6]
    who, emails, times, zones, messages, oids = columns[6:]
    count = len(tags)
    for column, types in (
        (tags, _STR),
        (versions, _OPTIONAL_STR),
        (stages, _OPTIONAL_STR),
        (counters, _OPTIONAL_INT),
        (commits, _STR),
        (who, _STR),
        (emails, _STR),
        (times, {int}),
        (zones, {int}),
        (messages, _STR),
        (oids, _STR),
    ):
        if type(column) is not tuple or len(column) != count or not set(map(type, column)) <= types:
            raise ValueError("an event column of another type")
    if type(kinds) is not bytes or len(kinds) != count or (kinds and max(kinds) >= len(_KINDS)):
        raise ValueError("event kinds of another type")
    if count and not (min(times) >= 0 and max(times) < 2**34):
        raise ValueError("a tagger time out of range")
    if count and not (min(zones) >= -_MAX_ZONE and max(zones) <= _MAX_ZONE):
        raise ValueError("a tagger zone out of range")
    taggers = map(_new_signature, who, emails, times, zones)
    return tuple(
        map(
            _new_event,
            tags,
            map(_KINDS.__getitem__, kinds),
            repeat(name, count),
            versions,
            stages,
            counters,
            commits,
            taggers,
            messages,
            oids,
        )
    )


_MAX_ZONE = 24 * 60 - 1
