"""A cache of parsed files, kept in ``<common Git dir>/registry/parse-cache``, and of
what commits hold at the paths read (:meth:`Repository._lookup
<git_registry.repo.Repository>`: a commit id names one tree for ever).

What :mod:`git_registry.catalog` parses from a committed ``artifacts.yaml`` or policy
file depends only on the blob's bytes, its path (``a/b/artifacts.yaml`` declares
``a/b:NAME``) and the parser: the caller puts all three (and the policy's types)
in the key, so an entry never goes stale; a blob id always names the same bytes.
A warm read then neither imports nor runs the YAML parser (10-14 ms at start-up).
What a file's paths say about its commit (``virtual: false`` paths that do not
exist) is never cached: the caller checks it afresh.

Values are plain data (tuples, lists, dicts, strings, numbers, booleans, None) that
the caller converts to and from its own types, checking every field on the way
back (:mod:`git_registry.parsedform`): a file edited by hand cannot crash a
command. Each value is kept ``marshal``-ed (never pickle: loading it runs no
code) and loaded only when asked for.

Format: one header line ``git-registry parse-cache SCHEMA VERSION LENGTH CRC32``,
then one ``marshal``-ed dict, key -> marshal-ed value, oldest first. A file that
is missing, truncated, from another schema or package version, or fails its CRC
or its shape check is ignored (and replaced at the next write). It holds at most
:data:`MAX_ENTRIES` entries and :data:`MAX_SIZE` bytes of values: the entries
this run did not use go first. It is written whole, atomically
(:func:`git_registry.fsio.write_atomic`), only when an entry was added, never
when the Git directory is read-only (the write fails quietly) nor in a server
hook's quarantine. ``git config registry.cache false`` turns it off with the tag
cache; deleting the file is always safe.
"""

from __future__ import annotations

import marshal
import os

from git_registry import cachefile

SCHEMA = 1
"""Bump when the file's layout changes (what a value means is the caller's key)."""

CACHE_DIR = "registry"
CACHE_FILE = "parse-cache"
MAX_ENTRIES = 1000
MAX_SIZE = 8 << 20
_MAGIC = b"git-registry parse-cache"


class ParseCache:
    """The parsed files of one repository, loaded once per process."""

    def __init__(self, path: str | None, entries: dict[str, bytes] | None = None) -> None:
        self.path = path
        """Where the cache lives, or None for a disabled cache (never written)."""
        self._entries: dict[str, bytes] = entries if entries is not None else {}
        self._used: set[str] = set()
        self._added = False

    @classmethod
    def load(cls, common_dir: str) -> ParseCache:
        """The cache of the repository whose common Git directory is ``common_dir``.

        Never fails: an unreadable or invalid file gives an empty cache.
        """
        path = os.path.join(common_dir, CACHE_DIR, CACHE_FILE)
        data = cachefile.read(path)
        return cls(path, None if data is None else _decode(data))

    @classmethod
    def disabled(cls) -> ParseCache:
        """A cache that starts empty, keeps nothing and is never written."""
        return cls(None)

    def get(self, key: str) -> object:
        """The value stored under ``key`` (unchecked: check it before use), or None."""
        raw = self._entries.get(key)
        if raw is None:
            return None
        try:
            value = marshal.loads(raw)
        except (ValueError, EOFError, TypeError, MemoryError, RecursionError):
            return None
        self._used.add(key)
        return value

    def put(self, key: str, value: object) -> None:
        """Store ``value`` (plain data: what :mod:`marshal` writes) under ``key``."""
        if self.path is None:
            return
        try:
            raw = marshal.dumps(value, 4)  # type: ignore[arg-type]  # marshal checks it
        except ValueError:  # not plain data: not cached
            return
        if self._entries.get(key) != raw:
            self._entries.pop(key, None)  # the newest last
            self._entries[key] = raw
            self._used.add(key)
            self._added = True

    def save(self) -> bool:
        """Write the cache if an entry was added; False if it was not written (nothing
        new, or the directory cannot be written)."""
        if self.path is None or not self._added:
            return False
        # Oldest first: the entries this run did not use, then those it used.
        entries = {k: v for k, v in self._entries.items() if k not in self._used}
        entries.update((k, v) for k, v in self._entries.items() if k in self._used)
        size = sum(map(len, entries.values()))
        for key in list(entries):
            if len(entries) <= MAX_ENTRIES and size <= MAX_SIZE:
                break
            size -= len(entries.pop(key))
        payload = marshal.dumps(entries, 4)
        header = cachefile.header(_MAGIC, SCHEMA, b"%d" % len(payload), [payload])
        if not cachefile.write(self.path, header, [payload]):
            return False
        self._added = False
        return True


def _decode(data: bytes) -> dict[str, bytes]:
    framed = cachefile.payload(data, _MAGIC, SCHEMA)
    if framed is None:
        return {}
    length, payload = framed
    try:
        if int(length) != len(payload):
            return {}
        entries = marshal.loads(payload)
    except (ValueError, EOFError, TypeError, MemoryError, RecursionError):
        return {}
    if type(entries) is not dict:
        return {}
    if not set(map(type, entries)) <= {str} or not set(map(type, entries.values())) <= {bytes}:
        return {}
    return entries
