"""The one place that runs the ``git`` binary.

We use Git itself where its own rules are the contract and re-implementing them
would drift: finding the repository (``GIT_DIR``, worktrees, bare repositories,
``safe.directory``), resolving revisions, the committer identity
(``GIT_COMMITTER_*``, ``user.*``, ``git -c``), configuration including
``GIT_CONFIG_PARAMETERS``, and pushing (credential helpers, ``pushurl`` and the
user's own hooks apply).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
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


def files_named(commit: str, filename: str, cwd: str | None = None) -> list[str]:
    """Every path in ``commit`` whose last part is ``filename`` (one ``git ls-tree``)."""
    result = run_git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit], cwd=cwd)
    return sorted(
        path
        for path in result.stdout.split("\0")
        if path == filename or path.endswith("/" + filename)
    )


def push(remote: str, refspecs: Sequence[str], cwd: str | None = None) -> GitResult:
    """``git push REMOTE REFSPEC…`` through the real binary; never forced."""
    return run_git(["push", "--porcelain", remote, *refspecs], cwd=cwd, check=False)
