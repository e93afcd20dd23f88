"""The registry's tag grammar (SPEC 2): parse and format tag names, validate names.

Pure: no I/O, no Git. Reading accepts every tag GTO 1.10 accepts (its ``tag_re``),
so a repository written by GTO means the same to us; writing is stricter (a name
must also be a valid Git ref name and a namespace must be a clean relative path),
so we never create a tag that Git, GTO or our own hooks would refuse.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from git_registry.errors import GrammarError as GrammarError

# mypy reads this name as typing.TYPE_CHECKING (typing is not imported at start-up).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import AnyStr


class _LazyPattern:
    """A regular expression compiled when first used: ``re.compile`` takes 0.05 to 0.5 ms
    a pattern, paid at every start-up for the patterns a command never uses. The
    attributes of the compiled pattern (``match``, ``pattern``...) are kept on first
    use, so later calls cost what the compiled pattern's calls cost."""

    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> object:
        value = getattr(re.compile(self._pattern, self._flags), name)
        self.__dict__[name] = value
        return value


def lazy_compile(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, done when the pattern is first used."""
    return _LazyPattern(pattern, flags)  # type: ignore[return-value]


TAG_PREFIX = "refs/tags/"

# GTO's building blocks (gto/constants.py), which SPEC 2 repeats.
_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9_/-]*[a-zA-Z0-9])?"
_DIRNAME = r"[a-zA-Z0-9_./-]+"
_SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
# re.ASCII: '\d' must not match non-ASCII digits (SemVer numbers are ASCII), and
# fullmatch() below: '$' would also match before a trailing newline.
NAME_RE = re.compile(_NAME, re.ASCII)
VERSION_RE = re.compile(rf"v{_SEMVER}", re.ASCII)
_TAG = (
    rf"(?P<artifact>(?:{_DIRNAME}=)?{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)"
    r"|@(?P<deprecated>deprecated))"
    r"(?:#(?P<counter>[0-9]+))?"
)
_TAG_RE = lazy_compile(_TAG, re.ASCII)
# Many names at once, one per line: every line matches once, as a tag or not ('.*').
_TAG_LINES_RE = re.compile(rf"^(?:{_TAG}|.*)$", re.ASCII | re.MULTILINE)

NAME_RULE = "letters, digits, '_', '-' and '/', starting and ending with a letter or digit"
VERSION_RULE = "'v' followed by a SemVer 2.0 version, e.g. v1.0.0 or v2.1.0-rc.1"


class EventKind(enum.Enum):
    """The five registry events. The value is the name GTO uses in its history."""

    # Identity hashing (members are singletons): Enum's own __hash__ is Python code,
    # and events are looked up by kind 100,000 times.
    __hash__ = object.__hash__

    DEPRECATION = "deprecation"
    REGISTRATION = "registration"
    DEREGISTRATION = "deregistration"
    ASSIGNMENT = "assignment"
    UNASSIGNMENT = "unassignment"

    @property
    def priority(self) -> int:
        """GTO's event priority (gto/base.py), used to order events of the same second."""
        return _PRIORITY[self]

    @property
    def cancels(self) -> bool:
        """True for the events that undo another (GTO's ``addition = False``)."""
        return self in (EventKind.DEPRECATION, EventKind.DEREGISTRATION, EventKind.UNASSIGNMENT)


_PRIORITY = {
    EventKind.DEPRECATION: 2,
    EventKind.REGISTRATION: 3,
    EventKind.DEREGISTRATION: 4,
    EventKind.ASSIGNMENT: 5,
    EventKind.UNASSIGNMENT: 6,
}


@dataclass(frozen=True, slots=True)
class TagName:
    """A parsed registry tag name.

    ``artifact`` is the name as users type it (``dir/sub:name``); in the tag the
    ``:`` is written ``=``. ``version`` is set for registrations and
    deregistrations, ``stage`` for assignments and unassignments.
    """

    artifact: str
    kind: EventKind
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    def __str__(self) -> str:
        return format_tag(self)


def artifact_to_tag(artifact: str) -> str:
    """``dir/sub:name`` -> ``dir/sub=name`` (GTO's ``name_to_tag``)."""
    return artifact.replace(":", "=")


def tag_prefixes(artifacts: Iterable[str]) -> list[str]:
    """How the names of the registry tags of ``artifacts`` start: ``NAME@`` and ``NAME#``
    (``:`` written ``=``)."""
    return [artifact_to_tag(a) + c for a in artifacts for c in "#@"]


def tag_to_artifact(text: str) -> str:
    """``dir/sub=name`` -> ``dir/sub:name`` (GTO's ``tag_to_name``)."""
    return text.replace("=", ":")


def strip_tag_prefix(ref: str) -> str:
    """Accept ``refs/tags/NAME`` as well as ``NAME``."""
    return ref[len(TAG_PREFIX) :] if ref.startswith(TAG_PREFIX) else ref


def parse_tag(text: str) -> TagName | None:
    """Parse a tag as a user writes it (``refs/tags/`` prefix accepted); None if it is
    not a registry tag. For a ref's own name use :func:`parse_tag_name`."""
    return parse_tag_name(strip_tag_prefix(text))


def parse_tag_name(name: str) -> TagName | None:
    """Parse the name of a tag ref (what follows ``refs/tags/``), exactly: a tag named
    ``refs/tags/churn#prod#7`` (the ref ``refs/tags/refs/tags/churn#prod#7``) is an event
    of the artifact ``refs/tags/churn``, never of ``churn``. None if it is not a
    registry tag."""
    # Called for every tag of the repository: one regex match, one groups() call.
    match = _TAG_RE.fullmatch(name)
    if match is None:
        return None
    artifact, stage, version, cancel, deprecated, counter = match.group(*_TAG_GROUPS)
    if "=" in artifact:
        artifact = tag_to_artifact(artifact)
    number = _counter(counter) if counter is not None else None
    if deprecated:
        return TagName(artifact, EventKind.DEPRECATION, None, None, number)
    if version:
        kind = EventKind.DEREGISTRATION if cancel else EventKind.REGISTRATION
        return TagName(artifact, kind, version, None, number)
    kind = EventKind.UNASSIGNMENT if cancel else EventKind.ASSIGNMENT
    return TagName(artifact, kind, None, stage, number)


MAX_COUNTER_DIGITS = 18
"""The most digits a counter may have (a 64-bit number). A longer one is a problem with
its tag (the rulebook's ``counter`` rule): it is not read as a number at all (5,000
digits would make ``int()`` raise) and the next counter after it would make tag names
too long for Git's ref files."""
COUNTER_ROOM = 10**17
"""Counters from here up are read but reported: they leave no room for the counters
after them (the next write's ``#N`` must still fit :data:`MAX_COUNTER_DIGITS`)."""
BAD_COUNTER = -1
"""The counter of a tag whose ``#N`` has more than :data:`MAX_COUNTER_DIGITS` digits."""


def _counter(digits: str) -> int:
    # int() of 5,000 digits raises (Python's limit on int/str conversion) and 236
    # digits would make the next tag name too long for a file: never convert them.
    return int(digits) if len(digits) <= MAX_COUNTER_DIGITS else BAD_COUNTER


_TAG_GROUPS = ("artifact", "stage", "version", "cancel", "deprecated", "counter")

TagFields = tuple[str, EventKind, "str | None", "str | None", "int | None"]
"""A :class:`TagName`'s fields as a plain tuple, for bulk reads:
``(artifact, kind, version, stage, counter)``."""


def parse_tags(names: list[str]) -> list[TagFields | None]:
    """:func:`parse_tag` for many tag names at once.

    One regular-expression pass over all the names (a line each): three times as fast
    as parsing them one by one, which matters with 100,000 tags.
    """
    text = "\n".join(names)
    rows = []
    if text.count("\n") == len(names) - 1:
        rows = _TAG_LINES_RE.findall(text)
    if len(rows) != len(names):  # a name with a line break
        return [_fields(parse_tag_name(name)) for name in names]
    fields: list[TagFields | None] = []
    append = fields.append
    # One string object per artifact and stage name, not one per tag (memory).
    shared: dict[str, str] = {}
    share = shared.setdefault
    for artifact, stage, version, _, _, _, _, _, cancel, deprecated, number in rows:
        if not artifact:
            append(None)
            continue
        if "=" in artifact:
            artifact = tag_to_artifact(artifact)
        artifact = share(artifact, artifact)
        counter = _counter(number) if number else None
        if deprecated:
            append((artifact, EventKind.DEPRECATION, None, None, counter))
        elif version:
            kind = EventKind.DEREGISTRATION if cancel else EventKind.REGISTRATION
            append((artifact, kind, version, None, counter))
        else:
            kind = EventKind.UNASSIGNMENT if cancel else EventKind.ASSIGNMENT
            append((artifact, kind, None, share(stage, stage), counter))
    return fields


def _fields(parsed: TagName | None) -> TagFields | None:
    if parsed is None:
        return None
    return (parsed.artifact, parsed.kind, parsed.version, parsed.stage, parsed.counter)


def format_tag(tag: TagName) -> str:
    """Format a tag name; the inverse of :func:`parse_tag`."""
    base = artifact_to_tag(tag.artifact)
    if tag.kind is EventKind.DEPRECATION:
        text = f"{base}@deprecated"
    elif tag.kind in (EventKind.REGISTRATION, EventKind.DEREGISTRATION):
        text = f"{base}@{tag.version}{'!' if tag.kind.cancels else ''}"
    else:
        text = f"{base}#{tag.stage}{'!' if tag.kind.cancels else ''}"
    return text if tag.counter is None else f"{text}#{tag.counter}"


def tag_artifact_prefix(name: str) -> str:
    """The part of a tag ref's name before its first ``@`` or ``#``, as an artifact
    name (the name exactly: a tag named ``refs/tags/x`` is not the tag ``x``)."""
    cut = min((i for i in (name.find("@"), name.find("#")) if i >= 0), default=len(name))
    return tag_to_artifact(name[:cut])


# -- validation for names we write ------------------------------------------------------


def check_artifact_name(name: str) -> str:
    """Return ``name`` if we may write tags for it, else raise GrammarError saying why."""
    if not name:
        raise GrammarError("artifact name is empty")
    if name.count(":") > 1:
        raise GrammarError(
            f"invalid artifact name '{name}': only one ':' is allowed, between a folder "
            "and a name, as in 'path/to:model'"
        )
    dirname, _, base = name.rpartition(":")
    if ":" in name and not dirname:
        raise GrammarError(
            f"invalid artifact name '{name}': the folder before ':' is empty "
            "(write 'path/to:model', or just 'model')"
        )
    if not NAME_RE.fullmatch(base):
        raise GrammarError(f"invalid artifact name '{name}': {_explain_name(base)}")
    if dirname:
        parts = dirname.split("/")
        for part in parts:
            if part in ("", ".", "..") or not re.fullmatch(r"[a-zA-Z0-9_.-]+", part, re.ASCII):
                raise GrammarError(
                    f"invalid artifact name '{name}': the folder '{dirname}' must be a relative "
                    "path of letters, digits, '_', '-' and '.', with no empty, '.' or '..' "
                    "parts (as in 'path/to:model')"
                )
    _check_refname_for(name, f"{TAG_PREFIX}{artifact_to_tag(name)}@v0.0.1", "artifact name")
    return name


def check_stage(stage: str) -> str:
    """Return ``stage`` if it is a valid stage name, else raise GrammarError."""
    if not stage:
        raise GrammarError("stage name is empty")
    if not NAME_RE.fullmatch(stage):
        raise GrammarError(f"invalid stage '{stage}': {_explain_name(stage)}")
    _check_refname_for(stage, f"{TAG_PREFIX}a#{stage}#1", "stage")
    return stage


def check_version(version: str) -> str:
    """Return ``version`` if it is ``v`` + SemVer 2.0, else raise GrammarError with a hint."""
    if VERSION_RE.fullmatch(version):
        _check_refname_for(version, f"{TAG_PREFIX}a@{version}", "version")
        return version
    hint = ""
    if VERSION_RE.fullmatch("v" + version):
        hint = f": did you mean v{version}?"
    elif version[:1] == "V" and VERSION_RE.fullmatch("v" + version[1:]):
        hint = f": the 'v' is lower-case, did you mean v{version[1:]}?"
    elif re.fullmatch(r"v?\d+(\.\d+)?", version):
        digits = version.lstrip("v").split(".")
        padded = ".".join(digits + ["0"] * (3 - len(digits)))
        hint = f": SemVer has three numbers, did you mean v{padded}?"
    elif re.match(r"^v?\d", version) and re.search(r"(^|[.v-])0[0-9]", version):
        hint = ": SemVer numbers have no leading zeros"
    raise GrammarError(f"invalid version '{version}'{hint} (versions are {VERSION_RULE})")


def _explain_name(value: str) -> str:
    bad = sorted({c for c in value if not re.match(r"[a-zA-Z0-9_/-]", c)})
    if bad:
        # A control character by its code point: messages are escaped when printed.
        shown = ", ".join(f"'{c}'" if c.isprintable() else f"U+{ord(c):04X}" for c in bad)
        return f"{shown} not allowed; use {NAME_RULE}"
    return f"must start and end with a letter or digit; use {NAME_RULE}"


def _check_refname_for(value: str, refname: str, what: str) -> None:
    reason = refname_problem(refname)
    if reason is not None:
        raise GrammarError(f"invalid {what} '{value}': Git would refuse the tag name ({reason})")


def refname_problem(refname: str) -> str | None:
    """Why ``git check-ref-format`` would reject ``refname``, or None if it accepts it.

    Follows the rules in git-check-ref-format(1) for a full ref name (no
    ``--allow-onelevel``, no ``--refspec-pattern``, no ``--normalize``).
    """
    if refname == "@":
        return "'@' alone is not a ref name"
    if "/" not in refname:
        return "a ref name needs at least one '/'"
    if refname.startswith("/") or refname.endswith("/"):
        return "it begins or ends with '/'"
    if "//" in refname:
        return "it contains '//'"
    if refname.endswith("."):
        return "it ends with '.'"
    if ".." in refname:
        return "it contains '..'"
    if "@{" in refname:
        return "it contains '@{'"
    for char in refname:
        if ord(char) < 0x20 or ord(char) == 0x7F or char in " ~^:?*[\\":
            return f"it contains {char!r}"
    for part in refname.split("/"):
        if part.startswith("."):
            return f"the part '{part}' begins with '.'"
        if part.endswith(".lock"):
            return f"the part '{part}' ends with '.lock'"
    return None


# -- SemVer precedence -------------------------------------------------------------------

SemverKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def semver_key(version: str) -> SemverKey:
    """A sort key giving SemVer 2.0 precedence (build metadata ignored).

    Raises GrammarError if ``version`` is not ``v`` + SemVer.
    """
    match = VERSION_RE.fullmatch(version)
    if match is None:
        raise GrammarError(f"invalid version '{version}' (versions are {VERSION_RULE})")
    pre = match["prerelease"]
    ids: tuple[tuple[int, int, str], ...] = ()
    if pre is not None:
        # Numeric identifiers sort below alphanumeric ones and compare as numbers.
        ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (
        int(match["major"]),
        int(match["minor"]),
        int(match["patch"]),
        0 if pre is not None else 1,
        ids,
    )
