"""The repository: the only module that uses dulwich.

Reads tag refs (``packed-refs`` and loose refs, read directly) and tag objects
(through dulwich's object store, parsing only the tag header), and writes tags
atomically: a ref is created only if it does not exist yet (``add_if_new``),
and removed only if it still points where we saw it (``remove_if_equals``).
Bytes stay here; callers get ``str`` values from :mod:`git_registry.tags`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from git_registry import gitbin
from git_registry.errors import RegistryError
from git_registry.grammar import TAG_PREFIX
from git_registry.tags import ObjectId, Signature, TagObject, TagRef

if TYPE_CHECKING:
    from dulwich.objects import ObjectID
    from dulwich.refs import Ref
    from dulwich.repo import Repo

_TYPE_NAMES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
_SIGNATURE_MARKERS = (
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN SSH SIGNATURE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
)
_MAX_TAG_DEPTH = 16


class TagExistsError(RegistryError):
    """The tag to create exists already; nothing was written."""


class Repository:
    """A Git repository opened for registry reads and tag writes.

    Use as a context manager (or call :meth:`close`) so dulwich's pack files are
    closed before the interpreter exits.
    """

    def __init__(self, paths: gitbin.RepoPaths) -> None:
        self.paths = paths
        self._dulwich: Repo | None = None
        self._trees: dict[ObjectId, bytes] = {}

    @classmethod
    def discover(cls, cwd: str | None = None) -> Repository:
        """Open the repository Git finds for ``cwd``.

        Raises:
            RegistryError: not inside a Git repository.
        """
        return cls(gitbin.discover(cwd))

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

    def _repo(self) -> Repo:
        if self._dulwich is None:
            from dulwich.repo import Repo

            self._dulwich = Repo(self.paths.git_dir)
        return self._dulwich

    # -- reading refs ------------------------------------------------------------------

    def tag_refs(self) -> dict[str, ObjectId]:
        """Every ref under ``refs/tags/``: tag name -> object id, without reading objects.

        Loose refs override packed ones, as in Git. Symbolic refs are skipped.
        """
        refs: dict[str, ObjectId] = {}
        packed = os.path.join(self.paths.common_dir, "packed-refs")
        try:
            with open(packed, "rb") as f:
                for line in f:
                    if line[:1] in (b"#", b"^"):
                        continue
                    oid, _, name = line.rstrip(b"\n").partition(b" ")
                    if name.startswith(b"refs/tags/"):
                        refs[name[10:].decode("utf-8", "surrogateescape")] = ObjectId(
                            oid.decode("ascii")
                        )
        except FileNotFoundError:
            pass
        root = os.path.join(self.paths.common_dir, "refs", "tags")
        prefix_len = len(root) + 1
        for dirpath, _dirs, files in os.walk(root):
            for filename in files:
                if filename.endswith(".lock"):
                    continue
                path = os.path.join(dirpath, filename)
                try:
                    with open(path, "rb") as f:
                        content = f.read(200).strip()
                except OSError:
                    continue
                if content.startswith(b"ref:") or not content:
                    continue
                tag_name = path[prefix_len:].replace(os.sep, "/")
                refs[tag_name] = ObjectId(content.decode("ascii", "replace"))
        return refs

    def read_tags(self, refs: Iterable[tuple[str, ObjectId]]) -> list[TagRef]:
        """Read the objects of the given tag refs (name, object id), each once."""
        result = []
        store = self._repo().object_store
        for name, oid in refs:
            result.append(_read_tag_ref(store, name, oid))
        return result

    def read_tag(self, name: str) -> TagRef | None:
        """One tag ref and its object, or None if there is no such tag."""
        oid = self.tag_refs().get(name)
        if oid is None:
            return None
        return self.read_tags([(name, oid)])[0]

    # -- reading files from commits ---------------------------------------------------

    def head(self) -> ObjectId | None:
        """The commit HEAD points at, or None in a repository without commits."""
        try:
            oid = self._repo().refs[_head_ref()]
        except KeyError:
            return None
        return ObjectId(oid.decode("ascii"))

    def _tree(self, commit: ObjectId) -> bytes:
        tree = self._trees.get(commit)
        if tree is None:
            type_num, raw = self._repo().object_store.get_raw(_oid(commit.encode("ascii")))
            if type_num != 1 or not raw.startswith(b"tree "):
                raise RegistryError(f"{commit} is not a commit")
            tree = raw[5:45]
            self._trees[commit] = tree
        return tree

    def _lookup(self, commit: ObjectId, path: str) -> tuple[int, bytes] | None:
        from dulwich.errors import NotTreeError
        from dulwich.object_store import tree_lookup_path

        store = self._repo().object_store
        try:
            mode, sha = tree_lookup_path(store.__getitem__, _oid(self._tree(commit)), path.encode())
        except (KeyError, NotTreeError):
            return None
        return int(mode), bytes(sha)

    def blob_at(self, commit: ObjectId, path: str) -> tuple[ObjectId, bytes] | None:
        """The blob at ``path`` in ``commit`` (its id and bytes), or None if there is none."""
        found = self._lookup(commit, path)
        if found is None or found[0] & 0o170000 != 0o100000:
            return None
        oid = ObjectId(found[1].decode("ascii"))
        type_num, data = self._repo().object_store.get_raw(_oid(found[1]))
        return (oid, bytes(data)) if type_num == 3 else None

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
        if repo.refs.read_ref(refname) is not None:
            raise TagExistsError(f"tag '{name}' already exists", hint=_exists_hint(name))
        repo.object_store.add_object(tag)
        try:
            created = repo.refs.add_if_new(refname, tag.id)
        except (OSError, ValueError) as exc:
            raise RegistryError(
                f"cannot create tag '{name}': {_os_reason(exc)}",
                hint="a tag or folder with a clashing name exists under refs/tags",
            ) from exc
        if not created:
            raise TagExistsError(f"tag '{name}' already exists", hint=_exists_hint(name))
        return ObjectId(tag.id.decode("ascii"))

    def delete_tag(self, name: str, expected: ObjectId) -> bool:
        """Delete tag ``name`` if it still points at ``expected``; False if it moved."""
        from dulwich.objects import ObjectID

        removed = self._repo().refs.remove_if_equals(
            _refname(name), ObjectID(expected.encode("ascii"))
        )
        return bool(removed)


def _oid(hexsha: bytes) -> ObjectID:
    from dulwich.objects import ObjectID

    return ObjectID(hexsha)


def _head_ref() -> Ref:
    from dulwich.refs import Ref

    return Ref(b"HEAD")


def _refname(name: str) -> Ref:
    from dulwich.refs import Ref

    return Ref((TAG_PREFIX + name).encode("utf-8"))


def _exists_hint(name: str) -> str:
    return f"see it with: git show --no-patch '{name}'"


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)


def _read_tag_ref(store: Any, name: str, oid: ObjectId) -> TagRef:
    get_raw: Callable[[bytes], tuple[int, bytes]] = store.get_raw
    try:
        type_num, raw = get_raw(oid.encode("ascii"))
    except (KeyError, ValueError, UnicodeEncodeError):
        return TagRef(name, oid, None, f"object {oid} is missing from the repository")
    if type_num != 4:
        return TagRef(name, oid)  # a lightweight tag
    target, target_type, tagger, message = _parse_tag_object(raw)
    depth = 0
    # A tag of a tag: peel to the first non-tag object, as Git's ^{} does.
    while target_type == "tag" and depth < _MAX_TAG_DEPTH:
        depth += 1
        try:
            type_num, inner = get_raw(target.encode("ascii"))
        except (KeyError, ValueError, UnicodeEncodeError):
            return TagRef(name, oid, None, f"object {target} is missing from the repository")
        if type_num != 4:
            target_type = _TYPE_NAMES.get(type_num, "unknown object")
            break
        target, target_type, _, _ = _parse_tag_object(inner)
    if not target:
        return TagRef(name, oid, None, f"tag object {oid} has no 'object' header")
    return TagRef(name, oid, TagObject(oid, target, target_type, tagger, message))


def _parse_tag_object(raw: bytes) -> tuple[ObjectId, str, Signature | None, str]:
    header, _, body = raw.partition(b"\n\n")
    target = b""
    target_type = b""
    tagger = None
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"object":
            target = value
        elif key == b"type":
            target_type = value
        elif key == b"tagger":
            tagger = _parse_signature(value)
    for marker in _SIGNATURE_MARKERS:
        cut = body.find(marker)
        if cut >= 0:
            body = body[:cut]
    return (
        ObjectId(target.decode("ascii", "replace")),
        target_type.decode("ascii", "replace"),
        tagger,
        body.decode("utf-8", "replace"),
    )


def _parse_signature(value: bytes) -> Signature | None:
    left, sep, when = value.rpartition(b"> ")
    if not sep:
        return None
    name, _, email = left.partition(b"<")
    parts = when.split()
    try:
        time = int(parts[0])
        tz = parts[1] if len(parts) > 1 else b"+0000"
        minutes = int(tz[1:3]) * 60 + int(tz[3:5])
    except (ValueError, IndexError):
        time, minutes, tz = 0, 0, b"+0000"
    return Signature(
        name=name.strip().decode("utf-8", "replace"),
        email=email.decode("utf-8", "replace"),
        time=time,
        tz_offset=-minutes if tz[:1] == b"-" else minutes,
    )
