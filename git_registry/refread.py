"""Tag refs read from Git's ref files, as Git's files backend reads them
(refs/files-backend.c, refs/packed-backend.c): every ref under ``refs/tags/``, or only
those whose names start with given prefixes (one artifact's tags).

Part of the Git layer (:mod:`git_registry.repo` is its only caller). Rules followed:

- a loose ref overrides a packed one; a loose file whose content is not an object id
  (followed by nothing or white space) is a broken ref, which hides the packed one
  too; ``NAME.lock`` files are Git's locks, not refs;
- of two ``packed-refs`` lines for one name, the first wins; ``#`` and ``^`` (peeled)
  lines are not refs;
- a symbolic ref to another tag (``git symbolic-ref``) has that tag's object id (as
  ``git push --tags`` sends it); one to anything else, or to a symbolic ref, has none.

A prefix is found as Git finds one: where the ``packed-refs`` header says ``sorted``,
by a binary search (a prefix of 100,000 packed tags costs a few lookups), otherwise by
a scan of the whole file; the loose refs of a prefix are the matching entries of its
folder (``refs/tags/`` itself for a name without ``/``).
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterable

from git_registry.gitvalues import ObjectId

TAG_PREFIX = "refs/tags/"
_TAG_PREFIX_BYTES = TAG_PREFIX.encode()
# A loose ref file's content as Git accepts it: an object id, then nothing or white space.
_LOOSE_REF_RE = re.compile(rb"([0-9a-fA-F]{64}|[0-9a-fA-F]{40})(?:\s|$)")
# A packed-refs line "<oid> refs/tags/<name>" (not a "# comment" or "^peeled" line),
# found after its "\n": a pattern starting with a literal is searched for fast.
_PACKED_TAG_RE = re.compile(r"\n([^#^ \n][^ \n]*|) refs/tags/([^\n]*)")
_HEADER = b"# pack-refs with:"
Packed = bytes | mmap.mmap
"""The bytes of ``packed-refs``, read or mapped."""

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs every command 3 ms of start-up
    from typing import Protocol

    class Digest(Protocol):
        """What :func:`all_tags` needs of a ``hashlib`` hash."""

        def update(self, data: bytes, /) -> None: ...


# os.open/os.read: half the time of open() per file with 100,000 loose refs.
_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _read_loose(path: str) -> bytes | None:
    """The first bytes of a loose ref file; None if there is none (or it is a folder)."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return None
    try:
        return os.read(fd, 300)
    except OSError:  # a folder (EISDIR), or unreadable
        return None
    finally:
        os.close(fd)


def _packed_bytes(common_dir: str) -> bytes:
    try:
        with open(os.path.join(common_dir, "packed-refs"), "rb") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return b""


def _packed_map(common_dir: str) -> Packed:
    """``packed-refs`` mapped, not read (a few pages of 100,000 lines are looked at)."""
    try:
        with open(os.path.join(common_dir, "packed-refs"), "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return b""
    except (OSError, ValueError):  # a file system that cannot map it
        return _packed_bytes(common_dir)


def all_tags(common_dir: str, digest: Digest | None = None) -> dict[str, ObjectId]:
    """Every ref under ``refs/tags/``: tag name -> object id.

    ``digest``: a hash (``hashlib``) to update with what the listing is a function
    of, the bytes of ``packed-refs`` and every loose ref file's name and content
    (sorted by name), so that two listings with equal digests are equal.
    """
    packed = _packed_bytes(common_dir)
    text = _decode(packed)
    # One regular expression over the whole file, not a Python loop per line;
    # reversed: of two lines for one name, Git uses the first.
    found = _PACKED_TAG_RE.findall("\n" + text)
    refs: dict[str, ObjectId] = {name: oid for oid, name in reversed(found)}
    symbolic: dict[str, str] = {}
    loose: list[tuple[str, bytes | None]] = []
    root = os.path.join(common_dir, "refs", "tags")
    prefix_len = len(root) + 1
    for dirpath, _dirs, files in os.walk(root):
        folder = dirpath + os.sep
        prefix = folder[prefix_len:].replace(os.sep, "/")
        for filename in files:
            if not filename.endswith(".lock"):
                content = _read_loose(folder + filename)
                _add_loose(refs, symbolic, prefix + filename, content)
                if digest is not None:
                    loose.append((prefix + filename, content))
    for name, target in symbolic.items():
        if target.startswith(TAG_PREFIX) and target[len(TAG_PREFIX) :] in refs:
            refs[name] = refs[target[len(TAG_PREFIX) :]]
    if digest is not None:
        digest.update(b"%d\n" % len(packed))
        digest.update(packed)
        for name, content in sorted(loose):
            encoded = name.encode("utf-8", "surrogateescape")
            body = b"-" if content is None else content
            digest.update(b"%d %d\n" % (len(encoded), len(body)))
            digest.update(encoded)
            digest.update(body)
    return refs


def _add_loose(
    refs: dict[str, ObjectId], symbolic: dict[str, str], name: str, content: bytes | None
) -> None:
    """Put the loose ref ``name`` (its file's first bytes) over the packed value."""
    if content is None:
        return  # gone meanwhile, or unreadable: as if there were no file
    loose = _LOOSE_REF_RE.match(content)
    if loose is not None:
        refs[name] = ObjectId(loose[1].decode("ascii").lower())
    elif content.startswith(b"ref:"):
        symbolic[name] = content[4:].strip().decode("utf-8", "replace")
        refs.pop(name, None)
    else:
        refs.pop(name, None)  # broken: Git ignores it, packed value included


def prefixed_tags(common_dir: str, prefixes: Iterable[str]) -> dict[str, ObjectId]:
    """The refs under ``refs/tags/`` whose tag names start with one of ``prefixes``
    (each non-empty): tag name -> object id, as :func:`all_tags` has them."""
    wanted = sorted({p for p in prefixes if p})
    if not wanted:
        return {}
    packed = _packed_map(common_dir)
    refs: dict[str, ObjectId] = {}
    for prefix in wanted:
        refs.update(_packed_prefix(packed, prefix))
    symbolic: dict[str, str] = {}
    by_folder: dict[str, list[str]] = {}
    for prefix in wanted:
        folder, _, start = prefix.rpartition("/")
        if not folder or _inside(folder):  # never a folder outside refs/tags/
            by_folder.setdefault(folder, []).append(start)
    for folder, starts in by_folder.items():
        base = os.path.join(common_dir, "refs", "tags", folder)
        lead = folder + "/" if folder else ""
        # One pass over the folder (refs/tags/ may hold 100,000 loose refs).
        for entry in _list(base, tuple(starts)):
            if _is_ref_file_name(entry):
                path = os.path.join(base, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    _walk_into(refs, symbolic, path, lead + entry + "/")
                else:
                    _add_loose(refs, symbolic, lead + entry, _read_loose(path))
    for name, target in symbolic.items():
        if target.startswith(TAG_PREFIX):
            oid = one_tag(common_dir, target[len(TAG_PREFIX) :], packed)
            if oid is not None:
                refs[name] = oid
    return refs


def _inside(name: str) -> bool:
    """Whether the ref path ``name`` stays inside ``refs/tags/``: no empty, ``.`` or
    ``..`` part (Git refuses a ref name with a part starting with ``.`` anyway)."""
    return all(part and not part.startswith(".") for part in name.split("/")) and (
        "\0" not in name and (os.sep == "/" or os.sep not in name)
    )


def _is_ref_file_name(entry: str) -> bool:
    return not entry.endswith(".lock")


def _list(folder: str, starts: tuple[str, ...]) -> list[str]:
    """The names in ``folder`` that start with one of ``starts``."""
    try:
        return [name for name in os.listdir(folder) if name.startswith(starts)]
    except OSError:  # no such folder, or a file
        return []


def _walk_into(refs: dict[str, ObjectId], symbolic: dict[str, str], root: str, lead: str) -> None:
    """The loose refs in the folder ``root`` (whose refs' names start with ``lead``)."""
    prefix_len = len(root) + 1
    for dirpath, _dirs, files in os.walk(root):
        folder = dirpath + os.sep
        inner = lead + folder[prefix_len:].replace(os.sep, "/")
        for filename in files:
            if _is_ref_file_name(filename):
                _add_loose(refs, symbolic, inner + filename, _read_loose(folder + filename))


def one_tag(common_dir: str, name: str, packed: Packed | None = None) -> ObjectId | None:
    """The object id of the (not symbolic) tag ref ``name``, or None if there is none:
    its loose file, else its ``packed-refs`` line (``packed``: the file's bytes, if read
    already)."""
    if not name.endswith(".lock") and _inside(name):
        path = os.path.join(common_dir, "refs", "tags", *name.split("/"))
        if os.path.isfile(path):
            content = _read_loose(path)
            if content is not None:
                loose = _LOOSE_REF_RE.match(content)
                return ObjectId(loose[1].decode("ascii").lower()) if loose else None
    if packed is None:
        packed = _packed_map(common_dir)
    return _packed_prefix(packed, name, exact=True).get(name)


def packed_tag(common_dir: str, name: str) -> ObjectId | None:
    """The object id ``packed-refs`` gives the tag ``name`` (loose refs aside)."""
    return _packed_prefix(_packed_map(common_dir), name, exact=True).get(name)


def _packed_prefix(packed: Packed, prefix: str, *, exact: bool = False) -> dict[str, ObjectId]:
    """The tags in ``packed`` (the bytes of ``packed-refs``) whose names start with
    ``prefix`` (with ``exact``: are ``prefix``)."""
    if not packed:
        return {}
    key = _TAG_PREFIX_BYTES + prefix.encode("utf-8", "surrogateescape")
    start, is_sorted = _records_start(packed)
    if not is_sorted:
        # Git reads an unsorted file whole (and sorts it): scan it.
        escaped = re.escape(_decode(key[len(_TAG_PREFIX_BYTES) :]))
        tail = "" if exact else "[^\n]*"
        pattern = re.compile(rf"\n([^#^ \n][^ \n]*|) refs/tags/({escaped}{tail})(?=\n|$)")
        found = pattern.findall("\n" + _decode(packed[:]))
        return {name: ObjectId(oid) for oid, name in reversed(found)}
    found_refs: dict[str, ObjectId] = {}
    pos = _lower_bound(packed, start, len(packed), key)
    end = len(packed)
    while pos < end:
        eol = packed.find(b"\n", pos)
        if eol < 0:
            eol = end
        if packed[pos : pos + 1] not in (b"^", b"#"):
            space = packed.find(b" ", pos, eol)
            refname = packed[space + 1 : eol] if space >= 0 else b""
            if not refname.startswith(key) or (exact and refname != key):
                break
            name = _decode(refname[len(_TAG_PREFIX_BYTES) :])
            if name not in found_refs:  # the first line for a name wins
                found_refs[name] = ObjectId(_decode(packed[pos:space]))
        pos = eol + 1
    return found_refs


def _records_start(packed: Packed) -> tuple[int, bool]:
    """Where the ref lines of ``packed-refs`` start, and whether its header says
    ``sorted`` (Git binary-searches only then)."""
    if packed[: len(_HEADER)] != _HEADER:
        return 0, False
    eol = packed.find(b"\n")
    if eol < 0:
        return len(packed), True
    traits = packed[len(_HEADER) : eol].split()
    return eol + 1, b"sorted" in traits


def _lower_bound(data: Packed, lo: int, hi: int, key: bytes) -> int:
    """The start of the first ref line in ``data[lo:hi]`` whose refname is not below
    ``key`` (bytes compared as Git compares refnames), ``hi`` if there is none.

    ``lo`` and ``hi`` are the starts of ref lines (or the end); a ``^`` line belongs
    to the ref line before it.
    """
    while lo < hi:
        mid = (lo + hi) // 2
        nl = data.rfind(b"\n", lo, mid)
        line = lo if nl < 0 else nl + 1
        while line > lo and data[line : line + 1] == b"^":
            nl = data.rfind(b"\n", lo, line - 1)
            line = lo if nl < 0 else nl + 1
        eol = data.find(b"\n", line)
        if eol < 0:
            eol = len(data)
        space = data.find(b" ", line, eol)
        refname = data[space + 1 : eol] if space >= 0 else b""
        if refname < key:
            lo = eol + 1
            while lo < hi and data[lo : lo + 1] == b"^":
                nl = data.find(b"\n", lo)
                lo = hi if nl < 0 else min(nl + 1, hi)
        else:
            hi = line
    return min(lo, hi)
