"""The one place that runs the ``git`` binary.

We use Git itself where its own rules are the contract and re-implementing them
would drift: finding the repository (``GIT_DIR``, worktrees, bare repositories,
``safe.directory``), resolving revisions, the committer identity
(``GIT_COMMITTER_*``, ``user.*``, ``git -c``), configuration including
``GIT_CONFIG_PARAMETERS``, and pushing (credential helpers, ``pushurl`` and the
user's own hooks apply).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass

from git_registry.errors import RegistryError
from git_registry.tags import ObjectId, Signature


class GitError(RegistryError):
    """``git`` failed; the message carries what Git printed."""


@dataclass(frozen=True, slots=True)
class GitResult:
    returncode: int
    stdout: str
    stderr: str


def run_git(
    args: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    check: bool = True,
) -> GitResult:
    """Run ``git ARGS`` and capture its output as text.

    Raises:
        GitError: ``git`` is missing, or exits non-zero and ``check`` is set.
    """
    if cwd is not None:
        env = _absolute_git_paths(os.environ if env is None else env)
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=input_text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("the 'git' binary was not found on PATH") from exc
    result = GitResult(proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise GitError(_git_message(result, args))
    return result


_PATH_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
)


def _absolute_git_paths(env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` with relative repository paths made absolute.

    Git exports ``--git-dir`` and ``--work-tree`` (and a user exports ``GIT_DIR``
    …) as given, relative to the directory it ran us in; we run ``git`` in the top
    of the work tree, where they would name another directory.
    """
    relative = [name for name in _PATH_VARIABLES if env.get(name) and not os.path.isabs(env[name])]
    if not relative:
        return env
    here = os.getcwd()
    return {**env, **{name: os.path.join(here, env[name]) for name in relative}}


def _git_message(result: GitResult, args: Sequence[str]) -> str:
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    fatal = [ln[len("fatal: ") :] for ln in lines if ln.startswith("fatal: ")]
    if fatal:
        return fatal[-1]
    if lines:
        return lines[-1]
    return f"'git {' '.join(args)}' failed with exit code {result.returncode}"


@dataclass(frozen=True, slots=True)
class RepoPaths:
    """Where a repository lives, as Git itself found it."""

    git_dir: str
    common_dir: str
    work_tree: str | None
    bare: bool


def discover(cwd: str | None = None) -> RepoPaths:
    """Find the repository for ``cwd`` exactly as Git does.

    Raises:
        GitError: not inside a Git repository (Git's own message).
    """
    here = cwd or os.getcwd()
    out = run_git(
        [
            "rev-parse",
            "--absolute-git-dir",
            "--git-common-dir",
            "--is-bare-repository",
            "--is-inside-work-tree",
            "--show-cdup",
        ],
        cwd=here,
    ).stdout.split("\n")
    git_dir, common, bare, inside = out[0], out[1], out[2], out[3]
    # --show-cdup prints a line only inside a work tree.
    work_tree = os.path.normpath(os.path.join(here, out[4])) if inside == "true" else None
    return RepoPaths(
        git_dir=git_dir,
        common_dir=os.path.normpath(os.path.join(here, common)),
        work_tree=work_tree,
        bare=bare == "true",
    )


def resolve_commit(rev: str, cwd: str | None = None) -> ObjectId | None:
    """The commit a revision names (``HEAD~2``, a branch, a tag, a short id), or None."""
    if rev.startswith("-"):
        return None
    result = run_git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        cwd=cwd,
        check=False,
    )
    oid = result.stdout.strip()
    return ObjectId(oid) if result.returncode == 0 and oid else None


_IDENT_RE = re.compile(r"^(?P<name>.*) <(?P<email>[^<>]*)> (?P<time>-?\d+) (?P<tz>[+-]\d{4})$")


def committer_ident(cwd: str | None = None) -> Signature:
    """The committer identity and time Git would use now.

    ``git var GIT_COMMITTER_IDENT`` applies Git's rules: ``GIT_COMMITTER_NAME``,
    ``GIT_COMMITTER_EMAIL`` and ``GIT_COMMITTER_DATE``, then ``user.name`` and
    ``user.email`` (including ``git -c`` overrides).

    Raises:
        GitError: Git does not know who you are (with Git's own advice).
    """
    result = run_git(["var", "GIT_COMMITTER_IDENT"], cwd=cwd, check=False)
    if result.returncode != 0:
        raise GitError(
            _git_message(result, ["var"]),
            hint="tell Git who you are: git config --global user.name 'Your Name' && "
            "git config --global user.email you@example.com",
        )
    match = _IDENT_RE.match(result.stdout.strip())
    if match is None:
        raise GitError(f"cannot parse the committer identity {result.stdout.strip()!r}")
    tz = match["tz"]
    minutes = int(tz[1:3]) * 60 + int(tz[3:5])
    return Signature(
        name=match["name"],
        email=match["email"],
        time=int(match["time"]),
        tz_offset=-minutes if tz[0] == "-" else minutes,
    )


def config_values(pattern: str, cwd: str | None = None) -> dict[str, str]:
    """Git config entries whose key matches the regular expression ``pattern``.

    Keys come back lower-cased as Git prints them; the last value wins, as in Git.
    Reading through ``git config`` honours ``git -c`` (``GIT_CONFIG_PARAMETERS``).
    """
    result = run_git(["config", "-z", "--get-regexp", pattern], cwd=cwd, check=False)
    values: dict[str, str] = {}
    for entry in result.stdout.split("\0"):
        if entry:
            key, _, value = entry.partition("\n")
            values[key] = value
    return values


def head_ref(git_dir: str, cwd: str | None = None) -> str | None:
    """The ref HEAD names (``refs/heads/main``), existing or not; None if it is detached."""
    result = run_git(
        [f"--git-dir={git_dir}", "symbolic-ref", "--quiet", "HEAD"], cwd=cwd, check=False
    )
    ref = result.stdout.strip()
    return ref if result.returncode == 0 and ref else None


def branch_refs(git_dir: str, limit: int, cwd: str | None = None) -> list[str]:
    """The first ``limit`` branches (``refs/heads/...``), by name."""
    args = ["for-each-ref", f"--count={limit}", "--format=%(refname)", "refs/heads/"]
    result = run_git([f"--git-dir={git_dir}", *args], cwd=cwd)
    return result.stdout.splitlines()


def files_named(commit: str, filename: str, cwd: str | None = None) -> list[str]:
    """Every path in ``commit`` whose last part is ``filename`` (one ``git ls-tree``),
    folders included (``-t``): a folder named like the file is reported, not skipped."""
    result = run_git(
        ["ls-tree", "-r", "-t", "-z", "--name-only", "--full-tree", "--end-of-options", commit],
        cwd=cwd,
    )
    return sorted(
        path
        for path in result.stdout.split("\0")
        if path == filename or path.endswith("/" + filename)
    )


def check_remote(remote: str, *, source: str = "remote") -> str:
    """Return ``remote`` (a remote's name, a URL or a path) if it may be given to Git.

    Git reads a word that starts with '-' as an option even where it expects a remote
    (``git fetch --upload-pack=CMD`` runs CMD), so such a remote is refused, wherever it
    came from (the command line, ``registry.remote``, a configured remote's URL).

    Args:
        remote: the remote as the user gave it.
        source: where it came from, for the message (``--remote``, ``registry.remote``…).

    Raises:
        RegistryError: ``remote`` starts with '-'.
    """
    if remote.startswith("-"):
        # Not escaped here: every message is, when it is printed (render.escape).
        raise RegistryError(
            f"refusing {source} '{remote}': a remote name or URL cannot start with '-' "
            "(Git would read it as an option)",
            hint="give a configured remote's name (see: git remote -v) or its URL; "
            "write a path that starts with '-' as ./-path",
        )
    return remote


_NO_EXT = ("-c", "protocol.ext.allow=never")
"""``ext::CMD`` URLs run CMD (git-remote-ext(1)): never allowed, whatever the user's
config says (``-c`` beats every config file)."""


def _without_ext(env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` without ``ext`` in ``GIT_ALLOW_PROTOCOL``, which beats even ``-c``
    (git(1), GIT_ALLOW_PROTOCOL)."""
    allowed = env.get("GIT_ALLOW_PROTOCOL")
    if allowed is None:
        return env
    kept = ":".join(p for p in allowed.split(":") if p.strip().lower() != "ext")
    return {**env, "GIT_ALLOW_PROTOCOL": kept}


def run_transport(
    command: str,
    options: Sequence[str],
    remote: str,
    operands: Sequence[str] = (),
    *,
    cwd: str | None = None,
    config: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    check: bool = True,
) -> GitResult:
    """Run ``git [-c CONFIG]… COMMAND OPTIONS --end-of-options REMOTE OPERANDS…``.

    The one way we run a command that talks to a remote (``ls-remote``, ``fetch``,
    ``push``): the remote and the operands (patterns, refspecs) come after
    ``--end-of-options``, so Git never reads them as options; the remote passes
    :func:`check_remote`; the ``ext::`` transport is off.

    Args:
        command: the Git command (a literal).
        options: its options (literals we wrote, never user values).
        remote: a remote's name, a URL or a path.
        operands: what follows the remote (refspecs, patterns).
        config: ``key=value`` settings for this run only (literals).
        env: the environment (default ``os.environ``).

    Raises:
        RegistryError: ``remote`` starts with '-'.
        GitError: ``git`` fails and ``check`` is set.
    """
    args = [*_NO_EXT]
    for setting in config:
        args += ["-c", setting]
    args += [command, *options, "--end-of-options", check_remote(remote), *operands]
    return run_git(
        args,
        cwd=cwd,
        env=_without_ext(os.environ if env is None else env),
        input_text=input_text,
        check=check,
    )


def push(
    remote: str, refspecs: Sequence[str], *, delete: bool = False, cwd: str | None = None
) -> GitResult:
    """``git push --porcelain [--delete] REMOTE REFSPEC…`` through the real binary;
    never forced."""
    options = ["--porcelain", *(["--delete"] if delete else [])]
    return run_transport("push", options, remote, refspecs, cwd=cwd, check=False)


def tag_word(name: str) -> str:
    """Tag ``name`` as a word of a ``git`` command we print for the user to run:
    ``refs/tags/NAME`` if it starts with '-' (a folder such as ``-x:model``), so that
    Git cannot read it as an option."""
    return "refs/tags/" + name if name.startswith("-") else name


_CAT_FILE = ("cat-file", "--batch", "--buffer")
_CAT_ONE = ("cat-file", "--batch")
_CAT_CHECK = ("cat-file", "--batch-check", "--buffer")


def _cat_file(git_dir: str, args: Sequence[str]) -> subprocess.Popen[bytes]:
    """A ``git cat-file`` reading ids on stdin, with replace refs off."""
    try:
        return subprocess.Popen(
            ["git", f"--git-dir={git_dir}", "--no-replace-objects", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise GitError("the 'git' binary was not found on PATH") from exc


def stream_objects(
    git_dir: str, oids: Sequence[str]
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
    proc = _cat_file(git_dir, _CAT_FILE)
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


_FULL_ID_RE = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def object_types(git_dir: str, oids: Sequence[str]) -> list[str | None]:
    """The type of each of ``oids`` (``commit``, ``tree``…), in order; None for a
    missing object, or an id that is not a full lower-case hex id (never sent to Git).

    One ``git cat-file --batch-check`` for all of them: no object is read, only
    looked up (a tag on a 1 GB blob costs what a tag on a commit does). Replace
    refs are not applied, as in :func:`stream_objects`. If Git fails midway, the
    rest are None.

    Raises:
        GitError: ``git`` is missing.
    """
    sent = [oid for oid in oids if _FULL_ID_RE.fullmatch(oid)]
    if not sent:
        return [None] * len(oids)
    try:
        proc = subprocess.run(
            ["git", f"--git-dir={git_dir}", "--no-replace-objects", *_CAT_CHECK],
            input="".join(oid + "\n" for oid in sent).encode("ascii"),
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


class ObjectTooLarge(Exception):
    """An object larger than the caller's limit: its bytes were skipped, never kept."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


class ObjectReader:
    """One ``git cat-file --batch`` process, kept open to read objects one at a time.

    For the few objects a command reads by path (a commit, its trees, an
    ``artifacts.yaml``): a round trip takes microseconds, where importing and
    opening dulwich takes 20 ms. Replace refs are not applied, as in
    :func:`stream_objects`. Call :meth:`close` when done.
    """

    def __init__(self, git_dir: str) -> None:
        self._git_dir = git_dir
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
        if "\n" in oid or not oid:
            return None
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(oid.encode("ascii", "replace") + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:
                if len(header) == 2:  # "<oid> missing"
                    return None
                raise GitError("git cat-file stopped unexpectedly")
            size = int(header[2])
            if limit is not None and size > limit:
                left = size + 1
                while left > 0:  # skip it, a megabyte at a time
                    chunk = proc.stdout.read(min(left, 1 << 20))
                    if not chunk:
                        raise GitError("git cat-file stopped unexpectedly")
                    left -= len(chunk)
                raise ObjectTooLarge(size)
            data = proc.stdout.read(size + 1)
        except (OSError, ValueError) as exc:
            raise GitError(f"git cat-file failed: {exc}") from exc
        if len(data) != size + 1:
            raise GitError("git cat-file stopped unexpectedly")
        return header[1].decode("ascii", "replace"), data[:size]

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = _cat_file(self._git_dir, _CAT_ONE)
        return self._proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            proc.stdout.close()
            proc.wait()
