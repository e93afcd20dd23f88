"""Annotations and policy as committed: ``artifacts.yaml`` files looked up by path in a
commit (never by walking trees per version), each distinct blob parsed once per process.

The glue between the repository (bytes at a path in a commit) and the pure
:mod:`~git_registry.annotations` and :mod:`~git_registry.policy` modules.
"""

from __future__ import annotations

from git_registry import annotations as ann
from git_registry.annotations import Annotation, AnnotationsFile, FileProblem
from git_registry.errors import ObjectTooLarge, RegistryError
from git_registry.gitvalues import ObjectId, short
from git_registry.policy import CONFIG_FILE, GTO_CONFIG_FILE, Policy, parse_policy
from git_registry.repo import Repository
from git_registry.yamlsafe import MAX_BYTES, size_problem


def too_large(file: str, size: int) -> FileProblem:
    """The problem of a committed or staged file over the size limit, found by its size
    alone (it is never read)."""
    found = size_problem(size)
    return FileProblem(file, found.line, found.column, found.message)


class AnnotationError(RegistryError):
    """An ``artifacts.yaml`` that cannot be used; the message lists its problems."""


def policy_at(repo: Repository, commit: ObjectId) -> tuple[Policy, tuple[FileProblem, ...]]:
    """The policy committed in ``commit`` (``.registry.yaml``, else ``.gto``) and its
    problems; a file committed as a symbolic link is a problem, not a policy."""
    for file in (CONFIG_FILE, GTO_CONFIG_FILE):
        try:
            blob = repo.blob_at(commit, file, MAX_BYTES)
        except ObjectTooLarge as exc:
            return Policy(file=file), (too_large(file, exc.size),)
        if blob is not None:
            return parse_policy(blob[1], file)
        if repo.is_link(commit, file):
            return Policy(file=file), (ann.link_problem(file),)
        if repo.is_folder(commit, file):
            return Policy(file=file), (ann.folder_problem(file),)
    return Policy(), ()


class Catalog:
    """Reads ``artifacts.yaml`` and the policy from commits, with caches."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._policy: tuple[Policy, tuple[FileProblem, ...]] | None = None
        self._parsed: dict[tuple[str, str], AnnotationsFile] = {}
        self._checked: dict[tuple[str, str], AnnotationsFile | None] = {}
        self._commit_problems: dict[str, tuple[FileProblem, ...]] = {}

    # -- policy --------------------------------------------------------------------------

    def _load_policy(self) -> tuple[Policy, tuple[FileProblem, ...]]:
        if self._policy is None:
            head = self.repo.head()
            self._policy = (Policy(), ()) if head is None else policy_at(self.repo, head)
        return self._policy

    def policy(self) -> Policy:
        """The policy committed at HEAD (``.registry.yaml``, else ``.gto``)."""
        return self._load_policy()[0]

    def policy_problems(self) -> tuple[FileProblem, ...]:
        return self._load_policy()[1]

    def strict_policy(self) -> Policy:
        """The policy, for writes: a broken policy file is fatal (it cannot be enforced)."""
        policy, problems = self._load_policy()
        if problems:
            raise RegistryError(
                f"{policy.file} at HEAD is invalid: {problems[0]}",
                hint="fix it, then commit it; 'git registry check' lists every problem",
            )
        return policy

    # -- annotations -----------------------------------------------------------------------

    def file_at(self, commit: ObjectId, file: str) -> AnnotationsFile | None:
        """The ``artifacts.yaml`` at ``file`` in ``commit``, validated there; None if absent."""
        key = (commit, file)
        if key not in self._checked:
            try:
                blob = self.repo.blob_at(commit, file, MAX_BYTES)
            except ObjectTooLarge as exc:  # never read whole (150 MB would be 300 MB)
                self._checked[key] = ann.AnnotationsFile(
                    file, problems=(too_large(file, exc.size),), editable=False
                )
                return self._checked[key]
            if blob is None and self.repo.is_link(commit, file):
                self._checked[key] = ann.AnnotationsFile(
                    file, problems=(ann.link_problem(file),), editable=False
                )
            elif blob is None and self.repo.is_folder(commit, file):
                self._checked[key] = ann.AnnotationsFile(
                    file, problems=(ann.folder_problem(file),), editable=False
                )
            elif blob is None:
                self._checked[key] = None
            else:
                parsed = self._parse(blob[0], blob[1], file)
                missing = ann.missing_paths(parsed, lambda p: self.repo.path_exists(commit, p))
                self._checked[key] = (
                    ann.with_problems(parsed, parsed.problems + missing) if missing else parsed
                )
        return self._checked[key]

    def _parse(self, blob: ObjectId, data: bytes, file: str) -> AnnotationsFile:
        # Versions usually share one blob: parse it once (the path matters for names).
        key = (blob, file)
        if key not in self._parsed:
            self._parsed[key] = ann.parse(data, file, types=self.policy().types)
        return self._parsed[key]

    def annotation(self, commit: ObjectId, artifact: str) -> Annotation | None:
        """``artifact``'s annotation at ``commit``, or None if it has none.

        Raises:
            AnnotationError: the file that declares it is broken there.
        """
        file, _key = ann.file_for(artifact)
        parsed = self.file_at(commit, file)
        if parsed is None:
            return None
        problems = parsed.problems_of(artifact)
        if problems:
            raise AnnotationError(
                f"{file} at commit {short(commit)} is invalid: {problems[0]}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                hint="'git registry check' lists every problem at HEAD",
            )
        return parsed.annotations.get(artifact)

    def commit_problems(self, commit: ObjectId) -> tuple[FileProblem, ...]:
        """Every problem of every ``artifacts.yaml`` in ``commit`` (one ``git ls-tree``)."""
        found = self._commit_problems.get(commit)
        if found is None:
            problems: list[FileProblem] = []
            for file in self.repo.files_named(commit, ann.FILENAME):
                parsed = self.file_at(commit, file)
                if parsed is not None:
                    problems.extend(parsed.problems)
            found = self._commit_problems[commit] = tuple(problems)
        return found
