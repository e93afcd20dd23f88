"""After a stage is taken back (``unassign``, ``deregister``): the artifacts whose
``requires`` (see :mod:`git_registry.requirements`) it leaves unmet, said as warnings.
Taking a stage back is never refused for them; ``check`` reports them from then on.

The dependents are found through the ``artifacts.yaml`` files at HEAD (those that name
the artifact in a ``requires``); each one's stage holder is then judged by the rule
itself, with the file at the holder's own commit. Only those artifacts' tags are read.
"""

from __future__ import annotations

from collections.abc import Sequence

from git_registry.session import Session


def dependents_at_head(session: Session, artifact: str) -> list[str]:
    """The artifacts whose entries in the ``artifacts.yaml`` files at HEAD require
    ``artifact``."""
    from git_registry.annotations import FILENAME

    repo = session.repo()
    head = repo.head()
    if head is None:
        return []
    catalog = session.catalog()
    found: list[str] = []
    for file in repo.files_named(head, FILENAME):
        parsed = catalog.file_at(head, file)
        if parsed is None:
            continue
        found.extend(a.artifact for a in parsed.annotations.values() if artifact in a.requires)
    return sorted(set(found))


def warn_unmet(session: Session, artifact: str, stages: Sequence[str]) -> None:
    """Warn for each holder of one of ``stages`` whose requirements are not met now
    that ``artifact`` changed (the rule's own message)."""
    dependents = dependents_at_head(session, artifact) if stages else []
    if not dependents:
        return
    from git_registry import rules
    from git_registry.reading import load
    from git_registry.requirements import requirement

    catalog = session.catalog()
    facts = rules.Facts(catalog.policy(), catalog.declaring_problems, requires=catalog.requires)
    read: dict[str, rules.ArtifactLike | None] = {}

    def artifact_of(name: str) -> rules.ArtifactLike | None:
        if name not in read:
            read[name] = load(session, [name], keep_rows=False).registry.artifacts.get(name)
        return read[name]

    for dependent in dependents:
        info = artifact_of(dependent)
        if info is None or info.deprecated:
            continue
        for stage in stages:
            holds = info.stages.get(stage, ())
            verdict = requirement(holds[0].assignment, facts, artifact_of) if holds else None
            if isinstance(verdict, rules.Problem):
                session.warn(f"{verdict} ('git registry check' reports it from now on)")
