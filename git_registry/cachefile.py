"""The file format the caches in ``.git/registry`` share (the tag cache, the parse
cache): one header line ``MAGIC SCHEMA VERSION LENGTHS CRC32``, then the payload.

A file is read whole and trusted only when its header is exactly the one this
version of git-registry writes and the payload's CRC matches; it is replaced whole
(:func:`git_registry.fsio.write_atomic`), and a Git directory that cannot be written
is no error: a cache only saves time.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence

from git_registry import __version__
from git_registry.fsio import write_atomic


def read(path: str) -> bytes | None:
    """The file's bytes, or None if it cannot be read (missing, a folder, unreadable)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def header(magic: bytes, schema: int, lengths: bytes, parts: Sequence[bytes]) -> bytes:
    """The header line for a payload written as ``parts``; ``lengths`` is the caller's
    own record of their sizes (one number, or several separated by commas)."""
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return b"%s %d %s %s %08x\n" % (magic, schema, __version__.encode("ascii"), lengths, crc)


def payload(data: bytes, magic: bytes, schema: int) -> tuple[bytes, memoryview] | None:
    """``(LENGTHS, payload)`` of a file :func:`header` started, or None if the header is
    another's (magic, schema or version) or the payload does not match its CRC."""
    eol = data.find(b"\n", 0, 200)
    fields = data[:eol].split(b" ") if eol > 0 else []
    expected = [*magic.split(b" "), b"%d" % schema, __version__.encode("ascii")]
    if len(fields) != len(expected) + 2 or fields[: len(expected)] != expected:
        return None
    body = memoryview(data)[eol + 1 :]
    try:
        if int(fields[-1], 16) != zlib.crc32(body):
            return None
    except ValueError:
        return None
    return fields[-2], body


def write(path: str, head: bytes, parts: Sequence[bytes]) -> bool:
    """Replace the file by ``head`` and ``parts``; False if it cannot be written."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, [head, *parts], mode=0o644)
    except OSError:
        return False
    return True
