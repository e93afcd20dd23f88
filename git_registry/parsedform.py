"""Parsed ``artifacts.yaml`` and policy files as plain values, for the parse cache
(:mod:`git_registry.parsecache`), and back.

Pure. A value read back is checked field by field (types, and the file it names):
anything else is refused (None), so a cache file edited by hand costs a parse, never
a crash. :data:`PARSER` is part of every key: bump it when what
:func:`annotations.parse` or :func:`policy.parse_policy` returns for the same bytes
changes, or when the plain form below does.
"""

from __future__ import annotations

from git_registry.annotations import Annotation, AnnotationsFile, Entry, FileProblem
from git_registry.policy import Policy, Promotion

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable
    from typing import Any

PARSER = 5


def annotations_key(blob: str, file: str, types: Collection[str] | None) -> str:
    """The cache key of ``file`` (an ``artifacts.yaml``) with blob id ``blob``, parsed
    with the allowed ``types``."""
    allowed = "any" if types is None else "only\n" + "\n".join(types)
    return f"artifacts {PARSER}\0{blob}\0{file}\0{allowed}"


def policy_key(blob: str, file: str) -> str:
    """The cache key of the policy file ``file`` with blob id ``blob``."""
    return f"policy {PARSER}\0{blob}\0{file}"


def plain_annotations(parsed: AnnotationsFile) -> tuple[object, ...]:
    """``parsed`` as plain data (:func:`annotations_of` reads it back)."""
    return (
        parsed.file,
        tuple(
            (
                a.artifact,
                a.file,
                a.line,
                a.path,
                a.type,
                a.description,
                a.labels,
                a.custom,
                a.virtual,
                a.sha256,
                a.path_at,
                a.keys,
                a.requires,
            )
            for a in parsed.annotations.values()
        ),
        _plain_problems(parsed.problems),
        tuple((e.name, e.start, e.end, e.indent) for e in parsed.entries),
        parsed.editable,
    )


def annotations_of(value: Any, file: str) -> AnnotationsFile | None:
    """The :class:`AnnotationsFile` of ``file`` that :func:`plain_annotations` made
    ``value`` from, or None if ``value`` is not exactly such data."""
    try:
        name, plain, problems, entries, editable = value
        if name != file or type(editable) is not bool:
            return None
        annotations = {}
        for a in _tuple(plain):
            (
                artifact,
                at,
                line,
                path,
                kind,
                text,
                labels,
                custom,
                virtual,
                sha256,
                path_at,
                keys,
                needs,
            ) = a
            if not (
                _str(artifact)
                and at == file
                and _int(line)
                and _optional_str(path)
                and _optional_str(kind)
                and _optional_str(text)
                and _strings(labels)
                and _plain(custom)
                and type(virtual) is bool
                and _optional_str(sha256)
                and type(path_at) is tuple
                and len(path_at) == 2
                and all(map(_int, path_at))
                and _strings(keys)
                and _strings(needs)
            ):
                return None
            annotations[artifact] = Annotation(*a)  # a[1] is file: checked above
        found = _problems(problems, file)
        lines = []
        for entry in _tuple(entries):
            key, start, end, indent = entry
            if not (_str(key) and _int(start) and _int(end) and _int(indent)):
                return None
            lines.append(Entry(key, start, end, indent))
    except (TypeError, ValueError):  # not a tuple, or not of that length
        return None
    if found is None:
        return None
    return AnnotationsFile(file, annotations, found, tuple(lines), editable)


def plain_policy(policy: Policy, problems: tuple[FileProblem, ...]) -> tuple[object, ...]:
    """A parsed policy file as plain data (:func:`policy_of` reads it back)."""
    promotion = tuple(
        (r.stage, r.after, r.branches, r.signed, r.signers, r.line) for r in policy.promotion
    )
    signers = (policy.allowed_signers, policy.allowed_signers_line)
    return (policy.stages, policy.types, policy.file, _plain_problems(problems), promotion, signers)


def policy_of(value: Any, file: str) -> tuple[Policy, tuple[FileProblem, ...]] | None:
    """The policy and problems of ``file`` that :func:`plain_policy` made ``value``
    from, or None if ``value`` is not exactly such data."""
    try:
        stages, types, name, problems, promotion, (signers, signers_line) = value
        rules = tuple(_promotion(rule) for rule in _tuple(promotion))
    except (TypeError, ValueError):
        return None
    if (
        name != file
        or not all(x is None or _strings(x) for x in (stages, types))
        or not (_optional_str(signers) and _int(signers_line))
    ):
        return None
    found = _problems(problems, file)
    if found is None:
        return None
    return Policy(stages, types, file, rules, signers, signers_line), found


def _promotion(value: Any) -> Promotion:
    stage, after, branches, signed, signers, line = value
    if not (
        _str(stage)
        and all(map(_strings, (after, branches, signers)))
        and type(signed) is bool
        and _int(line)
    ):
        raise ValueError("not a promotion rule")
    return Promotion(stage, after, branches, signed, signers, line)


def _plain_problems(problems: Iterable[FileProblem]) -> tuple[object, ...]:
    return tuple((p.file, p.line, p.column, p.message, p.artifact, p.key) for p in problems)


def _problems(value: Any, file: str) -> tuple[FileProblem, ...] | None:
    found = []
    try:
        for problem in _tuple(value):
            at, line, column, message, artifact, key = problem
            if not (
                at == file
                and _int(line)
                and _int(column)
                and _str(message)
                and _optional_str(artifact)
                and _optional_str(key)
            ):
                return None
            found.append(FileProblem(file, line, column, message, artifact, key))
    except (TypeError, ValueError):
        return None
    return tuple(found)


def _tuple(value: Any) -> tuple[Any, ...]:
    if type(value) is not tuple:
        raise TypeError("not a tuple")
    return value


def _str(value: object) -> bool:
    """A string that can be printed (a lone surrogate cannot: our parser makes none)."""
    if type(value) is not str:
        return False
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def _optional_str(value: object) -> bool:
    return value is None or _str(value)


def _int(value: object) -> bool:
    """A line, a column or a count: a small natural number (a hand-made huge one could
    not even be printed)."""
    return type(value) is int and 0 <= value < 2**31


def _strings(value: object) -> bool:
    return type(value) is tuple and all(map(_str, value))


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _plain(value: Any) -> bool:
    """Whether ``value`` is what YAML data reads as (``Node.plain``): dicts with scalar
    keys, lists, strings, numbers, booleans and None, nested at most 100 deep."""
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        kind = type(item)
        if kind in _SCALARS:
            if kind is str and not _str(item):
                return False
            # YAML never reads an int that str() cannot print (over 4,300 digits).
            if kind is int and item.bit_length() > 14_000:
                return False
        elif depth >= 100:
            return False
        elif kind is list:
            todo.extend((x, depth + 1) for x in item)
        elif kind is dict:
            for key, inner in item.items():
                if type(key) not in _SCALARS or (type(key) is str and not _str(key)):
                    return False
                todo.append((inner, depth + 1))
        else:
            return False
    return True
