"""``artifacts.yaml`` (SPEC 4): what an entry holds (:class:`Annotation`), reading and
validating a file, and the problems found in one (:class:`FileProblem`).

Pure. A file at ``a/b/artifacts.yaml`` declares artifacts named ``a/b:NAME``; the
root file declares plain names. Every problem names the file, line, column,
artifact and key. Writing an entry is :mod:`git_registry.yamledit`; the JSON Schema
is :mod:`git_registry.artifact_schema`.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from dataclasses import dataclass, field

from git_registry.controls import (
    control_codes,
)
from git_registry.grammar import NAME_RE, NAME_RULE

# Start-up: typing and json are not imported at run time, yamlsafe only to parse (a
# warm read takes parsed files from the parse cache). mypy reads this name as
# typing.TYPE_CHECKING.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from typing import Any

    from git_registry.yamlsafe import Node, YamlProblem

FILENAME = "artifacts.yaml"
KEYS = ("path", "type", "description", "labels", "custom", "virtual", "sha256", "requires")
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
SHA256_RULE = "expected the SHA-256 of the file: 64 hexadecimal digits"
_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
FREE_TEXT = "\n\t"
"""The control characters a description may hold."""
_SUGGEST = {"tags": "labels", "label": "labels", "desc": "description", "must_exist": "virtual"}


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A problem in a file, at a line and column (1-based)."""

    file: str
    line: int
    column: int
    message: str
    artifact: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


def folder_problem(file: str) -> FileProblem:
    """The problem of an ``artifacts.yaml`` or policy file committed (or staged) as a
    folder (or a submodule): never read, so never silently ignored either."""
    return FileProblem(
        file,
        1,
        1,
        f"is a folder, not a file: git registry reads {file.rpartition('/')[2]} as a "
        "regular file; move the folder away and commit the file in its place",
    )


def link_problem(file: str) -> FileProblem:
    """The problem of an ``artifacts.yaml`` or policy file committed (or staged) as a
    symbolic link."""
    return FileProblem(
        file,
        1,
        1,
        f"is a symbolic link: git registry reads {file.rpartition('/')[2]} from commits, "
        "where a link is not followed; commit a regular file in its place",
    )


@dataclass(frozen=True, slots=True)
class Annotation:
    """One artifact's entry in an ``artifacts.yaml``."""

    artifact: str
    file: str
    line: int
    path: str | None = None
    type: str | None = None
    description: str | None = None
    labels: tuple[str, ...] = ()
    custom: Any = None
    virtual: bool = True
    sha256: str | None = None
    """The SHA-256 of the file at ``path`` (64 lower-case hex digits), checked by ``get``."""
    path_at: tuple[int, int] = (0, 0)
    """Line and column of the ``path`` value, for problems found later."""
    keys: tuple[str, ...] = ()
    """The entry's keys in the order the file has them (editing keeps that order)."""
    requires: tuple[str, ...] = ()
    """The artifacts (full registry names) that must hold a stage before this one is
    promoted to it (see :mod:`git_registry.requirements`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.type,
            "description": self.description,
            "labels": list(self.labels),
            "custom": self.custom,
            "virtual": self.virtual,
            "sha256": self.sha256,
            "requires": list(self.requires),
        }

    def repo_path(self) -> str | None:
        """``path`` relative to the repository root (None for a URL or no path)."""
        if self.path is None or is_url(self.path):
            return None
        return posixpath.normpath(posixpath.join(posixpath.dirname(self.file), self.path))


@dataclass(frozen=True, slots=True)
class Entry:
    """Where an entry's text is: lines ``start`` (its key) to ``end`` (exclusive), 1-based."""

    name: str
    start: int
    end: int
    indent: int


@dataclass(frozen=True, slots=True)
class AnnotationsFile:
    """A parsed ``artifacts.yaml``: its annotations (in file order) and its problems."""

    file: str
    annotations: Mapping[str, Annotation] = field(default_factory=dict)
    problems: tuple[FileProblem, ...] = ()
    entries: tuple[Entry, ...] = ()
    editable: bool = True
    """False when the file cannot be edited line by line (unreadable, or flow style)."""

    def problems_of(self, artifact: str) -> tuple[FileProblem, ...]:
        """Problems that stop ``artifact``'s annotation from being read: its own and the
        file-wide ones (syntax, not a mapping)."""
        return tuple(p for p in self.problems if p.artifact in (None, artifact))


def is_url(path: str) -> bool:
    return bool(_URL_RE.match(path))


def file_for(artifact: str) -> tuple[str, str]:
    """The file declaring ``artifact``, and its key there.

    ``a/b:m`` -> (``a/b/artifacts.yaml``, ``m``); ``m`` -> (``artifacts.yaml``, ``m``).
    """
    dirname, sep, name = artifact.rpartition(":")
    return (f"{dirname}/{FILENAME}" if sep else FILENAME), name


def artifact_in(file: str, key: str) -> str:
    """The artifact name of ``key`` in ``file`` (inverse of :func:`file_for`)."""
    dirname = posixpath.dirname(file)
    return f"{dirname}:{key}" if dirname else key


def parse(
    data: bytes,
    file: str,
    *,
    types: Collection[str] | None = None,
    exists: Callable[[str], bool] | None = None,
) -> AnnotationsFile:
    """Read and validate an ``artifacts.yaml``.

    Args:
        data: the file's bytes.
        file: its path in the repository (``artifacts.yaml`` or ``a/b/artifacts.yaml``).
        types: the allowed types (``types`` in ``.registry.yaml``), or None for any.
        exists: tells whether a repository path exists in the same commit (or work
            tree); ``virtual: false`` paths are checked with it when given.

    Returns:
        The annotations that could be read and every problem, each with its place.
    """
    from git_registry.yamlsafe import YamlError, load

    try:
        root, yaml_problems = load(data)
    except YamlError as exc:
        return AnnotationsFile(file, problems=(_at(file, exc.problem),), editable=False)
    entries_map = root is not None and root.kind == "map"
    problems = [_at(file, p, by_entry=entries_map) for p in yaml_problems]
    if root is None:
        return AnnotationsFile(file, problems=tuple(problems))
    if root.kind != "map":
        problems.append(
            FileProblem(
                file,
                root.line,
                root.column,
                f"{FILENAME} must be a mapping from artifact name to its annotation, "
                f"found {root.type_name()}",
            )
        )
        return AnnotationsFile(file, problems=tuple(problems), editable=False)
    annotations: dict[str, Annotation] = {}
    for key_node, value_node in root.value:
        annotation = _entry(file, key_node, value_node, types, problems)
        if annotation is not None:
            annotations[annotation.artifact] = annotation
    parsed = AnnotationsFile(file, annotations, (), tuple(_entries(root, data)), not root.flow)
    if exists is not None:
        problems.extend(missing_paths(parsed, exists))
    return with_problems(parsed, problems)


def with_problems(parsed: AnnotationsFile, problems: Iterable[FileProblem]) -> AnnotationsFile:
    """``parsed`` with ``problems`` as its problems, sorted by place."""
    ordered = tuple(sorted(problems, key=lambda p: (p.line, p.column)))
    return dataclasses.replace(parsed, problems=ordered)


def _at(file: str, problem: YamlProblem, *, by_entry: bool = False) -> FileProblem:
    # A problem inside an entry (a duplicate key) is that artifact's, not the whole file's:
    # other artifacts declared in the file stay readable (SPEC 3.3).
    if not by_entry or not problem.path:
        return FileProblem(file, problem.line, problem.column, problem.message)
    artifact = artifact_in(file, problem.path[0])
    key = problem.path[1] if len(problem.path) > 1 else None
    where = f"artifact '{artifact}'" + (f", key '{key}'" if key else "")
    return FileProblem(
        file, problem.line, problem.column, f"{where}: {problem.message}", artifact, key
    )


def _entry(
    file: str,
    key_node: Node,
    value_node: Node,
    types: Collection[str] | None,
    problems: list[FileProblem],
) -> Annotation | None:
    key = key_node.value
    if not isinstance(key, str) or not NAME_RE.fullmatch(key):
        from git_registry.yamlsafe import dump_scalar

        shown = key if isinstance(key, str) else dump_scalar(key)
        why = (
            "':' is not allowed in a key (put the entry in that folder's artifacts.yaml)"
            if isinstance(key, str) and ":" in key
            else NAME_RULE
        )
        # The problem belongs to this entry (named as written), not to the whole file.
        problems.append(
            FileProblem(
                file,
                key_node.line,
                key_node.column,
                f"invalid artifact name '{shown}': {why}",
                artifact_in(file, shown),
            )
        )
        return None
    artifact = artifact_in(file, key)

    def problem(node: Node, name: str | None, message: str) -> None:
        where = f"artifact '{artifact}'" + (f", key '{name}'" if name else "")
        problems.append(
            FileProblem(file, node.line, node.column, f"{where}: {message}", artifact, name)
        )

    if value_node.kind == "scalar" and value_node.value is None:
        return Annotation(artifact, file, key_node.line)
    if value_node.kind != "map":
        problem(
            value_node,
            None,
            f"expected a mapping of {', '.join(KEYS)}, found {value_node.type_name()}",
        )
        return None
    fields: dict[str, Any] = {}
    nodes: dict[str, Node] = {}
    for field_key, field_value in value_node.value:
        name = field_key.value
        if name not in KEYS:
            hint = f"; did you mean '{_SUGGEST[name]}'?" if name in _SUGGEST else ""
            problem(field_key, str(name), f"unknown key (allowed: {', '.join(KEYS)}){hint}")
            continue
        nodes[name] = field_value
        if name == "requires":
            fields[name] = _requires(artifact, field_value, problem)
        else:
            fields[name] = _field(name, field_value, types, problem)
    annotation = Annotation(
        artifact,
        file,
        key_node.line,
        path=fields.get("path"),
        type=fields.get("type"),
        description=fields.get("description"),
        labels=fields.get("labels") or (),
        custom=fields.get("custom"),
        virtual=fields["virtual"] if isinstance(fields.get("virtual"), bool) else True,
        sha256=fields.get("sha256"),
        path_at=(nodes["path"].line, nodes["path"].column) if "path" in nodes else (0, 0),
        keys=tuple(nodes),
        requires=fields.get("requires") or (),
    )
    if annotation.path is not None:
        _check_path(annotation, nodes["path"], problem)
    elif not annotation.virtual and "virtual" in nodes:
        problem(nodes["virtual"], "virtual", "'virtual: false' needs a 'path' that must exist")
    return annotation


def _field(
    name: str,
    node: Node,
    types: Collection[str] | None,
    report: Callable[[Node, str | None, str], None],
) -> Any:
    def problem(at: Node, message: str) -> None:
        report(at, name, message)

    if name == "custom":
        return node.plain()
    if name == "virtual":
        if node.kind == "scalar" and isinstance(node.value, bool):
            return node.value
        problem(node, f"expected true or false, found {node.type_name()}")
        return None
    if name == "labels":
        if node.kind != "seq":
            problem(node, f"expected a list of labels, found {node.type_name()}")
            return None
        labels: list[str] = []
        for item in node.value:
            if item.kind != "scalar" or not isinstance(item.value, str):
                problem(item, f"a label must be a string, found {item.type_name()}")
            elif not NAME_RE.fullmatch(item.value):
                problem(item, f"invalid label '{item.value}': use {NAME_RULE}")
            elif item.value in labels:
                problem(item, f"duplicate label '{item.value}'")
            else:
                labels.append(item.value)
        return tuple(labels)
    if name == "sha256" and (node.kind != "scalar" or not isinstance(node.value, str)):
        problem(
            node, f"{SHA256_RULE}, quoted if YAML reads it as a number; found {node.type_name()}"
        )
        return None
    if node.kind != "scalar" or not isinstance(node.value, str):
        problem(node, f"expected a string, found {node.type_name()}")
        return None
    value = node.value
    if name == "type":
        if not NAME_RE.fullmatch(value):
            problem(node, f"invalid type '{value}': use {NAME_RULE}")
            return None
        if types is not None and value not in types:
            problem(node, f"type '{value}' is not allowed (allowed: {', '.join(types) or 'none'})")
    if name == "path" and not value:
        problem(node, "the path is empty")
        return None
    if name == "sha256":
        if not _SHA256_RE.fullmatch(value):
            problem(node, SHA256_RULE)
            return None
        return value.lower()
    # A newline is legitimate in free text (a YAML block scalar), any other control
    # character is not; a path holds none. Output escapes them anyway (render.escape):
    # this refuses them before they are committed or pushed.
    codes = control_codes(value, allowed=FREE_TEXT if name == "description" else "")
    if codes:
        allowed = ": only newlines and tabs are allowed" if name == "description" else ""
        problem(node, f"the {name} holds control characters ({', '.join(codes)}){allowed}")
        return None
    return value


def _requires(
    artifact: str, node: Node, report: Callable[[Node, str | None, str], None]
) -> tuple[str, ...]:
    """``requires``: a list of artifacts, each named as in a tag (``features``,
    ``models/cv:seg``: the full registry name, whichever file declares it), none twice,
    not the artifact itself."""
    from git_registry.errors import RegistryError
    from git_registry.grammar import check_artifact_name

    if node.kind != "seq":
        report(node, "requires", f"expected a list of artifact names, found {node.type_name()}")
        return ()
    names: list[str] = []
    for item in node.value:
        if item.kind != "scalar" or not isinstance(item.value, str):
            report(item, "requires", f"an artifact name must be a string, found {item.type_name()}")
            continue
        try:
            check_artifact_name(item.value)
        except RegistryError as exc:
            report(item, "requires", exc.message)
            continue
        if item.value == artifact:
            report(item, "requires", f"'{item.value}' is this artifact: it cannot require itself")
        elif item.value in names:
            report(item, "requires", f"duplicate artifact '{item.value}'")
        else:
            names.append(item.value)
    return tuple(names)


def _check_path(
    annotation: Annotation,
    node: Node,
    problem: Callable[[Node, str | None, str], None],
) -> None:
    path = annotation.path
    assert path is not None
    if is_url(path):
        if not annotation.virtual:
            problem(node, "path", f"'{path}' is a URL: it cannot be checked, so it must be virtual")
        return
    if path.startswith("/") or re.match(r"^[a-zA-Z]:[\\/]", path) or "\\" in path:
        problem(node, "path", f"'{path}' is not a relative path with '/' (or a URL)")
        return
    target = annotation.repo_path()
    assert target is not None
    if target == ".." or target.startswith("../"):
        problem(node, "path", f"'{path}' leaves the repository")


def missing_paths(
    parsed: AnnotationsFile, exists: Callable[[str], bool]
) -> tuple[FileProblem, ...]:
    """Problems for ``virtual: false`` paths that do not exist (``exists`` asks the
    commit or work tree the file belongs to)."""
    problems = []
    for annotation in parsed.annotations.values():
        target = annotation.repo_path()
        if annotation.virtual or target is None or target == ".." or target.startswith("../"):
            continue
        if not exists(target):
            line, column = annotation.path_at
            problems.append(
                FileProblem(
                    parsed.file,
                    line,
                    column,
                    f"artifact '{annotation.artifact}', key 'path': '{annotation.path}' does not "
                    "exist (virtual: false says it must)",
                    annotation.artifact,
                    "path",
                )
            )
    return tuple(problems)


def _entries(root: Node, data: bytes) -> list[Entry]:
    """The line range of each top-level entry, for editing one without touching others.

    An entry ends where the next key starts, less the blank and comment lines just
    above that key (they belong to the next entry).
    """
    lines = data.decode("utf-8", "replace").removeprefix("\ufeff").splitlines()
    starts = [(key.value, key.line, key.column - 1) for key, _ in root.value]
    result = []
    for i, (name, start, indent) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(lines) + 1
        while end - 1 > start and (
            not lines[end - 2].strip() or lines[end - 2].lstrip().startswith("#")
        ):
            end -= 1
        result.append(Entry(str(name), start, end, indent))
    return result
