"""Putting what a commit holds at a path on disk: a file or a folder, written with the
bytes and modes Git recorded, never from the work tree (``git registry get``).

Written as ``git checkout`` writes them: a regular file with mode 644 or 755 (less the
umask), a symbolic link as a link (its target as committed, never followed), a
submodule as an empty folder (its commit is another repository's: not here). Every
name of a tree is checked before anything is created from it, as Git's
``verify_path`` does: a crafted tree (``git mktree`` takes any name) holding ``..``,
``.git``, a ``/`` or a NUL is refused, and so is a link that leaves the folder being
written. Files are created relative to a folder opened without following links
(``O_NOFOLLOW``, ``dir_fd``), so no link, committed or planted meanwhile, is written
through.

Everything is written into a fresh temporary name beside the destination and renamed
into place at the end (:mod:`git_registry.outputs`): a failure leaves nothing there.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass

from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId, short
from git_registry.repo import Repository
from git_registry.sources import unsafe_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

FILE, EXECUTABLE, LINK, TREE, SUBMODULE = 0o100644, 0o100755, 0o120000, 0o040000, 0o160000
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class Exported:
    """What was written: a ``file`` or a ``folder``, its file count and byte count."""

    kind: str
    files: int
    size: int


def link_escapes(folder: str, target: bytes) -> bool:
    """Whether a link in ``folder`` (a path inside the written folder, '' at its top)
    pointing at ``target`` leads outside the written folder (or is absolute)."""
    if target.startswith(b"/") or not target:
        return True
    joined = posixpath.normpath(posixpath.join(folder, os.fsdecode(target)))
    return joined == ".." or joined.startswith("../")


def export_path(
    repo: Repository,
    commit: ObjectId,
    path: str,
    dest: str,
    *,
    warn: Callable[[str], None],
) -> Exported | None:
    """Write what ``commit`` holds at ``path`` to ``dest`` (which must not exist): a
    file, or a folder and everything in it. None if there is nothing at ``path``.

    ``dest`` is written in place: the caller gives a fresh temporary name and renames
    it when this returns (and removes it when this raises).

    Raises:
        RegistryError: a name or link of the tree would be written outside ``dest``,
            ``path`` is a symbolic link or a submodule, or an object is missing.
        OSError: writing failed.
    """
    for part in path.split("/"):
        why = unsafe_name(part.encode("utf-8", "surrogateescape"))
        if why is not None:
            raise RegistryError(f"refusing to write '{path}': '{part}' {why}")
    entry = repo.entry_at(commit, path)
    if entry is None:
        return None
    mode, oid = entry
    where = f"{short(commit)}:{path}"
    if mode == LINK:
        raise RegistryError(
            f"'{path}' is a symbolic link in commit {short(commit)}: get writes files, "
            "not links to other paths of the repository",
            hint="point the artifact's path at the file or folder the link names",
        )
    if mode == SUBMODULE:
        raise RegistryError(
            f"'{path}' is a submodule in commit {short(commit)}: its files are another "
            "repository's",
            hint="get them from that repository",
        )
    if mode == TREE:
        os.mkdir(dest, 0o777)
        fd = os.open(dest, _DIR_FLAGS)
        links: list[str] = []
        try:
            files, size = _write_tree(repo, oid, fd, where, warn, links)
        finally:
            os.close(fd)
        _check_links(dest, links, where)
        return Exported("folder", files, size)
    size = _write_blob(repo, oid, None, dest, mode, where)
    return Exported("file", 1, size)


class _Open:
    """An open folder whose subfolders are still to be written (``pending`` of them):
    closed when the last one is opened, so a folder of 10,000 subfolders holds one
    descriptor, not 10,000 (the limit is often 1,024, or 256)."""

    __slots__ = ("fd", "pending")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = 0


def _check_links(dest: str, links: list[str], where: str) -> None:
    """Each link of the folder written at ``dest``, resolved as the system resolves it
    (through the other links), leads inside it: ``s -> .`` and ``e -> s/..`` each pass
    the check of its own target, and together lead out (``e`` is ``dest/..``).

    Raises:
        RegistryError: one leads out (the caller removes ``dest``).
    """
    root = os.path.realpath(dest)
    for shown in links:
        real = os.path.realpath(os.path.join(dest, *shown.split("/")))
        if real != root and not real.startswith(root + os.sep):
            raise RegistryError(
                f"refusing to write {where}: the link '{shown}' leads outside the folder "
                "through other links",
                hint="nothing was written",
            )


def _write_tree(
    repo: Repository,
    tree: ObjectId,
    top: int,
    where: str,
    warn: Callable[[str], None],
    links: list[str],
) -> tuple[int, int]:
    """Write tree ``tree`` into the open folder ``top``; (files, bytes) written. A
    stack, not recursion: a crafted tree may be nested thousands deep. A subfolder is
    made when its parent is written and opened (``O_NOFOLLOW``, relative to its
    parent) when its turn comes. The links written are added to ``links``."""
    files = size = 0
    stack: list[tuple[ObjectId, _Open | None, bytes, str]] = [(tree, None, b"", "")]
    opened: set[_Open] = set()
    try:
        while stack:
            oid, parent, name, folder = stack.pop()
            if parent is None:
                here = _Open(os.dup(top))
            else:
                here = _Open(os.open(name, _DIR_FLAGS, dir_fd=parent.fd))
                parent.pending -= 1
                if parent.pending == 0:
                    opened.discard(parent)
                    os.close(parent.fd)
            opened.add(here)
            fd = here.fd
            entries = repo.tree_entries(oid)
            if entries is None:
                raise RegistryError(f"tree {oid} of {where} is missing from this repository")
            twice = _a_name_twice(entries)
            if twice is not None:  # git fsck: duplicateEntries; Git writes neither
                raise RegistryError(
                    f"refusing to write {where}: the tree entry "
                    f"'{posixpath.join(folder, os.fsdecode(twice))}' is given twice",
                    hint="this tree was not made by 'git add'; nothing was written",
                )
            for name, mode, child in sorted(entries):
                shown = posixpath.join(folder, os.fsdecode(name))
                why = unsafe_name(name)
                if why is not None:
                    raise RegistryError(
                        f"refusing to write {where}: the tree entry '{shown}' {why}",
                        hint="this tree was not made by 'git add'; nothing was written",
                    )
                if mode == TREE:
                    os.mkdir(name, 0o777, dir_fd=fd)
                    stack.append((child, here, name, shown))
                    here.pending += 1
                elif mode == SUBMODULE:
                    os.mkdir(name, 0o777, dir_fd=fd)
                    warn(f"'{shown}' in {where} is a submodule: written as an empty folder")
                elif mode == LINK:
                    target = _blob(repo, child, where)
                    if link_escapes(folder, target) or b"\0" in target:
                        raise RegistryError(
                            f"refusing to write {where}: the link '{shown}' points outside "
                            f"the folder ('{os.fsdecode(target)}')",
                            hint="nothing was written",
                        )
                    os.symlink(target, name, dir_fd=fd)
                    links.append(shown)
                elif stat.S_ISREG(mode):
                    size += _write_blob(repo, child, fd, name, mode, where)
                    files += 1
                else:  # Git writes no other mode; a crafted tree may hold one
                    raise RegistryError(
                        f"refusing to write {where}: '{shown}' has mode {mode:o}, "
                        "which Git never writes",
                        hint="nothing was written",
                    )
            if here.pending == 0:
                opened.discard(here)
                os.close(fd)
    finally:
        for left in opened:
            os.close(left.fd)
    return files, size


def _a_name_twice(entries: list[tuple[bytes, int, ObjectId]]) -> bytes | None:
    """A name two entries of a tree have (a file and a folder, a link and a folder…)."""
    seen: set[bytes] = set()
    for name, _, _ in entries:
        if name in seen:
            return name
        seen.add(name)
    return None


def _blob(repo: Repository, oid: ObjectId, where: str) -> bytes:
    data = repo.blob(oid)
    if data is None:
        raise RegistryError(f"blob {oid} of {where} is missing from this repository")
    return data


def _write_blob(
    repo: Repository, oid: ObjectId, dir_fd: int | None, name: str | bytes, mode: int, where: str
) -> int:
    """Create the file ``name`` (in ``dir_fd``) holding blob ``oid``, executable if
    ``mode`` says so (the umask applies, as it does for Git); its size."""
    fd = os.open(name, _NEW_FILE, 0o777 if mode == EXECUTABLE else 0o666, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as out:
        size = repo.copy_blob(oid, out)
    if size is None:
        raise RegistryError(f"blob {oid} of {where} is missing from this repository")
    return size
