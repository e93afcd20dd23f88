"""The server's push lock: registry tags are checked and written one push at a time.

Git's ``pre-receive`` hooks of two pushes can both run before either push writes a
ref, so each would check a registry without the other's tags. So the server's
``pre-receive`` hook takes this lock before it reads the tags, keeps it if the push
passes, and records the updates it let through as *pending*; the
``reference-transaction`` hook strikes each one off once Git has ``committed`` (or
``aborted``) it, and releases the lock when none is left. The next push's check
then sees every tag this one wrote. A ref transaction of registry tags that no
``pre-receive`` of ours checked (``git tag`` on the server, a server without our
``pre-receive``) takes the lock at ``prepared``, while Git holds the ref locks.

The lock outlives the hook process that took it, so it cannot be a ``flock``: it is
the file ``<common Git dir>/registry/push.lock``, created with ``O_CREAT | O_EXCL``,
naming its owner (the Git process that runs the hooks: receive-pack), when it last
showed it still needs it, and the pending updates. A lock whose owner process is
gone, or older than :data:`MAX_AGE`, is stale and taken over. Every change of the
file (create, rewrite, take over, remove) happens under a short ``flock`` of
``push.lock.guard``: renaming a stale lock aside and creating a new one is then one
step, never racing with a third process doing the same.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from git_registry.errors import RegistryError
from git_registry.fsio import write_atomic
from git_registry.lockfile import Backoff, create_exclusive, flock_until, hostname, process_alive

FOLDER = "registry"
"""The registry's folder in the common Git directory (the tag cache's too)."""
LOCK_FILE = "push.lock"
TIMEOUT = 10.0
"""How long (seconds) a transaction waits for the lock (``registry.pushLockTimeout``)."""
MAX_AGE = 60
"""A lock older than this (seconds) is stale even if its owner lives: a hung push.
Its owner renews it at each hook (each ref Git writes)."""
PARENT_VARIABLE = "GIT_REGISTRY_HOOK_PARENT"
"""Set by the hook wrappers to ``$PPID``: the Git process that runs the hook."""

_FIRST_DELAY = 0.01
_MAX_DELAY = 0.2


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds the lock: a process on a host."""

    pid: int
    host: str

    def __str__(self) -> str:
        return f"process {self.pid} on {self.host}"


@dataclass(frozen=True, slots=True)
class Holder:
    """What a lock file says; ``owner`` None if it cannot be read as a lock."""

    owner: Owner | None
    since: int | None
    """When the owner took the lock, or last said it still needs it."""
    pending: frozenset[str] = frozenset()
    """The updates checked under the lock, not yet written: ``<new object id> <ref>``
    (a tag stored) or ``delete <old object id> <ref>``."""


def hook_owner(env: Mapping[str, str]) -> Owner:
    """The owner a hook takes the lock for: the Git process running the hook.

    The ``pre-receive`` and ``reference-transaction`` hooks of one push are
    processes with one parent (receive-pack); our wrappers pass that parent's id in
    :data:`PARENT_VARIABLE`. Without it, our own parent (Git, when it runs us
    directly).
    """
    text = env.get(PARENT_VARIABLE, "")
    pid = int(text) if text.isdigit() and 0 < int(text) < 2**31 else os.getppid()
    return Owner(pid, hostname())


def format_holder(owner: Owner, since: int, pending: Iterable[str] = ()) -> str:
    """The content of a lock file (:func:`parse_holder` reads it)."""
    lines = ["git-registry push lock", f"pid={owner.pid}", f"host={owner.host}", f"time={since}"]
    lines.extend(f"pending={entry}" for entry in sorted(pending))
    return "\n".join(lines) + "\n"


def parse_holder(text: str) -> Holder:
    """What a lock file's content says (an unreadable one has no owner)."""
    fields: dict[str, str] = {}
    pending = set()
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if key == "pending":
            pending.add(value)
        elif equals:
            fields[key] = value
    pid, host, since = fields.get("pid", ""), fields.get("host", ""), fields.get("time", "")
    if not (pid.isdigit() and 0 < int(pid) < 2**31 and host and since.isdigit()):
        return Holder(None, None)
    return Holder(Owner(int(pid), host), int(since), frozenset(pending))


class PushLock:
    """The push lock of the repository whose common Git directory is ``common_dir``.

    Args:
        common_dir: the common Git directory.
        owner: who takes it (see :func:`hook_owner`).
        timeout: how long :meth:`acquire` waits for a live owner (seconds).
        max_age: after how long a lock is stale whoever holds it (seconds).
        clock: the time written in the lock and compared with ``max_age``.
        alive: whether a process of this host exists.
    """

    def __init__(
        self,
        common_dir: str,
        owner: Owner,
        *,
        timeout: float = TIMEOUT,
        max_age: int = MAX_AGE,
        clock: Callable[[], float] = time.time,
        alive: Callable[[int], bool] = process_alive,
    ) -> None:
        self.path = os.path.join(common_dir, FOLDER, LOCK_FILE)
        self.owner = owner
        self.timeout = timeout
        self.max_age = max_age
        self._clock = clock
        self._alive = alive

    def acquire(self) -> tuple[Holder, str] | None:
        """Take the lock, waiting (with backoff) while a live owner holds it.

        Taking a lock we hold already only says we still need it (its time is
        renewed): one Git process writes one transaction at a time.

        Returns:
            None, or the stale holder that was taken over and why it was stale.

        Raises:
            RegistryError: the lock is still held after ``timeout`` seconds, or the
                lock file cannot be written.
        """
        deadline = time.monotonic() + self.timeout
        backoff = Backoff(_FIRST_DELAY, _MAX_DELAY, jitter=False)
        while True:
            with self._guard(deadline):
                holder = self._read()
                if holder is None:
                    self._create()
                    return None
                if holder.owner == self.owner:
                    self._write(holder.pending)
                    return None
                why = self._stale(holder)
                if why is not None:
                    self._move_aside()
                    self._create()
                    return holder, why
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._busy(holder)
            backoff.sleep(left)

    def pending(self) -> frozenset[str]:
        """The updates :meth:`note` recorded while we hold the lock (none if we do not)."""
        holder = self._read()
        return holder.pending if holder is not None and holder.owner == self.owner else frozenset()

    def note(self, pending: Iterable[str]) -> None:
        """Record in the lock we hold updates checked under it, to be written."""
        with self._guard(time.monotonic() + self.timeout):
            holder = self._read()
            if holder is not None and holder.owner == self.owner:
                self._write(holder.pending | frozenset(pending))

    def done(self, written: Iterable[str]) -> bool:
        """Strike ``written`` updates off the lock we hold; release it when none are
        left. False if we do not hold it (any more)."""
        with self._guard(time.monotonic() + self.timeout):
            holder = self._read()
            if holder is None or holder.owner != self.owner:
                return False
            left = holder.pending - frozenset(written)
            if left:
                self._write(left)
            else:
                self._unlink()
            return True

    def release(self) -> bool:
        """Remove the lock if we hold it; False if we do not (or no longer) hold it."""
        with self._guard(time.monotonic() + self.timeout):
            holder = self._read()
            if holder is None or holder.owner != self.owner:
                return False
            self._unlink()
            return True

    # -- the file ----------------------------------------------------------------------------

    def _read(self) -> Holder | None:
        try:
            with open(self.path, "rb") as f:
                text = f.read(4096).decode("utf-8", "replace")
        except FileNotFoundError:
            return None
        except OSError:  # a directory, unreadable: nobody can own it
            return Holder(None, None)
        return parse_holder(text)

    def _create(self) -> None:
        content = format_holder(self.owner, int(self._clock())).encode()
        try:
            if create_exclusive(self.path, content, 0o644) is None:
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), self.path)
        except OSError as exc:
            raise self._error("cannot create", exc) from exc

    def _unlink(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._error("cannot remove", exc) from exc

    def _write(self, pending: frozenset[str]) -> None:
        """Replace the lock we hold (under the guard) with a renewed time."""
        text = format_holder(self.owner, int(self._clock()), pending)
        try:
            write_atomic(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise self._error("cannot write", exc) from exc

    def _move_aside(self) -> None:
        """Keep the stale lock as ``push.lock.stale`` (for whoever wonders why)."""
        try:
            os.replace(self.path, self.path + ".stale")
        except OSError as exc:
            raise self._error("cannot take over the stale", exc) from exc

    def _stale(self, holder: Holder) -> str | None:
        """Why the lock of ``holder`` is stale, or None if it is not."""
        if holder.owner is None or holder.since is None:
            return "it cannot be read as a lock"
        age = int(self._clock()) - holder.since
        if age > self.max_age:
            return f"it was taken {age} s ago, more than {self.max_age} s"
        if holder.owner.host == self.owner.host and not self._alive(holder.owner.pid):
            return f"{holder.owner} is gone"
        return None

    @contextlib.contextmanager
    def _guard(self, deadline: float) -> Iterator[None]:
        """Hold ``push.lock.guard`` (a ``flock``, released if we die) while changing the lock."""
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            fd = os.open(self.path + ".guard", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._error("cannot create", exc) from exc
        try:
            if not flock_until(fd, deadline):
                raise RegistryError(
                    f"cannot lock {self.path}.guard: another process holds it",
                    hint="a process changing the registry push lock is stuck: stop it",
                )
            yield
        finally:
            os.close(fd)  # closing releases the flock

    # -- messages ----------------------------------------------------------------------------

    def _busy(self, holder: Holder) -> RegistryError:
        since = "" if holder.since is None else f" since {int(self._clock()) - holder.since} s"
        return RegistryError(
            f"the registry push lock {self.path} is held by {holder.owner}{since}: "
            f"gave up after {self.timeout:g} s",
            hint="another push of registry tags is being written: push again; a lock whose "
            f"process is gone, or older than {self.max_age} s, is taken over",
        )

    def _error(self, what: str, exc: OSError) -> RegistryError:
        return RegistryError(
            f"{what} the registry push lock {self.path}: {exc.strerror or exc}",
            hint="the server hook needs to write in the repository's 'registry' folder",
        )
