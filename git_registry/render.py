"""Human and machine output: colour decision, escaping, tables, JSON documents.

Tables never truncate a value (SPEC 3.4); ``--json`` documents are stable,
never coloured, and warnings never go into them (they go to stderr, and are
also listed under ``"warnings"`` where a document has that key).

Untrusted data stays data: every line of human output is escaped by :func:`escape`
(the CLI's ``out``/``message`` and :func:`table` call it), and ``--json`` escapes what
JSON allows raw but a terminal, a CI log or a JavaScript reader does not.
"""

from __future__ import annotations

import itertools
import os
import re
import time

from git_registry.controls import CI_COMMAND_RE, CONTROL_RE, starts_ci_command
from git_registry.gitvalues import short
from git_registry.grammar import EventKind, lazy_compile

# Start-up: typing, json and unicodedata are imported when needed (mypy reads this
# name as typing.TYPE_CHECKING).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from typing import Any, TextIO

    from git_registry.annotations import Annotation
    from git_registry.gitvalues import Signature
    from git_registry.state import ArtifactInfo, ArtifactSummary, Event, StageHold, VersionInfo

# ANSI codes (colorama's Fore/Style values); colorama itself is only imported to
# make Windows consoles understand them.
_STYLES = {
    "header": "\x1b[1m",
    "name": "\x1b[1m",
    "version": "\x1b[32m",
    "stage": "\x1b[36m",
    "commit": "\x1b[33m",
    "dim": "\x1b[2m",
    "warning": "\x1b[33m",
    "error": "\x1b[31m",
    "hint": "\x1b[33m",
}
_RESET = "\x1b[0m"
EMPTY = "-"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and the noun in the right number, saying "no" for none: ``1 problem``,
    ``2 problems``, ``no problems`` (``nouns``: an irregular plural; :func:`count`
    says ``0 problems``)."""
    return f"no {nouns or noun + 's'}" if n == 0 else count(n, noun, nouns)


def want_color(
    option: str | None,
    env: Mapping[str, str],
    configured: str | None,
    stream: TextIO,
) -> bool:
    """Decide on colour like Git: ``--color``, then ``NO_COLOR``, then the configured
    ``always``/``never``/``auto`` (``color.registry``, then ``color.ui``: read by
    ``Session.paint``), then whether the stream is a terminal (not with ``TERM=dumb``).
    """
    setting = option
    if setting is None and env.get("NO_COLOR"):
        return False
    if setting is None:
        setting = configured or "auto"
    setting = setting.lower()
    if setting == "always":
        return True
    if setting == "never":
        return False
    if env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def enable_windows_ansi() -> None:
    """Let Windows consoles show ANSI colours (a no-op elsewhere)."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import colorama

        colorama.just_fix_windows_console()


class Painter:
    """Applies styles when colour is on."""

    def __init__(self, color: bool) -> None:
        self.color = color
        if color:
            enable_windows_ansi()

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text or text == EMPTY:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


# What escape() changes; the first pattern finds out fast that it changes nothing.
_MAY_ESCAPE_RE = re.compile(rf"{CONTROL_RE.pattern}|\\|::|##")
_ESCAPE_CHAR_RE = lazy_compile(rf"{CONTROL_RE.pattern}|\\")
_NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` made safe as (part of) one line of human output: it is data, read from a
    tag, a commit or a file, and must not drive the terminal or the CI log showing it.

    Control characters (C0 with line feed and tab, DEL, C1), the Unicode line and
    paragraph separators, bidirectional controls and lone surrogates become visible
    escapes as in Python literals (``\\n``, ``\\x1b``, ``\\x85``, ``\\u2028``); a
    backslash becomes ``\\\\``, so different texts stay different. A CI command is
    broken by escaping one character as ``\\xHH``: ``::`` starting the text (after
    white space: GitHub Actions' workflow commands) and ``##[``, ``##vso[`` anywhere.
    Plain text is returned as it is.
    """
    if _MAY_ESCAPE_RE.search(text) is None:
        return text
    text = CI_COMMAND_RE.sub(r"\\x23", _ESCAPE_CHAR_RE.sub(_escaped_char, text))
    if starts_ci_command(text):
        at = len(text) - len(text.lstrip())
        text = f"{text[:at]}\\x3a{text[at + 1 :]}"
    return text


def safe_line(parts: Sequence[str | tuple[str, str]], paint: Painter | None = None) -> str:
    """One line of human output from ``parts``, each a text or a ``(text, style)``:
    escaped as a whole (:func:`escape`), the styled parts coloured when ``paint``
    colours. Where escaping the whole line differs from escaping the parts (a part
    would start a CI command), the line is left plain."""
    texts = [part if isinstance(part, str) else part[0] for part in parts]
    whole = escape("".join(texts))
    if paint is None or not paint.color:
        return whole
    pieces = [escape(text) for text in texts]
    if "".join(pieces) != whole:
        return whole
    return "".join(
        piece if isinstance(part, str) else paint(piece, part[1])
        for piece, part in zip(pieces, parts, strict=True)
    )


def _escaped_column(column: Sequence[str]) -> tuple[Sequence[str], bool]:
    """``column`` with each cell escaped, and whether it is all ASCII."""
    # One search over the whole column: a history has 100,000 rows, almost always plain.
    joined = "".join(column)
    if _MAY_ESCAPE_RE.search(joined) is None:
        return column, joined.isascii()
    escaped = [escape(cell) for cell in column]
    return escaped, "".join(escaped).isascii()


def _width(text: str) -> int:
    if text.isascii():  # one column per character (and O(1) to check)
        return len(text)
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    paint: Painter,
    styles: Sequence[str | None] | None = None,
) -> str:
    """Left-aligned columns separated by two spaces; values are never cut."""
    columns = list(zip(*rows, strict=False)) if rows else [() for _ in headers]
    return column_table(headers, columns, paint, styles)


def column_table(
    headers: Sequence[str],
    columns: Sequence[Sequence[str]],
    paint: Painter,
    styles: Sequence[str | None] | None = None,
) -> str:
    """:func:`table` from its columns (all of one length), which is cheaper to build
    for a long table. Every cell and header is escaped (:func:`escape`)."""
    return "".join(column_chunks(headers, columns, paint, styles))


def column_chunks(
    headers: Sequence[str],
    columns: Sequence[Sequence[str]],
    paint: Painter,
    styles: Sequence[str | None] | None = None,
    rows_per_chunk: int = 4096,
) -> Iterator[str]:
    """:func:`column_table`'s text in pieces of ``rows_per_chunk`` lines, to write as
    they are made: a history of 100,000 rows is never one string in memory."""
    headers = [escape(h) for h in headers]
    escaped = [_escaped_column(column) for column in columns]
    columns = [column for column, _ in escaped]
    ascii_columns = [is_ascii for _, is_ascii in escaped]
    widths = [_width(h) for h in headers]
    for i, column in enumerate(columns):
        if column:
            width = max(map(len if ascii_columns[i] else _width, column))
            widths[i] = max(widths[i], width)
    last = len(headers) - 1

    def line(cells: Sequence[str], cell_styles: Sequence[str | None]) -> str:
        out = []
        for i, cell in enumerate(cells):
            style = cell_styles[i]
            shown = paint(cell, style) if style else cell
            pad = "" if i == last else " " * (widths[i] - _width(cell) + 2)
            out.append(shown + pad)
        return "".join(out).rstrip()

    yield line(headers, ["header"] * len(headers)) + "\n"
    rows = zip(*columns, strict=True)
    row_styles = list(styles) if styles else [None] * len(headers)
    plain = not (paint.color or not all(ascii_columns[:last]))
    # The same lines for plain ASCII columns, one str.format per row: a history
    # can have 100,000 rows.
    fill = ("".join(f"{{:<{w + 2}}}" for w in widths[:last]) + "{}").format
    while True:
        batch = list(itertools.islice(rows, rows_per_chunk))
        if not batch:
            return
        if plain:
            yield "\n".join([fill(*row).rstrip() for row in batch]) + "\n"
        else:
            yield "\n".join([line(row, row_styles) for row in batch]) + "\n"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural (``plural``, default ``noun`` + s) unless
    ``n`` is 1: "1 tag", "2 tags", "0 tags"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def dump_json(document: Any, indent: int = 2) -> str:
    """The JSON text of a document: two-space indent (four for GTO's shapes, as GTO
    prints them), UTF-8, a final newline.

    ``json`` escapes the C0 controls; the other characters of :data:`CONTROL_RE`
    (DEL, C1, U+2028 and U+2029, which JavaScript before ES2019 cannot read in a
    string, bidirectional controls, lone surrogates) and the ``#`` that would make a CI
    command are written as ``\\uXXXX`` too. They only occur inside strings, where the
    escape reads back as the same character.
    """
    import json

    text = json.dumps(document, indent=indent, ensure_ascii=False)
    # The line feeds outside strings are json's indentation; inside, json escapes C0.
    escapes = re.compile(f"(?!\n){CONTROL_RE.pattern}|{CI_COMMAND_RE.pattern}")
    return escapes.sub(_json_escaped, text) + "\n"


def dump_json_chunks(
    key: str, items: Iterable[Any], rest: Mapping[str, Any], per_chunk: int = 1000
) -> Iterator[str]:
    """:func:`dump_json` of ``{key: [*items], **rest}`` in pieces, the items encoded
    as they come: a history of 100,000 events is never one document in memory. The
    text is the same, byte for byte (JSON strings hold no raw line feed, so an item's
    lines are indented by prefixing them)."""
    import json

    escapes = re.compile(f"(?!\n){CONTROL_RE.pattern}|{CI_COMMAND_RE.pattern}")

    def escaped(text: str) -> str:
        return escapes.sub(_json_escaped, text)

    yield escaped("{\n  " + json.dumps(key, ensure_ascii=False) + ": [")
    iterator = iter(items)
    started = False
    while True:
        batch = list(itertools.islice(iterator, per_chunk))
        if not batch:
            break
        # One dumps per batch, not per item: each call makes reference cycles that
        # only the (disabled: see cli) cyclic collector would free.
        text = json.dumps(batch, indent=2, ensure_ascii=False)[1:-2].replace("\n", "\n  ")
        yield escaped(("," if started else "") + text)
        started = True
    yield "\n  ]" if started else "]"
    if rest:
        yield escaped(",\n" + json.dumps(dict(rest), indent=2, ensure_ascii=False)[2:] + "\n")
    else:
        yield "\n}\n"


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


# -- JSON documents (their schema is documented in the README) -----------------------


def signature_json(sig: Signature) -> dict[str, Any]:
    return {"name": sig.name, "email": sig.email}


def event_json(event: Event) -> dict[str, Any]:
    return {
        "tag": event.tag,
        "event": event.kind.value,
        "artifact": event.artifact,
        "version": event.version,
        "stage": event.stage,
        "counter": event.counter,
        "commit": event.commit,
        "tag_object": event.oid,
        "timestamp": event.tagger.iso(),
        "unix_time": event.tagger.time,
        "tagger": signature_json(event.tagger),
        "message": event.message,
    }


def version_json(info: VersionInfo) -> dict[str, Any]:
    from git_registry.trailers import of_version

    reg = info.registration
    return {
        "artifact": info.artifact,
        "version": info.version,
        "active": info.active,
        "commit": info.commit,
        "tag": reg.tag,
        "registered_at": reg.tagger.iso(),
        "registered_by": signature_json(reg.tagger),
        "stages": list(info.stages),
        "message": reg.message,
        **of_version(info).to_json(),
    }


def hold_json(hold: StageHold) -> dict[str, Any]:
    event = hold.assignment
    return {
        "version": hold.version,
        "tag": event.tag,
        "commit": event.commit,
        "assigned_at": event.tagger.iso(),
        "assigned_by": signature_json(event.tagger),
    }


def artifact_json(
    name: str, info: ArtifactInfo | None, annotation: Annotation | None, *, all_versions: bool
) -> dict[str, Any]:
    """An artifact: registry state (``registered`` false if it has no tags) and its
    annotation at HEAD (null if it has none)."""
    latest = info.latest if info else None
    stages = info.stages if info else {}
    doc: dict[str, Any] = {
        "name": name,
        "registered": info is not None,
        "deprecated": info.deprecated if info else False,
        "latest": latest.version if latest else None,
        "latest_commit": latest.commit if latest else None,
        "stages": {stage: hold_json(holds[0]) for stage, holds in stages.items()},
        "annotation": annotation.to_json() if annotation else None,
    }
    if all_versions:
        doc["all_versions"] = {
            stage: [hold_json(h) for h in holds] for stage, holds in stages.items()
        }
    return doc


# -- human lines --------------------------------------------------------------------------


def describe(
    kind: EventKind, artifact: str, version: str | None, stage: str | None, commit: str
) -> str:
    """One phrase saying what an event does, e.g. ``registers churn v1.0.0 at commit 1a2b3c4``."""
    what = {
        EventKind.REGISTRATION: f"registers {artifact} {version}",
        EventKind.DEREGISTRATION: f"deregisters {artifact} {version}",
        EventKind.ASSIGNMENT: f"assigns stage {stage} to {artifact} {version}",
        EventKind.UNASSIGNMENT: f"unassigns stage {stage} from {artifact} {version}",
        EventKind.DEPRECATION: f"deprecates {artifact}",
    }[kind]
    return f"{what} at commit {short(commit)}"


def describe_event(event: Event) -> str:
    return describe(event.kind, event.artifact, event.version, event.stage, event.commit)


def when(sig: Signature) -> str:
    """A tagger time as Git's ``--date=iso`` shows it, in the tagger's zone."""
    return whens([sig])[0]


def whens(sigs: Sequence[Signature]) -> list[str]:
    """:func:`when` of each of ``sigs``: a history can show 100,000 times, so each day
    and zone is formatted once, and the time of day by arithmetic."""
    out: list[str] = []
    append = out.append
    days: dict[tuple[int, int], tuple[str, str]] = {}
    for sig in sigs:
        offset, seconds = sig.tz_offset, sig.time
        if not (-1440 < offset < 1440 and 0 <= seconds < _YEAR_10000):
            append(sig.datetime().strftime("%Y-%m-%d %H:%M:%S %z"))
            continue
        day, seconds = divmod(seconds + offset * 60, 86_400)
        parts = days.get((day, offset))
        if parts is None:  # years 1969 to 9999: four digits, as %Y needs everywhere
            date = time.strftime("%Y-%m-%d ", time.gmtime(day * 86_400))
            hours, minutes = divmod(abs(offset), 60)
            parts = days[(day, offset)] = (
                date,
                f" {'-' if offset < 0 else '+'}{hours:02d}{minutes:02d}",
            )
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        append(f"{parts[0]}{hours:02d}:{minutes:02d}:{seconds:02d}{parts[1]}")
    return out


_YEAR_10000 = 253_402_300_800 - 2 * 86_400  # before any zone's 10000-01-01


def versions_table(
    versions: Sequence[VersionInfo], paint: Painter, *, with_status: bool = False
) -> str:
    """One row per version: version, stages held, commit, registered, by, tag; then a
    column per metric and per metadata key any of them has (sorted, :mod:`trailers`)."""
    from git_registry.trailers import of_version, trailer_columns

    headers = ["version", "stages", "commit", "registered", "by", "tag"]
    styles: list[str | None] = ["version", "stage", "commit", None, None, "dim"]
    if with_status:
        headers.insert(1, "status")
        styles.insert(1, None)
    found = [of_version(info) for info in versions]
    extra_headers, extra_rows = trailer_columns(found, EMPTY)
    headers += extra_headers
    styles += [None] * len(extra_headers)
    rows = []
    for info, extra in zip(versions, extra_rows, strict=True):
        reg = info.registration
        row = [
            info.version,
            ", ".join(info.stages) or EMPTY,
            short(info.commit),
            when(reg.tagger),
            reg.tagger.name or EMPTY,
            reg.tag,
        ]
        if with_status:
            row.insert(1, "active" if info.active else "deregistered")
        rows.append(row + extra)
    return table(headers, rows, paint, styles)


def events_table(events: Sequence[Event], paint: Painter) -> str:
    """One row per event: time, artifact, event, version, stage, commit, by, tag."""
    return "".join(events_chunks(events, paint))


def events_chunks(events: Sequence[Event], paint: Painter) -> Iterator[str]:
    """:func:`events_table` in pieces (:func:`column_chunks`), to write as they come."""
    headers = ["time", "artifact", "event", "version", "stage", "commit", "by", "tag"]
    styles: list[str | None] = [None, "name", None, "version", "stage", "commit", None, "dim"]
    kinds = {kind: kind.value for kind in EventKind}
    columns = [
        whens([e.tagger for e in events]),
        [e.artifact for e in events],
        [kinds[e.kind] for e in events],
        [e.version or EMPTY for e in events],
        [e.stage or EMPTY for e in events],
        [short(e.commit) for e in events],
        [e.tagger.name or EMPTY for e in events],
        [e.tag for e in events],
    ]
    return column_chunks(headers, columns, paint, styles)


def registry_table(
    rows: Sequence[tuple[str, ArtifactSummary | None, Annotation | None]],
    stages: Sequence[str],
    paint: Painter,
    *,
    all_versions: bool,
    with_status: bool = False,
) -> str:
    """The registry: name, [status], [type], latest, one ``#stage`` column per stage,
    [labels].

    The type and labels columns appear when some artifact has them; the status column
    (``show --all``) when asked: see :func:`artifact_status`.
    """
    with_type = any(a is not None and a.type for _, _, a in rows)
    with_labels = any(a is not None and a.labels for _, _, a in rows)
    status = ["status"] if with_status else []
    headers = ["name", *status, *(["type"] if with_type else []), "latest"]
    headers += [f"#{s}" for s in stages]
    styles: list[str | None] = ["name", *([None] * len(status))]
    styles += [*([None] if with_type else []), "version"]
    styles += ["version"] * len(stages)
    if with_labels:
        headers.append("labels")
        styles.append("dim")
    lines = []
    for name, info, annotation in rows:
        cells = [name]
        if with_status:
            cells.append(artifact_status(info))
        if with_type:
            cells.append((annotation.type if annotation else None) or EMPTY)
        cells.append(info.latest if info and info.latest else EMPTY)
        for stage in stages:
            holds = info.stages.get(stage, ()) if info else ()
            cells.append(", ".join(holds if all_versions else holds[:1]) or EMPTY)
        if with_labels:
            cells.append(", ".join(annotation.labels) if annotation else EMPTY)
        lines.append([c or EMPTY for c in cells])
    return table(headers, lines, paint, styles)


def artifact_status(info: ArtifactInfo | ArtifactSummary | None) -> str:
    """An artifact's status in ``show --all``: ``active``; ``deprecated`` (its stages and
    latest version are not served); ``deregistered`` (every version is); ``unregistered``
    (declared in artifacts.yaml, no tags)."""
    if info is None:
        return "unregistered"
    if info.deprecated:
        return "deprecated"
    return "active" if info.latest is not None else "deregistered"
