"""Team policy (SPEC 5): what the committed policy file says (its rules live in
:mod:`git_registry.rules`).

The policy is the committed ``.registry.yaml`` (``stages``: an ordered allow-list;
``types``: an allow-list), or GTO's ``.gto`` when there is none. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from git_registry.annotations import FileProblem
from git_registry.grammar import NAME_RE, NAME_RULE

TYPE_CHECKING = False
if TYPE_CHECKING:  # yamlsafe is imported to parse only (not for a cached policy)
    from git_registry.yamlsafe import Node

CONFIG_FILE = ".registry.yaml"
GTO_CONFIG_FILE = ".gto"
_KEYS = ("stages", "types")


@dataclass(frozen=True, slots=True)
class Policy:
    """What the team allows; None means "anything"."""

    stages: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    file: str | None = None
    """Where it came from (``.registry.yaml``, ``.gto``), or None if there is no file."""


def parse_policy(data: bytes, file: str) -> tuple[Policy, tuple[FileProblem, ...]]:
    """Read ``.registry.yaml`` (or GTO's ``.gto``, whose other settings are ignored).

    Returns:
        The policy (the parts that could be read) and the problems, with their places.
    """
    from git_registry.yamlsafe import YamlError, load

    problems: list[FileProblem] = []
    try:
        root, yaml_problems = load(data)
    except YamlError as exc:
        p = exc.problem
        return Policy(file=file), (FileProblem(file, p.line, p.column, p.message),)
    problems.extend(
        FileProblem(file, p.line, p.column, p.message, key=p.path[0] if p.path else None)
        for p in yaml_problems
    )
    if root is None:
        return Policy(file=file), tuple(problems)
    if root.kind != "map":
        problems.append(
            FileProblem(
                file, root.line, root.column, f"expected a mapping, found {root.type_name()}"
            )
        )
        return Policy(file=file), tuple(problems)
    values: dict[str, tuple[str, ...]] = {}
    for key, value in root.value:
        name = key.value
        if name not in _KEYS:
            if file != GTO_CONFIG_FILE:  # .gto holds GTO's other settings too
                problems.append(
                    FileProblem(
                        file,
                        key.line,
                        key.column,
                        f"unknown key '{name}' (allowed: {', '.join(_KEYS)})",
                        key=str(name),
                    )
                )
            continue
        names = _names(file, name, value, problems)
        if names is not None:
            values[name] = names
    return Policy(values.get("stages"), values.get("types"), file), tuple(problems)


def _names(file: str, key: str, node: Node, problems: list[FileProblem]) -> tuple[str, ...] | None:
    if node.kind == "scalar" and node.value is None:
        return None
    if node.kind != "seq":
        problems.append(
            FileProblem(
                file,
                node.line,
                node.column,
                f"'{key}' must be a list of names, found {node.type_name()}",
                key=key,
            )
        )
        return None
    names: list[str] = []
    for item in node.value:
        if item.kind != "scalar" or not isinstance(item.value, str):
            problems.append(
                FileProblem(
                    file,
                    item.line,
                    item.column,
                    f"'{key}': expected a name, found {item.type_name()}",
                    key=key,
                )
            )
        elif not NAME_RE.fullmatch(item.value):
            problems.append(
                FileProblem(
                    file,
                    item.line,
                    item.column,
                    f"'{key}': invalid name '{item.value}': use {NAME_RULE}",
                    key=key,
                )
            )
        elif item.value in names:
            problems.append(
                FileProblem(
                    file,
                    item.line,
                    item.column,
                    f"'{key}': '{item.value}' is listed twice",
                    key=key,
                )
            )
        else:
            names.append(item.value)
    return tuple(names)


def ordered_stages(policy: Policy, used: Sequence[str]) -> list[str]:
    """Stages for display: the allow-list's order first, then any others in use."""
    first = list(policy.stages or ())
    return first + [s for s in used if s not in first]
