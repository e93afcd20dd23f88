"""The registry write lock: one writing command at a time in a repository.

Git guards each file it rewrites with ``FILE.lock`` (lockfile.c): created with
``O_CREAT|O_EXCL``, so exactly one process gets it, and removed when done. A
registry write is wider than one file: it reads every tag of the artifact, plans
the next ``#N`` (or version), then creates tags; ``annotate`` reads, edits and
rewrites ``artifacts.yaml``. Two of them interleaved give two tags with one
counter, or lose an edit. So every writing command holds one lock for the whole
read-plan-write: ``<common Git dir>/registry/write.lock`` (one per repository,
shared by its worktrees), holding its owner: pid, host, start time and command.

A waiter retries with a short randomised backoff up to a bounded time
(``registry.lockTimeout``, default 10 s), then fails saying who holds the lock
and which file to remove if that process is gone. Unlike Git, which leaves a
crashed command's lock for the user to remove, a lock whose owner ran on this
host and is no longer alive is taken over, and so is a lock file that names no
owner (empty or garbled: its writer was killed between creating it and writing
its owner, or the machine crashed before the contents reached the disk) once it
is :data:`UNNAMED_GRACE` seconds old. The takeover is serialised with
``flock`` on the stale file itself: the taker then checks that the path still
names that very file before removing it, so two waiters cannot both remove it,
and nobody can remove a live lock created after it (a plain "rename it away"
could: between reading the stale owner and the rename, another waiter may have
replaced it). The kernel drops an ``flock`` when its holder dies, so a crash
during a takeover leaves nothing behind.

Standard library only, and cheap to import.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from git_registry.errors import RegistryError
from git_registry.lockfile import Backoff, create_exclusive, process_alive, try_flock
from git_registry.lockfile import hostname as _hostname

__all__ = ["Owner", "lock_path", "lock_timeout", "process_alive", "write_lock"]

LOCK_DIR = "registry"
LOCK_FILE = "write.lock"
DEFAULT_TIMEOUT = 10.0
"""Seconds to wait for another command's lock (``registry.lockTimeout``)."""

UNNAMED_GRACE = 5.0
"""Seconds after which a lock file that names no owner is stale: a writer writes its
owner right after creating the file (and the file's time changes when it does)."""

_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.1
_MAX_OWNER_BYTES = 4096
_MAX_COMMAND = 500


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds a lock, as written in the lock file."""

    pid: int
    host: str
    started: float
    """When the lock was taken, in seconds since the epoch."""
    command: str

    def encode(self) -> bytes:
        command = " ".join(self.command.split())[:_MAX_COMMAND]  # one short line
        return (
            f"pid {self.pid}\nhost {self.host}\nstarted {self.started:.6f}\n"
            f"command {command}\n".encode()
        )

    @classmethod
    def decode(cls, data: bytes) -> Owner | None:
        """The owner a lock file names, or None if it is not (yet) complete.

        The owner writes its file right after creating it: a reader may find it
        empty, so an incomplete file means "someone, unknown", stale only once it
        is older than :data:`UNNAMED_GRACE`.
        """
        fields: dict[str, str] = {}
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not text.endswith("\n"):
            return None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            fields[key] = value
        try:
            pid = int(fields["pid"])
            started = float(fields["started"])
            return cls(pid, fields["host"], started, fields["command"])
        except (KeyError, ValueError):
            return None

    def describe(self) -> str:
        """``process 123 ('git registry promote churn') since 2024-05-01 12:00:03 +0200``,
        its fields cut to 200 characters (it is data: messages escape it when printed)."""
        here = "" if self.host == _hostname() else f" on host {_clipped(self.host)}"
        command = f" ('git registry {_clipped(self.command)}')" if self.command else ""
        return f"process {self.pid}{here}{command} since {_when(self.started)}"


def lock_path(common_dir: str) -> str:
    """Where the registry write lock of a repository lives."""
    return os.path.join(common_dir, LOCK_DIR, LOCK_FILE)


def lock_timeout(config: Mapping[str, str]) -> float:
    """``registry.lockTimeout`` in seconds (default 10; 0: do not wait).

    Raises:
        RegistryError: the value is not a number of seconds.
    """
    text = config.get("registry.locktimeout")
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise RegistryError(
            f"bad registry.lockTimeout value '{_clipped(text)}': not a number of seconds",
            hint="set it with e.g. 'git config registry.lockTimeout 10' (0: do not wait)",
        )
    return value


@contextlib.contextmanager
def write_lock(
    common_dir: str,
    command: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    notice: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """Hold the registry write lock of the repository whose common Git dir is
    ``common_dir``; yield the lock file's path.

    Args:
        common_dir: the repository's common Git directory.
        command: what we are doing, written into the lock for waiters' messages.
        timeout: seconds to wait while another live process holds the lock.
        notice: called with a message when a stale lock is taken over.

    Raises:
        RegistryError: the lock is still held after ``timeout`` (the message names
            the owner and the file to remove), or it cannot be created at all (a
            read-only Git directory).
    """
    path = lock_path(common_dir)
    owner = Owner(os.getpid(), _hostname(), time.time(), command)
    identity = _acquire(path, owner, timeout, notice)
    try:
        yield path
    finally:
        _release(path, identity)


_Identity = tuple[int, int, bytes]
"""``(st_dev, st_ino, content)`` of the lock file we created."""


def _acquire(
    path: str, owner: Owner, timeout: float, notice: Callable[[str], None] | None
) -> _Identity:
    deadline = time.monotonic() + timeout
    backoff = Backoff(_FIRST_BACKOFF, _MAX_BACKOFF)
    content = owner.encode()
    while True:
        identity = _try_create(path, content)
        if identity is not None:
            return identity
        holder = _take_over_if_stale(path)
        if isinstance(holder, _TakenOver):
            if notice is not None:
                notice(f"removed a stale registry lock: {holder.what}")
            continue
        if holder is _GONE:
            continue  # released meanwhile: try again at once
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _held_error(path, holder if isinstance(holder, Owner) else None, timeout)
        backoff.sleep(remaining)


def _try_create(path: str, content: bytes) -> _Identity | None:
    """Create the lock file with our owner in it; None if it exists already."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError as exc:  # read-only, or a file in the folder's place
        raise _cannot_create(path, exc) from None
    try:
        stat = create_exclusive(path, content)
    except OSError as exc:
        raise _cannot_create(path, exc) from None
    if stat is None:
        if os.path.isdir(path):
            raise _cannot_create(path, "it is a folder") from None
        return None
    try:
        # Stalled for UNNAMED_GRACE seconds before the write, a writer may have lost
        # the (then empty) file to a waiter taking it over: then it is not ours.
        now = os.stat(path)
    except FileNotFoundError:
        return None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    if (now.st_dev, now.st_ino) != (stat.st_dev, stat.st_ino):
        return None
    return (stat.st_dev, stat.st_ino, content)


def _release(path: str, identity: _Identity) -> None:
    """Remove the lock file, only if it is still the one we created."""
    with contextlib.suppress(OSError):
        stat = os.stat(path)
        if (stat.st_dev, stat.st_ino) != identity[:2]:
            return
        with open(path, "rb") as f:
            if f.read(_MAX_OWNER_BYTES) != identity[2]:
                return
        os.unlink(path)


class _Gone:
    """The lock file vanished while we looked at it."""


_GONE = _Gone()


@dataclass(frozen=True, slots=True)
class _TakenOver:
    what: str
    """The stale lock, for the warning."""


def _take_over_if_stale(path: str) -> Owner | _Gone | _TakenOver | None:
    """Read the lock file's owner; if it ran on this host and is dead, or the file
    names no owner and is older than :data:`UNNAMED_GRACE`, remove the file.

    Returns the owner (None: it cannot be read, or is being written), :data:`_GONE`
    if the file is no longer there, or :class:`_TakenOver` once we removed a stale
    lock. A stale lock that another waiter is removing, or that cannot be flocked
    here (some network file systems), is returned as its owner: waited for.

    Raises:
        RegistryError: a stale lock cannot be removed (a read-only folder).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return _GONE
    except OSError:
        return None  # there, but unreadable: an owner we cannot name
    try:
        owner = Owner.decode(os.read(fd, _MAX_OWNER_BYTES))
        if owner is None:
            if _age(fd) <= UNNAMED_GRACE or not try_flock(fd):
                return None
            # Under the flock: still nameless and old? (Writing changes both.)
            age = _unnamed_age(fd)
            if age is None:
                return None
            what = f"a lock file that names no owner (written {age:.0f} s ago)"
        elif owner.host != _hostname() or process_alive(owner.pid) or not try_flock(fd):
            return owner
        else:
            what = owner.describe()
        # Under the flock only we may remove this file (its owner is dead, and every
        # taker flocks it first): check that the path still names it, then remove it.
        opened = os.fstat(fd)
        try:
            now = os.stat(path)
            if (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
                return _GONE  # another waiter took it over already
            os.unlink(path)
        except FileNotFoundError:
            return _GONE
        except OSError as exc:
            stale = "which is no longer running" if owner is not None else "which is stale"
            raise RegistryError(
                f"the registry is locked by {what}, {stale}, and its lock cannot be "
                f"removed: {exc.strerror}",
                hint=f"remove {path}",
            ) from None
        return _TakenOver(what)
    finally:
        os.close(fd)


def _age(fd: int) -> float:
    """Seconds since the file open as ``fd`` was last written (0 if unknown)."""
    try:
        return time.time() - os.fstat(fd).st_mtime
    except OSError:
        return 0.0


def _unnamed_age(fd: int) -> float | None:
    """:func:`_age` of the lock file open as ``fd`` if it names no owner and is older
    than :data:`UNNAMED_GRACE`; None otherwise."""
    try:
        data = os.pread(fd, _MAX_OWNER_BYTES, 0)
    except OSError:
        return None
    age = _age(fd)
    return age if Owner.decode(data) is None and age > UNNAMED_GRACE else None


def _held_error(path: str, owner: Owner | None, timeout: float) -> RegistryError:
    who = owner.describe() if owner is not None else "a process that did not say who it is"
    if owner is not None and owner.host == _hostname() and not process_alive(owner.pid):
        who += " (no longer running)"
    waited = f"{timeout:g} s" if timeout else "not waiting (registry.lockTimeout is 0)"
    return RegistryError(
        f"another git registry command is writing to this repository: {who}; "
        f"gave up after {waited}",
        hint="wait for it and try again (registry.lockTimeout sets how long to wait); "
        f"if no such process is running, remove {path}",
    )


def _cannot_create(path: str, reason: OSError | str) -> RegistryError:
    if isinstance(reason, OSError):
        reason = reason.strerror or str(reason)
    return RegistryError(
        f"cannot lock the registry for writing: cannot create {path}: {reason}",
        hint="commands that write need write access to the repository's Git directory",
    )


def _when(epoch: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(epoch))
    except (OverflowError, OSError, ValueError):
        return "an unknown time"


def _clipped(text: str) -> str:
    """``text`` cut to 200 characters."""
    return text[:200] + ("..." if len(text) > 200 else "")
