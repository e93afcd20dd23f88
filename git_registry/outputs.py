"""Where ``git registry get`` writes: a temporary name beside the destination, renamed
into place only once everything was written and checked, so a download that fails
leaves nothing half-written at the destination (and an existing one untouched).
"""

from __future__ import annotations

import contextlib
import hashlib
import os

from git_registry.errors import RegistryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


def temporary_beside(dest: str) -> str:
    """A fresh name in ``dest``'s folder (a rename cannot cross file systems), hidden,
    that nothing else uses; nothing is created there."""
    folder, name = os.path.split(dest)
    return os.path.join(folder, f".{name}.get-{os.getpid()}-{os.urandom(4).hex()}.tmp")


def remove(path: str) -> None:
    """Remove ``path`` (a file, a link, or a folder and everything in it) if it is
    there; a link is removed, never followed."""
    with contextlib.suppress(FileNotFoundError):
        if os.path.isdir(path) and not os.path.islink(path):
            _remove_folder(path)
        else:
            os.unlink(path)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


def _remove_folder(path: str) -> None:
    """Remove the folder ``path`` and everything in it, never following a link. Not
    ``shutil.rmtree``, which recurses once per level (Python before 3.13: a folder
    1,000 deep, as get may write from a crafted tree, is a RecursionError): a loop
    holding one open folder at a time (a path that deep is longer than the system
    takes, and a descriptor per level would pass the open-files limit)."""
    fd = os.open(path, _DIR_FLAGS)
    frames: list[tuple[Iterator[tuple[str, bool]], str]] = [(_listing(fd), "")]
    try:
        while frames:
            entries, name = frames[-1]
            for child, is_dir in entries:
                if is_dir:
                    inner = os.open(child, _DIR_FLAGS, dir_fd=fd)
                    os.close(fd)
                    fd = inner
                    frames.append((_listing(fd), child))
                    break
                os.unlink(child, dir_fd=fd)
            else:
                frames.pop()
                if frames:  # back up to the parent, and remove the emptied folder
                    parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
                    os.close(fd)
                    fd = parent
                    os.rmdir(name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(path)


def _listing(fd: int) -> Iterator[tuple[str, bool]]:
    with os.scandir(fd) as found:
        return iter([(e.name, e.is_dir(follow_symlinks=False)) for e in found])


def check_destination(dest: str, shown: str, *, force: bool) -> None:
    """Refuse a destination that exists (unless ``force``) or whose folder does not
    (``shown``: the path as the user wrote it, for messages).

    Raises:
        RegistryError: it exists, or its folder does not (exit 128, nothing touched).
    """
    if os.path.lexists(dest) and not force:
        raise RegistryError(
            f"'{shown}' already exists",
            hint="remove it, choose another path with -o PATH, or replace it with --force",
        )
    if not os.path.isdir(os.path.dirname(dest) or "."):
        folder = os.path.dirname(shown) or "."
        raise RegistryError(f"cannot write '{shown}': there is no folder '{folder}'")


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, ``SIGTERM`` and ``SIGHUP`` (a CI job's timeout, a closed
    terminal) raise :class:`KeyboardInterrupt`, as Ctrl-C does: :func:`staged` removes
    its temporary path (by default they end the process at once, leaving it behind)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives the signals)
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    before = {signum: signal.signal(signum, interrupt) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def staged(dest: str, *, force: bool) -> Iterator[str]:
    """Yield a temporary path to write to; when the block ends without an error,
    rename it to ``dest`` (replacing what is there when ``force``), else remove it.

    Raises:
        RegistryError: ``dest`` appeared meanwhile (without ``force``).
    """
    tmp = temporary_beside(dest)
    try:
        yield tmp
        if not os.path.lexists(tmp):
            raise RegistryError(f"nothing was written to '{dest}'")
        _put(tmp, dest, force=force)
    except BaseException:
        remove(tmp)
        raise


def _put(tmp: str, dest: str, *, force: bool) -> None:
    if not os.path.lexists(dest):
        os.rename(tmp, dest)
        return
    if not force:
        raise RegistryError(
            f"'{dest}' appeared while it was being written: left as it is",
            hint="run again with --force to replace it",
        )
    # The old one is set aside first: a folder cannot be renamed over a folder that is
    # not empty, and the old one must come back if the new one cannot go in.
    aside = temporary_beside(dest)
    os.rename(dest, aside)
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(aside, dest)
        raise
    remove(aside)


def sha256_of(path: str) -> str:
    """The SHA-256 of the file ``path``, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
