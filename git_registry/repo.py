"""The repository: tag refs and objects, read and written.

Reads:

- tag refs: ``packed-refs`` and the loose files under ``refs/tags/``, read directly
  as Git's files backend reads them (one regular expression over ``packed-refs``;
  100,000 tags in tens of milliseconds, where ``git for-each-ref`` takes several
  times longer). A repository whose refs Git keeps elsewhere
  (``extensions.refStorage=reftable``) is read through ``git for-each-ref``
  instead, so it never looks empty.
- objects: one ``git cat-file --batch`` stream for many tags (only the tag header
  is parsed, as Git parses it: :mod:`git_registry.tagobject`), and one
  ``git cat-file --batch`` process kept open for the few commits, trees and blobs
  a command reads by path. Parsed tags are kept in :mod:`git_registry.tagcache`.

Writes go through Git itself: each tag object through ``git mktag`` (checked as
``git fsck`` checks it, written as Git writes objects), then every ref in one
``git update-ref --stdin -z`` transaction, applied whole or not at all, creating a
ref only where none exists yet and deleting one only where it still points as we
saw. Git takes its own ref locks and rewrites ``packed-refs`` itself.

Why not dulwich (a declared dependency, the project's first tag plumbing): a registry
must mean what Git means, and dulwich's tag parser and ref reader accept objects and
refs that Git reads differently (a crafted tag could name one commit to us and
another to ``git checkout``); ``git mktag`` and ``git update-ref`` check and write
exactly as Git does, and one ``cat-file`` stream reads 100,000 tags about ten times
faster than dulwich's object store.

Every ``git`` here runs with the environment the repository was opened with.
Bytes stay here; callers get ``str`` values from :mod:`git_registry.gitvalues`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType

from git_registry import gitbin, gitobjects, refread, transport
from git_registry.errors import RegistryError, TagExistsError
from git_registry.gitvalues import ObjectId, Signature, TagRef, TagRow, tag_ref_of
from git_registry.grammar import TAG_PREFIX
from git_registry.tagcache import TagCache, entry_row, segment_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

    from git_registry.parsecache import ParseCache
    from git_registry.pushlock import Owner, PushLock
    from git_registry.signing import SignRequest

FETCHED = os.path.join("registry", "fetched")
"""In the common Git directory: the artifacts whose registry tags ``git registry fetch``
fetched in this shallow clone, one per line (``*``: every artifact)."""

__all__ = ["NewTagObject", "Repository", "TagExistsError"]  # TagExistsError: from errors

_HEX_RE = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")


@dataclass(frozen=True, slots=True)
class NewTagObject:
    """An annotated tag to write: its name, the commit it points at, message, tagger."""

    name: str
    target: ObjectId
    message: str
    tagger: Signature


class Repository:
    """A Git repository opened for registry reads and tag writes.

    Use as a context manager (or call :meth:`close`) so the ``git cat-file`` process is
    closed before the interpreter exits.
    """

    def __init__(
        self,
        paths: gitbin.RepoPaths,
        *,
        use_cache: bool | Callable[[], bool] = True,
        env: gitbin.Env = None,
    ) -> None:
        """Open the repository at ``paths``.

        Args:
            paths: where the repository is.
            use_cache: whether to use the tag cache (:mod:`git_registry.tagcache`),
                or a function deciding it when tags are first read (from Git config).
            env: the environment every ``git`` runs with (None: ``os.environ``).
        """
        self.paths = paths
        self.env = env
        self._head: ObjectId | None = None
        self._head_known = False
        self._files_backend: bool | None = None
        self._trees: dict[str, str] = {}
        self._use_cache = use_cache
        self._cache: TagCache | None = None
        self._parse_cache: ParseCache | None = None
        self._refs: dict[str, ObjectId] | None = None
        self._listed: frozenset[str] | None = None  # the prefixes _refs holds; None: all
        self.refs_fingerprint: bytes | None = None
        """A digest of the last whole listing of tags (see :meth:`tag_refs`)."""
        self.rows_lasting = True
        """Whether every row :meth:`read_tag_rows` gave last is a lasting result (no
        object missing, which a fetch can bring without changing a ref)."""
        self._reader: gitobjects.ObjectReader | None = None
        self._tree_entries: dict[str, dict[bytes, tuple[int, str]]] = {}

    @classmethod
    def discover(
        cls,
        cwd: str | None = None,
        *,
        use_cache: bool | Callable[[], bool] = True,
        env: gitbin.Env = None,
    ) -> Repository:
        """Open the repository Git finds for ``cwd`` (with ``env``: ``GIT_DIR`` …); its
        HEAD is resolved by the same ``git`` process (see :meth:`head`).

        Raises:
            RegistryError: not inside a Git repository.
        """
        paths, head = gitbin.discover_at_head(cwd, env=env)
        repo = cls(paths, use_cache=use_cache, env=env)
        repo._head, repo._head_known = head, True
        return repo

    @property
    def cwd(self) -> str:
        """Where to run ``git`` for this repository."""
        return self.paths.work_tree or self.paths.git_dir

    def __enter__(self) -> Repository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the ``git cat-file`` process, forget HEAD (it is resolved again) and
        write the parse cache if this run added to it."""
        self._head_known = False
        if self._parse_cache is not None and not self._in_quarantine():
            self._parse_cache.save()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _objects(self) -> gitobjects.ObjectReader:
        """Objects read through one ``git cat-file --batch`` kept open."""
        if self._reader is None:
            self._reader = gitobjects.ObjectReader(self.paths.git_dir, env=self.env)
        return self._reader

    def blob(self, oid: ObjectId, limit: int | None = None) -> bytes | None:
        """The bytes of blob ``oid``, or None if there is no such blob.

        Raises:
            gitbin.ObjectTooLarge: it is larger than ``limit`` (it was not read whole).
        """
        if not _HEX_RE.fullmatch(oid):
            return None
        found = self._objects().read(oid.lower(), limit)
        return found[1] if found is not None and found[0] == "blob" else None

    def tag_object(self, oid: ObjectId) -> bytes | None:
        """The raw bytes of tag object ``oid`` (signature included), or None if there is
        no such tag object. Read through the ``git cat-file`` process kept open: no new
        process once it runs."""
        if not _HEX_RE.fullmatch(oid):
            return None
        found = self._objects().read(oid.lower())
        return found[1] if found is not None and found[0] == "tag" else None

    # -- reading refs ------------------------------------------------------------------

    def tag_refs(
        self, prefixes: Sequence[str] | None = None, *, fingerprint: bool = False
    ) -> dict[str, ObjectId]:
        """The refs under ``refs/tags/``: tag name -> object id, without reading objects;
        with ``prefixes``, only those whose tag names start with one of them (an
        artifact's tags: see :func:`~git_registry.refread.tag_prefixes`), found as Git
        finds them (a binary search in a sorted ``packed-refs``, the loose refs of the
        prefix's folder), not by reading every ref.

        Read as Git reads them (:mod:`git_registry.refread`): a loose ref overrides a
        packed one, a broken loose file hides both, a symbolic ref to another tag has
        that tag's object id. Where Git keeps refs elsewhere (reftable),
        ``git for-each-ref`` lists them.

        With ``fingerprint`` (a whole listing), :attr:`refs_fingerprint` is set to a
        digest of what the listing is a function of (``packed-refs`` and the loose ref
        files, or the names and ids Git listed): equal digests, equal listings.

        Raises:
            GitError: the refs are not in files and Git cannot read them (Git's reason,
                e.g. an extension this Git does not know).
        """
        digest = None
        if fingerprint and prefixes is None:
            import hashlib

            digest = hashlib.blake2b(digest_size=24)
        if not self._uses_ref_files():
            refs = gitbin.tag_refs(self.cwd, env=self.env, git_dir=self.paths.git_dir)
            if prefixes is not None:
                starts = tuple(p for p in prefixes if p)
                refs = {n: o for n, o in refs.items() if starts and n.startswith(starts)}
            if digest is not None:
                for name, oid in sorted(refs.items()):
                    digest.update(f"{name}\0{oid}\n".encode("utf-8", "surrogateescape"))
        elif prefixes is None:
            refs = refread.all_tags(self.paths.common_dir, digest)
        else:
            refs = refread.prefixed_tags(self.paths.common_dir, prefixes)
        self._refs = refs
        self._listed = None if prefixes is None else frozenset(prefixes)
        self.refs_fingerprint = None if digest is None else digest.digest()
        return refs

    def _uses_ref_files(self) -> bool:
        """Whether Git keeps the refs in files (``packed-refs`` and ``refs/``), which we
        read directly: not where ``extensions.refStorage`` names another backend
        (``reftable``, Git 2.45+), whose refs those files would not show."""
        if self._files_backend is None:
            config = os.path.join(self.paths.common_dir, "config")
            try:
                with open(config, "rb") as f:
                    mentioned = b"refstorage" in f.read().lower()
            except OSError:
                mentioned = False
            storage = None
            if mentioned:  # only then ask Git, which reads the file exactly
                storage = gitbin.config_file_value(config, "extensions.refstorage", env=self.env)
            self._files_backend = storage is None or storage.lower() == "files"
        return self._files_backend

    def read_tags(self, refs: Iterable[tuple[str, ObjectId]]) -> list[TagRef]:
        """Read the objects of the given tag refs (name, object id), each once."""
        return [tag_ref_of(row) for row in self.read_tag_rows(refs)]

    def read_tag_rows(self, refs: Iterable[tuple[str, ObjectId]]) -> list[TagRow]:
        """:meth:`read_tags` as plain tuples (:data:`~git_registry.gitvalues.TagRow`).

        Objects already parsed come from the tag cache; the others are read with one
        ``git cat-file --batch`` (streamed: one object in memory at a time), their
        peeled targets' types checked with one ``git cat-file --batch-check``, then
        added to the cache.
        """
        pairs = list(refs)
        self.rows_lasting = True
        cache = self._tag_cache()
        if self._listed is None and len(pairs) > 256:
            entries = cache.entries  # a whole read: every segment, without naming them
        else:
            entries = cache.entries_of({segment_of(name) for name, _ in pairs})
        rows: list[TagRow | None] = []
        todo: list[int] = []
        for name, oid in pairs:
            entry = entries.get(oid)
            if entry is None:
                todo.append(len(rows))
                rows.append(None)
            else:
                rows.append(entry_row(name, oid, entry))
        if todo:
            self._read_new(pairs, rows, todo, cache)
            if not self._in_quarantine():
                self._save_cache(cache, pairs)
        return [row for row in rows if row is not None]

    def _save_cache(self, cache: TagCache, pairs: list[tuple[str, ObjectId]]) -> None:
        """Write the tag cache, forgetting the objects no tag points at any more (in
        the segments whose tags were all listed)."""
        refs, listed = self._refs, self._listed
        if refs is None:
            cache.save()
            return

        def live() -> set[str]:
            return {*refs.values(), *(oid for _, oid in pairs)}

        def segments() -> set[str]:
            return {segment_of(n) for n in [*refs, *(n for n, _ in pairs)]}

        if listed is not None:  # only in the segments listed whole
            scope = {p[:-1] for p in listed if p[-1:] == "@" and p[:-1] + "#" in listed}
            cache.save(live, scope)
        else:
            cache.save(live, None, segments)

    def _read_new(
        self,
        pairs: list[tuple[str, ObjectId]],
        rows: list[TagRow | None],
        todo: list[int],
        cache: TagCache,
    ) -> None:
        """Read the tags ``pairs[i]`` for ``i`` in ``todo`` into ``rows[i]``, and cache
        what can be."""
        # Tag objects are parsed only when the tag cache lacks them (not on a warm read).
        from git_registry.tagobject import read_tag_row, type_problem

        wanted = [pairs[i][1] for i in todo]
        valid = [oid.lower() for oid in wanted if _HEX_RE.fullmatch(oid)]
        stream = gitobjects.stream_objects(self.paths.git_dir, valid, env=self.env)
        # Rows whose target is not read yet: (index, the tag object declaring its type).
        unchecked: list[tuple[int, ObjectId]] = []
        targets: dict[ObjectId, None] = {}  # an ordered set
        for i, oid in zip(todo, wanted, strict=True):
            found = next(stream) if _HEX_RE.fullmatch(oid) else None
            row, lasting, declared_by = read_tag_row(found, self._read_object, pairs[i][0], oid)
            rows[i] = row
            if row[2] is not None:
                unchecked.append((i, declared_by))
                targets[row[2]] = None
            elif lasting:
                cache.add(row)
            else:
                self.rows_lasting = False
        stream.close()
        if not unchecked:
            return
        # A tag's 'type' header must match its object's real type (Git refuses to peel
        # it otherwise): one 'git cat-file --batch-check' for all new tags at once.
        ids = list(targets)
        types = gitobjects.object_types(self.paths.git_dir, ids, env=self.env)
        types_of = dict(zip(ids, types, strict=True))
        for i, declared_by in unchecked:
            checked = rows[i]
            assert checked is not None and checked[2] is not None
            row, target, declared = checked, checked[2], checked[3]
            actual = types_of[target]
            if actual is None:  # not cached: a fetch can bring the object
                rows[i] = _unusable(row, f"object {target} is missing from the repository")
                self.rows_lasting = False
                continue
            if actual != declared:
                row = rows[i] = _unusable(row, type_problem(declared_by, declared, target, actual))
            cache.add(row)

    def _read_object(self, oid: str) -> tuple[str, bytes] | None:
        """One object by id (the inner tag of a tag of a tag), or None if it is missing."""
        return self._objects().read(oid.lower()) if _HEX_RE.fullmatch(oid) else None

    def _tag_cache(self) -> TagCache:
        if self._cache is None:
            if self._caching():
                self._cache = TagCache.load(self.paths.common_dir)
            else:
                self._cache = TagCache.disabled()
        return self._cache

    def state_cache_path(self) -> str | None:
        """Where the registry state cache lives (:mod:`git_registry.statecache`), or
        None when caches are off (``registry.cache``)."""
        if not self._caching():
            return None
        return os.path.join(self.paths.common_dir, "registry", "state-cache")

    def may_write_caches(self) -> bool:
        """Whether this run may write a cache (not in a server hook's quarantine)."""
        return not self._in_quarantine()

    def parse_cache(self) -> ParseCache:
        """Files parsed by blob id (:mod:`git_registry.parsecache`), loaded on first use;
        written by :meth:`close`. Off with the tag cache (``registry.cache``)."""
        if self._parse_cache is None:
            from git_registry.parsecache import ParseCache  # not needed by most reads

            if self._caching():
                self._parse_cache = ParseCache.load(self.paths.common_dir)
            else:
                self._parse_cache = ParseCache.disabled()
        return self._parse_cache

    def _caching(self) -> bool:
        use = self._use_cache
        return use if isinstance(use, bool) else use()

    def _in_quarantine(self) -> bool:
        """Whether this runs in a server hook's quarantine, where we write nothing."""
        env = os.environ if self.env is None else self.env
        return bool(env.get("GIT_QUARANTINE_PATH"))

    # -- commits, branches, the index ----------------------------------------------------

    def head(self) -> ObjectId | None:
        """The commit HEAD points at, or None in a repository without commits.

        Resolved once (``git rev-parse``; by the process that found the repository,
        for one opened by :meth:`discover`), until :meth:`close` or
        :meth:`forget_head`: a command reads the policy and the annotations at one
        HEAD. Git, not a file read: HEAD may name a packed ref, a worktree's HEAD, or
        another ref storage.
        """
        if not self._head_known:
            # --git-dir: this repository's HEAD, even where GIT_DIR names another one
            # (a --remote cache read by 'git --git-dir=X registry').
            self._head = gitbin.resolve_commit(
                "HEAD", self.cwd, env=self.env, git_dir=self.paths.git_dir
            )
            self._head_known = True
        return self._head

    def forget_head(self) -> None:
        """Resolve HEAD again next time (after a commit this command made)."""
        self._head_known = False

    def resolve_commit(self, rev: str) -> ObjectId | None:
        """The commit a revision names (``HEAD~2``, a branch, a tag, a short id), or None;
        ``HEAD`` itself is :meth:`head`."""
        if rev == "HEAD":
            return self.head()
        return gitbin.resolve_commit(rev, self.cwd, env=self.env)

    def head_ref(self) -> str | None:
        """The ref HEAD names (``refs/heads/main``), existing or not; None if detached."""
        return gitbin.head_ref(self.paths.git_dir, self.cwd, env=self.env)

    def branches(self, limit: int) -> list[str]:
        """The first ``limit`` branches (``refs/heads/...``), by name."""
        return gitbin.branch_refs(self.paths.git_dir, limit, self.cwd, env=self.env)

    def branch_tips(self, *, remotes: bool) -> dict[str, ObjectId]:
        """Branch name (``main``; with ``remotes`` also ``origin/main``) -> its commit."""
        return gitbin.branch_tips(self.paths.git_dir, remotes, self.cwd, env=self.env)

    def is_ancestor(self, commit: ObjectId, tip: ObjectId) -> bool:
        """Whether ``commit`` is reachable from ``tip``."""
        return commit == tip or gitbin.is_ancestor(commit, tip, self.cwd, env=self.env)

    def count_commits(self, old: ObjectId, new: ObjectId) -> int:
        """How many commits ``new`` has that ``old`` lacks."""
        return gitbin.count_commits(old, new, self.cwd, env=self.env)

    def log_numstat(self, old: ObjectId, new: ObjectId, limit: int) -> str:
        """The commits ``new`` has and ``old`` lacks (see :func:`gitbin.log_numstat`)."""
        return gitbin.log_numstat(old, new, limit, self.cwd, env=self.env)

    def containing(self, commit: ObjectId, candidates: Iterable[ObjectId]) -> set[ObjectId]:
        """Those of ``candidates`` that contain ``commit`` (it, or a descendant)."""
        return gitbin.commits_containing(commit, candidates, self.cwd, env=self.env)

    def unreachable(self, commits: Iterable[ObjectId], tips: Iterable[ObjectId]) -> set[ObjectId]:
        """Those of ``commits`` that none of ``tips`` reaches (one ``git rev-list``)."""
        return gitbin.unreachable(commits, tips, self.cwd, env=self.env)

    def files_named(self, commit: ObjectId, filename: str) -> list[str]:
        """Every path in ``commit`` whose last part is ``filename``, folders included.

        Kept in the parse cache, as :meth:`_lookup` is: a commit's tree never changes.
        """
        cache = self.parse_cache()
        key = f"named\0{commit}\0{filename}"
        cached = cache.get(key)
        if type(cached) is tuple and all(
            type(p) is str and (p == filename or p.endswith("/" + filename)) for p in cached
        ):
            return list(cached)
        found = gitbin.files_named(commit, filename, self.cwd, env=self.env)
        if _HEX_RE.fullmatch(commit):  # an id, not a name that can move
            cache.put(key, tuple(found))
        return found

    def staged_files(self) -> list[gitbin.IndexEntry]:
        """The merged entries of the index Git uses now (see :func:`gitbin.staged_files`)."""
        return gitbin.staged_files(self.cwd, env=self.env)

    def work_tree_paths(self) -> list[str]:
        """The paths ``git add -A`` would consider (see :func:`gitbin.work_tree_paths`)."""
        top = self.paths.work_tree
        return [] if top is None else gitbin.work_tree_paths(top, env=self.env)

    def hooks_dir(self) -> str:
        """The absolute folder Git runs this repository's hooks from."""
        return gitbin.hooks_dir(self.cwd, env=self.env)

    def is_shallow(self) -> bool:
        """Whether this is a shallow clone (see :func:`gitbin.is_shallow`)."""
        return gitbin.is_shallow(self.paths.common_dir)

    # -- files of git-registry's own in the Git directory ---------------------------------

    def write_lock(
        self, command: str, *, timeout: float, notice: Callable[[str], None]
    ) -> contextlib.AbstractContextManager[str]:
        """This repository's write lock (see :func:`writelock.write_lock`)."""
        from git_registry.writelock import write_lock

        return write_lock(self.paths.common_dir, command, timeout=timeout, notice=notice)

    def push_lock(self, owner: Owner, *, timeout: float) -> PushLock:
        """The server's push lock (see :class:`pushlock.PushLock`)."""
        from git_registry.pushlock import PushLock

        return PushLock(self.paths.common_dir, owner, timeout=timeout)

    def scratch_dir(self) -> str:
        """A folder of git-registry's own in the Git directory (``registry/``), for
        temporary files that must be renamed within one file system."""
        return os.path.join(self.paths.common_dir, "registry")

    def fetched_artifacts(self) -> set[str]:
        """What :meth:`record_fetched` noted in this shallow clone (``*``: everything)."""
        try:
            with open(os.path.join(self.paths.common_dir, FETCHED), encoding="utf-8") as f:
                return {line.strip() for line in f}
        except (OSError, UnicodeDecodeError):
            return set()

    def record_fetched(self, artifacts: Iterable[str] | None) -> None:
        """Note, in a shallow clone, that the registry tags of ``artifacts`` (None: all)
        were fetched. An append, not a rewrite: two fetches may note at once; a
        read-only Git directory notes nothing (reads keep warning)."""
        path = os.path.join(self.paths.common_dir, FETCHED)
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a", encoding="utf-8") as f:
                f.write("".join(f"{a}\n" for a in (["*"] if artifacts is None else artifacts)))

    def committer(self) -> Signature:
        """Who Git says is committing now, and when (see :func:`gitbin.committer_ident`)."""
        return gitbin.committer_ident(self.cwd, env=self.env)

    def commit_time(self, commit: ObjectId) -> int | None:
        """The committer time of ``commit`` (seconds since the epoch), as Git records it;
        None if it is not a commit or has no readable committer line."""
        found = self._objects().read(commit) if _HEX_RE.fullmatch(commit) else None
        if found is None or found[0] != "commit":
            return None
        header = found[1].partition(b"\n\n")[0]
        for line in header.split(b"\n"):
            if line.startswith(b"committer "):
                fields = line.rpartition(b">")[2].split()
                if fields and fields[0].isdigit():
                    return int(fields[0])
        return None

    # -- reading files from commits ---------------------------------------------------

    def _tree(self, commit: ObjectId) -> str:
        tree = self._trees.get(commit)
        if tree is None:
            found = self._objects().read(commit) if _HEX_RE.fullmatch(commit) else None
            if found is None or found[0] != "commit" or not found[1].startswith(b"tree "):
                raise RegistryError(f"{commit} is not a commit")
            tree = found[1][5 : found[1].index(b"\n")].decode("ascii", "replace")
            self._trees[commit] = tree
        return tree

    def _entries(self, tree: str) -> dict[bytes, tuple[int, str]] | None:
        """A tree's entries: name -> (mode, object id); None if it is not a tree."""
        entries = self._tree_entries.get(tree)
        if entries is None:
            found = self._objects().read(tree)
            if found is None or found[0] != "tree":
                return None
            entries = self._tree_entries[tree] = _parse_tree(found[1], len(tree) // 2)
        return entries

    def _lookup(self, commit: ObjectId, path: str) -> tuple[int, str] | None:
        """The mode and object id at ``path`` in ``commit``, or None if there is nothing.

        Kept in the parse cache: a commit id names one tree for ever, so what it holds
        at a path never changes, and a warm read starts no ``git cat-file`` at all.
        """
        cache = self.parse_cache()
        key = f"path\0{commit}\0{path}"
        cached = cache.get(key)
        if cached == ():
            return None
        if (
            type(cached) is tuple
            and len(cached) == 2
            and type(cached[0]) is int
            and type(cached[1]) is str
            and _HEX_RE.fullmatch(cached[1])
        ):
            return cached[0], cached[1]
        found, lasting = self._walk(commit, path)
        if lasting:
            cache.put(key, found or ())
        return found

    def _walk(self, commit: ObjectId, path: str) -> tuple[tuple[int, str] | None, bool]:
        """:meth:`_lookup` through the trees (one ``cat-file`` round trip each, every
        tree parsed once); empty parts of the path (``a//b``, a trailing ``/``) are
        skipped. Also whether the answer lasts: not if a tree on the way is missing
        (a partial clone may fetch it later).

        Raises:
            RegistryError: ``commit`` is not a commit.
        """
        mode, oid = 0o40000, self._tree(commit)
        for part in path.encode("utf-8", "surrogateescape").split(b"/"):
            if not part:
                continue
            entries = self._entries(oid) if mode == 0o40000 else {}
            if entries is None:
                return None, False
            if part not in entries:
                return None, True
            mode, oid = entries[part]
        return (mode, oid), True

    def blob_at(
        self, commit: ObjectId, path: str, limit: int | None = None
    ) -> tuple[ObjectId, bytes] | None:
        """The blob at ``path`` in ``commit`` (its id and bytes), or None if there is none.

        Raises:
            gitbin.ObjectTooLarge: it is larger than ``limit`` (it was not read whole).
        """
        found = self._lookup(commit, path)
        if found is None or found[0] & 0o170000 != 0o100000:
            return None
        blob = self._objects().read(found[1], limit)
        return (ObjectId(found[1]), blob[1]) if blob is not None and blob[0] == "blob" else None

    def blob_id_at(self, commit: ObjectId, path: str) -> ObjectId | None:
        """The id of the regular file at ``path`` in ``commit`` (its blob is not read),
        or None if there is none."""
        found = self._lookup(commit, path)
        if found is None or found[0] & 0o170000 != 0o100000:
            return None
        return ObjectId(found[1])

    def entry_at(self, commit: ObjectId, path: str) -> tuple[int, ObjectId] | None:
        """The mode (``0o100644``, ``0o40000``…) and object id at ``path`` in ``commit``,
        or None if there is nothing there.

        Raises:
            RegistryError: ``commit`` is not a commit here.
        """
        found = self._lookup(commit, path)
        return None if found is None else (found[0], ObjectId(found[1]))

    def tree_entries(self, tree: ObjectId) -> list[tuple[bytes, int, ObjectId]] | None:
        """The entries of tree ``tree`` as Git stores them: ``(name, mode, object id)``,
        names as raw bytes (unchecked: a crafted tree may hold any); None if it is not
        a tree here."""
        found = self._objects().read(tree) if _HEX_RE.fullmatch(tree) else None
        if found is None or found[0] != "tree":
            return None  # read again, not from the name -> entry map: it keeps one of two
        return [  # entries of one name (a crafted tree), which a writer must see
            (name, mode, ObjectId(oid)) for name, mode, oid in _tree_list(found[1], len(tree) // 2)
        ]

    def copy_blob(self, oid: ObjectId, out: BinaryIO) -> int | None:
        """Write blob ``oid`` to ``out``, streamed; its size, or None if there is no such
        blob (nothing written).

        Raises:
            GitError: ``git cat-file`` failed.
            OSError: ``out`` cannot be written.
        """
        if not _HEX_RE.fullmatch(oid):
            return None
        return self._objects().copy(oid.lower(), out)

    def is_link(self, commit: ObjectId, path: str) -> bool:
        """Whether ``path`` in ``commit`` is a symbolic link."""
        found = self._lookup(commit, path)
        return found is not None and found[0] & 0o170000 == 0o120000

    def is_folder(self, commit: ObjectId, path: str) -> bool:
        """Whether ``path`` in ``commit`` is a folder (a tree or a submodule)."""
        found = self._lookup(commit, path)
        return found is not None and found[0] & 0o170000 in (0o040000, 0o160000)

    def path_exists(self, commit: ObjectId, path: str) -> bool:
        """Whether ``path`` (a file or folder) exists in ``commit``."""
        return path in ("", ".") or self._lookup(commit, path) is not None

    # -- writing tags ------------------------------------------------------------------

    def create_tag(
        self,
        name: str,
        target: ObjectId,
        message: str,
        tagger: Signature,
        *,
        sign: SignRequest | None = None,
    ) -> ObjectId:
        """Create the annotated tag ``name`` on commit ``target``, atomically.

        The message is written as given (GTO writes no trailing newline); signed, see
        :meth:`create_tags`.

        Raises:
            TagExistsError: the tag exists already (nothing is changed).
            RegistryError: Git refuses the ref (e.g. a tag named like a folder), or
                cannot sign the tag.
        """
        return self.create_tags([NewTagObject(name, target, message, tagger)], sign=sign)[0]

    def create_tags(
        self, tags: Sequence[NewTagObject], *, sign: SignRequest | None = None
    ) -> list[ObjectId]:
        """Create annotated tags on commits in one ref transaction: all or none
        (:meth:`write_tag_objects`, then :meth:`create_tag_refs`).

        Args:
            sign: sign every tag, by Git itself (``git tag -s``, see
                :func:`git_registry.signing.write_signed_tags`); a message that does
                not end with a line break gets one (:func:`~git_registry.signing.signed_message`).
                None: unsigned, written by ``git mktag`` exactly as given.

        Raises:
            TagExistsError: a tag exists already (nothing is changed).
            RegistryError: Git refuses a ref, with Git's reason, or cannot sign a tag
                (nothing is changed).
        """
        oids = self.write_tag_objects(tags, sign=sign)
        self.create_tag_refs([t.name for t in tags], oids)
        return oids

    def write_tag_objects(
        self, tags: Sequence[NewTagObject], *, sign: SignRequest | None = None
    ) -> list[ObjectId]:
        """Write the tag objects of new tags (no ref names them yet: harmless, and
        ``git gc`` removes them if no ref ever does).

        Raises:
            TagExistsError: a tag of that name exists already (nothing is written).
            RegistryError: Git refuses an object, with Git's reason.
        """
        for new in tags:
            if self._tag_exists(new.name):
                raise TagExistsError(
                    f"tag '{new.name}' already exists", hint=_exists_hint(new.name)
                )
        if sign is None:
            return [self._write_tag_object(new) for new in tags]
        from git_registry.signing import write_signed_tags

        return write_signed_tags(self, tags, sign)

    def create_tag_refs(
        self,
        names: Sequence[str],
        oids: Sequence[ObjectId],
        replacing: Sequence[tuple[str, ObjectId]] = (),
    ) -> None:
        """Create the refs of tags whose objects :meth:`write_tag_objects` wrote, in one
        ``git update-ref --stdin`` transaction, which Git applies whole or not at all,
        and only where no ref of that name exists yet; in the same transaction, delete
        the tags ``replacing`` (name, the object id it must still point at).

        Raises:
            TagExistsError: a tag exists already (nothing is changed).
            RegistryError: Git refuses a ref, with Git's reason (nothing is changed).
        """
        # "create REF NEW": only if REF does not exist yet. Through Git, which takes
        # the ref locks and rewrites packed-refs itself.
        commands = [f"create {TAG_PREFIX}{n}\0{oid}\0" for n, oid in zip(names, oids, strict=True)]
        commands += [f"delete {TAG_PREFIX}{name}\0{oid}\0" for name, oid in replacing]
        failure = self._ref_transaction(commands)
        if failure is not None:
            exists = next((n for n in names if f"'{TAG_PREFIX}{n}'" in failure), None)
            if "reference already exists" in failure and exists is not None:
                raise TagExistsError(f"tag '{exists}' already exists", hint=_exists_hint(exists))
            raise RegistryError(
                f"cannot create {_named(names)}: {failure}",
                hint="nothing was created"
                + ("; a tag or folder with a clashing name exists" if "exists" in failure else ""),
            )

    def _write_tag_object(self, new: NewTagObject) -> ObjectId:
        """Write the tag object through ``git mktag``, which checks it as ``git fsck``
        does (a tagger Git would not write is refused, never stored) and writes it as
        Git writes objects (no lock files of ours under ``objects/``)."""
        from git_registry.tagobject import format_tag_object

        text = format_tag_object(new.name, new.target, new.tagger, new.message)
        result = gitbin.run_git(["mktag"], cwd=self.cwd, env=self.env, input_text=text, check=False)
        oid = result.stdout.strip()
        if result.returncode != 0 or not _HEX_RE.fullmatch(oid):
            raise RegistryError(
                f"cannot write the tag object of '{new.name}': {_git_reason(result)}",
                hint="nothing was created",
            )
        return ObjectId(oid)

    def delete_tags(self, tags: Sequence[tuple[str, ObjectId]]) -> None:
        """Delete tags (name, the object id it must still point at) in one ref
        transaction: all or none.

        Raises:
            RegistryError: Git refused (a tag moved, a lock is held, …), with Git's
                reason; nothing was deleted.
        """
        commands = [f"delete {TAG_PREFIX}{name}\0{oid}\0" for name, oid in tags]
        failure = self._ref_transaction(commands)
        if failure is not None:
            raise RegistryError(
                f"cannot delete {_named([name for name, _ in tags])}: {failure}",
                hint="nothing was deleted",
            )

    def _ref_transaction(self, commands: Sequence[str]) -> str | None:
        """Run ``commands`` (``git update-ref --stdin -z`` lines) as one transaction;
        None if Git applied them, else Git's reason in one line."""
        script = "start\0" + "".join(commands) + "prepare\0commit\0"
        result = gitbin.run_git(
            ["update-ref", "--no-deref", "--stdin", "-z"],
            cwd=self.cwd,
            env=self.env,
            input_text=script,
            check=False,
        )
        return None if result.returncode == 0 else _git_reason(result)

    def _tag_exists(self, name: str) -> bool:
        """Whether tag ``name`` exists (a loose ref file or a line of packed-refs)."""
        if not self._uses_ref_files():
            return name in gitbin.tag_refs(self.cwd, env=self.env, git_dir=self.paths.git_dir)
        common = self.paths.common_dir
        if os.path.isfile(os.path.join(common, "refs", "tags", *name.split("/"))):
            return True
        return refread.packed_tag(common, name) is not None

    def delete_tag(self, name: str, expected: ObjectId) -> bool:
        """Delete tag ``name`` if it still points at ``expected``; False if it moved."""
        ref = TAG_PREFIX + name
        return gitbin.delete_ref(ref, cwd=self.cwd, env=self.env, old=expected, deref=False)


def _named(names: Sequence[str]) -> str:
    """``tag 'a'`` or ``tags 'a', 'b'``."""
    quoted = ", ".join(f"'{name}'" for name in names)
    return f"tag {quoted}" if len(names) == 1 else f"tags {quoted}"


def _unusable(row: TagRow, problem: str) -> TagRow:
    return (row[0], row[1], None, "", None, "", problem)


def _exists_hint(name: str) -> str:
    return f"see it with: git show --no-patch '{transport.tag_word(name)}'"


def _git_reason(result: gitbin.GitResult) -> str:
    """Git's reason for a failed ``update-ref`` or ``mktag``, in one line
    (:func:`gitbin.git_reason`), without the ref-lock preamble Git puts before it."""
    reason = gitbin.git_reason(result, "update-ref")
    # "update_ref failed for ref 'R': cannot lock ref 'R': 'refs/tags/a' exists; …"
    _, found, why = reason.rpartition("cannot lock ref '")
    return why.partition("': ")[2] or reason if found else reason


def _parse_tree(raw: bytes, hash_size: int) -> dict[bytes, tuple[int, str]]:
    """A tree object's entries ("<octal mode> <name>\\0<binary id>"...): name -> (mode, hex id)."""
    return {name: (mode, oid) for name, mode, oid in _tree_list(raw, hash_size)}


def _tree_list(raw: bytes, hash_size: int) -> list[tuple[bytes, int, str]]:
    """A tree object's entries in their order, each as it is: (name, mode, hex id)."""
    entries = []
    pos, end = 0, len(raw)
    while pos < end:
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        oid = raw[nul + 1 : nul + 1 + hash_size].hex()
        entries.append((raw[space + 1 : nul], int(raw[pos:space], 8), oid))
        pos = nul + 1 + hash_size
    return entries
