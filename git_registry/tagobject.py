"""Tag objects read exactly as Git reads them: the header grammar and peeling.

Pure: bytes from ``git cat-file`` in, :data:`~git_registry.gitvalues.TagRow` values out;
no I/O (peeling reads inner tags through a function it is given). Never raises,
whatever the bytes.

A tag object is accepted only in the shape Git writes and ``git mktag`` accepts
(its strict ``fsck`` checks, ``fsck.c:fsck_tag_standalone``)::

    object <full lower-case hex id>
    type <commit|tree|blob|tag>
    tag <name>                                   (a valid ref name under refs/tags/)
    tagger <name> <<email>> <seconds> <+|-HHMM>
    <empty line, or the end of the object>
    <message>

each header once, in that order, nothing else, no NUL byte. Anything else could
make us read a tag differently from Git: with two ``object`` lines Git peels to the
first, and a second ``tagger`` line would let a pusher choose the event's date.
We are stricter than ``fsck`` in two places, where Git never writes the looser form:
the id must be lower-case, and the time plain digits (``fsck`` lets ``strtoumax``
read ``+5`` or `` 5``). A tag without a ``tagger`` (only ``fsck``'s warning) is
refused too: a registry event needs a tagger.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from git_registry.gitvalues import ObjectId, Signature, TagRow, fast_maker
from git_registry.grammar import TAG_PREFIX, lazy_compile, refname_problem

TYPES = ("commit", "tree", "blob", "tag")
"""The object types a tag's ``type`` header may name."""

MAX_DEPTH = 16
"""Tags of tags are peeled this deep at most; deeper, the target is reported as a tag."""

_HEADERS = (b"object", b"type", b"tag", b"tagger")
_MAX_TIME = 2**63 - 1  # fsck's date_overflows() with a 64-bit time_t
# The whole well-formed header in one match (the fast path); anything it refuses is
# looked at again, slowly, by _header_problem(), to say what is wrong.
# Git's ident "Name <email> SECONDS +HHMM" (ident.c, fsck_ident): a tagger line, or
# what 'git var GIT_COMMITTER_IDENT' prints.
_IDENT = rb"([^<>\n\0]*) <([^<>\n\0]*)> (0|[1-9][0-9]{0,18}) ([+-][0-9]{4})"
_TAG_RE = lazy_compile(
    rb"object ([0-9a-f]{40}|[0-9a-f]{64})\n"
    rb"type (commit|tree|blob|tag)\n"
    rb"tag ([^\n\0]*)\n"
    rb"tagger " + _IDENT + rb"\n"
    rb"(?:\n|\Z)"
)
_IDENT_LINE_RE = lazy_compile(_IDENT)
# What git-check-ref-format(1) refuses in "refs/tags/<name>", as one search; the
# precise reason comes from grammar.refname_problem(), which agrees (tested). The
# search is slow for a hot loop: names of plain characters and single '.' or '/'
# between them (without '.lock') are fine, and are told apart first.
_SAFE_TAG_NAME_RE = lazy_compile(rb"[\w@#!=+,-]+(?:[./][\w@#!=+,-]+)*", re.ASCII)
_BAD_TAG_NAME_RE = lazy_compile(
    rb"\A[./]|\A\Z|[./]\Z|\.\.|//|@\{|/\.|\.lock(?:/|\Z)|[\x00-\x20\x7f~^:?*\[\\]"
)
_IDENT_RE = lazy_compile(rb"([^<>\n\0]*) <([^<>\n\0]*)>(.*)", re.DOTALL)
_TIME_ZONE_RE = lazy_compile(rb" ([0-9]+) ([+-][0-9]{4})")
_HEX_RE = {n: lazy_compile(b"[0-9a-f]{%d}" % n) for n in (40, 64)}
_SIGNATURE_MARKERS = (
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN SSH SIGNATURE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
)
_SHOWN = 60  # bytes of a bad value quoted in a problem
_ESCAPED_BYTE_RE = lazy_compile(r"(?<!\\)((?:\\\\)*)\\udc([89a-f][0-9a-f])")


@dataclass(frozen=True, slots=True)
class TagHeader:
    """What a well-formed tag object says (one tag, not peeled)."""

    target: ObjectId
    target_type: str
    tagger: Signature
    message: str
    """Without a trailing signature (``-----BEGIN PGP SIGNATURE-----`` …)."""


_header = fast_maker(TagHeader)
_signature = fast_maker(Signature)


def parse_tag_object(raw: bytes, hex_len: int) -> TagHeader | str:
    """Parse a tag object's bytes.

    Args:
        raw: the object's contents (``git cat-file tag``).
        hex_len: the length of a hex object id in this repository (40, or 64 for SHA-256).

    Returns:
        What the tag says, or why it is not a tag object Git would write (one line,
        with any value quoted from the object escaped and shortened).
    """
    parsed = _parse(raw, hex_len)
    return parsed if isinstance(parsed, str) else _header(*parsed)


_Parsed = tuple[ObjectId, str, Signature, str]


def _parse(raw: bytes, hex_len: int) -> _Parsed | str:
    """:func:`parse_tag_object` as a plain tuple: 100,000 tags are parsed on a first run."""
    match = _TAG_RE.match(raw)
    if match is None:
        return _header_problem(raw, hex_len)
    target, target_type, name, who, email, time, zone = match.groups()
    if len(target) != hex_len or (len(time) == 19 and int(time) > _MAX_TIME):
        return _header_problem(raw, hex_len)
    odd = _SAFE_TAG_NAME_RE.fullmatch(name) is None or b".lock" in name
    if odd and _BAD_TAG_NAME_RE.search(name) is not None:
        return _header_problem(raw, hex_len)
    body = raw[match.end() :]
    for marker in _SIGNATURE_MARKERS:
        cut = body.find(marker)
        if cut >= 0:
            body = body[:cut]
    return (
        ObjectId(_shared(target)),
        _shared(target_type),
        _ident(who, email, time, zone),
        body.decode("utf-8", "replace"),
    )


_SHARED: dict[bytes, str] = {}
_SHARED_MAX = 1 << 16


def _shared(raw: bytes) -> str:
    """``raw`` decoded (UTF-8, errors replaced), one string object for equal values
    (commit ids, types, taggers): 100,000 tags name a few thousand of them (memory)."""
    text = _SHARED.get(raw)
    if text is None:
        text = raw.decode("utf-8", "replace")
        if len(_SHARED) < _SHARED_MAX:
            _SHARED[raw] = text
    return text


def _ident(who: bytes, email: bytes, time: bytes, zone: bytes) -> Signature:
    hours, minutes = divmod(abs(offset := int(zone)), 100)  # b"-0130": -130
    minutes += hours * 60
    return _signature(
        _shared(who.strip()),
        _shared(email),
        int(time),
        -minutes if offset < 0 else minutes,
    )


def parse_ident(line: bytes) -> Signature | None:
    """An ident line ``Name <email> SECONDS +HHMM`` (a tagger, or what ``git var
    GIT_COMMITTER_IDENT`` prints), read as a tagger header is; None if it is not one.
    :func:`format_ident` writes it."""
    match = _IDENT_LINE_RE.fullmatch(line)
    if match is None or (len(match[3]) == 19 and int(match[3]) > _MAX_TIME):
        return None
    return _ident(*match.groups())


def format_ident(who: Signature) -> str:
    """``who`` as Git writes an ident in an object header:
    ``Name <email> 1700000000 +0000`` (:func:`parse_ident` reads it)."""
    sign = "-" if who.tz_offset < 0 else "+"
    hours, minutes = divmod(abs(who.tz_offset), 60)
    return f"{who.name} <{who.email}> {who.time} {sign}{hours:02d}{minutes:02d}"


def format_tag_object(name: str, target: str, tagger: Signature, message: str) -> str:
    """The text of an unsigned tag object of commit ``target``, as ``git mktag`` takes it
    and ``git tag`` writes it before any signature; ``message`` as given."""
    return f"object {target}\ntype commit\ntag {name}\ntagger {format_ident(tagger)}\n\n{message}"


# Git's signature formats by the line their signature starts with (gpg-interface.c,
# 'sigs' of each entry of gpg_format[]; Git 2.39).
SIGNATURE_FORMATS = {
    b"-----BEGIN PGP SIGNATURE-----": "openpgp",
    b"-----BEGIN PGP MESSAGE-----": "openpgp",
    b"-----BEGIN SIGNED MESSAGE-----": "x509",
    b"-----BEGIN SSH SIGNATURE-----": "ssh",
}
_SIGNATURE_LINE_RE = lazy_compile(
    rb"^(?:" + rb"|".join(re.escape(m) for m in SIGNATURE_FORMATS) + rb")", re.MULTILINE
)


def signature_start(raw: bytes) -> tuple[int, str] | None:
    """Where the signature of a tag object starts, and its format (``openpgp``,
    ``x509``, ``ssh``); None if it has none.

    As Git finds it (gpg-interface.c, ``parse_signed_buffer``): the last line that
    starts with one of :data:`SIGNATURE_FORMATS`; what comes before is what was signed.
    """
    if b"-----BEGIN " not in raw:  # the common case, without a regular expression
        return None
    found = list(_SIGNATURE_LINE_RE.finditer(raw))
    if not found:
        return None
    last = found[-1]
    return last.start(), SIGNATURE_FORMATS[last.group()]


def header_name(raw: bytes) -> str | None:
    """The name in the ``tag`` header of a tag object's bytes (decoded as UTF-8, an
    undecodable byte replaced), or None if the header is not in the shape Git writes."""
    match = _TAG_RE.match(raw)
    return match[3].decode("utf-8", "replace") if match is not None else None


def _header_problem(raw: bytes, hex_len: int) -> str:
    """Why ``raw`` is not a well-formed tag object (the slow path of :func:`parse_tag_object`)."""
    end = raw.find(b"\n\n")
    if end < 0:
        # No body: the last header line must still end with a line break (fsck).
        if not raw.endswith(b"\n"):
            if not raw:
                return "the object is empty"
            return "the header does not end (no empty line, no line break at the end)"
        end = len(raw) - 1
    header = raw[:end]
    if not header:
        return "the header is empty"
    if b"\0" in header:
        return "the header contains a NUL byte"
    lines = header.split(b"\n")
    keys: list[bytes] = []
    values: dict[bytes, bytes] = {}
    for line in lines:
        key, space, value = line.partition(b" ")
        if key not in _HEADERS or not space:
            if key in _HEADERS:
                return f"the '{key.decode()}' header has no value"
            if key and space:
                return f"unknown header {_show(key)} (Git writes object, type, tag, tagger)"
            return f"unexpected header line {_show(line)}"
        if key in values:
            count = sum(k == key for k in (ln.partition(b" ")[0] for ln in lines))
            times = "twice" if count == 2 else f"{count} times"
            return f"the '{key.decode()}' header appears {times}"
        keys.append(key)
        values[key] = value
    for key in _HEADERS:
        if key not in values:
            why = " (a registry event needs a tagger)" if key == b"tagger" else ""
            return f"no '{key.decode()}' header{why}"
    if tuple(keys) != _HEADERS:
        order = ", ".join(k.decode() for k in keys)
        return f"the headers are in the order {order} (Git writes object, type, tag, tagger)"
    target = values[b"object"]
    if not _HEX_RE.get(hex_len, _HEX_RE[40]).fullmatch(target):
        return (
            f"the 'object' header {_show(target)} is not a full lower-case "
            f"{hex_len}-digit object id"
        )
    if values[b"type"].decode("ascii", "replace") not in TYPES:
        return f"the 'type' header {_show(values[b'type'])} is not commit, tree, blob or tag"
    name = values[b"tag"]
    if _BAD_TAG_NAME_RE.search(name) is not None:
        reason = refname_problem(TAG_PREFIX + name.decode("utf-8", "surrogateescape"))
        why = reason or "Git refuses it"
        return f"the 'tag' header {_show(name)} is not a valid tag name ({why})"
    return _tagger_problem(values[b"tagger"]) or "the header is not in the shape Git writes"


def _tagger_problem(value: bytes) -> str | None:
    """Why a ``tagger`` value is not Git's ident ``Name <email> SECONDS +HHMM``, or None."""
    ident = _IDENT_RE.fullmatch(value)
    if ident is None:
        return f"the 'tagger' header {_show(value)} is not 'Name <email> time zone'"
    rest = ident[3]
    if not rest.strip():
        return f"the 'tagger' header {_show(value)} has no time"
    when = _TIME_ZONE_RE.fullmatch(rest)
    if when is None:
        return f"the tagger time and zone {_show(rest.strip())} are not 'SECONDS +HHMM' (or -HHMM)"
    time = when[1]
    if time.startswith(b"0") and time != b"0":
        return f"the tagger time {_show(time)} has leading zeros"
    if len(time) > 19 or int(time) > _MAX_TIME:
        return f"the tagger time {_show(time)} overflows a 64-bit time"
    return None


def _show(data: bytes) -> str:
    """A value from an object, quoted for a one-line message: control characters,
    line breaks and other unprintable characters escaped as ``repr`` does, bytes
    that are not UTF-8 as ``\\xff``; shortened."""
    shown = repr(data[:_SHOWN].decode("utf-8", "surrogateescape"))
    # repr() writes an undecodable byte (a lone surrogate) as '\\udcff': say '\\xff'.
    shown = _ESCAPED_BYTE_RE.sub(r"\1\\x\2", shown)
    return shown + "..." if len(data) > _SHOWN else shown


def read_tag_row(
    found: tuple[str, bytes] | None,
    read: Callable[[str], tuple[str, bytes] | None],
    name: str,
    oid: ObjectId,
) -> tuple[TagRow, bool, ObjectId]:
    """The tag ref ``name`` -> ``oid`` whose object is ``found`` (type and contents;
    None: missing), peeled.

    Args:
        found: the object ``oid`` names, or None if it is missing.
        read: reads an object by id (None if missing): the inner tags of a tag of a tag.
        name: the tag's name (without ``refs/tags/``).
        oid: the object id the ref holds.

    Returns:
        The row; whether it can never change (False if an object was missing: a
        fetch can bring it); and the tag object whose ``type`` header declares the
        row's target type. That declaration is not checked here (the target is not
        read, for speed): the caller checks it for many rows at once and replaces a
        row whose target is missing or of another type (see :func:`type_problem`).
    """
    if found is None:
        return _problem(name, oid, f"object {oid} is missing from the repository"), False, oid
    type_name, raw = found
    if type_name != "tag":
        return (name, oid, None, "", None, "", None), True, oid  # a lightweight tag
    hex_len = len(oid)
    tag = _parse(raw, hex_len)
    if isinstance(tag, str):
        return _problem(name, oid, f"malformed tag object {oid}: {tag}"), True, oid
    target, target_type, tagger, message = tag
    declared_by = oid
    depth = 0
    # A tag of a tag: peel to the first non-tag object, as Git's ^{} does, each inner
    # tag read as strictly as the outer one.
    while target_type == "tag" and depth < MAX_DEPTH:
        depth += 1
        inner = read(target)
        if inner is None:
            problem = f"object {target} is missing from the repository"
            return _problem(name, oid, problem), False, oid
        if inner[0] != "tag":
            problem = type_problem(declared_by, "tag", target, inner[0])
            return _problem(name, oid, problem), True, oid
        inner_tag = _parse(inner[1], hex_len)
        if isinstance(inner_tag, str):
            problem = f"malformed tag object {target} (reached from tag {oid}): {inner_tag}"
            return _problem(name, oid, problem), True, oid
        declared_by = ObjectId(target)
        target, target_type = inner_tag[0], inner_tag[1]
    row: TagRow = (name, oid, target, target_type, tagger, message, None)
    return row, True, declared_by


def type_problem(tag: str, declared: str, target: str, actual: str) -> str:
    """The problem of a tag whose ``type`` header does not match its object's real type."""
    return f"tag {tag} says its object is a {declared} but {target} is a {actual}"


def _problem(name: str, oid: ObjectId, problem: str) -> TagRow:
    return (name, oid, None, "", None, "", problem)
