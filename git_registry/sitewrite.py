"""Writing the static site into its folder (issue 18) without ever losing a user's file.

The pages are written into a new folder beside ``OUT`` first. Then:

- ``OUT`` missing, empty, or a site this command wrote that holds only its own files:
  the old folder is renamed away, the new one renamed into place, the old one removed
  (readers see the old site or the new one, never half of one);
- a site this command wrote that also holds other files (``CNAME``, a page of the
  user's): each page replaces its file (:func:`~git_registry.fsio.write_atomic`'s
  rename), pages of the old site that the new one has not are removed, and every other
  file stays;
- a folder with files that is not such a site: refused, unless ``force``: the pages
  are then written over their files and nothing else is touched.

The manifest (:data:`~git_registry.sitegen.MANIFEST`) lists the files the site wrote:
what a later run may replace or remove.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping

from git_registry.errors import RegistryError
from git_registry.sitegen import MANIFEST

HEADER = "# git-registry site: the files it wrote (replaced or removed by its next run)\n"


def read_manifest(out: str) -> list[str] | None:
    """The files a previous run wrote into ``out``, or None if it is not such a site."""
    try:
        with open(os.path.join(out, MANIFEST), encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    if not text.startswith(HEADER):
        return None
    return [line for line in text[len(HEADER) :].splitlines() if _relative_ok(line)]


def _relative_ok(path: str) -> bool:
    """A manifest line names a file inside the site (never ``..``, never absolute)."""
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _files_in(folder: str) -> set[str]:
    found = set()
    for root, dirs, files in os.walk(folder):
        rel = os.path.relpath(root, folder)
        for name in files:
            found.add(name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}")
        for name in dirs:  # an empty folder of the user's counts as theirs, and so
            path = os.path.join(root, name)  # does a link to a folder (never walked into)
            if os.path.islink(path):
                found.add(name if rel == "." else f"{rel}/{name}")
            elif not os.listdir(path):
                found.add((name if rel == "." else f"{rel}/{name}") + "/")
    return found


def write_site(out: str, pages: Mapping[str, str], *, force: bool = False) -> str:
    """Write ``pages`` (path -> HTML) as the folder ``out``; return how it was done
    (``"new"``, ``"replaced"``, ``"updated"``: see the module).

    Raises:
        RegistryError: ``out`` is a file, or a folder with files that is not a site
            written by this command (without ``force``), or cannot be written.
    """
    # A link to a folder (site -> /var/www/html) is written through: the folder it
    # names is the site's, never replaced by a plain folder where the link was.
    out = os.path.realpath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise RegistryError(f"'{out}' exists and is not a folder")
    manifest = read_manifest(out)
    present = _files_in(out) if os.path.isdir(out) else set()
    ours = set(manifest or ()) | {MANIFEST}
    if present and manifest is None and not force:
        raise RegistryError(
            f"'{out}' holds files and is not a site written by 'git registry site'",
            hint="give an empty or new folder, or add --force to write the pages over "
            "their files there (no other file is touched)",
        )
    listing = HEADER + "".join(f"{p}\n" for p in sorted(pages))
    parent = os.path.dirname(out)
    try:
        os.makedirs(parent, exist_ok=True)
        if not present or (manifest is not None and present <= ours):
            _swap(out, parent, pages, listing)
            return "new" if not present else "replaced"
        _update(out, pages, listing, manifest or [])
    except OSError as err:
        raise RegistryError(f"cannot write the site into '{out}': {err.strerror or err}") from None
    return "updated"


def _write_tree(root: str, pages: Mapping[str, str], listing: str) -> None:
    from git_registry.fsio import write_atomic

    for path, text in pages.items():
        target = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        write_atomic(target, text.encode("utf-8"))
    write_atomic(os.path.join(root, MANIFEST), listing.encode("utf-8"))


def _swap(out: str, parent: str, pages: Mapping[str, str], listing: str) -> None:
    base = os.path.basename(out)
    new = tempfile.mkdtemp(prefix=f".{base}.new-", dir=parent)
    try:
        os.chmod(new, 0o777 & ~_umask())
        _write_tree(new, pages, listing)
        if os.path.isdir(out):
            old = tempfile.mkdtemp(prefix=f".{base}.old-", dir=parent)
            os.rename(out, os.path.join(old, base))
            os.rename(new, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(new, out)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


def _update(out: str, pages: Mapping[str, str], listing: str, before: list[str]) -> None:
    for path in pages:  # never through a link out of the folder (a/ -> elsewhere)
        if not _inside(out, os.path.join(out, *path.split("/"))):
            raise RegistryError(f"'{out}/{path}' leads out of the folder (a symbolic link)")
    _write_tree(out, pages, listing)
    for path in before:
        if path not in pages:
            target = os.path.join(out, *path.split("/"))
            if _inside(out, target) and os.path.isfile(target) and not os.path.islink(target):
                os.unlink(target)


def _inside(out: str, target: str) -> bool:
    """``target``'s folder, links resolved, is ``out`` or inside it."""
    root = os.path.realpath(out)
    folder = os.path.realpath(os.path.dirname(target))
    return folder == root or folder.startswith(root + os.sep)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
