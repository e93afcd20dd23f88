"""The ``requires`` rule of ``artifacts.yaml``: an artifact whose entry says
``requires: [customers, features]`` is promoted to a stage only where each required
artifact has a version in that stage (issue 17, GTO #260 and #250).

Part of the rulebook (:mod:`git_registry.rules` names the rule; :mod:`git_registry.rulebook`
applies it for ``check``, every write and every hook). Which artifacts are required is
read from the ``artifacts.yaml`` committed at the promoted version's commit (a
version's files are its truth, as for the ``invalid-annotations`` rule); whether they
hold the stage, from the registry after the new tags (so tags pushed together count).

- A required artifact counts when a version of it holds the stage and the artifact
  is not deprecated (a deprecated artifact's stages are not served).
- Only assignments are judged: taking a stage back (an unassignment, a
  deregistration) is never refused, and ``check`` reports the holders whose
  requirements are no longer met.
- ``promote --force`` overrides the rule by writing :data:`OVERRIDE` in the tag's
  message: the override is recorded in the tag, and every hook and ``check`` read it
  from there (they cannot see the command line).

Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from git_registry.annotations import file_for
from git_registry.gitvalues import short
from git_registry.grammar import EventKind
from git_registry.rules import Facts, Problem, Rule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.rules import ArtifactLike, EventLike, RegistryLike

OVERRIDE = "Registry-Override: requires"
"""The line ``promote --force`` adds to an assignment tag's message to override the rule."""


def overridden(message: str) -> bool:
    """Whether a tag message records the override (:data:`OVERRIDE` as a line of its own)."""
    return OVERRIDE in (line.strip() for line in message.splitlines())


OVERRIDDEN = "not met"
"""How the verdict of an assignment whose message overrides the rule starts."""


def overridden_verdict(verdict: object) -> bool:
    """Whether a verdict of the rule says its tag passes only by the override."""
    return isinstance(verdict, str) and verdict.startswith(OVERRIDDEN)


def with_override(message: str) -> str:
    """``message`` with the override line added (as a trailer, after a blank line)."""
    if overridden(message):
        return message
    return f"{message.rstrip()}\n\n{OVERRIDE}" if message.strip() else OVERRIDE


def requirement(
    event: EventLike, facts: Facts, artifact_of: Callable[[str], ArtifactLike | None]
) -> Problem | str | None:
    """The ``requires`` rule for one assignment: None if it does not apply (not an
    assignment, or the entry requires nothing), else its problem or why it passes.

    Args:
        artifact_of: each required artifact as the registry judged has it (None: no
            tag names it).
    """
    if event.kind is not EventKind.ASSIGNMENT or facts.requires is None or event.stage is None:
        return None
    required = tuple(facts.requires(event.commit, event.artifact))
    if not required:
        return None
    stage = event.stage
    missing: list[str] = []
    held: list[str] = []
    for name in required:
        info = artifact_of(name)
        holds = info.stages.get(stage, ()) if info is not None else ()
        if info is None:
            missing.append(f"{name} has no version in the registry")
        elif info.deprecated:
            missing.append(f"{name} is deprecated")
        elif not holds:
            missing.append(f"{name} has no version in {stage}")
        else:
            held.append(f"{name}@{holds[0].version}")
    if not missing:
        return f"{stage} holds {', '.join(held)}"
    file = file_for(event.artifact)[0]
    where = f"{file} at commit {short(event.commit)}: requires"
    if overridden(event.message):
        return f"{OVERRIDDEN} ({'; '.join(missing)}), overridden by the tag's message ({OVERRIDE})"
    needed = [m.split(" ", 1)[0] for m in missing]
    return Problem(
        f"{event.artifact}@{event.version} requires {', '.join(required)} in {stage}: "
        f"{'; '.join(missing)} ({where})",
        event.tag,
        event.artifact,
        Rule.REQUIRES,
        hint=f"promote {', '.join(needed)} to {stage} first (or push their {stage} tags "
        f"together with this one); 'git registry promote --force' overrides it",
    )


def requirements_in_effect(registry: RegistryLike, facts: Facts) -> list[Problem]:
    """The rule for what holds each stage now: each stage holder (of an artifact that
    is not deprecated) whose requirements are not met in ``registry``, and not
    overridden by its assignment's message."""
    if facts.requires is None:
        return []
    found: list[Problem] = []
    lookup = _lookup(registry, facts)
    for info in registry.artifacts.values():
        if info.deprecated:
            continue
        for holds in info.stages.values():
            for hold in holds[:1]:
                verdict = requirement(hold.assignment, facts, lookup)
                if isinstance(verdict, Problem):
                    found.append(verdict)
    return found


def _lookup(registry: RegistryLike, facts: Facts) -> Callable[[str], ArtifactLike | None]:
    def artifact_of(name: str) -> ArtifactLike | None:
        info = registry.artifacts.get(name)
        if info is None and facts.artifact_of is not None:
            return facts.artifact_of(name)
        return info

    return artifact_of


def new_tag_requirements(
    after: RegistryLike, names: Iterable[str], facts: Facts
) -> list[tuple[str, Problem | str]]:
    """The rule for each new assignment in ``names``, judged in ``after`` (the registry
    with every new tag: what is pushed together counts). Like :func:`requirements_in_effect`,
    it judges what serves a stage: an assignment that does not hold its stage in
    ``after`` (superseded in the same push), or of a deprecated artifact, passes, so
    that ``check`` reports exactly what a push of every tag refuses."""
    lookup = _lookup(after, facts)
    report: list[tuple[str, Problem | str]] = []
    for name in names:
        event = after.event(name)
        if event is None or event.kind is not EventKind.ASSIGNMENT or facts.requires is None:
            continue
        if not facts.requires(event.commit, event.artifact):
            continue  # requires nothing: no verdict to show
        info = after.artifacts.get(event.artifact)
        holds = info.stages.get(event.stage or "", ()) if info is not None else ()
        verdict: Problem | str | None
        if info is not None and info.deprecated:
            verdict = f"{event.artifact} is deprecated: its stages are not served"
        elif not holds or holds[0].assignment.tag != name:
            verdict = f"does not hold {event.stage} (a newer assignment does)"
        else:
            verdict = requirement(event, facts, lookup)
        if verdict is not None:
            report.append((name, verdict))
    return report
