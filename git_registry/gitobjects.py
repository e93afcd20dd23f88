"""Reading objects through ``git cat-file``: many tags in one stream, the types of
many objects in one check, and a reader kept open for the few commits, trees and
blobs a command reads by path. Part of the Git layer (:mod:`git_registry.gitbin`
runs every other ``git``).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Generator, Sequence

from git_registry.errors import GitError, ObjectTooLarge
from git_registry.gitbin import FULL_ID_RE, Env

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (start-up)
    from typing import IO, BinaryIO

_CAT_FILE = ("cat-file", "--batch", "--buffer")
_CAT_ONE = ("cat-file", "--batch")
_CAT_CHECK = ("cat-file", "--batch-check", "--buffer")


def _cat_file(git_dir: str, args: Sequence[str], env: Env) -> subprocess.Popen[bytes]:
    """A ``git cat-file`` reading ids on stdin, with replace refs off."""
    try:
        return subprocess.Popen(
            ["git", f"--git-dir={git_dir}", "--no-replace-objects", *args],
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise GitError("the 'git' binary was not found on PATH") from exc


def stream_objects(
    git_dir: str, oids: Sequence[str], *, env: Env = None
) -> Generator[tuple[str, bytes] | None, None, None]:
    """Type and contents of each of ``oids`` (full lower-case hex ids), in order; None
    for a missing object. If Git fails midway, the rest are None.

    One ``git cat-file --batch`` for all of them, read as Git writes them, so that
    only one object is in memory at a time and parsing overlaps Git's work: about
    ten times faster than reading each through dulwich. It honours Git's object
    lookup (alternates, ``GIT_OBJECT_DIRECTORY``, a server hook's quarantine);
    replace refs are not applied (``--no-replace-objects``): an id always means
    the same bytes.
    """
    if not oids:
        return
    proc = _cat_file(git_dir, _CAT_FILE, env)
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:  # in a thread: Git blocks on its output until we read it
        with contextlib.suppress(OSError):
            stdin.write("\n".join(oids).encode("ascii") + b"\n")
        with contextlib.suppress(OSError):
            stdin.close()

    import threading

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    alive = True
    try:
        for _ in oids:
            found = None
            if alive:
                header = stdout.readline().split()
                if len(header) == 3:
                    size = int(header[2])
                    data = stdout.read(size + 1)
                    if len(data) == size + 1:
                        found = (header[1].decode("ascii", "replace"), data[:size])
                    else:
                        alive = False
                elif len(header) != 2:  # not "<oid> missing": Git died
                    alive = False
            yield found
    finally:
        stdout.close()
        proc.wait()
        writer.join()


def object_types(git_dir: str, oids: Sequence[str], *, env: Env = None) -> list[str | None]:
    """The type of each of ``oids`` (``commit``, ``tree``…), in order; None for a
    missing object, or an id that is not a full lower-case hex id (never sent to Git).

    One ``git cat-file --batch-check`` for all of them: no object is read, only
    looked up (a tag on a 1 GB blob costs what a tag on a commit does). Replace
    refs are not applied, as in :func:`stream_objects`. If Git fails midway, the
    rest are None.

    Raises:
        GitError: ``git`` is missing.
    """
    sent = [oid for oid in oids if FULL_ID_RE.fullmatch(oid)]
    if not sent:
        return [None] * len(oids)
    try:
        proc = subprocess.run(
            ["git", f"--git-dir={git_dir}", "--no-replace-objects", *_CAT_CHECK],
            input="".join(oid + "\n" for oid in sent).encode("ascii"),
            env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("the 'git' binary was not found on PATH") from exc
    # "<oid> <type> <size>", or "<oid> missing"; answers come in the order asked.
    answers = iter(proc.stdout.decode("ascii", "replace").splitlines())
    types: dict[str, str | None] = {}
    for oid in sent:
        fields = next(answers, "").split(" ")
        types[oid] = fields[1] if len(fields) == 3 and fields[0] == oid else None
    return [types.get(oid) for oid in oids]


class ObjectReader:
    """One ``git cat-file --batch`` process, kept open to read objects one at a time.

    For the few objects a command reads by path (a commit, its trees, an
    ``artifacts.yaml``): a round trip takes microseconds, where importing and
    opening dulwich takes 20 ms. Replace refs are not applied, as in
    :func:`stream_objects`. Call :meth:`close` when done.
    """

    def __init__(self, git_dir: str, *, env: Env = None) -> None:
        self._git_dir = git_dir
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None

    def read(self, oid: str, limit: int | None = None) -> tuple[str, bytes] | None:
        """Type and contents of object ``oid`` (a full hex id), or None if it is missing.

        Args:
            limit: the most bytes the caller takes; a larger object is read past in
                chunks (memory stays flat) and :class:`ObjectTooLarge` is raised.

        Raises:
            GitError: ``git`` is missing or died.
            ObjectTooLarge: the object is larger than ``limit``.
        """
        try:
            found = self._ask(oid)
            if found is None:
                return None
            stream, kind, size = found
            if limit is not None and size > limit:
                left = size + 1
                while left > 0:  # skip it, a megabyte at a time
                    chunk = stream.read(min(left, 1 << 20))
                    if not chunk:
                        raise GitError("git cat-file stopped unexpectedly")
                    left -= len(chunk)
                raise ObjectTooLarge(size)
            data = stream.read(size + 1)
        except (OSError, ValueError) as exc:
            raise GitError(f"git cat-file failed: {exc}") from exc
        if len(data) != size + 1:
            raise GitError("git cat-file stopped unexpectedly")
        return kind.decode("ascii", "replace"), data[:size]

    def copy(self, oid: str, out: BinaryIO, kind: str = "blob") -> int | None:
        """Write the contents of object ``oid`` to ``out`` a megabyte at a time (memory
        stays flat for a blob of gigabytes); return its size, or None (nothing written)
        if it is missing or not a ``kind``.

        Raises:
            GitError: ``git`` is missing or died.
            OSError: ``out`` cannot be written (the rest of the object is skipped).
        """
        failure: OSError | None = None
        try:
            found = self._ask(oid)
            if found is None:
                return None
            stream, found_kind, size = found
            wanted = found_kind == kind.encode("ascii")
            left = size
            while left > 0:
                chunk = stream.read(min(left, 1 << 20))
                if not chunk:
                    raise GitError("git cat-file stopped unexpectedly")
                left -= len(chunk)
                if wanted and failure is None:
                    try:
                        out.write(chunk)
                    except OSError as exc:  # read the rest: the stream stays usable
                        failure = exc
            if stream.read(1) != b"\n":
                raise GitError("git cat-file stopped unexpectedly")
        except (OSError, ValueError) as exc:
            raise GitError(f"git cat-file failed: {exc}") from exc
        if failure is not None:
            raise failure
        return size if wanted else None

    def _ask(self, oid: str) -> tuple[IO[bytes], bytes, int] | None:
        """Ask ``git cat-file --batch`` for ``oid``: the stream its contents follow on,
        its type and size; None if it is missing or not an id at all (no process is
        started for that).

        Raises:
            GitError: ``git`` stopped; OSError, ValueError: the stream failed.
        """
        if "\n" in oid or not oid:
            return None
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(oid.encode("ascii", "replace") + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) != 3:
            if len(header) == 2:  # "<oid> missing"
                return None
            raise GitError("git cat-file stopped unexpectedly")
        return proc.stdout, header[1], int(header[2])

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = _cat_file(self._git_dir, _CAT_ONE, self._env)
        return self._proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            proc.stdout.close()
            proc.wait()
