"""What every lock of ours shares: lock files created as Git creates ``FILE.lock``,
``flock``, process liveness, and waiting with backoff.

:mod:`git_registry.writelock` (one writing command at a time in a repository) and
:mod:`git_registry.pushlock` (the server's push lock) build on these, and the
``--remote`` cache lock (:mod:`git_registry.remotecache`) waits as they do. Standard
library only, and cheap to import.
"""

from __future__ import annotations

import contextlib
import os
import random
import time

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def create_exclusive(path: str, content: bytes, mode: int = 0o666) -> os.stat_result | None:
    """Create the file ``path`` holding ``content``, only if no such file exists
    (``O_CREAT | O_EXCL``, as Git's lockfile.c: exactly one process gets it).

    Returns:
        The new file's status (``st_dev``/``st_ino`` name it), or None if ``path``
        exists already.

    Raises:
        OSError: it cannot be created or written (a file we created is removed).
    """
    try:
        fd = os.open(path, _CREATE, mode)
    except FileExistsError:
        return None
    try:
        os.write(fd, content)
        return os.fstat(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    finally:
        os.close(fd)


def try_flock(fd: int) -> bool:
    """An exclusive ``flock`` on ``fd`` without waiting; False if another process holds
    it, or ``flock`` is not possible here (some NFS, Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def flock_until(fd: int, deadline: float) -> bool:
    """Lock ``fd`` exclusively, polling until ``deadline`` (``time.monotonic()``): for
    locks whose holders are quick. False if it is still held then; True where there
    is no ``flock`` at all (Windows: nothing to serialise with)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


class Backoff:
    """Sleeps between attempts to take a lock: doubling from ``first`` up to ``most``
    seconds, randomised by ±50% when ``jitter`` (waiters started together spread
    out), never past the deadline."""

    def __init__(self, first: float, most: float, *, jitter: bool = True) -> None:
        self._delay = first
        self._most = most
        self._jitter = jitter

    def sleep(self, remaining: float) -> None:
        """Sleep the next delay, at most ``remaining`` seconds."""
        delay = self._delay * (random.uniform(0.5, 1.5) if self._jitter else 1.0)
        time.sleep(max(0.0, min(remaining, delay)))
        self._delay = min(self._delay * 2, self._most)


def hostname() -> str:
    """This host's name, as lock files record it."""
    import socket  # only where a lock is taken: 2 ms of every start-up otherwise

    return socket.gethostname()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (another user's process counts; a
    zombie does not). The one liveness test of every lock of ours."""
    if pid <= 0:
        return True  # not a process id: never guess that it is dead
    if os.name == "nt":  # pragma: no cover - there, os.kill(pid, 0) would terminate it
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, it is someone else's
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` exited and waits to be reaped (Linux ``/proc``): it holds nothing."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # "PID (COMMAND) STATE ...": COMMAND may hold spaces and parentheses.
    end = stat.rfind(b")")
    return stat[end + 2 : end + 3] == b"Z"
