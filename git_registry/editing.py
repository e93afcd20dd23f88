"""Editing the work tree's ``artifacts.yaml`` (``annotate`` and ``remove``): read it,
change one entry, validate the result with the same validator as ``check``, write it
atomically, and optionally commit only that file and push.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import stat
import tempfile
from collections.abc import Callable, Collection, Sequence
from typing import Any

from git_registry import annotations as ann
from git_registry import gitbin, transport, yamledit
from git_registry.errors import RegistryError, UsageError
from git_registry.remote import push_failure
from git_registry.session import Session
from git_registry.writing import refuse_unconfigured, relay, remote_name
from git_registry.yamlsafe import load

Change = Callable[[ann.Annotation | None, bool], "dict[str, Any] | None"]
"""Given the current annotation (None if absent or unreadable) and whether the file has
an entry for the artifact at all, the new fields (None removes the entry)."""


def edit(
    session: Session,
    artifact: str,
    change: Change,
    *,
    commit: bool,
    push: bool,
    message: str,
    replaces: Collection[str] = (),
    done: str | None = None,
    adds: Sequence[str] = (),
) -> str:
    """Apply ``change`` to ``artifact``'s entry; return the file's repository path.

    ``replaces`` names the keys whose current values the change sets anew: a problem
    with any other key of the entry (an unknown key, a value that cannot be read) stops
    the edit, since rewriting the entry would silently drop what could not be read.
    ``done`` is said once the file is written (before it is committed); ``adds`` are
    paths (as the user gave them) committed with it.
    """
    if push and not commit:
        raise UsageError("--push pushes the commit: add --commit")
    if adds and not commit:
        raise UsageError("--add stages a path in the commit this command makes: add --commit")
    remote = remote_name(session) if push else None  # a bad registry.remote: refused first
    if remote is not None:
        refuse_unconfigured(session, remote, "nothing was changed")
    repo = session.repo()
    work_tree = repo.paths.work_tree
    if work_tree is None:
        raise RegistryError(
            "this command edits artifacts.yaml in the work tree, and there is none here",
            hint="run it in a clone with a work tree, not in a bare repository",
        )
    file, key = ann.file_for(artifact)
    folders = file.split("/")[:-1]
    data = _read(work_tree, folders, file)
    types = session.catalog().policy().types

    def exists(path: str) -> bool:
        return os.path.exists(os.path.join(work_tree, *path.split("/")))

    parsed = ann.parse(data, file, types=types, exists=exists)
    if not parsed.editable:
        first = parsed.problems[0] if parsed.problems else f"{file} uses YAML flow style"
        raise RegistryError(
            f"cannot edit {file}: {first}",
            hint="fix the file by hand first (it was not changed)",
        )
    present = any(entry.name == key for entry in parsed.entries)
    current = parsed.annotations.get(artifact)
    fields = change(current, present)
    if fields is not None:
        _refuse_losses(data, parsed, artifact, key, current, replaces)
    text = data.decode("utf-8")
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text.removeprefix(bom)
    # Keep the file's line breaks: CRLF if most of its lines end so (an editor's choice).
    newline = "\r\n" if 2 * text.count("\r\n") > text.count("\n") else "\n"
    indent = parsed.entries[0].indent if parsed.entries else 0
    order = current.keys if current else ()
    new_entry = None if fields is None else yamledit.entry_text(key, fields, indent, order)
    if newline != "\n":
        new_entry = new_entry and new_entry.replace("\n", newline)
        if text and not text.endswith("\n"):
            text += newline
    new_data = (bom + yamledit.replace_entry(text, parsed, key, new_entry)).encode("utf-8")
    result = ann.parse(new_data, file, types=types, exists=exists)
    # The file was readable before (else not editable): a file-wide problem now is ours.
    own = [p for p in result.problems if p.artifact in (None, artifact)]
    if own:
        raise RegistryError(
            f"{own[0]}" + (f" (and {len(own) - 1} more)" if len(own) > 1 else ""),
            hint=f"{file} was not changed",
        )
    if fields is not None:
        written = result.annotations.get(artifact)
        if written is None or written.to_json() != _expected(fields):
            raise RegistryError(
                f"cannot write {artifact}'s entry so that it reads back the same",
                hint=f"{file} was not changed",
            )
    added = _added_paths(session, work_tree, adds) if commit else []
    if commit and fields is not None:
        _refuse_missing_in_commit(session, work_tree, result.annotations.get(artifact), added)
    for problem in result.problems:
        session.warn(f"{problem} (not changed by this command)")
    if commit and _differs_from_head(session, file, data):
        session.warn(f"{file} already had uncommitted changes: --commit commits them too")
    scratch = repo.scratch_dir()
    _write(work_tree, folders, file, new_data, scratch)
    if done is not None:
        session.out(done)
    if commit and not added and not _differs_from_head(session, file, new_data):
        # Git would refuse an empty commit ("nothing to commit"): say what is true.
        session.out(f"{file} at HEAD already says this: nothing to commit")
    elif commit:
        _commit(session, work_tree, file, message, remote, added)
    return file


def _added_paths(session: Session, work_tree: str, adds: Sequence[str]) -> list[str]:
    """The ``--add`` paths (relative to the current folder, as ``git add`` takes them)
    as paths from the top of the work tree, after checking that each names a file or
    folder inside it, out of the Git directory, that Git would stage.

    Raises:
        RegistryError: one does not (nothing was changed).
    """
    top = os.path.realpath(work_tree)
    found: list[str] = []
    for given in adds:
        if not given:
            raise UsageError("--add: the path is empty")
        # The folder is resolved (a path Git sees from the top), the last part is not: a
        # symbolic link is committed as the link it is.
        parent, name = os.path.split(os.path.normpath(os.path.join(session.cwd, given)))
        rel = os.path.relpath(os.path.join(os.path.realpath(parent), name), top)
        parts = rel.split(os.sep)
        if rel == "." or parts[0] == ".." or os.path.isabs(rel):
            raise RegistryError(
                f"--add {given}: not a file or folder inside the work tree ({top})",
                hint="nothing was changed",
            )
        if any(part.lower() == ".git" for part in parts):
            raise RegistryError(
                f"--add {given}: a path in the Git directory is never committed",
                hint="nothing was changed",
            )
        if not os.path.lexists(os.path.join(top, rel)):
            raise RegistryError(
                f"--add {given}: no such file or folder", hint="nothing was changed"
            )
        found.append("/".join(parts))
    if found:
        result = gitbin.add_dry_run(found, cwd=work_tree, env=session.env)
        if result.returncode != 0:
            raise RegistryError(
                f"cannot add {', '.join(found)}: {gitbin.git_reason(result, 'add')}",
                hint="nothing was changed",
            )
        embedded = gitbin.embedded_repositories(result)
        if embedded:
            raise RegistryError(
                f"cannot add {embedded[0]}: it is a Git repository of its own (the commit "
                "would hold a link to its commit, not its files)",
                hint="nothing was changed; commit its files in it, or make it a submodule "
                "(git submodule add)",
            )
    return found


def _refuse_missing_in_commit(
    session: Session, work_tree: str, written: ann.Annotation | None, added: Sequence[str]
) -> None:
    """Refuse, before anything is written, a ``virtual: false`` path that the commit
    (HEAD's files, this file and the ``--add`` paths: ``git commit --only``) would not
    hold: the commit-msg hook would refuse it, after the file was changed."""
    target = written.repo_path() if written is not None and not written.virtual else None
    if target is None:
        return
    head = session.repo().head()
    if head is not None and session.repo().path_exists(head, target):
        return
    if any(target == a or target.startswith(a + "/") or a.startswith(target + "/") for a in added):
        return
    shown = os.path.relpath(os.path.join(work_tree, *target.split("/")), session.cwd)
    shown = shown.replace(os.sep, "/")
    raise RegistryError(
        f"path '{target}' is not in the commit (virtual: false says it must be): commit it "
        f"first (git add, git commit), or pass --add {shlex.quote(shown)} to commit it with "
        f"{written.file if written else ann.FILENAME}",
        hint="nothing was changed",
    )


def _refuse_losses(
    data: bytes,
    parsed: ann.AnnotationsFile,
    artifact: str,
    key: str,
    current: ann.Annotation | None,
    replaces: Collection[str],
) -> None:
    """Refuse to rewrite an entry that holds what its annotation could not read (an
    unknown key, a value of the wrong type, a second 'path'): it would be lost."""
    root, yaml_problems = load(data)  # cannot fail: the file was read as editable
    lost: set[str | None] = {
        (p.path[1] if len(p.path) > 1 else None)
        for p in yaml_problems
        if p.path[:1] == (key,) and (len(p.path) < 2 or p.path[1] not in replaces)
    }
    node = next((v for k, v in root.value if k.value == key), None) if root else None
    held = node.plain() if node is not None else None
    if held is not None and not isinstance(held, dict):
        lost.add(None)
    elif held is not None:
        shown = current.to_json() if current is not None else {}
        for name, value in held.items():
            kept = shown.get(name, _MISSING)
            if name not in replaces and (type(value) is not type(kept) or value != kept):
                lost.add(name)
    if not lost:
        return
    reasons = [p for p in parsed.problems if p.artifact == artifact and p.key in lost]
    reason = str(reasons[0]) if reasons else f"key '{sorted(map(str, lost))[0]}'"
    raise RegistryError(
        f"cannot edit {artifact}: its entry has a problem this command would not fix, and "
        f"rewriting the entry would lose it: {reason}",
        hint=f"fix the entry by hand first, or set that key ({parsed.file} was not changed)",
    )


_MISSING = object()


def _expected(fields: dict[str, Any]) -> dict[str, Any]:
    """The annotation ``fields`` describe, as :meth:`Annotation.to_json` gives it."""
    virtual = fields.get("virtual")
    return {
        "path": fields.get("path"),
        "type": fields.get("type"),
        "description": fields.get("description"),
        "labels": list(fields.get("labels") or ()),
        "custom": fields.get("custom"),
        "virtual": True if virtual is None else virtual,
        "sha256": fields.get("sha256"),
        "requires": list(fields.get("requires") or ()),
    }


def _differs_from_head(session: Session, file: str, data: bytes) -> bool:
    head = session.repo().head()
    committed = session.repo().blob_at(head, file) if head is not None else None
    return (committed[1] if committed else b"") != data


# -- the file in the work tree: never through a link, never anything but a regular file --

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _refuse_link(where: str, file: str) -> RegistryError:
    if where == file:
        return RegistryError(
            f"{file} is a symbolic link: git registry reads {ann.FILENAME} from commits, "
            "where a link is not followed, and will not replace your link with a file",
            hint=f"replace the link with a regular file (e.g. cp --remove-destination "
            f'"$(readlink -f {file})" {file}), then run this again',
        )
    return RegistryError(
        f"{where} is a symbolic link: git registry reads {file} from commits, where a link "
        "is not followed (git add refuses a path beyond one), and writes nothing through it",
        hint=f"annotate the artifact in the folder the link points to, or replace {where} "
        "with a folder; nothing was changed",
    )


def _open_folder(
    work_tree: str, folders: Sequence[str], file: str, created: list[str] | None = None
) -> int | None:
    """A descriptor of the folder ``folders`` of the work tree, opened one part at a time
    without following a symbolic link (``O_NOFOLLOW``): whatever the folders are, or
    become meanwhile, nothing is read or written outside the work tree.

    Args:
        work_tree: the top of the work tree.
        folders: the parts of the folder's path in it.
        file: the file's repository path, for messages.
        created: if given, missing folders are made, and each one made is appended to it;
            else a missing folder returns None.

    Raises:
        RegistryError: a part is a symbolic link, or not a folder.
    """
    try:
        fd = os.open(work_tree, _DIR_FLAGS)
    except OSError as exc:
        raise RegistryError(
            f"cannot open the work tree {work_tree}: {exc.strerror or exc}",
            hint="nothing was changed",
        ) from None
    where = ""
    try:
        for n, part in enumerate(folders, 1):
            where = "/".join(folders[:n])
            try:
                inner = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if created is None:
                    os.close(fd)
                    return None
                with contextlib.suppress(FileExistsError):  # made meanwhile: open it
                    os.mkdir(part, dir_fd=fd)
                    created.append(where)
                inner = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
    except OSError as exc:
        os.close(fd)
        if exc.errno == errno.ELOOP or os.path.islink(os.path.join(work_tree, where)):
            raise _refuse_link(where, file) from None
        if exc.errno == errno.ENOTDIR:
            raise RegistryError(
                f"cannot use {file}: {where} is not a folder", hint="nothing was changed"
            ) from None
        raise RegistryError(
            f"cannot use the folder {where}: {exc.strerror or exc}", hint="nothing was changed"
        ) from None
    return fd


def _check_regular(mode: int, file: str) -> None:
    """Refuse anything but a regular file at ``file`` (``mode`` as ``lstat`` gives it)."""
    if stat.S_ISLNK(mode):
        raise _refuse_link(file, file)
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        kind = "a folder"
    elif stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a device"
    raise RegistryError(
        f"{file} is {kind}, not a regular file: git registry reads and writes only a "
        "regular file there",
        hint="move it away, then run this again; nothing was changed",
    )


def _read(work_tree: str, folders: Sequence[str], file: str) -> bytes:
    """The bytes of ``file`` in the work tree, b"" if it is absent.

    Its type is checked before it is opened (a FIFO would block, a device may act on
    open), and again once open (it may have been replaced meanwhile); it is opened
    without following a link and without blocking.

    Raises:
        RegistryError: a folder on the way or the file is a symbolic link; the file is
            not a regular file; it cannot be read.
    """
    folder = _open_folder(work_tree, folders, file)
    if folder is None:
        return b""
    try:
        try:
            _check_regular(
                os.stat(ann.FILENAME, dir_fd=folder, follow_symlinks=False).st_mode, file
            )
            fd = os.open(ann.FILENAME, _READ_FLAGS, dir_fd=folder)
        except FileNotFoundError:
            return b""
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refuse_link(file, file) from None
            raise RegistryError(f"cannot read {file}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as f:
            _check_regular(os.fstat(f.fileno()).st_mode, file)
            try:
                return f.read()
            except OSError as exc:
                raise RegistryError(f"cannot read {file}: {exc.strerror or exc}") from None
    finally:
        os.close(folder)


def _write(work_tree: str, folders: Sequence[str], file: str, data: bytes, scratch: str) -> None:
    """Replace ``file`` in the work tree by ``data``, making its folders if needed, never
    through a symbolic link. On failure nothing is changed: folders it made are removed.

    Raises:
        RegistryError: a folder on the way is a link or not a folder; the file is not a
            regular file (any more); it cannot be written.
    """
    created: list[str] = []
    folder = None
    try:
        folder = _open_folder(work_tree, folders, file, created)
        assert folder is not None
        with contextlib.suppress(FileNotFoundError):  # it may have changed since it was read
            _check_regular(
                os.stat(ann.FILENAME, dir_fd=folder, follow_symlinks=False).st_mode, file
            )
        _write_atomically(folder, data, scratch)
    except BaseException as exc:
        for where in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(work_tree, *where.split("/")))
        if isinstance(exc, OSError):
            raise RegistryError(
                f"cannot write {file}: {exc.strerror or exc}", hint=f"{file} was not changed"
            ) from None
        raise
    finally:
        if folder is not None:
            os.close(folder)


def _write_atomically(folder: int, data: bytes, scratch: str) -> None:
    """Replace ``artifacts.yaml`` in the open ``folder`` by ``data`` at once
    (``os.replace``), keeping its file mode.

    The new content is written first to a temporary file in ``scratch`` (a folder of
    the Git directory): a command killed at any moment, even by SIGKILL, leaves the
    old file or the new one, and no stray file that ``git status`` would show. Where
    ``scratch`` is on another file system (a rename cannot cross it), the temporary
    file goes next to the file instead, and is removed on any error.

    Raises:
        OSError: the file cannot be written (nothing was changed).
    """
    try:
        now = os.stat(ann.FILENAME, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        now = None
    regular = now is not None and stat.S_ISREG(now.st_mode)
    mode = now.st_mode & 0o777 if now is not None and regular else 0o666 & ~_umask()
    for where in (scratch, None) if _same_device(scratch, os.fstat(folder).st_dev) else (None,):
        if where is not None:
            fd, tmp = tempfile.mkstemp(prefix=".artifacts.yaml.", suffix=".tmp", dir=where)
            tmp_folder = None
        else:
            tmp = f".artifacts.yaml.{os.urandom(6).hex()}.tmp"
            fd = os.open(tmp, _CREATE_FLAGS, 0o600, dir_fd=folder)
            tmp_folder = folder
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fchmod(f.fileno(), mode)
                os.fsync(f.fileno())
            os.replace(tmp, ann.FILENAME, src_dir_fd=tmp_folder, dst_dir_fd=folder)
            return
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=tmp_folder)
            if where is not None and isinstance(exc, OSError) and exc.errno == errno.EXDEV:
                continue  # a bind mount: the same device, but no rename across it
            raise


def _same_device(scratch: str, device: int) -> bool:
    try:
        os.makedirs(scratch, exist_ok=True)
        return os.stat(scratch).st_dev == device
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _commit(
    session: Session,
    work_tree: str,
    file: str,
    message: str,
    remote: str | None,
    added: Sequence[str] = (),
) -> None:
    result = gitbin.commit_only(file, message, also=added, cwd=work_tree, env=session.env)
    if result.returncode != 0:
        raise RegistryError(
            f"git commit failed: {gitbin.git_reason(result, 'commit')}",
            # 'git add' staged them before the commit was refused: say so (the user's
            # next 'git commit' would commit them).
            hint=f"{', '.join([file, *added])} {'is' if not added else 'are'} changed and "
            "staged (git add): commit yourself when ready, or unstage (git restore --staged)",
        )
    session.repo().forget_head()
    head = gitbin.short_id("HEAD", cwd=work_tree, env=session.env)
    with_ = f" with {', '.join(added)}" if added else ""
    session.out(f"Committed {file}{with_} as {head}: {message}")
    if remote is not None:
        session.out(f"Running: git push {shlex.quote(remote)} HEAD")
        pushed = transport.push(remote, ["HEAD"], cwd=work_tree, env=session.env)
        relay(session, transport.remote_lines(pushed))
        if pushed.returncode != 0:
            from git_registry.errors import PushError

            reason, hint = push_failure(remote, pushed, cwd=work_tree, env=session.env)
            retry = f"retry with: git push {shlex.quote(remote)} HEAD"
            raise PushError(
                f"push to '{remote}' failed: {reason}; the commit is kept locally",
                hint=f"{hint}; then {retry}" if hint else retry,
            )
        session.out(f"Pushed to {remote}.")
