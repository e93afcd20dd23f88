"""GTO 1.10's output shapes, for scripts written for GTO (README, Switching from GTO):
``--json=gto`` documents and the ``--plain`` tables of ``show`` and ``history``.

Written from GTO's documented and observed output (the tests compare both on the
same repositories), not from its code. Values come from the same registry state as
our own output; only the shape differs.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from git_registry.state import ArtifactInfo, Event, Registry, StageHold, VersionInfo

PRIORITY = {
    "deprecation": 2,
    "registration": 3,
    "deregistration": 4,
    "assignment": 5,
    "unassignment": 6,
}
"""GTO's order of events that share a second (its ``priority``)."""

NOTHING = "Nothing found in the current workspace"
"""What GTO prints for an empty table."""

MISSING = "-"


def event_doc(event: Event) -> dict[str, Any]:
    """One event as GTO's ``check-ref --json`` prints it (no ``version`` for a
    deprecation, no ``stage`` but for a stage's events)."""
    doc: dict[str, Any] = {
        "artifact": event.artifact,
        "created_at": event.tagger.iso(),
        "author": event.tagger.name,
        "author_email": event.tagger.email,
        "message": event.message,
        "commit_hexsha": event.commit,
        "tag": event.tag,
    }
    if event.version is not None:
        doc["version"] = event.version
    if event.stage is not None:
        doc["stage"] = event.stage
    doc["event"] = event.kind.value
    return doc


def history_docs(events: Sequence[Event], *, ascending: bool) -> list[dict[str, Any]]:
    """GTO's ``history --json``: every event, by time and then GTO's priority (newest
    first unless ``ascending``)."""
    docs = [
        {
            "timestamp": e.tagger.iso(),
            "artifact": e.artifact,
            "event": e.kind.value,
            "priority": PRIORITY[e.kind.value],
            "version": e.version,
            "stage": e.stage,
            "commit": e.commit,
            "author": e.tagger.name,
            "author_email": e.tagger.email,
            "message": e.message,
            "ref": e.tag,
            "_time": e.tagger.time,
        }
        for e in events
    ]
    docs.sort(key=lambda d: (d["_time"], d["priority"]))
    if not ascending:
        docs.reverse()
    for doc in docs:
        del doc["_time"]
    return docs


def history_plain(docs: Sequence[dict[str, Any]]) -> str:
    """GTO's ``history --plain`` from :func:`history_docs`."""
    headers = ["timestamp", "artifact", "event", "version", "stage", "commit", "ref"]
    rows = [
        [
            _when(d["timestamp"]),
            d["artifact"],
            d["event"],
            d["version"],
            d["stage"],
            d["commit"][:7],
            d["ref"],
        ]
        for d in docs
    ]
    return plain_table(headers, rows)


def used_stages(registry: Registry) -> list[str]:
    """The stages GTO lists as used: those some version of some artifact (deprecated
    ones too) holds now, sorted by name (our own lists add the stages no longer held)."""
    return sorted({stage for info in registry.artifacts.values() for stage in info.stages})


def stage_versions(holds: Sequence[StageHold], sort: str) -> list[str]:
    """The version GTO shows for a stage: the newest assignment's (``timestamp``) or
    the highest version holding it (``semver``)."""
    from git_registry.grammar import semver_key

    if not holds:
        return []
    if sort == "semver":
        return [max((h.version for h in holds), key=semver_key)]
    return [holds[0].version]


def artifact_order(registry: Registry) -> list[str]:
    """The artifacts in the order GTO's ``show --json`` lists them: first those with a
    deprecation, then with a registration or deregistration, then with an assignment or
    unassignment, each group by the time of the artifact's first such tag (then by tag
    name)."""
    groups = (
        ("deprecation",),
        ("registration", "deregistration"),
        ("assignment", "unassignment"),
    )
    seen: dict[str, None] = {}
    for kinds in groups:
        events = [
            e for info in registry.artifacts.values() for e in info.events if e.kind.value in kinds
        ]
        for event in sorted(events, key=lambda e: (e.tagger.time, e.tag)):
            seen.setdefault(event.artifact)
    for name in registry.artifacts:
        seen.setdefault(name)
    return list(seen)


def registry_doc(
    rows: Sequence[tuple[str, ArtifactInfo | None]], stages: Sequence[str], sort: str
) -> dict[str, Any]:
    """GTO's ``show --json``: artifact -> latest version, version per stage (null when
    none), registered, active."""
    doc: dict[str, Any] = {}
    for name, info in rows:
        doc[name] = {
            "version": info.latest.version if info and info.latest else None,
            "stage": {
                s: ", ".join(stage_versions(info.stages.get(s, ()) if info else (), sort)) or None
                for s in stages
            },
            "registered": info is not None,
            "active": info is None or not info.deprecated,
        }
    return doc


def registry_plain(doc: dict[str, Any], stages: Sequence[str]) -> str:
    """GTO's ``show --plain`` from :func:`registry_doc` (``*NAME``: not registered)."""
    headers = ["name", "latest", *(f"#{s}" for s in stages)]
    rows = [
        [name if d["registered"] else f"*{name}", d["version"], *(d["stage"][s] for s in stages)]
        for name, d in sorted(doc.items())
    ]
    return plain_table(headers, rows)


def shown_stages(info: ArtifactInfo, sort: str) -> dict[str, list[str]]:
    """Version -> the stages GTO shows it in (:func:`stage_versions`), the newest
    assignment first."""
    shown: dict[str, list[tuple[int, str]]] = {}
    for stage, holds in info.stages.items():
        for version in stage_versions(holds, sort):
            hold = next(h for h in holds if h.version == version)
            shown.setdefault(version, []).append((hold.assignment.tagger.time, stage))
    return {
        version: [s for _, s in sorted(pairs, key=lambda pair: -pair[0])]
        for version, pairs in shown.items()
    }


def versions_plain(info: ArtifactInfo, versions: Sequence[VersionInfo], sort: str) -> str:
    """GTO's ``show NAME --plain``: artifact, version, the stages it is shown in (as
    in the registry table: newest assignment first), registration time, tag."""
    shown = shown_stages(info, sort)
    headers = ["artifact", "version", "stage", "created_at", "ref"]
    rows = [
        [
            info.name,
            v.version,
            ", ".join(shown.get(v.version, [])),
            _when(v.registration.tagger.iso()),
            v.registration.tag,
        ]
        for v in versions
    ]
    return plain_table(headers, rows)


def _when(iso: str) -> str:
    """``2023-11-14 22:13:20+00:00``: a time as GTO's tables print it."""
    return iso.replace("T", " ", 1)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str | None]]) -> str:
    """A table as GTO prints it with ``--plain`` (the ``plain`` format of tabulate):
    each column as wide as its widest cell or its header and two spaces, columns two
    spaces apart, a missing value as ``-``, trailing spaces trimmed; a column of whole
    numbers only (short commit ids that are all digits) is right-aligned. (A column of
    numbers one of which reads as a float, ``1234e56``, tabulate reprints as floats:
    that is not copied.) Text is escaped (:func:`render.escape`)."""
    from git_registry.render import escape

    if not rows:
        return NOTHING + "\n"
    columns: list[list[str]] = []
    right: list[bool] = []
    for i in range(len(headers)):
        values = [row[i] for row in rows]
        present = [v for v in values if v is not None]
        numeric = bool(present) and all(v.isascii() and v.isdigit() for v in present)
        right.append(numeric)
        columns.append([MISSING if v is None else escape(v) for v in values])
    widths = [
        max(len(h) + 2, *(len(c) for c in column))
        for h, column in zip(headers, columns, strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip() + "\n"

    out = [line(headers)]
    out += [line([column[n] for column in columns]) for n in range(len(rows))]
    return "".join(out)
