"""Metrics and metadata of a version, as Git trailers in its registration's tag message.

``register NAME --metric auc=0.91 --meta dataset=v2`` writes the tag message::

    Registering artifact churn version v1.2.0

    Registry-Metric: auc=0.91
    Registry-Meta: dataset=v2

the trailer convention of ``git interpret-trailers`` (a last paragraph of ``Token:
value`` lines, after the subject), so GTO and Git still read the tag as any other:
the trailers are only text in its message. Pure: parses and formats, never prints.

Tags written by anyone are read: a trailer that breaks the grammar below is left
out and reported as a problem (a warning), never an error, and never hides the
others.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from git_registry.controls import CONTROL_RE
from git_registry.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from git_registry.state import VersionInfo

METRIC = "Registry-Metric"
META = "Registry-Meta"

KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
"""A metric's or a metadata key: a letter, then up to 63 letters, digits, ``_ . -``."""

_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A decimal number as written by people and tools (no ``nan``, ``inf``, ``0x``, ``_``)."""

METRIC_MAX = 64
"""The longest metric (characters as written): a double needs 24 at most."""

META_MAX = 200
"""The longest metadata value (characters): one short line."""

MAX_TRAILERS = 100
"""The most Registry-* trailers read from one tag (the rest are reported, not read)."""

# A trailer line as git interpret-trailers sees one: a token, a colon, a value; a line
# starting with a blank continues the one above.
_TRAILER_LINE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*:(?:[ \t]|$)")


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: its value, and its text as written (shown as it was written)."""

    value: float
    text: str


@dataclass(frozen=True, slots=True)
class Trailers:
    """What a tag message's Registry-* trailers say."""

    metrics: Mapping[str, Metric] = field(default_factory=dict)
    meta: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    """One line per trailer left out: why (quoting it, unescaped: the caller escapes)."""

    def to_json(self) -> dict[str, dict[str, Any]]:
        """``{"metrics": {KEY: number}, "meta": {KEY: text}}`` (keys sorted)."""
        return {
            "metrics": {key: self.metrics[key].value for key in sorted(self.metrics)},
            "meta": {key: self.meta[key] for key in sorted(self.meta)},
        }


NONE = Trailers()


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a metric or metadata key, or None."""
    if KEY_RE.fullmatch(key) is None:
        return (
            "a key is a letter then up to 63 letters, digits, '_', '.' or '-' "
            "(e.g. auc, f1_score, val.loss)"
        )
    return None


def metric_value(text: str) -> float | None:
    """``text`` as a finite number of at most :data:`METRIC_MAX` characters, or None."""
    if len(text) > METRIC_MAX or _NUMBER_RE.fullmatch(text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def meta_problem(value: str) -> str | None:
    """Why ``value`` is not a metadata value, or None."""
    if not value:
        return "the value is empty"
    if CONTROL_RE.search(value):
        return "the value holds a line break or another control character"
    if len(value) > META_MAX:
        return f"the value is longer than {META_MAX} characters"
    if value != value.strip():
        return "the value starts or ends with a blank"
    return None


def _split(text: str) -> tuple[str, str] | None:
    key, sep, value = text.partition("=")
    return (key.strip(), value.strip()) if sep else None


def parse_metric_option(text: str) -> tuple[str, Metric]:
    """``--metric KEY=NUMBER``.

    Raises:
        UsageError: not ``KEY=NUMBER``, a bad key, or not a finite number.
    """
    pair = _split(text)
    if pair is None:
        raise UsageError(f"--metric '{text}': expected KEY=NUMBER, e.g. --metric auc=0.91")
    key, value = pair
    why = key_problem(key)
    if why is not None:
        raise UsageError(f"--metric '{text}': bad key '{key}': {why}")
    number = metric_value(value)
    if number is None:
        raise UsageError(
            f"--metric '{text}': '{value}' is not a finite number of at most {METRIC_MAX} "
            "characters (e.g. 0.91, -3, 1.5e-3)"
        )
    return key, Metric(number, value)


def parse_meta_option(text: str) -> tuple[str, str]:
    """``--meta KEY=VALUE``.

    Raises:
        UsageError: not ``KEY=VALUE``, a bad key, or a bad value.
    """
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"--meta '{text}': expected KEY=VALUE, e.g. --meta dataset=v2")
    key = key.strip()
    why = key_problem(key)
    if why is not None:
        raise UsageError(f"--meta '{text}': bad key '{key}': {why}")
    why = meta_problem(value)
    if why is not None:
        raise UsageError(f"--meta '{text}': {why}")
    return key, value


def _paragraphs(message: str) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in message.split("\n"):
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def _is_trailer_block(lines: Sequence[str]) -> bool:
    if not lines or lines[0][:1] in (" ", "\t"):
        return False
    return all(_TRAILER_LINE_RE.match(line) or line[:1] in (" ", "\t") for line in lines)


@functools.lru_cache(maxsize=1024)
def read(message: str) -> Trailers:
    """The Registry-* trailers of a tag message (its last paragraph, if it is a trailer
    block after a subject); tokens are read case-insensitively, as Git does."""
    if "registry-" not in message.lower():
        return NONE  # the common case, without splitting the message
    paragraphs = _paragraphs(message)
    if len(paragraphs) < 2 or not _is_trailer_block(paragraphs[-1]):
        return NONE
    metrics: dict[str, Metric] = {}
    meta: dict[str, str] = {}
    problems: list[str] = []
    lines = paragraphs[-1]
    seen = 0
    for i, line in enumerate(lines):
        token, _, rest = line.partition(":")
        kind = token.lower()
        if kind not in (METRIC.lower(), META.lower()):
            continue
        shown = line if len(line) <= 80 else line[:77] + "..."
        seen += 1
        if seen > MAX_TRAILERS:
            problems.append(f"more than {MAX_TRAILERS} Registry-* trailers: the rest are ignored")
            break
        if i + 1 < len(lines) and lines[i + 1][:1] in (" ", "\t"):
            problems.append(f"ignored trailer '{shown}': a value is one line")
            continue
        pair = _split(rest)
        if pair is None:
            problems.append(f"ignored trailer '{shown}': expected KEY=VALUE")
            continue
        key, value = pair
        why = key_problem(key)
        if why is None and (key in metrics or key in meta):
            why = f"'{key}' is given twice (the first is kept)"
        if why is None and kind == METRIC.lower():
            number = metric_value(value)
            if number is None:
                cut = value if len(value) <= 40 else value[:37] + "..."
                why = f"'{cut}' is not a finite number of at most {METRIC_MAX} characters"
            else:
                metrics[key] = Metric(number, value)
                continue
        elif why is None:
            why = meta_problem(value)
            if why is None:
                meta[key] = value
                continue
        problems.append(f"ignored trailer '{shown}': {why}")
    return Trailers(metrics, meta, tuple(problems))


def with_trailers(
    message: str, metrics: Iterable[tuple[str, Metric]], meta: Iterable[tuple[str, str]]
) -> str:
    """``message`` with Registry-* trailers added: to its trailer block if its last
    paragraph is one (as ``git interpret-trailers``), else in a new last paragraph.

    Raises:
        UsageError: a key is given twice (as a metric or metadata), or the message
            already holds a malformed Registry-* trailer.
    """
    lines = [f"{METRIC}: {key}={m.text}" for key, m in metrics]
    lines += [f"{META}: {key}={value}" for key, value in meta]
    if not lines:
        return message
    body = message.rstrip()
    paragraphs = _paragraphs(body)
    joint = "\n" if len(paragraphs) >= 2 and _is_trailer_block(paragraphs[-1]) else "\n\n"
    text = body + joint + "\n".join(lines)
    problems = read(text).problems
    if problems:
        raise UsageError(f"the tag message would hold a bad trailer: {problems[0]}")
    return text


def of_version(info: VersionInfo) -> Trailers:
    """The trailers of a version: its registration's."""
    return read(info.registration.message)


META_SHOWN = 40
"""The longest metadata value a table shows (``--json`` has them whole)."""


def trailer_columns(found: Sequence[Trailers], empty: str) -> tuple[list[str], list[list[str]]]:
    """Table columns for versions' trailers: a header per metric key, then per
    metadata key (each sorted; ``meta:KEY`` when a metric has that key too), and each
    version's cells (``empty`` where it has none; long metadata values shortened)."""
    metric_keys = sorted({key for t in found for key in t.metrics})
    meta_keys = sorted({key for t in found for key in t.meta})
    headers = metric_keys + [f"meta:{k}" if k in metric_keys else k for k in meta_keys]
    rows = []
    for t in found:
        row = [t.metrics[k].text if k in t.metrics else empty for k in metric_keys]
        for k in meta_keys:
            value = t.meta.get(k, empty)
            row.append(value if len(value) <= META_SHOWN else value[: META_SHOWN - 3] + "...")
        rows.append(row)
    return headers, rows


def sort_key(metric: str) -> Callable[[VersionInfo], tuple[bool, float]]:
    """A sort key putting the versions with the highest ``metric`` first and those
    without it last (a stable sort keeps their order)."""

    def key(info: VersionInfo) -> tuple[bool, float]:
        found = of_version(info).metrics.get(metric)
        return (found is None, -found.value if found is not None else 0.0)

    return key
