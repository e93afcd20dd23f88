"""Reading YAML that may be hostile, and writing values so they read back the same.

Reading: plain data only, bounded in size and work.

``yaml.safe_load`` semantics (no Python objects, no custom tags), plus what it
lacks: a size limit, a bound on alias expansion (a "billion laughs" file is a
few hundred bytes), a depth limit, duplicate keys reported instead of silently
overwritten, strict UTF-8, and the line and column of every value so that
errors can point at them. Pure: bytes in, values out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from git_registry.controls import CI_COMMAND_RE, CONTROL_RE, starts_ci_command
from git_registry.errors import YamlError as YamlError

# Start-up: typing is not imported at run time (mypy reads this name as
# typing.TYPE_CHECKING).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """Something wrong at a place in a file (1-based line and column)."""

    line: int
    column: int
    message: str
    path: tuple[str, ...] = ()
    """The mapping keys leading to the value the problem is about (for a duplicate
    key: the keys of the enclosing mappings, then the duplicate key itself)."""


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with its place. ``value`` is a Python scalar for scalars,
    a tuple of ``(key Node, value Node)`` pairs for mappings, and a tuple of
    Nodes for sequences."""

    kind: str  # "scalar", "map" or "seq"
    value: Any
    line: int
    column: int
    end_line: int
    flow: bool = False
    text: str | None = None
    """A plain (unquoted) scalar's text as written: YAML 1.2 readers (GTO's ruamel) read
    some of it otherwise than YAML 1.1 (``yes`` is a string there, not true)."""

    def plain(self) -> Any:
        """The node as plain Python data (dict, list, str, int, float, bool, None)."""
        if self.kind == "map":
            return {k.value: v.plain() for k, v in self.value}
        if self.kind == "seq":
            return [item.plain() for item in self.value]
        return self.value

    def type_name(self) -> str:
        """What the value is, in words, for error messages."""
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        return _SCALAR_NAMES.get(type(self.value), "a value")


_SCALAR_NAMES = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "nothing (null)",
}


def size_problem(size: int) -> YamlProblem:
    """The problem of a file of ``size`` bytes, over :data:`MAX_BYTES`."""
    return YamlProblem(1, 1, f"file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes")


_RECENT: dict[bytes, tuple[Node | None, tuple[YamlProblem, ...]]] = {}
"""The last documents parsed (their trees are immutable): a write reads the root
``artifacts.yaml`` for its annotations and again for GTO's reading of it (issue 19),
which at 1,000 artifacts is 0.1 s a parse."""
_RECENT_MAX = 4


def load(data: bytes) -> tuple[Node | None, list[YamlProblem]]:
    """Parse one YAML document (the same bytes are parsed once per process).

    Returns:
        The root node (None for an empty or null document) and the problems found in
        otherwise readable data (duplicate keys: the first one is kept).

    Raises:
        YamlError: the data cannot be read (too big, not UTF-8, invalid YAML,
            several documents, a custom tag, too many nodes or too deep).
    """
    found = _RECENT.get(data)
    if found is None:
        root, problems = _load(data)
        if len(_RECENT) >= _RECENT_MAX:
            del _RECENT[next(iter(_RECENT))]
        found = _RECENT[data] = (root, tuple(problems))
    return found[0], list(found[1])


def _load(data: bytes) -> tuple[Node | None, list[YamlProblem]]:
    """Parse one YAML document: :func:`load`'s work, its result not kept."""
    if len(data) > MAX_BYTES:
        raise YamlError(size_problem(len(data)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlError(
            YamlProblem(line, column, f"not UTF-8 text (byte 0x{data[exc.start]:02x})")
        ) from None
    text = text.removeprefix("\ufeff")
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader_class)
    except RecursionError:
        # PyYAML without libyaml composes recursively, and has no nesting limit of its own.
        raise YamlError(
            YamlProblem(1, 1, f"nested too deeply to read (the limit is {MAX_DEPTH} levels)")
        ) from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts the position in UTF-8 bytes, PyYAML in characters.
        position = exc.position
        if loader_class is not yaml.SafeLoader:
            position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
        read = text[:position]
        line = read.count("\n") + 1
        column = position - (read.rfind("\n") + 1) + 1
        raise YamlError(
            YamlProblem(
                line, column, f"invalid YAML: character {_code(exc.character)}: {exc.reason}"
            )
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise YamlError(YamlProblem(line, column, f"invalid YAML: {what}")) from None
    except yaml.YAMLError as exc:
        raise YamlError(YamlProblem(1, 1, f"invalid YAML: {exc}")) from None
    if root is None:
        return None, []
    converter = _Converter()
    node = converter.convert(root, 0)
    if node.kind == "scalar" and node.value is None:
        return None, converter.problems  # '---' or 'null' alone: empty, as yaml.safe_load reads it
    return node, converter.problems


class _Converter:
    def __init__(self) -> None:
        import yaml.constructor

        self.constructor = yaml.constructor.SafeConstructor()
        self.nodes = 0
        self.problems: list[YamlProblem] = []

    def convert(self, node: Any, depth: int, path: tuple[str, ...] = ()) -> Node:
        import yaml

        self.nodes += 1
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if self.nodes > MAX_NODES:
            raise YamlError(
                YamlProblem(
                    line,
                    column,
                    f"more than {MAX_NODES:,} values once aliases are expanded "
                    "(an alias bomb?); refusing to read further",
                )
            )
        if depth > MAX_DEPTH:
            raise YamlError(YamlProblem(line, column, f"nested more than {MAX_DEPTH} levels deep"))
        end_line = node.end_mark.line + 1
        tag = node.tag
        if tag == "tag:yaml.org,2002:merge":
            raise YamlError(YamlProblem(line, column, "merge keys ('<<') are not supported"))
        if tag not in _STANDARD_TAGS:
            raise YamlError(
                YamlProblem(
                    line,
                    column,
                    f"YAML tag '{tag.replace('tag:yaml.org,2002:', '!!')}' is not allowed: "
                    "plain data only",
                )
            )
        if isinstance(node, yaml.MappingNode):
            pairs = []
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlError(
                        YamlProblem(
                            key_node.start_mark.line + 1,
                            key_node.start_mark.column + 1,
                            "merge keys ('<<') are not supported",
                        )
                    )
                key = self.convert(key_node, depth + 1, path)
                if key.kind != "scalar":
                    raise YamlError(
                        YamlProblem(key.line, key.column, "a mapping key must be a plain value")
                    )
                inner = (*path, str(key.value))
                # Keys that are one key once read: equal in Python (1, 1.0 and true
                # make one dict key) or written alike in JSON (1 and '1' are both "1").
                markers = (("value", key.value), ("text", _json_key(key.value)))
                first = next((seen[m] for m in markers if m in seen), None)
                if first is not None:
                    self.problems.append(
                        YamlProblem(
                            key.line,
                            key.column,
                            f"duplicate key '{key.value}' (first at line {first})",
                            inner,
                        )
                    )
                    continue
                for m in markers:
                    seen[m] = key.line
                pairs.append((key, self.convert(value_node, depth + 1, inner)))
            return Node("map", tuple(pairs), line, column, end_line, bool(node.flow_style))
        if isinstance(node, yaml.SequenceNode):
            items = tuple(self.convert(item, depth + 1, path) for item in node.value)
            return Node("seq", items, line, column, end_line, bool(node.flow_style))
        text = node.value if not node.style else None  # libyaml says "" for plain
        value = self._scalar(node, tag, line, column)
        return Node("scalar", value, line, column, end_line, text=text)

    def _scalar(self, node: Any, tag: str, line: int, column: int) -> Any:
        kind = tag.rsplit(":", 1)[-1]
        if kind in ("str", "timestamp"):
            return node.value  # keep dates as written: plain, JSON-friendly text
        try:
            value = getattr(self.constructor, f"construct_yaml_{kind}")(node)
        except (ValueError, LookupError, TypeError, AttributeError, ArithmeticError):
            # PyYAML's constructors fail in many ways on text that their tag does not fit:
            # an explicit '!!int x' or '!!int' with no value, '!!bool maybe', or an integer
            # of more digits than Python converts (sys.get_int_max_str_digits).
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            what = _KIND_NAMES.get(kind, kind)
            raise YamlError(
                YamlProblem(line, column, f"{shown!r} cannot be read as {what}")
            ) from None
        if isinstance(value, float) and not _isfinite(value):
            return node.value
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            # Python cannot print an integer of more than 4,300 digits (nor can most
            # JSON readers hold one): 0x followed by 4,000 digits is data, not a number.
            raise YamlError(
                YamlProblem(line, column, f"a number of {value.bit_length():,} bits is too large")
            )
        return value


_MAX_INT_BITS = 1024


def _isfinite(value: float) -> bool:
    """``math.isfinite`` (math is not imported at start-up): not inf, -inf or nan."""
    return value - value == 0.0


def _json_key(value: object) -> str:
    """A mapping key as JSON writes it (``json.dumps`` turns keys into text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _code(character: object) -> str:
    if isinstance(character, str) and len(character) == 1:
        character = ord(character)
    return f"U+{character:04X}" if isinstance(character, int) else repr(character)


_KIND_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true/false",
    "null": "null",
}


# -- writing ------------------------------------------------------------------------------

# What a YAML 1.2 reader (GTO's ruamel, safe) reads as something else than a string, where
# PyYAML (YAML 1.1) reads a string: dates and times, 0o octal, and what YAML 1.2 spells
# as numbers, infinities, booleans or null.
_YAML12_NOT_STRING = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?"
    r"|[-+]?(?:0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9_]+)"
    r"|[-+]?(?:\.[0-9_]+|[0-9_]+(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|true|True|TRUE|false|False|FALSE|~|null|Null|NULL"
)


def yaml12_not_string(text: str) -> bool:
    """Whether a plain scalar written ``text`` is read as something else than a string by
    a YAML 1.2 reader (GTO 1.10.1's ruamel), such as a date, a number or a boolean."""
    return _YAML12_NOT_STRING.fullmatch(text) is not None


def dump_scalar(value: Any) -> str:
    """``value`` as one line of YAML (see :func:`dump`)."""
    text = dump(value, default_flow_style=True, width=10**9)
    return text.removesuffix("\n...\n").removesuffix("\n")


def dump(value: Any, **options: Any) -> str:
    """YAML for ``value``, readable by people (non-ASCII kept as it is) when that reads
    back as ``value``: PyYAML writes some line breaks (U+0085, U+2028) unescaped inside
    quotes, where a reader folds them into spaces; those values are written escaped.

    It is also safe to print (``describe``): no line is folded, and a string holding a
    character of :data:`controls.CONTROL_RE` (a line break included) or a CI command is
    written double-quoted with escapes, so no line of the text starts with data (``::``
    in a block or single-quoted scalar would) and nothing raw reaches a terminal.
    """
    import yaml

    options.setdefault("width", 10**9)
    dumper = _safe_dumper()
    text = _escape_quoted(yaml.dump(value, Dumper=dumper, allow_unicode=True, **options))
    try:
        same = yaml.safe_load(text) == value
    except yaml.YAMLError:
        same = False
    if not same:
        text = _escape_quoted(yaml.dump(value, Dumper=dumper, allow_unicode=False, **options))
    return text


@functools.cache
def _safe_dumper() -> type[Any]:
    """``yaml.SafeDumper`` writing the strings :func:`_dump` must escape double-quoted."""
    import yaml

    class SafeDumper(yaml.SafeDumper):
        def represent_str(self, data: str) -> Any:
            unsafe = (
                CONTROL_RE.search(data) is not None
                or CI_COMMAND_RE.search(data) is not None
                or starts_ci_command(data)
            )
            # Quoted where YAML 1.2 (GTO's reader) would read another type (0o17).
            style = '"' if unsafe else "'" if yaml12_not_string(data) else None
            return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    SafeDumper.add_representer(str, SafeDumper.represent_str)
    return SafeDumper


def _escape_quoted(text: str) -> str:
    text = CI_COMMAND_RE.sub(r"\\x23", text)
    # Raw in PyYAML's double-quoted output with allow_unicode: the bidirectional controls
    # (PyYAML counts them printable). Every string holding one is double-quoted, as is
    # every string with a CI command: the only places they can be in the text.
    raw_in_quotes = re.compile(f"(?!\n){CONTROL_RE.pattern}")
    return raw_in_quotes.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
