"""Files replaced whole: the one temporary-file-then-rename writer.

Readers see the old file or the new one, never half of one: the new content is
written to a temporary file in the same folder (a rename cannot cross file
systems), then renamed over the old file (``os.replace``, atomic on POSIX). Two
writers at once leave one of their files. A failed write removes its temporary
file and leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def write_atomic(
    path: str, data: bytes | Iterable[bytes], *, mode: int | None = None, fsync: bool = False
) -> None:
    """Replace the file ``path`` by ``data`` (bytes, or parts written in turn) at once.

    Args:
        mode: the new file's permissions; None: ``0o666`` less the umask, as
            ``open()`` makes a file.
        fsync: flush the content to the disk before the rename, so that a machine
            crash leaves the old content or the new, never an empty file.

    Raises:
        OSError: the file cannot be written (nothing was changed).
    """
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, _FLAGS, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            for part in [data] if isinstance(data, bytes) else data:
                f.write(part)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
