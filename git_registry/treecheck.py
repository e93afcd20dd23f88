"""The ``artifacts.yaml`` files and the policy of a commit not made yet, checked: the
index (what ``git commit`` would commit: the commit-msg hook) or the work tree (what
``git add -A`` then ``git commit`` would commit: ``git registry check --worktree``).

One code path for both (:func:`tree_problems`), with the validators ``check`` and the
push hooks use at a commit; only where the bytes come from differs (:class:`Files`).
A commit is refused only for the problems it brings (:func:`new_problems`): a file
already broken at HEAD, which the commit leaves as it was, refuses nothing (the rule
of writes: only the file that declares what is written may block it).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from git_registry import annotations as ann
from git_registry.annotations import FileProblem
from git_registry.catalog import read_signers, signers_problems, too_large
from git_registry.errors import ObjectTooLarge, RegistryError
from git_registry.gitvalues import ObjectId
from git_registry.policy import CONFIG_FILE, GTO_CONFIG_FILE, Policy, parse_policy
from git_registry.repo import Repository

Read = Callable[[int], bytes]
"""The bytes of a file, at most the limit given (else :class:`ObjectTooLarge`)."""


@dataclass(frozen=True, slots=True)
class Files:
    """The files of a commit not made yet: repository path -> how to read it, and which
    of them are symbolic links."""

    where: str
    """``the index`` or ``the work tree``, for messages."""
    files: Mapping[str, Read]
    links: Collection[str] = ()

    def annotation_files(self) -> list[str]:
        """The ``artifacts.yaml`` files among them, sorted."""
        named = ann.FILENAME
        return sorted(p for p in self.files if p == named or p.endswith("/" + named))

    def policy_file(self) -> str | None:
        """The policy file among them (``.registry.yaml``, else ``.gto``), if any."""
        return next((f for f in (CONFIG_FILE, GTO_CONFIG_FILE) if f in self.files), None)

    def folders(self) -> set[str]:
        """Every folder holding a file ("" for the top)."""
        found = {""}
        for path in self.files:
            parts = path.split("/")
            found.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return found


def index_files(repo: Repository) -> Files:
    """The files of the index Git uses now (``GIT_INDEX_FILE`` during ``git commit
    --only``), read from their blobs."""
    files: dict[str, Read] = {}
    links = set()
    for entry in repo.staged_files():
        files[entry.path] = _blob_reader(repo, entry.oid)
        if entry.mode == "120000":
            links.add(entry.path)
    return Files("the index", files, links)


def _blob_reader(repo: Repository, oid: ObjectId) -> Read:
    return lambda limit: repo.blob(oid, limit) or b""


def work_tree_files(repo: Repository) -> Files:
    """The files ``git add -A`` would stage: the tracked files still in the work tree
    and the untracked ones Git does not ignore, read from the work tree (a link is
    never followed).

    Raises:
        RegistryError: the repository has no work tree.
    """
    top = repo.paths.work_tree
    if top is None:
        raise RegistryError(
            "there is no work tree here (a bare repository)",
            hint="run 'git registry check' to check HEAD",
        )
    files: dict[str, Read] = {}
    links = set()
    for path in repo.work_tree_paths():
        full = os.path.join(top, *path.split("/"))
        try:
            mode = os.lstat(full).st_mode
        except OSError:
            continue  # deleted: 'git add -A' stages its removal
        if stat.S_ISLNK(mode):
            links.add(path)
        elif not stat.S_ISREG(mode):
            continue  # a submodule: not a file of this repository
        files[path] = _file_reader(full, path)
    return Files("the work tree", files, links)


def _file_reader(full: str, path: str) -> Read:
    def read(limit: int) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(full, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return b""  # became a link meanwhile: read as the link it now is
            raise RegistryError(f"cannot read {path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return b""
            if size > limit:
                raise ObjectTooLarge(size)
            data = f.read(limit + 1)
            if len(data) > limit:
                raise ObjectTooLarge(len(data))
            return data

    return read


def staged_problems(repo: Repository) -> list[FileProblem]:
    """Problems of the staged (index) ``artifacts.yaml`` files and policy file: the
    index Git uses for this commit (``GIT_INDEX_FILE`` during ``git commit --only``),
    never the work tree."""
    return tree_problems(index_files(repo))


def commit_hook_problems(
    repo: Repository, head_problems: Iterable[FileProblem]
) -> list[FileProblem]:
    """What the commit-msg hook refuses: the problems of the staged files that HEAD's
    files (``head_problems``) did not have."""
    return new_problems(head_problems, staged_problems(repo))


def tree_problems(files: Files) -> list[FileProblem]:
    """Every problem of the ``artifacts.yaml`` files and the policy file among ``files``
    (and of the policy's ``allowed_signers`` file), as ``check`` finds them at a commit."""
    from git_registry.yamlsafe import MAX_BYTES

    folders = files.folders()
    problems: list[FileProblem] = []
    policy = Policy()
    for file in (CONFIG_FILE, GTO_CONFIG_FILE):
        if file in files.links:
            problems.append(ann.link_problem(file))
            break
        if file in folders:
            problems.append(ann.folder_problem(file))
            break
        if file in files.files:
            try:
                policy, found = parse_policy(files.files[file](MAX_BYTES), file)
            except ObjectTooLarge as exc:
                found = (too_large(file, exc.size),)
            problems.extend(found)
            problems.extend(_signers(files, policy))
            break
    named = ann.FILENAME
    problems.extend(
        ann.folder_problem(f) for f in sorted(folders) if f == named or f.endswith("/" + named)
    )
    for path in files.annotation_files():
        read = files.files[path]
        if path in files.links:
            problems.append(ann.link_problem(path))
            continue
        try:
            data = read(MAX_BYTES)
        except ObjectTooLarge as exc:
            problems.append(too_large(path, exc.size))
            continue
        parsed = ann.parse(
            data, path, types=policy.types, exists=lambda p: p in files.files or p in folders
        )
        problems.extend(parsed.problems)
    return problems


def _signers(files: Files, policy: Policy) -> list[FileProblem]:
    """The problems of the policy's ``allowed_signers`` file, as ``files`` hold it."""
    path = policy.allowed_signers
    if path is None:
        return []
    found = read_signers(policy, files.files.get(path), path in files.links)
    return list(signers_problems(policy, found))


def new_problems(before: Iterable[FileProblem], after: Iterable[FileProblem]) -> list[FileProblem]:
    """The problems of ``after`` that ``before`` did not have: the same file, artifact,
    key and message (not the same line: lines above may have moved it), as many times
    (a second problem like one already there is a new one, not the same)."""
    from collections import Counter

    left = Counter(_key(p) for p in before)
    found = []
    for problem in after:
        key = _key(problem)
        if left[key] > 0:
            left[key] -= 1
        else:
            found.append(problem)
    return found


def _key(problem: FileProblem) -> tuple[str, str | None, str | None, str]:
    return (problem.file, problem.artifact, problem.key, problem.message)
