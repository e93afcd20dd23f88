"""The repository: the only module that uses dulwich.

Reads tag refs (``packed-refs`` and loose refs, read directly) and tag objects
(through dulwich's object store, parsing only the tag header), and writes tags
atomically: a ref is created only if it does not exist yet (``add_if_new``),
and removed only if it still points where we saw it (``remove_if_equals``).
Bytes stay here; callers get ``str`` values from :mod:`git_registry.tags`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from git_registry import gitbin
from git_registry.errors import RegistryError
from git_registry.grammar import TAG_PREFIX
from git_registry.tagcache import TagCache, entry_row
from git_registry.tagobject import read_tag_row, type_problem
from git_registry.tags import ObjectId, Signature, TagRef, TagRow, tag_ref_of

if TYPE_CHECKING:
    from dulwich.refs import Ref
    from dulwich.repo import Repo

_HEX_RE = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")
# A packed-refs line "<oid> refs/tags/<name>" (not a "# comment" or "^peeled" line),
# found after its "\n": a pattern starting with a literal is searched for fast.
_PACKED_TAG_RE = re.compile(r"\n([^#^ \n][^ \n]*|) refs/tags/([^\n]*)")


class TagExistsError(RegistryError):
    """The tag to create exists already; nothing was written."""


class Repository:
    """A Git repository opened for registry reads and tag writes.

    Use as a context manager (or call :meth:`close`) so dulwich's pack files are
    closed before the interpreter exits.
    """

    def __init__(
        self, paths: gitbin.RepoPaths, *, use_cache: bool | Callable[[], bool] = True
    ) -> None:
        """Open the repository at ``paths``.

        Args:
            paths: where the repository is.
            use_cache: whether to use the tag cache (:mod:`git_registry.tagcache`),
                or a function deciding it when tags are first read (from Git config).
        """
        self.paths = paths
        self._dulwich: Repo | None = None
        self._trees: dict[str, str] = {}
        self._use_cache = use_cache
        self._cache: TagCache | None = None
        self._refs: dict[str, ObjectId] | None = None
        self._reader: gitbin.ObjectReader | None = None
        self._tree_entries: dict[str, dict[bytes, tuple[int, str]]] = {}

    @classmethod
    def discover(
        cls, cwd: str | None = None, *, use_cache: bool | Callable[[], bool] = True
    ) -> Repository:
        """Open the repository Git finds for ``cwd``.

        Raises:
            RegistryError: not inside a Git repository.
        """
        return cls(gitbin.discover(cwd), use_cache=use_cache)

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
        if self._dulwich is not None:
            self._dulwich.close()
            self._dulwich = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _objects(self) -> gitbin.ObjectReader:
        """Objects read through ``git cat-file`` (reads never need dulwich)."""
        if self._reader is None:
            self._reader = gitbin.ObjectReader(self.paths.git_dir)
        return self._reader

    def _repo(self) -> Repo:
        if self._dulwich is None:
            from dulwich.repo import Repo

            # bare=True: dulwich then reads a linked worktree's git dir (its
            # 'commondir' file) too; we never use dulwich's work tree.
            self._dulwich = Repo(self.paths.git_dir, bare=True)
            _see_quarantine(self._dulwich)
        return self._dulwich

    def blob(self, oid: ObjectId) -> bytes | None:
        """The bytes of blob ``oid``, or None if there is no such blob."""
        if not _HEX_RE.fullmatch(oid):
            return None
        found = self._objects().read(oid.lower())
        return found[1] if found is not None and found[0] == "blob" else None

    # -- reading refs ------------------------------------------------------------------

    def tag_refs(self) -> dict[str, ObjectId]:
        """Every ref under ``refs/tags/``: tag name -> object id, without reading objects.

        Loose refs override packed ones, as in Git. Symbolic refs are skipped.
        """
        packed = os.path.join(self.paths.common_dir, "packed-refs")
        try:
            with open(packed, "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
        except FileNotFoundError:
            text = ""
        # One regular expression over the whole file, not a Python loop per line.
        found = _PACKED_TAG_RE.findall("\n" + text)
        refs: dict[str, ObjectId] = {name: oid for oid, name in found}
        root = os.path.join(self.paths.common_dir, "refs", "tags")
        prefix_len = len(root) + 1
        # os.open/os.read: half the time of open() per file with 100,000 loose refs.
        flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
        for dirpath, _dirs, files in os.walk(root):
            folder = dirpath + os.sep
            prefix = folder[prefix_len:].replace(os.sep, "/")
            for filename in files:
                if filename.endswith(".lock"):
                    continue
                try:
                    fd = os.open(folder + filename, flags)
                    try:
                        content = os.read(fd, 200).strip()
                    finally:
                        os.close(fd)
                except OSError:
                    continue
                if content.startswith(b"ref:") or not content:
                    continue
                refs[prefix + filename] = ObjectId(content.decode("ascii", "replace"))
        self._refs = refs
        return refs

    def read_tags(self, refs: Iterable[tuple[str, ObjectId]]) -> list[TagRef]:
        """Read the objects of the given tag refs (name, object id), each once."""
        return [tag_ref_of(row) for row in self.read_tag_rows(refs)]

    def read_tag_rows(self, refs: Iterable[tuple[str, ObjectId]]) -> list[TagRow]:
        """:meth:`read_tags` as plain tuples (:data:`~git_registry.tags.TagRow`).

        Objects already parsed come from the tag cache; the others are read with one
        ``git cat-file --batch`` (streamed: one object in memory at a time), their
        peeled targets' types checked with one ``git cat-file --batch-check``, then
        added to the cache.
        """
        pairs = list(refs)
        cache = self._tag_cache()
        entries = cache.entries
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
            if not os.environ.get("GIT_QUARANTINE_PATH"):  # a server hook: write nothing
                live = None
                if self._refs is not None:  # forget objects no tag points at any more
                    live = {*self._refs.values(), *(oid for _, oid in pairs)}
                cache.save(live)
        return [row for row in rows if row is not None]

    def _read_new(
        self,
        pairs: list[tuple[str, ObjectId]],
        rows: list[TagRow | None],
        todo: list[int],
        cache: TagCache,
    ) -> None:
        """Read the tags ``pairs[i]`` for ``i`` in ``todo`` into ``rows[i]``, and cache
        what can be."""
        wanted = [pairs[i][1] for i in todo]
        valid = [oid.lower() for oid in wanted if _HEX_RE.fullmatch(oid)]
        stream = gitbin.stream_objects(self.paths.git_dir, valid)
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
        stream.close()
        if not unchecked:
            return
        # A tag's 'type' header must match its object's real type (Git refuses to peel
        # it otherwise): one 'git cat-file --batch-check' for all new tags at once.
        ids = list(targets)
        types = dict(zip(ids, gitbin.object_types(self.paths.git_dir, ids), strict=True))
        for i, declared_by in unchecked:
            checked = rows[i]
            assert checked is not None and checked[2] is not None
            row, target, declared = checked, checked[2], checked[3]
            actual = types[target]
            if actual is None:  # not cached: a fetch can bring the object
                rows[i] = _unusable(row, f"object {target} is missing from the repository")
                continue
            if actual != declared:
                row = rows[i] = _unusable(row, type_problem(declared_by, declared, target, actual))
            cache.add(row)

    def _read_object(self, oid: str) -> tuple[str, bytes] | None:
        """One object by id (the inner tag of a tag of a tag), or None if it is missing."""
        return self._objects().read(oid.lower()) if _HEX_RE.fullmatch(oid) else None

    def _tag_cache(self) -> TagCache:
        if self._cache is None:
            use = self._use_cache
            if use if isinstance(use, bool) else use():
                self._cache = TagCache.load(self.paths.common_dir)
            else:
                self._cache = TagCache.disabled()
        return self._cache

    def read_tag(self, name: str) -> TagRef | None:
        """One tag ref and its object, or None if there is no such tag."""
        oid = self.tag_refs().get(name)
        if oid is None:
            return None
        return self.read_tags([(name, oid)])[0]

    # -- reading files from commits ---------------------------------------------------

    def head(self) -> ObjectId | None:
        """The commit HEAD points at, or None in a repository without commits."""
        # Git, not dulwich: dulwich parses (and checks) every line of packed-refs to
        # resolve one ref, 0.6 s with 100,000 tags.
        result = gitbin.run_git(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", "HEAD"],
            cwd=self.cwd,
            check=False,
        )
        oid = result.stdout.strip()
        return ObjectId(oid) if result.returncode == 0 and oid else None

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
        """The mode and object id at ``path`` in ``commit``, as dulwich's
        ``tree_lookup_path`` finds them (empty parts of the path are skipped)."""
        mode, oid = 0o40000, self._tree(commit)
        for part in path.encode("utf-8", "surrogateescape").split(b"/"):
            if not part:
                continue
            entries = self._entries(oid) if mode == 0o40000 else None
            if entries is None or part not in entries:
                return None
            mode, oid = entries[part]
        return mode, oid

    def blob_at(self, commit: ObjectId, path: str) -> tuple[ObjectId, bytes] | None:
        """The blob at ``path`` in ``commit`` (its id and bytes), or None if there is none."""
        found = self._lookup(commit, path)
        if found is None or found[0] & 0o170000 != 0o100000:
            return None
        blob = self._objects().read(found[1])
        return (ObjectId(found[1]), blob[1]) if blob is not None and blob[0] == "blob" else None

    def is_link(self, commit: ObjectId, path: str) -> bool:
        """Whether ``path`` in ``commit`` is a symbolic link."""
        found = self._lookup(commit, path)
        return found is not None and found[0] & 0o170000 == 0o120000

    def path_exists(self, commit: ObjectId, path: str) -> bool:
        """Whether ``path`` (a file or folder) exists in ``commit``."""
        return path in ("", ".") or self._lookup(commit, path) is not None

    # -- writing tags ------------------------------------------------------------------

    def create_tag(self, name: str, target: ObjectId, message: str, tagger: Signature) -> ObjectId:
        """Create the annotated tag ``name`` on commit ``target``, atomically.

        The message is written as given (GTO writes no trailing newline).

        Raises:
            TagExistsError: the tag exists already (nothing is changed).
            RegistryError: Git would refuse the ref (e.g. a tag named like a folder).
        """
        from dulwich.objects import Commit, Tag

        repo = self._repo()
        refname = _refname(name)
        tag = Tag()
        tag.object = (Commit, target.encode("ascii"))
        tag.name = name.encode("utf-8")
        tag.tagger = f"{tagger.name} <{tagger.email}>".encode()
        tag.tag_time = tagger.time
        tag.tag_timezone = tagger.tz_offset * 60
        tag.message = message.encode("utf-8")
        if self._tag_exists(name):
            raise TagExistsError(f"tag '{name}' already exists", hint=_exists_hint(name))
        repo.object_store.add_object(tag)
        oid = ObjectId(tag.id.decode("ascii"))
        # The ref through Git (an empty old value: only if it does not exist yet), which
        # locks and checks packed-refs natively; dulwich would parse all of it.
        result = gitbin.run_git(
            ["update-ref", "--no-deref", refname.decode("utf-8"), oid, ""],
            cwd=self.cwd,
            check=False,
        )
        if result.returncode != 0:
            reason = _git_reason(result)
            if "reference already exists" in reason:
                raise TagExistsError(f"tag '{name}' already exists", hint=_exists_hint(name))
            raise RegistryError(
                f"cannot create tag '{name}': {reason}",
                hint="a tag or folder with a clashing name exists under refs/tags",
            )
        return oid

    def _tag_exists(self, name: str) -> bool:
        """Whether tag ``name`` exists (a loose ref file or a line of packed-refs)."""
        common = self.paths.common_dir
        if os.path.isfile(os.path.join(common, "refs", "tags", *name.split("/"))):
            return True
        try:
            with open(os.path.join(common, "packed-refs"), "rb") as f:
                packed = f.read()
        except OSError:
            return False
        return f" {TAG_PREFIX}{name}\n".encode() in packed

    def delete_tag(self, name: str, expected: ObjectId) -> bool:
        """Delete tag ``name`` if it still points at ``expected``; False if it moved."""
        result = gitbin.run_git(
            ["update-ref", "--no-deref", "-d", f"{TAG_PREFIX}{name}", expected],
            cwd=self.cwd,
            check=False,
        )
        return result.returncode == 0


def _unusable(row: TagRow, problem: str) -> TagRow:
    return (row[0], row[1], None, "", None, "", problem)


def _see_quarantine(repo: Repo) -> None:
    """In a server hook, also read the pushed objects Git keeps in quarantine.

    During ``pre-receive`` Git puts incoming objects in a separate directory and
    names it in ``GIT_QUARANTINE_PATH`` / ``GIT_OBJECT_DIRECTORY``; dulwich reads
    neither, so overlay that directory on the repository's own store (read only).
    """
    incoming = os.environ.get("GIT_QUARANTINE_PATH") or os.environ.get("GIT_OBJECT_DIRECTORY")
    if not incoming or not os.path.isdir(incoming):
        return
    from dulwich.object_store import DiskObjectStore, OverlayObjectStore

    own = repo.object_store
    if os.path.realpath(incoming) == os.path.realpath(own.path):
        return
    repo.object_store = OverlayObjectStore([DiskObjectStore(incoming), own])  # type: ignore[assignment]


def _refname(name: str) -> Ref:
    from dulwich.refs import Ref

    return Ref((TAG_PREFIX + name).encode("utf-8"))


def _exists_hint(name: str) -> str:
    return f"see it with: git show --no-patch '{name}'"


def _git_reason(result: gitbin.GitResult) -> str:
    lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
    reason = lines[-1] if lines else f"git update-ref exited with {result.returncode}"
    reason = reason.removeprefix("fatal: ").removeprefix("error: ")
    # "update_ref failed for ref 'R': cannot lock ref 'R': 'refs/tags/a' exists; …"
    _, found, why = reason.rpartition("cannot lock ref '")
    return why.partition("': ")[2] or reason if found else reason


def _parse_tree(raw: bytes, hash_size: int) -> dict[bytes, tuple[int, str]]:
    """A tree object's entries ("<octal mode> <name>\\0<binary id>"...): name -> (mode, hex id)."""
    entries: dict[bytes, tuple[int, str]] = {}
    pos, end = 0, len(raw)
    while pos < end:
        space = raw.index(b" ", pos)
        nul = raw.index(b"\0", space)
        oid = raw[nul + 1 : nul + 1 + hash_size].hex()
        entries[raw[space + 1 : nul]] = (int(raw[pos:space], 8), oid)
        pos = nul + 1 + hash_size
    return entries
