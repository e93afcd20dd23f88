"""Annotations and policy as committed: ``artifacts.yaml`` files looked up by path in a
commit (never by walking trees per version), each distinct blob parsed once per process,
and kept parsed across runs in the parse cache (:mod:`git_registry.parsecache`): a warm
read neither reads the blob nor imports the YAML parser.

The glue between the repository (bytes at a path in a commit) and the pure
:mod:`~git_registry.annotations` and :mod:`~git_registry.policy` modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from git_registry import annotations as ann
from git_registry import parsedform
from git_registry.annotations import Annotation, AnnotationsFile, FileProblem
from git_registry.errors import AnnotationError as AnnotationError
from git_registry.errors import ObjectTooLarge, RegistryError
from git_registry.gitvalues import ObjectId, short
from git_registry.policy import (
    CONFIG_FILE,
    GTO_CONFIG_FILE,
    Policy,
    allowed_signers_problems,
    parse_policy,
)
from git_registry.repo import Repository


def too_large(file: str, size: int) -> FileProblem:
    """The problem of a committed or staged file over the size limit, found by its size
    alone (it is never read)."""
    from git_registry.yamlsafe import size_problem

    found = size_problem(size)
    return FileProblem(file, found.line, found.column, found.message)


def policy_at(repo: Repository, commit: ObjectId) -> tuple[Policy, tuple[FileProblem, ...]]:
    """The policy committed in ``commit`` (``.registry.yaml``, else ``.gto``) and its
    problems (its ``allowed_signers`` file's too); a file committed as a symbolic link
    is a problem, not a policy."""
    policy, problems = _policy_file_at(repo, commit)
    if policy.allowed_signers is None:
        return policy, problems
    return policy, problems + signers_problems(policy, signers_at(repo, commit, policy))


def signers_at(repo: Repository, commit: ObjectId, policy: Policy) -> bytes | FileProblem | None:
    """The content of the policy's ``allowed_signers`` file in ``commit``; None if the
    policy names none; a problem (at the policy's line) if it is not a readable file."""
    path = policy.allowed_signers
    if path is None:
        return None
    oid = repo.blob_id_at(commit, path)
    read = None if oid is None else (lambda limit: repo.blob(oid, limit) or b"")
    return read_signers(policy, read, repo.is_link(commit, path))


def read_signers(
    policy: Policy, read: Callable[[int], bytes] | None, link: bool
) -> bytes | FileProblem:
    """The content of the policy's ``allowed_signers`` file, committed, staged or in
    the work tree (``read`` gives its bytes up to a limit, else raises
    :class:`ObjectTooLarge`; None: not there; ``link``: a symbolic link); or its
    problem, at the policy's line."""
    path = policy.allowed_signers
    where = (policy.file or CONFIG_FILE, policy.allowed_signers_line, 1)
    if read is None or link:
        what = "a symbolic link" if link else "not in the commit"
        return FileProblem(*where, f"allowed_signers: {path} is {what}", key="allowed_signers")
    try:
        return read(MAX_SIGNERS_BYTES)
    except ObjectTooLarge as exc:
        return FileProblem(
            *where,
            f"allowed_signers: {path} is too large ({exc.size:,} bytes)",
            key="allowed_signers",
        )


MAX_SIGNERS_BYTES = 1024 * 1024


def signers_problems(policy: Policy, found: bytes | FileProblem | None) -> tuple[FileProblem, ...]:
    """The problems of what :func:`signers_at` found."""
    if found is None:
        return ()
    if isinstance(found, FileProblem):
        return (found,)
    assert policy.allowed_signers is not None
    return tuple(allowed_signers_problems(found, policy.allowed_signers))


def _policy_file_at(repo: Repository, commit: ObjectId) -> tuple[Policy, tuple[FileProblem, ...]]:
    for file in (CONFIG_FILE, GTO_CONFIG_FILE):
        oid = repo.blob_id_at(commit, file)
        if oid is not None:
            cache = repo.parse_cache()
            key = parsedform.policy_key(oid, file)
            cached = parsedform.policy_of(cache.get(key), file)
            if cached is not None:
                return cached
            from git_registry.yamlsafe import MAX_BYTES  # a miss: it parses anyway

            try:
                data = repo.blob(oid, MAX_BYTES)
            except ObjectTooLarge as exc:
                return Policy(file=file), (too_large(file, exc.size),)
            if data is not None:
                policy, problems = parse_policy(data, file)
                cache.put(key, parsedform.plain_policy(policy, problems))
                return policy, problems
        if repo.is_link(commit, file):
            return Policy(file=file), (ann.link_problem(file),)
        if repo.is_folder(commit, file):
            return Policy(file=file), (ann.folder_problem(file),)
    return Policy(), ()


class _Head:
    """The default of a ``types`` argument: the types of HEAD's policy."""


_HEAD: Any = _Head()
Types = tuple[str, ...] | None
"""A policy's ``types`` (None: any type)."""


class Catalog:
    """Reads ``artifacts.yaml`` and the policy from commits, with caches."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._policy: tuple[Policy, tuple[FileProblem, ...]] | None = None
        self._signers: tuple[bytes | None] | None = None
        self._parsed: dict[tuple[str, str, Types], AnnotationsFile] = {}
        self._checked: dict[tuple[str, str, Types], AnnotationsFile | None] = {}
        self._commit_problems: dict[tuple[str, Types], tuple[FileProblem, ...]] = {}
        self._gto_index: dict[str, str | None] = {}

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

    def allowed_signers(self) -> bytes | None:
        """The policy's ``allowed_signers`` file as committed at HEAD; None if the policy
        names none or it cannot be read (a problem of the policy)."""
        if self._signers is None:
            head = self.repo.head()
            policy = self.policy()
            found = None if head is None else signers_at(self.repo, head, policy)
            self._signers = (found if isinstance(found, bytes) else None,)
        return self._signers[0]

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

    def file_at(self, commit: ObjectId, file: str, types: Types = _HEAD) -> AnnotationsFile | None:
        """The ``artifacts.yaml`` at ``file`` in ``commit``, validated there (with the
        ``types`` of HEAD's policy, unless given); None if absent."""
        types = self.policy().types if types is _HEAD else types
        key = (commit, file, types)
        if key not in self._checked:
            parsed = self._read(commit, file, types)
            if parsed is not None:  # empty for a link, a folder or a file too large
                missing = ann.missing_paths(parsed, lambda p: self.repo.path_exists(commit, p))
                if missing:
                    parsed = ann.with_problems(parsed, parsed.problems + missing)
            self._checked[key] = parsed
        return self._checked[key]

    def gto_settings(
        self, commit: ObjectId
    ) -> tuple[Policy | None, str | None, tuple[FileProblem, ...]]:
        """What GTO 1.10.1 reads of the ``.gto`` in ``commit``: its policy (None if there
        is no file, or GTO refuses it), its ``index`` setting, and why GTO refuses it."""
        from git_registry.gtocompat import gto_index_setting
        from git_registry.yamlsafe import MAX_BYTES

        oid = self.repo.blob_id_at(commit, GTO_CONFIG_FILE)
        if oid is None:
            return None, None, ()
        try:
            data = self.repo.blob(oid, MAX_BYTES)
        except ObjectTooLarge as exc:
            return None, None, (too_large(GTO_CONFIG_FILE, exc.size),)
        if data is None:
            return None, None, ()
        policy, problems = parse_policy(data, GTO_CONFIG_FILE)
        return (None if problems else policy), gto_index_setting(data), problems

    def gto_index_problem(self, commit: ObjectId) -> str | None:
        """Why GTO 1.10.1 cannot read the root ``artifacts.yaml`` of ``commit``, where we
        can (see :func:`gtocompat.yaml12_problem`); None if it can, or there is none."""
        from git_registry.gtocompat import yaml12_problem
        from git_registry.yamlsafe import MAX_BYTES

        oid = self.repo.blob_id_at(commit, ann.FILENAME)
        if oid is None:
            return None
        if oid not in self._gto_index:
            # Kept in the parse cache by blob id (a blob never changes): a write needs
            # it, and a 1,000-artifact file takes 0.1 s to parse (issue 20).
            cache = self.repo.parse_cache()
            key = f"gto-index-1\0{oid}"
            cached = cache.get(key)
            if type(cached) is tuple and len(cached) == 1 and type(cached[0]) in (str, type(None)):
                self._gto_index[oid] = cached[0]
            else:
                try:
                    data = self.repo.blob(oid, MAX_BYTES)
                except ObjectTooLarge:
                    data = None
                self._gto_index[oid] = yaml12_problem(data) if data is not None else None
                if data is not None:
                    cache.put(key, (self._gto_index[oid],))
        return self._gto_index[oid]

    def _read(
        self, commit: ObjectId, file: str, types: tuple[str, ...] | None
    ) -> AnnotationsFile | None:
        """The ``artifacts.yaml`` at ``file`` in ``commit`` as parsed with the policy's
        ``types`` (its paths not checked against the commit yet), or None if there is
        none."""
        oid = self.repo.blob_id_at(commit, file)
        if oid is not None:
            # Versions usually share one blob: parse it once (the path matters for names).
            parsed = self._parsed.get((oid, file, types))
            if parsed is not None:
                return parsed
            cache = self.repo.parse_cache()
            cache_key = parsedform.annotations_key(oid, file, types)
            parsed = parsedform.annotations_of(cache.get(cache_key), file)
            if parsed is None:
                from git_registry.yamlsafe import MAX_BYTES  # a miss: it parses anyway

                try:
                    data = self.repo.blob(oid, MAX_BYTES)
                except ObjectTooLarge as exc:  # never read whole (150 MB would be 300 MB)
                    return ann.AnnotationsFile(
                        file, problems=(too_large(file, exc.size),), editable=False
                    )
                if data is not None:
                    parsed = ann.parse(data, file, types=types)
                    cache.put(cache_key, parsedform.plain_annotations(parsed))
            if parsed is not None:
                self._parsed[(oid, file, types)] = parsed
                return parsed
        if self.repo.is_link(commit, file):
            return ann.AnnotationsFile(file, problems=(ann.link_problem(file),), editable=False)
        if self.repo.is_folder(commit, file):
            return ann.AnnotationsFile(file, problems=(ann.folder_problem(file),), editable=False)
        return None

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

    def declaring_problems(self, commit: ObjectId, artifact: str) -> tuple[FileProblem, ...]:
        """The problems, in ``commit``, of the ``artifacts.yaml`` that declares ``artifact``
        (or would declare it: one is looked up by path, the others are not read). The
        rulebook's :data:`~git_registry.rules.FileProblems`: a write of ``artifact`` is
        judged by this file alone, never by another folder's."""
        parsed = self.file_at(commit, ann.file_for(artifact)[0])
        return () if parsed is None else parsed.problems

    def requires(self, commit: ObjectId, artifact: str) -> tuple[str, ...]:
        """The artifacts ``artifact``'s entry ``requires`` in ``commit`` (none if it has
        no entry; an invalid file is the ``invalid-annotations`` rule's: what can be
        read of the entry counts). The rulebook's :data:`~git_registry.rules.Requires`."""
        parsed = self.file_at(commit, ann.file_for(artifact)[0])
        found = None if parsed is None else parsed.annotations.get(artifact)
        return () if found is None else found.requires

    def commit_problems(self, commit: ObjectId, types: Types = _HEAD) -> tuple[FileProblem, ...]:
        """Every problem of every ``artifacts.yaml`` in ``commit`` (one ``git ls-tree``),
        read with the ``types`` of HEAD's policy unless given."""
        types = self.policy().types if types is _HEAD else types
        found = self._commit_problems.get((commit, types))
        if found is None:
            problems: list[FileProblem] = []
            for file in self.repo.files_named(commit, ann.FILENAME):
                parsed = self.file_at(commit, file, types)
                if parsed is not None:
                    problems.extend(parsed.problems)
            found = self._commit_problems[(commit, types)] = tuple(problems)
        return found

    def own_problems(self, commit: ObjectId) -> list[FileProblem]:
        """Every problem of the ``artifacts.yaml`` files and the policy in ``commit``, each
        file read with that commit's own policy (a pushed branch is judged by what it
        holds: dropping a type its files use is a problem there, whatever HEAD says)."""
        policy, problems = policy_at(self.repo, commit)
        return [*self.commit_problems(commit, policy.types), *problems]
