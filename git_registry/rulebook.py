"""The rulebook applied: every rule, for a whole registry (``git registry check``:
:func:`evaluate`) or for the tags a write or a push adds (:func:`report_of_new_tags`,
:func:`problems_of_new_tags`). One code path for every caller, so ``check`` reports
what the hooks refuse, and a tag a write creates is a tag the hooks accept.

Pure: what only Git knows comes in through :class:`rules.Facts`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from git_registry.annotations import file_for
from git_registry.gitvalues import short
from git_registry.grammar import EventKind
from git_registry.promotion import new_tag_report, promotions_in_effect
from git_registry.requirements import new_tag_requirements, requirements_in_effect
from git_registry.rules import (
    GATED,
    Facts,
    Problem,
    Rule,
    event_problems,
    held_stage_problems,
    new_problems,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.gtocompat import GtoView
    from git_registry.rules import EventLike, RegistryLike
    from git_registry.state import Registry


def evaluate(
    problems: Iterable[Problem],
    events: Iterable[EventLike],
    registry: RegistryLike,
    facts: Facts,
) -> list[Problem]:
    """Every problem: the state's (``problems``), the held stages', each event's, and
    the promotion rules of what holds each stage now."""
    found = list(problems)
    found.extend(held_stage_problems(registry.holds(), facts))
    for event in events:
        found.extend(event_problems(event, facts))
    if facts.policy.promotion:
        for artifact in registry.artifacts.values():
            found.extend(promotions_in_effect(artifact, facts))
    found.extend(requirements_in_effect(registry, facts))
    return found


def problems_of_new_tags(
    before: RegistryLike,
    after: RegistryLike,
    names: Collection[str],
    facts: Facts,
) -> list[Problem]:
    """What the tags ``names`` (new or moved) do to the registry ``before``, giving
    ``after`` (see :func:`report_of_new_tags`). A write refuses, and a push hook
    refuses, exactly these."""
    return [
        v for _, _, v in report_of_new_tags(before, after, names, facts) if isinstance(v, Problem)
    ]


Judged = tuple[str, str, "Problem | str"]
"""(tag, rule's name, its problem or why the tag passes it), for ``--dry-run``."""


def report_of_new_tags(
    before: RegistryLike,
    after: RegistryLike,
    names: Collection[str],
    facts: Facts,
) -> list[Judged]:
    """Every rule the tags ``names`` (new or moved) were judged by, giving ``after``
    from ``before``: every problem of the state it did not have, the stage rule for
    those of them that hold a stage (a cancel event that hands a stage back to an
    older holder is never refused for it: what was promoted can always be taken
    back), the tagged commit's rule for those that register or assign, the
    promotion rules for each of them, and the ``requires`` rule for assignments."""
    report: list[Judged] = []
    found = new_problems(before.problems, after.problems)
    report.extend((p.tag or "", "tags", p) for p in found)
    held = {p.tag: p for p in held_stage_problems(after.holds(), facts) if p.tag in names}
    for name in names:
        event = after.event(name)
        if event is None:
            continue
        if not any(p.tag == name for p in found):
            report.append((name, "tags", "breaks no rule of the registry's tags"))
        if event.kind is EventKind.ASSIGNMENT:
            stages = facts.policy.stages
            allowed = (
                "any stage is allowed" if stages is None else f"allowed by {facts.policy.file}"
            )
            report.append((name, "stages", held.get(name) or f"{event.stage}: {allowed}"))
        if event.kind in GATED:
            problems = event_problems(event, facts)
            file = file_for(event.artifact)[0]
            valid = f"{file} at commit {short(event.commit)} is valid"
            report.append((name, "artifacts.yaml", problems[0] if problems else valid))
        if facts.policy.promotion:
            for rule, verdict in new_tag_report(event, before, after, names, facts):
                report.append((name, rule.value.removeprefix("promotion-"), verdict))
    for name, verdict in new_tag_requirements(after, names, facts):
        report.append((name, Rule.REQUIRES.value, verdict))
    return report


def gto_findings(registry: Registry, view: GtoView, tag_names: Iterable[str] = ()) -> list[Problem]:
    """Where GTO 1.10.1 cannot read ``registry`` (or the tags ``tag_names``), or reads it
    otherwise: ``check``'s ``gto-compat`` warnings (never a hook's refusal)."""
    from git_registry.gtocompat import created_tags, findings

    return created_tags(tag_names) + findings(registry, view)


def gto_report_of_new_tags(
    before: Registry, after: Registry, names: Sequence[str], view: GtoView
) -> list[Judged]:
    """The ``gto`` verdict of each new tag: the ``gto-compat`` finding it adds (a write
    refuses it unless ``--force``), or that GTO 1.10.1 reads it."""
    from git_registry.gtocompat import GTO, findings

    found = new_problems(findings(before, view), findings(after, view))
    report: list[Judged] = []
    for name in names:
        mine = [p for p in found if p.tag == name]
        report.append((name, "gto", mine[0] if mine else f"{GTO} reads it"))
    return report
