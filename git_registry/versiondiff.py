"""What changes between two versions of an artifact (``git registry diff``): the commits
between them, their annotations, their metrics and metadata. Pure: parses what the Git
layer read, compares values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from git_registry.gitvalues import ObjectId, Signature

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from git_registry.annotations import Annotation
    from git_registry.trailers import Metric, Trailers


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file a commit changed: lines added and deleted (None for a binary file)."""

    path: str
    added: int | None
    deleted: int | None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "added": self.added, "deleted": self.deleted}


@dataclass(frozen=True, slots=True)
class LogCommit:
    """One commit of the log between two versions."""

    commit: ObjectId
    author: Signature
    subject: str
    files: tuple[FileChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "author": {"name": self.author.name, "email": self.author.email},
            "authored_at": self.author.iso(),
            "subject": self.subject,
            "files": [f.to_json() for f in self.files],
        }


_HEX_RE = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_NUMSTAT_RE = re.compile(r"\n?([0-9]+|-)\t([0-9]+|-)\t(.*)", re.DOTALL)
_ZONE_RE = re.compile(r"([+-])([0-9]{2})([0-9]{2})")


def parse_log(text: str) -> list[LogCommit]:
    """The output of :func:`gitbin.log_numstat`, newest commit first.

    Raises:
        ValueError: it is not that output (Git changed, or something else ran).
    """
    tokens = text.split("\0")
    commits: list[LogCommit] = []
    i = 0
    while i < len(tokens):
        head = tokens[i].lstrip("\n")
        if not head and i == len(tokens) - 1:
            break
        if _HEX_RE.fullmatch(head) is None or i + 5 >= len(tokens):
            raise ValueError(f"unexpected git log output at {head[:40]!r}")
        name, email, when, zone, subject = tokens[i + 1 : i + 6]
        i += 6
        files: list[FileChange] = []
        while i < len(tokens) and (match := _NUMSTAT_RE.fullmatch(tokens[i])) is not None:
            added, deleted, path = match.groups()
            files.append(
                FileChange(
                    path,
                    int(added) if added != "-" else None,
                    int(deleted) if deleted != "-" else None,
                )
            )
            i += 1
        zone_match = _ZONE_RE.fullmatch(zone)
        offset = 0
        if zone_match is not None:
            sign, hours, minutes = zone_match.groups()
            offset = (1 if sign == "+" else -1) * (int(hours) * 60 + int(minutes))
        author = Signature(name, email, int(when) if when.isdigit() else 0, offset)
        commits.append(LogCommit(ObjectId(head), author, subject, tuple(files)))
    return commits


@dataclass(frozen=True, slots=True)
class Change:
    """A value that differs: ``old`` and ``new`` (None: absent)."""

    key: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "old": self.old, "new": self.new}


def annotation_changes(old: Annotation | None, new: Annotation | None) -> list[Change]:
    """Key by key, what differs between two annotations (an absent one: every key None)."""
    before = old.to_json() if old is not None else {}
    after = new.to_json() if new is not None else {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        Change(key, before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    ]


@dataclass(frozen=True, slots=True)
class MetricChange:
    """One metric of two versions (None where a version lacks it)."""

    key: str
    old: Metric | None
    new: Metric | None

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        value = self.new.value - self.old.value
        return value if math.isfinite(value) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "old": self.old.value if self.old is not None else None,
            "new": self.new.value if self.new is not None else None,
            "delta": _rounded(self.delta),
        }


def _rounded(value: float | None) -> float | None:
    """A delta without float noise (0.93 - 0.91 is 0.020000000000000018)."""
    return None if value is None else float(f"{value:.12g}")


def format_delta(value: float | None) -> str:
    """``+0.02``, ``-1.5e-05``, ``0``; empty for None."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return f"{value:+.6g}"


def metric_changes(old: Trailers, new: Trailers) -> list[MetricChange]:
    """Every metric either version has (sorted), unchanged ones included."""
    keys = sorted({*old.metrics, *new.metrics})
    return [MetricChange(key, old.metrics.get(key), new.metrics.get(key)) for key in keys]


def meta_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """The metadata keys whose values differ (sorted)."""
    keys = sorted({*old, *new})
    return [Change(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)]
