"""Writing ``artifacts.yaml``: one entry as YAML text, and a file with one entry
replaced (or added, or removed) while every other line is kept byte for byte.

Pure. Values that could mislead a reader or a CI log (control characters, a CI
command at a line's start) are written double-quoted and escaped.
"""

from __future__ import annotations

from git_registry.annotations import KEYS, AnnotationsFile
from git_registry.yamlsafe import dump, dump_scalar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any


def entry_text(
    key: str, fields: Mapping[str, Any], indent: int = 0, order: Sequence[str] = ()
) -> str:
    """The YAML text of one entry, labels in flow style; keys in ``order`` first (an
    existing entry's order), then the others in schema order."""

    pad = " " * indent
    body = []
    for name in [*order, *(k for k in KEYS if k not in order)]:
        value = fields.get(name)
        if (
            value is None
            or (name in ("labels", "requires") and not value)
            or (name == "virtual" and value)
        ):
            continue  # absent, or the default
        if name in ("labels", "requires"):
            body.append(f"{pad}  {name}: [{', '.join(dump_scalar(v) for v in value)}]")
        elif name == "custom" and isinstance(value, (dict, list)) and value:
            dumped = dump(value, default_flow_style=False, sort_keys=False)
            body.append(f"{pad}  custom:")
            # split("\n"), not splitlines(): only "\n" ends a line of YAML output.
            body.extend(f"{pad}    {line}" for line in dumped.removesuffix("\n").split("\n"))
        else:
            body.append(f"{pad}  {name}: {dump_scalar(value)}")
    head = f"{pad}{dump_scalar(key)}:" + ("" if body else " {}")
    return "\n".join([head, *body]) + "\n"


def replace_entry(text: str, parsed: AnnotationsFile, key: str, new: str | None) -> str:
    """``text`` with the entry ``key`` replaced by ``new`` (removed if None, appended if
    absent). Every other line is kept as it was."""
    lines = text.splitlines(keepends=True)
    for entry in parsed.entries:
        if entry.name == key:
            before = lines[: entry.start - 1]
            after = lines[entry.end - 1 :]
            if (
                new is None
                and after
                and not after[0].strip()
                and (not before or not before[-1].strip())
            ):
                after = after[1:]  # do not leave two blank lines where the entry was
            return "".join(before) + (new or "") + "".join(after)
    if new is None:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + new
