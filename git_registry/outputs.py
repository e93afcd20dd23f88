"""Where ``git registry get`` writes: a temporary name beside the destination, renamed
into place only once everything was written and checked, so a download that fails
leaves nothing half-written at the destination (and an existing one untouched).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil

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
            shutil.rmtree(path)
        else:
            os.unlink(path)


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
