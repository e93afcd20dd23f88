"""Running the ``git`` binary (the object streams of ``git cat-file`` are
:mod:`git_registry.gitobjects`, the commands that talk to a remote
:mod:`git_registry.transport`).

We use Git itself where its own rules are the contract and re-implementing them
would drift: finding the repository (``GIT_DIR``, worktrees, bare repositories,
``safe.directory``), resolving revisions, the committer identity
(``GIT_COMMITTER_*``, ``user.*``, ``git -c``), configuration including
``GIT_CONFIG_PARAMETERS``, and pushing (credential helpers, ``pushurl`` and the
user's own hooks apply).
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from git_registry.errors import GitError, ObjectTooLarge, RegistryError
from git_registry.gitvalues import ObjectId, Signature
from git_registry.grammar import lazy_compile

__all__ = ["GitError", "ObjectTooLarge"]  # re-exported: their home is git_registry.errors

FULL_ID_RE = lazy_compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
"""A whole object id (SHA-1 or SHA-256)."""

Env = Mapping[str, str] | None
"""The environment ``git`` runs with: the session's; None means ``os.environ``."""


@dataclass(frozen=True, slots=True)
class GitResult:
    returncode: int
    stdout: str
    stderr: str


def run_git(
    args: Sequence[str],
    *,
    cwd: str | None = None,
    env: Env = None,
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
            # Replace refs (refs/replace/*, which anyone who can push may push) would let
            # Git show one commit's files for another's: the registry reads objects as
            # they are, as its cat-file streams do.
            ["git", "--no-replace-objects", *args],
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
        raise GitError(git_reason(result, _command_of(args)))
    return result


def _command_of(args: Sequence[str]) -> str:
    """The Git command in ``args`` (``push`` in ``-c x=y push …``), for messages."""
    words = iter(args)
    for word in words:
        if word == "-c":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


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


_SAID = ("fatal: ", "error: ")


def git_reason(result: GitResult, command: str = "") -> str:
    """Why ``git`` failed, in one line as Git printed it: the first ``fatal:`` or
    ``error:`` line without that prefix (the lines after it are advice, such as
    removing a lock file), else the first line it printed, else ``git COMMAND
    exited with N``. The one reader of Git's error output.

    Not escaped: it may quote what a server sent; every message is escaped when it
    is printed.
    """
    raw = result.stderr.splitlines()
    for i, line in enumerate(raw):
        if line.strip().startswith(_SAID):
            # Git continues a message on lines that start with a tab ("unknown
            # repository extension found:\n\trefstorage").
            more = [ln.strip() for ln in itertools.takewhile(_continues, raw[i + 1 :])]
            return " ".join([line.strip().partition(": ")[2], *more])
    lines = [ln.strip() for ln in raw if ln.strip()]
    if lines and lines[0].endswith(":"):
        # A list follows ("The following paths are ignored by one of your .gitignore
        # files:"), then advice: the list is the reason.
        listed = list(itertools.takewhile(lambda ln: not ln.startswith("hint:"), lines[1:]))
        return " ".join([lines[0], ", ".join(listed)]).strip()
    if lines:
        return lines[0]
    return f"git {command or 'command'} exited with {result.returncode}".replace("  ", " ")


def _continues(line: str) -> bool:
    return line.startswith("\t") and bool(line.strip())


# -- configuration ---------------------------------------------------------------------------


class GitConfig(dict[str, str]):
    """Config entries (lower-cased key -> value, the last value wins, as in Git).

    ``implicit`` holds the keys set without ``=`` (``[registry] cache``): Git reads
    such a key as boolean true; its value here is ``""``.
    """

    def __init__(
        self, values: Mapping[str, str] | None = None, implicit: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(values or {})
        self.implicit = implicit


def config_values(pattern: str, cwd: str | None = None, *, env: Env = None) -> GitConfig:
    """Git config entries whose key matches the regular expression ``pattern``.

    Keys come back lower-cased as Git prints them; the last value wins, as in Git.
    Reading through ``git config`` honours ``git -c`` (``GIT_CONFIG_PARAMETERS``).
    """
    values: dict[str, str] = {}
    implicit: set[str] = set()
    for key, value in config_entries(pattern, cwd, env=env):
        values[key] = value or ""
        (implicit.add if value is None else implicit.discard)(key)
    return GitConfig(values, frozenset(implicit))


def config_entries(
    pattern: str, cwd: str | None = None, *, env: Env = None
) -> list[tuple[str, str | None]]:
    """Every config entry whose key matches the regular expression ``pattern``, in the
    order Git reads them (a key set twice is listed twice): (lower-cased key, value),
    the value None for a key set without ``=`` (``[registry] cache``)."""
    result = run_git(["config", "-z", "--get-regexp", pattern], cwd=cwd, env=env, check=False)
    entries: list[tuple[str, str | None]] = []
    for entry in result.stdout.split("\0"):
        if entry:
            key, newline, value = entry.partition("\n")
            # "-z": a key without a value is printed without the line break.
            entries.append((key, value if newline else None))
    return entries


def with_config(env: Env, entries: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``env`` (None: ``os.environ``) with the config ``entries`` (key, value) given to
    every ``git`` run with it, as ``git -c`` gives them, but never where an option is
    read: numbered after the ``GIT_CONFIG_COUNT`` entries already there, and, if
    ``GIT_CONFIG_PARAMETERS`` (what ``git -c`` sets) is set, also at its end, quoted as
    Git quotes it (config.c, ``git_config_push_parameter``). Git reads
    ``GIT_CONFIG_PARAMETERS`` after ``GIT_CONFIG_COUNT``: without that, a user's ``git -c
    KEY=…`` would win over ours (Git 2.39)."""
    base = dict(os.environ if env is None else env)
    count = base.get("GIT_CONFIG_COUNT", "")
    start = int(count) if count.isdigit() else 0
    for i, (key, value) in enumerate(entries, start):
        base[f"GIT_CONFIG_KEY_{i}"] = key
        base[f"GIT_CONFIG_VALUE_{i}"] = value
    base["GIT_CONFIG_COUNT"] = str(start + len(entries))
    parameters = base.get("GIT_CONFIG_PARAMETERS")
    if parameters is not None:
        added = " ".join(f"{_sq_quote(key)}={_sq_quote(value)}" for key, value in entries)
        base["GIT_CONFIG_PARAMETERS"] = f"{parameters} {added}" if parameters else added
    return base


def _sq_quote(text: str) -> str:
    """``text`` single-quoted as Git's ``sq_quote_buf`` does: ``'`` and ``!`` outside the
    quotes, after a backslash."""
    return "'" + "".join(f"'\\{c}'" if c in "'!" else c for c in text) + "'"


_INT_RE = lazy_compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgG]?)")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_INT_MAX = 2**31 - 1


def parse_bool(value: str | None, key: str) -> bool:
    """A boolean config value read as Git reads it (``git_config_bool``, config.c).

    True: ``true``, ``yes``, ``on`` (any case), a key without a value (None), a
    non-zero integer (``1``, ``2``, ``0x10``, ``1k``); false: ``false``, ``no``,
    ``off``, the empty string, ``0``.

    Raises:
        RegistryError: any other value, in Git's words: ``bad boolean config value
            'VALUE' for 'KEY'``.
    """
    if value is None:
        return True
    word = value.lower()
    if word in ("true", "yes", "on"):
        return True
    if word in ("false", "no", "off", ""):
        return False
    match = _INT_RE.fullmatch(value)  # git_parse_int: strtoimax(base 0), then a unit
    if match is not None:
        _sign, digits, unit = match.groups()
        if digits[:2] in ("0x", "0X"):
            number = int(digits[2:], 16)
        else:
            number = int(digits, 8 if digits.startswith("0") else 10)
        if number <= _INT_MAX // _UNITS[unit.lower()]:  # else out of range for an int
            return number != 0
    raise RegistryError(f"bad boolean config value '{value}' for '{key}'")


def config_bool(values: Mapping[str, str], key: str, default: bool) -> bool:
    """The boolean config ``key`` (lower-case, as :func:`config_values` returns keys)
    from ``values``, read as Git reads it (:func:`parse_bool`); ``default`` if unset.

    Raises:
        RegistryError: the value is not a boolean, in Git's words.
    """
    if key not in values:
        return default
    implicit = isinstance(values, GitConfig) and key in values.implicit
    return parse_bool(None if implicit else values[key], key)


def config_file_value(path: str, key: str, *, env: Env = None) -> str | None:
    """The value of ``key`` in the config file ``path`` alone (``git config --file``),
    or None if it is not set there. Needs no repository: it reads even the config of
    one this Git cannot open (an extension it does not know)."""
    result = run_git(
        ["config", "--file", path, "--get", "--end-of-options", key], env=env, check=False
    )
    return result.stdout.rstrip("\n") if result.returncode == 0 else None


def set_config(key: str, value: str, *, cwd: str, env: Env = None) -> None:
    """``git config KEY VALUE`` in the repository at ``cwd``.

    Raises:
        GitError: Git refused (its reason).
    """
    run_git(["config", "--end-of-options", key, value], cwd=cwd, env=env)


@dataclass(frozen=True, slots=True)
class RepoPaths:
    """Where a repository lives, as Git itself found it."""

    git_dir: str
    common_dir: str
    work_tree: str | None
    bare: bool


_DISCOVER = (
    "rev-parse",
    "--absolute-git-dir",
    "--git-common-dir",
    "--is-bare-repository",
    "--is-inside-work-tree",
    "--show-cdup",
)


def discover(cwd: str | None = None, *, env: Env = None) -> RepoPaths:
    """Find the repository for ``cwd`` exactly as Git does.

    Raises:
        GitError: not inside a Git repository (Git's own message).
    """
    here = cwd or os.getcwd()
    return _paths(here, run_git(_DISCOVER, cwd=here, env=env).stdout.split("\n"))


def discover_at_head(
    cwd: str | None = None, *, env: Env = None
) -> tuple[RepoPaths, ObjectId | None]:
    """:func:`discover`, and the commit HEAD names there (None if it names none, as
    :func:`resolve_commit` says), with one ``git`` process.

    ``git rev-parse`` prints the discovery lines, then ``--verify -q HEAD^{commit}``
    prints HEAD's commit on a last line; where HEAD names no commit (an unborn
    branch) it prints nothing more, quietly, and exits 1 (Git 2.39).

    Raises:
        GitError: not inside a Git repository (Git's own message).
    """
    here = cwd or os.getcwd()
    args = [*_DISCOVER, "--verify", "--quiet", "--end-of-options", "HEAD^{commit}"]
    result = run_git(args, cwd=here, env=env, check=False)
    # Every line ends with a line break; --show-cdup prints a line or none (see _paths),
    # so HEAD is found from the end.
    lines = result.stdout.split("\n")[:-1]
    head = lines.pop() if result.returncode == 0 and lines else None
    inside = lines[3:4] == ["true"]
    if (
        result.returncode not in (0, 1)
        or len(lines) < (5 if inside else 4)
        or (head is not None and not FULL_ID_RE.fullmatch(head))
    ):
        raise GitError(git_reason(result, "rev-parse"))
    return _paths(here, lines), ObjectId(head) if head else None


def _paths(here: str, out: list[str]) -> RepoPaths:
    """The repository of ``git rev-parse`` :data:`_DISCOVER` run in ``here``.

    Raises:
        GitError: the lines are not what Git prints for a repository: its path holds a
            line break (Git prints paths one per line, with no way to quote them).
    """
    if len(out) < 4 or any(flag not in ("true", "false") for flag in out[2:4]):
        raise GitError(
            "cannot tell where the repository is: its path holds a line break, "
            "which git registry does not support"
        )
    git_dir, common, bare, inside = out[0], out[1], out[2], out[3]
    # --show-cdup prints the way up to the work tree inside one, the work tree's path
    # outside one (GIT_WORK_TREE elsewhere), and nothing where there is none.
    work_tree = os.path.normpath(os.path.join(here, out[4])) if inside == "true" else None
    return RepoPaths(
        git_dir=git_dir,
        common_dir=os.path.normpath(os.path.join(here, common)),
        work_tree=work_tree,
        bare=bare == "true",
    )


def resolve_commit(
    rev: str, cwd: str | None = None, *, env: Env = None, git_dir: str | None = None
) -> ObjectId | None:
    """The commit a revision names (``HEAD~2``, a branch, a tag, a short id), or None.

    Args:
        git_dir: the repository to look in, whatever ``GIT_DIR`` says.
    """
    if rev.startswith("-"):
        return None
    result = run_git(
        [
            *_git_dir_option(git_dir),
            *("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"),
        ],
        cwd=cwd,
        env=env,
        check=False,
    )
    oid = result.stdout.strip()
    return ObjectId(oid) if result.returncode == 0 and oid else None


def _git_dir_option(git_dir: str | None) -> list[str]:
    return [] if git_dir is None else [f"--git-dir={git_dir}"]


def committer_ident(cwd: str | None = None, *, env: Env = None) -> Signature:
    """The committer identity and time Git would use now.

    ``git var GIT_COMMITTER_IDENT`` applies Git's rules: ``GIT_COMMITTER_NAME``,
    ``GIT_COMMITTER_EMAIL`` and ``GIT_COMMITTER_DATE``, then ``user.name`` and
    ``user.email`` (including ``git -c`` overrides).

    Raises:
        GitError: Git does not know who you are (with Git's own advice).
    """
    from git_registry.tagobject import parse_ident

    result = run_git(["var", "GIT_COMMITTER_IDENT"], cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        raise GitError(
            git_reason(result, "var"),
            hint="tell Git who you are: git config --global user.name 'Your Name' && "
            "git config --global user.email you@example.com",
        )
    ident = parse_ident(result.stdout.rstrip("\n").encode("utf-8", "surrogateescape"))
    if ident is None:
        raise GitError(f"cannot parse the committer identity {result.stdout.strip()!r}")
    return ident


def head_ref(git_dir: str, cwd: str | None = None, *, env: Env = None) -> str | None:
    """The ref HEAD names (``refs/heads/main``), existing or not; None if it is detached."""
    result = run_git(
        [f"--git-dir={git_dir}", "symbolic-ref", "--quiet", "HEAD"], cwd=cwd, env=env, check=False
    )
    ref = result.stdout.strip()
    return ref if result.returncode == 0 and ref else None


def branch_refs(git_dir: str, limit: int, cwd: str | None = None, *, env: Env = None) -> list[str]:
    """The first ``limit`` branches (``refs/heads/...``), by name."""
    args = ["for-each-ref", f"--count={limit}", "--format=%(refname)", "refs/heads/"]
    result = run_git([f"--git-dir={git_dir}", *args], cwd=cwd, env=env)
    return result.stdout.splitlines()


def branch_tips(
    git_dir: str, remotes: bool, cwd: str | None = None, *, env: Env = None
) -> dict[str, ObjectId]:
    """Every branch (``main``) and, with ``remotes``, remote-tracking branch
    (``origin/main``) -> the commit at its tip."""
    prefixes = ["refs/heads/", "refs/remotes/"] if remotes else ["refs/heads/"]
    args = ["for-each-ref", "--format=%(objectname) %(refname)", *prefixes]
    result = run_git([f"--git-dir={git_dir}", *args], cwd=cwd, env=env)
    tips: dict[str, ObjectId] = {}
    for line in result.stdout.splitlines():
        oid, _, ref = line.partition(" ")
        for prefix in prefixes:
            if oid and ref.startswith(prefix) and not ref.endswith("/HEAD"):
                tips[ref[len(prefix) :]] = ObjectId(oid)
    return tips


def is_ancestor(
    commit: ObjectId, tip: ObjectId, cwd: str | None = None, *, env: Env = None
) -> bool:
    """Whether ``commit`` is reachable from ``tip`` (both object ids, never options)."""
    result = run_git(
        ["merge-base", "--is-ancestor", "--end-of-options", commit, tip],
        cwd=cwd,
        env=env,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise GitError(
            f"cannot tell whether {commit} is on {tip}: {git_reason(result, 'merge-base')}"
        )
    return result.returncode == 0


def log_numstat(
    old: ObjectId, new: ObjectId, limit: int, cwd: str | None = None, *, env: Env = None
) -> str:
    """``git log --numstat -z`` of the commits ``new`` has and ``old`` lacks (both object
    ids, never options), newest first, at most ``limit``: for each, a NUL-separated
    header (id, author name, email, Unix time, offset, subject), then ``ADDED\tDELETED\t
    PATH`` records (renames as a delete and an add). Parsed by :mod:`versiondiff`."""
    result = run_git(
        [
            "log",
            "--no-renames",
            "--no-color",
            "--no-ext-diff",
            "-z",
            "--numstat",
            f"--max-count={limit}",
            "--date=format:%z",
            "--format=%H%x00%an%x00%ae%x00%at%x00%ad%x00%s",
            "--end-of-options",
            f"{old}..{new}",
            "--",
        ],
        cwd=cwd,
        env=env,
    )
    return result.stdout


def count_commits(old: ObjectId, new: ObjectId, cwd: str | None = None, *, env: Env = None) -> int:
    """How many commits ``new`` has that ``old`` lacks (object ids, never options)."""
    result = run_git(
        ["rev-list", "--count", "--end-of-options", f"{old}..{new}", "--"], cwd=cwd, env=env
    )
    return int(result.stdout.strip() or 0)


def unreachable(
    commits: Iterable[ObjectId],
    tips: Iterable[ObjectId],
    cwd: str | None = None,
    *,
    env: Env = None,
) -> set[ObjectId]:
    """Those of ``commits`` that no tip in ``tips`` reaches: one ``git rev-list`` of the
    commits not reachable from the tips (object ids on its input, never options)."""
    wanted = set(commits)
    if not wanted:
        return set()
    lines = [*sorted(wanted), *(f"^{tip}" for tip in sorted(set(tips)))]
    result = run_git(["rev-list", "--stdin"], cwd=cwd, env=env, input_text="\n".join(lines) + "\n")
    return {ObjectId(line) for line in result.stdout.split() if line in wanted}


def commits_containing(
    commit: ObjectId, candidates: Iterable[ObjectId], cwd: str | None = None, *, env: Env = None
) -> set[ObjectId]:
    """Those of ``candidates`` that contain ``commit`` (it, or a descendant of it): one
    ``git rev-list --ancestry-path`` from the candidates down to ``commit`` (object ids
    on its input, never options), which walks only the history between them (``git tag
    --contains`` over every registration tag took a second at 100,000 tags)."""
    wanted = set(candidates)
    found = {commit} & wanted
    others = sorted(wanted - found)
    if not others:
        return found
    lines = [f"^{commit}", *others]
    result = run_git(
        ["rev-list", "--ancestry-path", "--stdin"],
        cwd=cwd,
        env=env,
        input_text="\n".join(lines) + "\n",
    )
    return found | {ObjectId(line) for line in result.stdout.split() if line in wanted}


def tag_refs(
    cwd: str | None = None, *, env: Env = None, git_dir: str | None = None
) -> dict[str, ObjectId]:
    """Every ref under ``refs/tags/`` (tag name -> object id) as ``git for-each-ref``
    lists them: whatever the ref storage (files or reftable), symbolic refs resolved.

    Raises:
        GitError: Git cannot read the repository (its reason).
    """
    result = run_git(
        [*_git_dir_option(git_dir), "for-each-ref", "--format=%(objectname) %(refname)", TAGS],
        cwd=cwd,
        env=env,
    )
    found: dict[str, ObjectId] = {}
    for line in result.stdout.splitlines():
        oid, _, ref = line.partition(" ")
        if oid and ref.startswith(TAGS):  # a symbolic ref to nothing has no object name
            found[ref[len(TAGS) :]] = ObjectId(oid)
    return found


TAGS = "refs/tags/"


def delete_ref(
    ref: str, *, cwd: str, env: Env = None, old: str | None = None, deref: bool = True
) -> bool:
    """``git update-ref -d REF [OLD]``: delete ``ref`` (only if it still holds ``old``,
    when given); False if Git refused."""
    args = ["update-ref", *([] if deref else ["--no-deref"]), "-d", "--end-of-options", ref]
    result = run_git([*args, *([old] if old else [])], cwd=cwd, env=env, check=False)
    return result.returncode == 0


def files_named(
    commit: str, filename: str, cwd: str | None = None, *, env: Env = None
) -> list[str]:
    """Every path in ``commit`` whose last part is ``filename`` (one ``git ls-tree``),
    folders included (``-t``): a folder named like the file is reported, not skipped."""
    result = run_git(
        ["ls-tree", "-r", "-t", "-z", "--name-only", "--full-tree", "--end-of-options", commit],
        cwd=cwd,
        env=env,
    )
    return sorted(
        path
        for path in result.stdout.split("\0")
        if path == filename or path.endswith("/" + filename)
    )


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A file in the index at stage 0 (merged): its mode (``100644``…), blob and path."""

    mode: str
    oid: ObjectId
    path: str


def staged_files(cwd: str | None = None, *, env: Env = None) -> list[IndexEntry]:
    """The merged (stage 0) entries of the index Git uses now (``GIT_INDEX_FILE``
    during ``git commit --only``), without submodules: one ``git ls-files --stage``.

    Raises:
        GitError: Git cannot read the index.
    """
    listing = run_git(["ls-files", "--stage", "-z"], cwd=cwd, env=env).stdout
    entries = []
    for entry in listing.split("\0"):
        meta, tab, path = entry.partition("\t")
        fields = meta.split()
        if tab and len(fields) == 3 and fields[2] == "0" and not fields[0].startswith("16"):
            entries.append(IndexEntry(fields[0], ObjectId(fields[1]), path))
    return entries


def work_tree_paths(cwd: str | None = None, *, env: Env = None) -> list[str]:
    """The paths ``git add -A`` would consider: the index's (tracked; some may be deleted
    from the work tree) and the untracked files Git does not ignore. One ``git ls-files
    --cached --others --exclude-standard``; paths as Git writes them (from the top).

    Raises:
        GitError: Git cannot read the index or the work tree.
    """
    args = ["ls-files", "-z", "--full-name", "--cached", "--others", "--exclude-standard"]
    listing = run_git(args, cwd=cwd, env=env).stdout
    return list(dict.fromkeys(p for p in listing.split("\0") if p))


def hooks_dir(cwd: str | None = None, *, env: Env = None) -> str:
    """The absolute folder Git runs hooks from (``core.hooksPath``, worktrees).

    Raises:
        GitError: not in a repository.
    """
    args = ["rev-parse", "--path-format=absolute", "--git-path", "hooks"]
    return run_git(args, cwd=cwd, env=env).stdout.strip()


def is_shallow(common_dir: str) -> bool:
    """Whether the repository whose common Git directory is ``common_dir`` is a
    shallow clone: it has a ``shallow`` file, as Git checks (shallow.c,
    ``is_repository_shallow``; it is what ``git rev-parse
    --is-shallow-repository`` answers), without running Git."""
    return os.path.exists(os.path.join(common_dir, "shallow"))


def remote_names(cwd: str | None = None, *, env: Env = None) -> list[str]:
    """The configured remotes' names (``git remote``); empty outside a repository."""
    return run_git(["remote"], cwd=cwd, env=env, check=False).stdout.split()


def remote_url(remote: str, cwd: str | None = None, *, env: Env = None) -> str | None:
    """The URL configured for remote ``remote`` (``git remote get-url``), or None if no
    remote has that name."""
    result = run_git(
        ["remote", "get-url", "--end-of-options", remote], cwd=cwd, env=env, check=False
    )
    url = result.stdout.strip()
    return url if result.returncode == 0 and url else None


def remote_urls(remote: str, cwd: str | None = None, *, env: Env = None) -> list[str]:
    """Every URL Git would use for remote ``remote``, to fetch and to push (``git remote
    get-url --all`` and ``--push --all``, ``insteadOf`` applied); none if no remote has
    that name (a URL or a path)."""
    urls: list[str] = []
    for options in ([], ["--push"]):
        result = run_git(
            ["remote", "get-url", *options, "--all", "--end-of-options", remote],
            cwd=cwd,
            env=env,
            check=False,
        )
        if result.returncode == 0:
            urls += [url for url in result.stdout.split("\n") if url]
    return urls


_REPOSITORY_VARIABLES = (
    *_PATH_VARIABLES,
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
)


def repository_env(git_dir: str, env: Env = None) -> dict[str, str]:
    """``env`` for running ``git`` in the repository ``git_dir`` alone: ``GIT_DIR`` set
    to it, whatever repository variables the user's Git set (``git --git-dir=X
    registry``) removed."""
    return {**unrelated_env(env), "GIT_DIR": git_dir}


def unrelated_env(env: Env = None) -> dict[str, str]:
    """``env`` (None: ``os.environ``) without the variables that tie ``git`` to a
    repository (``GIT_DIR``, ``GIT_OBJECT_DIRECTORY``, a quarantine's …)."""
    base = os.environ if env is None else env
    return {k: v for k, v in base.items() if k not in _REPOSITORY_VARIABLES}


def init_bare(path: str, *, env: Env = None) -> None:
    """``git init --quiet --bare`` in the existing folder ``path``.

    Raises:
        GitError: Git failed (its reason).
    """
    run_git(["init", "--quiet", "--bare"], cwd=path, env=env)


def commit_only(
    file: str, message: str, *, also: Sequence[str] = (), cwd: str, env: Env = None
) -> GitResult:
    """``git add -- FILE ALSO...`` then ``git commit --quiet --only -m MESSAGE -- FILE
    ALSO...``: commit those paths (new files too; ``also``: paths from the top of the
    work tree, read literally, never as pathspec magic), leaving whatever else is staged
    as it was. The user's own hooks run. The result of the commit (``check`` is off).

    Raises:
        GitError: ``git add`` failed.
    """
    paths = [file, *also]
    run_git(["--literal-pathspecs", "add", "--", *paths], cwd=cwd, env=env)
    return run_git(
        ["--literal-pathspecs", "commit", "--quiet", "--only", "-m", message, "--", *paths],
        cwd=cwd,
        env=env,
        check=False,
    )


def add_dry_run(paths: Sequence[str], *, cwd: str, env: Env = None) -> GitResult:
    """``git add --dry-run -- PATHS`` (read literally): whether Git would stage them (it
    refuses an ignored path, or one beyond a symbolic link). Nothing is staged. Run in
    the C locale, so that :func:`embedded_repositories` can read its warnings."""
    base = os.environ if env is None else env
    plain = {k: v for k, v in base.items() if k != "LANGUAGE"} | {"LC_ALL": "C"}
    return run_git(
        ["--literal-pathspecs", "add", "--dry-run", "--", *paths], cwd=cwd, env=plain, check=False
    )


_EMBEDDED = "warning: adding embedded git repository: "


def embedded_repositories(result: GitResult) -> list[str]:
    """The folders that :func:`add_dry_run` would stage as Git repositories of their own
    (a gitlink: the commit holds a link to their commit, not their files)."""
    return [
        line.removeprefix(_EMBEDDED)
        for line in result.stderr.splitlines()
        if line.startswith(_EMBEDDED)
    ]


def init_repository(path: str, *, env: Env = None) -> None:
    """``git init`` a new repository at ``path`` with the branch ``main``."""
    run_git(["-c", "init.defaultBranch=main", "init", "-q", "--", path], env=env)


def commit_all(message: str, *, cwd: str, env: Env = None) -> ObjectId:
    """``git add -A`` then ``git commit`` (its hooks not run): the new commit's id."""
    run_git(["add", "-A"], cwd=cwd, env=env)
    run_git(["commit", "-q", "--no-verify", "-m", message], cwd=cwd, env=env)
    return ObjectId(run_git(["rev-parse", "HEAD"], cwd=cwd, env=env).stdout.strip())


def short_id(rev: str, *, cwd: str, env: Env = None) -> str:
    """The abbreviated object id of ``rev`` (``git rev-parse --short``)."""
    args = ["rev-parse", "--short", "--verify", "--end-of-options", rev]
    return run_git(args, cwd=cwd, env=env).stdout.strip()
