"""What the reads that serve one version (``which``, ``latest``, ``show NAME#STAGE``,
``show NAME@latest``, ``describe NAME#STAGE``…) do with a deprecated artifact.

A deprecated artifact is retired (issue 15): its stage holders and its latest version
are not served. Those reads print nothing on stdout and exit 1, saying so, unless
``--all`` asks for the old value anyway (then they print it and warn). A later event
of the artifact re-activates it (SPEC 3.1, as in GTO), and it is served again.
``check-ref`` and ``history`` report events and are not affected.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from git_registry.errors import NotFoundError
from git_registry.render import dump_json, event_json, when
from git_registry.session import Session
from git_registry.state import ArtifactInfo, Registry, VersionInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.selectors import Selector


class Served(enum.Enum):
    """What a read serves: a stage's holder, or the latest version."""

    STAGE = "stage"
    LATEST = "latest"


def deprecated_note(info: ArtifactInfo) -> str | None:
    """``artifact 'fraud' is deprecated (fraud@deprecated, 2026-12-02)``, or None if the
    artifact is not deprecated."""
    event = info.deprecation
    if event is None:
        return None
    return f"artifact '{info.name}' is deprecated ({event.tag}, {when(event.tagger)[:10]})"


def deprecation_json(info: ArtifactInfo) -> dict[str, Any]:
    """``{"deprecated": bool, "deprecation": <event> or null}``: the keys every JSON
    document of a read that serves one version carries."""
    event = info.deprecation
    return {"deprecated": event is not None, "deprecation": event_json(event) if event else None}


def check_served(
    session: Session,
    info: ArtifactInfo,
    what: Served,
    *,
    show_all: bool,
    retry: str | None,
    json_doc: dict[str, Any] | None = None,
    stage: str | None = None,
) -> None:
    """Refuse to serve a deprecated artifact's stage holder or latest version, unless
    ``show_all`` (``--all``): then warn that the old value is printed anyway.

    Args:
        what: a stage's holder (``stage`` names it) or the latest version.
        retry: the command that prints it anyway (the hint), or None if it would find
            nothing either.
        json_doc: with ``--json``, the document to print (with :func:`deprecation_json`'s
            keys) before failing, so that a JSON reader sees why.

    Raises:
        NotFoundError: the artifact is deprecated and ``show_all`` is false (exit 1).
    """
    note = deprecated_note(info)
    if note is None:
        return
    if what is Served.STAGE:
        refused, anyway = "its stages are not served", f"the version holding {stage} is printed"
    else:
        refused, anyway = "its latest version is not served", "its latest version is printed"
    if show_all:
        session.warn(f"{note}: {anyway} anyway (--all)")
        return
    if json_doc is not None:
        session.stdout.write(dump_json({**json_doc, **deprecation_json(info)}))
    hint = f"print it anyway with: {retry}" if retry is not None else None
    raise NotFoundError(f"{note}: {refused}", hint=hint)


def served_version(
    session: Session,
    selector: Selector,
    *,
    retry: str,
    show_all: bool,
    deregistered: bool,
    json_doc: bool = False,
    unregistered: Callable[[Registry], NotFoundError] | None = None,
) -> tuple[ArtifactInfo, VersionInfo]:
    """The artifact and the one version ``selector`` names (``NAME@vX.Y.Z``,
    ``NAME@latest``, ``NAME#STAGE``; a bare ``NAME`` is its latest version), as the
    reads that serve one version find it (``describe``, ``get``).

    Args:
        retry: the command line to print it anyway (``--all`` is added to it in the hint).
        show_all: ``--all``: a deprecated artifact's stage holder or latest version is
            served anyway (warns); with ``deregistered``, so is a deregistered version.
        deregistered: ``NAME@vX.Y.Z`` may name a deregistered version without ``--all``.
        json_doc: with ``--json``, a refused deprecated artifact prints its document.
        unregistered: the error for an artifact no tag names (default: unknown, with
            the closest names).

    Raises:
        NotFoundError: no such artifact or version, an empty stage, or a deprecated
            artifact's stage or latest version without ``show_all`` (exit 1).
    """
    from git_registry.reading import load, warn_problems

    artifact = selector.artifact
    registry = load(session, [artifact]).registry
    warn_problems(session, registry, artifact)
    info = registry.artifacts.get(artifact)
    if info is None:
        if unregistered is not None:
            raise unregistered(registry)
        from git_registry.lookups import unknown_artifact  # only for this message

        raise unknown_artifact(registry, artifact)
    latest = selector.latest or (selector.version is None and selector.stage is None)
    if latest or selector.stage is not None:
        held = info.holder(selector.stage) if selector.stage is not None else info.latest
        check_served(
            session,
            info,
            Served.STAGE if selector.stage is not None else Served.LATEST,
            stage=selector.stage,
            show_all=show_all,
            retry=f"{retry} --all" if held else None,
            json_doc=(
                {"artifact": artifact, **({"stage": selector.stage} if selector.stage else {})}
                if json_doc
                else None
            ),
        )
    if selector.version is not None:
        found = info.version(selector.version)
        if found is not None and not found.active and not (deregistered or show_all):
            raise NotFoundError(
                f"{artifact} {selector.version} is deregistered",
                hint=f"get it anyway with: {retry} --all",
            )
    elif selector.stage is not None:
        hold = info.holder(selector.stage)
        found = info.version(hold.version) if hold else None
    else:
        found = info.latest
    if found is None and selector.stage is not None:
        from git_registry.lookups import empty_stage  # only for this message
        from git_registry.reading import stage_names

        raise empty_stage(artifact, selector.stage, stage_names(session, info.used_stages))
    if found is None:
        raise NotFoundError(
            f"{artifact}@{selector.version} does not name a version of {artifact}"
            if selector.version is not None
            else f"{artifact} has no active versions"
        )
    return info, found
