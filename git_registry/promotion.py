"""The promotion rules (``promotion:`` in the policy): ``after``, ``branches``,
``signed`` and ``signers``, each judged for one event (:func:`promotion_report`), and
for what decides each governed stage's holder now (:func:`promotions_in_effect`).

Part of the rulebook (:mod:`git_registry.rules` has the rules' names and the other
rules; :mod:`git_registry.rulebook` applies them all). What only Git knows (which
branches contain a commit, who signed a tag) comes in through :class:`rules.Facts`.
Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from git_registry.gitvalues import short
from git_registry.grammar import EventKind
from git_registry.rules import Facts, Problem, Rule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.policy import Policy, Promotion
    from git_registry.rules import ArtifactLike, EventLike, RegistryLike

Verdict = tuple[Rule, "Problem | str"]
"""A rule judged for one event: its problem, or why the event passes it."""


def promotion_report(event: EventLike, history: Sequence[EventLike], facts: Facts) -> list[Verdict]:
    """Every promotion rule of the policy that applies to ``event``, judged.

    ``after`` and ``branches`` gate assignments only (a rollback and a deregistration
    are never blocked by them); ``signed`` and ``signers`` apply to every tag of the
    stage, cancel events included, and to the deregistration of a version that holds
    the stage (each takes the stage away from its holder). ``history`` is the
    artifact's events (those before ``event`` are read)."""
    policy = facts.policy
    if not policy.promotion:
        return []
    kind = event.kind
    report: list[Verdict] = []
    if kind is EventKind.ASSIGNMENT or kind is EventKind.UNASSIGNMENT:
        rule = policy.promotion_of(event.stage)
        if rule is None:
            return []
        if kind is EventKind.ASSIGNMENT:
            if rule.after:
                report.append((Rule.PROMOTION_AFTER, _after(event, history, rule, policy)))
            if rule.branches:
                report.append((Rule.PROMOTION_BRANCHES, _branches(event, rule, facts)))
        if rule.signed and facts.signatures:
            report.extend(_signature(event, (rule,), facts))
    elif kind is EventKind.DEREGISTRATION and facts.signatures:
        # Held just before it, or held now but for it: a deregistration dated before the
        # version's assignment still takes the stage away from it.
        held = _held_before(event, history) | set(_held_without(event, history))
        signed = tuple(r for r in policy.promotion if r.signed and r.stage in held)
        if signed:
            report.extend(_signature(event, signed, facts))
    return report


def new_tag_report(
    event: EventLike,
    before: RegistryLike,
    after: RegistryLike,
    names: Collection[str],
    facts: Facts,
) -> list[Verdict]:
    """:func:`promotion_report` of a new (or moved) tag ``event``, which the tags
    ``names`` give the registry ``before``, making ``after``; and for a new
    registration, the signature rule of each signed stage it gives its version back
    (see :func:`_revived`)."""
    report = promotion_report(event, after.artifacts[event.artifact].events, facts)
    if event.kind is EventKind.REGISTRATION and facts.signatures:
        revived = _revived(event, before, after, names, facts.policy)
        if revived:
            report.extend(_signature(event, revived, facts))
    return report


def promotion_problems(
    event: EventLike, history: Sequence[EventLike], facts: Facts
) -> list[Problem]:
    """The promotion rules that ``event`` breaks (see :func:`promotion_report`)."""
    return [v for _, v in promotion_report(event, history, facts) if isinstance(v, Problem)]


def _where(policy: Policy, rule: Promotion, key: str) -> str:
    at = f":{rule.line}" if rule.line else ""
    return f"{policy.file}{at} promotion: {rule.stage}: {key}"


def _after(
    event: EventLike, history: Sequence[EventLike], rule: Promotion, policy: Policy
) -> Problem | str:
    for earlier in history:
        if (
            earlier.kind is EventKind.ASSIGNMENT
            and earlier.version == event.version
            and earlier.stage in rule.after
            and earlier.order < event.order
        ):
            return f"{event.version} held {earlier.stage} first ({earlier.tag})"
    stages = " or ".join(rule.after)
    return Problem(
        f"{event.artifact}@{event.version} has not been in {stages} before {rule.stage} "
        f"({_where(policy, rule, 'after')})",
        event.tag,
        event.artifact,
        Rule.PROMOTION_AFTER,
        hint=f"promote {event.artifact}@{event.version} to {rule.after[0]} first: "
        f"git registry promote {event.artifact}@{event.version} {rule.after[0]}",
    )


def _branches(event: EventLike, rule: Promotion, facts: Facts) -> Problem | str:
    branch = None if facts.reachable is None else facts.reachable(event.commit, rule.branches)
    if branch == "":
        return (
            f"commit {short(event.commit)}: not judged here, this shallow clone lacks the "
            "history (the server judges it)"
        )
    if branch is not None:
        return f"commit {short(event.commit)} is on {branch}"
    names = ", ".join(rule.branches)
    return Problem(
        f"commit {short(event.commit)} of {event.artifact}@{event.version} is not on "
        f"{names} ({_where(facts.policy, rule, 'branches')})",
        event.tag,
        event.artifact,
        Rule.PROMOTION_BRANCHES,
        hint=f"merge it into {rule.branches[0]} and push that branch first, "
        f"or promote a version whose commit is on {rule.branches[0]}",
    )


def _signature(event: EventLike, stage_rules: Sequence[Promotion], facts: Facts) -> list[Verdict]:
    """The ``signed`` (and ``signers``) rules of the stages in ``stage_rules`` for one tag."""
    policy = facts.policy
    first = stage_rules[0]
    where = _where(policy, first, "signed")
    signers_file = policy.allowed_signers
    if facts.verify is None:
        status, principal, key, detail = "unverifiable", None, None, "no verifier"
    else:
        verdict = facts.verify(event)
        status, principal = verdict.status, verdict.principal
        key, detail = verdict.key, verdict.detail
    if status != "good":
        needs = f"{first.stage} needs signed tags ({where})"
        problem = Problem(
            f"{needs}: {_unsigned_why(status, key, detail, signers_file)}",
            event.tag,
            event.artifact,
            Rule.PROMOTION_SIGNED,
            _unsigned_hint(status, signers_file, policy),
        )
        return [(Rule.PROMOTION_SIGNED, problem)]
    signer = principal or f"key {key}"
    report: list[Verdict] = [
        (Rule.PROMOTION_SIGNED, f"signed by {signer}{_key(key if principal else None)}")
    ]
    for rule in stage_rules:
        if not rule.signers:
            continue
        if _is_signer(principal, key, rule.signers):
            report.append((Rule.PROMOTION_SIGNERS, f"{signer} is one of {rule.stage}'s signers"))
            continue
        unknown = "" if principal else " (its user id is not valid in the keyring: no principal)"
        report.append(
            (
                Rule.PROMOTION_SIGNERS,
                Problem(
                    f"signed by {signer}{unknown}, who is not one of {rule.stage}'s signers "
                    f"({', '.join(rule.signers)}; {_where(policy, rule, 'signers')})",
                    event.tag,
                    event.artifact,
                    Rule.PROMOTION_SIGNERS,
                    hint=f"one of {', '.join(rule.signers)} signs it, "
                    f"or {policy.file} (on the default branch) lists {principal or key}",
                ),
            )
        )
    return report


def _is_signer(principal: str | None, key: str | None, signers: Sequence[str]) -> bool:
    """Whether a good signature by ``principal`` (None: no trusted one) with ``key`` is
    one of ``signers``: a principal, or an OpenPGP fingerprint (any case, no spaces)."""
    if principal is not None and principal in signers:
        return True
    if key is None:
        return False
    fingerprint = key.replace(" ", "").upper()
    return any(s.upper() == fingerprint for s in signers if len(s) in (40, 64))


def _unsigned_why(status: str, key: str | None, detail: str, signers_file: str | None) -> str:
    if status == "unsigned":
        return "this tag is not signed"
    if status == "unknown-key":
        listed = f"listed in {signers_file}" if signers_file else "trusted"
        return f"the signing key{_key(key)} is not {listed}"
    if status == "bad":
        return f"the signature does not verify ({detail})"
    if status == "expired":
        return detail
    return f"the signature cannot be verified ({detail})"


def _unsigned_hint(status: str, signers_file: str | None, policy: Policy) -> str:
    if status == "unsigned":
        return (
            "sign it: add --sign to the git registry command "
            "(Git signs as it signs tags: gpg.format, user.signingKey)"
        )
    if status == "unknown-key":
        if signers_file:
            return f"add the key to {signers_file} in a reviewed commit on the default branch"
        return f"name an allowed_signers file in {policy.file}"
    if status == "bad":
        return "the tag object was changed after it was signed: recreate it"
    if status == "expired":
        return f"a new tag is signed with a key valid now: see the key's line in {signers_file}"
    return "Git verifies it with: git verify-tag TAG"


def _key(key: str | None) -> str:
    return f" ({key})" if key else ""


def _held_before(event: EventLike, history: Sequence[EventLike]) -> set[str]:
    """The stages the version of ``event`` held just before it (its newest earlier
    event of each stage is an assignment, and it was not deregistered then)."""
    return set(_held(event, history, before=True))


def _held_without(event: EventLike, history: Sequence[EventLike]) -> dict[str, EventLike]:
    """The stages the version of ``event`` would hold after all of ``history`` if none
    of its deregistrations were there (whatever their tagger times), with the assignment
    of each: two deregistrations each make the other look needless, so each is judged
    as if it alone cancelled them."""
    return _held(event, history, before=False)


def _held(event: EventLike, history: Sequence[EventLike], *, before: bool) -> dict[str, EventLike]:
    newest: dict[str, EventLike] = {}
    active = False
    for earlier in sorted(history, key=lambda e: e.order):
        if before and earlier.order >= event.order:
            break
        if earlier.version != event.version or earlier.tag == event.tag:
            continue
        if not before and earlier.kind is EventKind.DEREGISTRATION:
            continue
        if earlier.kind is EventKind.REGISTRATION:
            active = True
        elif earlier.kind is EventKind.DEREGISTRATION:
            active = False
        elif earlier.stage is not None:
            newest[earlier.stage] = earlier
    if not active:
        return {}
    return {stage: e for stage, e in newest.items() if e.kind is EventKind.ASSIGNMENT}


def _revivals(
    hold: EventLike, history: Sequence[EventLike], rule: Promotion, facts: Facts
) -> list[Problem]:
    """The signature rule for the registrations of the holder's version dated after the
    assignment it holds the stage through: a version registered again takes back the
    stages its old assignments gave it, so each such registration changed the holder."""
    found: list[Problem] = []
    for event in history:
        if (
            event.kind is EventKind.REGISTRATION
            and event.version == hold.version
            and event.order > hold.order
        ):
            found.extend(v for _, v in _signature(event, (rule,), facts) if isinstance(v, Problem))
    return found


def _revived(
    event: EventLike,
    before: RegistryLike,
    after: RegistryLike,
    names: Collection[str],
    policy: Policy,
) -> tuple[Promotion, ...]:
    """The signed stages that the new registration ``event`` gives its version through
    an older assignment it did not hold them through before (a version registered
    again, or a new version registered on a retired holder's commit, takes over the
    stage tags there): such a registration changes who holds the stage."""
    old = before.artifacts.get(event.artifact)
    new = after.artifacts.get(event.artifact)
    if new is None:
        return ()
    found = []
    for rule in policy.promotion:
        if not rule.signed:
            continue
        had = {
            (h.assignment.version, h.assignment.tag)
            for h in (old.stages.get(rule.stage, ()) if old is not None else ())
        }
        if any(
            h.assignment.version == event.version
            and h.assignment.tag not in names
            and (h.assignment.version, h.assignment.tag) not in had
            for h in new.stages.get(rule.stage, ())
        ):
            found.append(rule)
    return tuple(found)


def promotions_in_effect(artifact: ArtifactLike, facts: Facts) -> list[Problem]:
    """The promotion rules, for what decides each governed stage's holder now: the
    assignment through which the holder holds it, and for a signed stage every cancel
    event (unassignment, deregistration of a holder) since then (or since the newest
    assignment, if nothing holds it), and every deregistration without which its
    version would hold the stage now (one dated before the assignment it cancels).
    A superseded event is history, not a problem: a team can adopt or tighten its
    rules without rewriting its tags (the hooks refuse every new tag that breaks them)."""
    found: list[Problem] = []
    history = artifact.events
    for rule in facts.policy.promotion:
        holds = [hold.assignment for hold in artifact.stages.get(rule.stage, ())[:1]]
        for event in holds:
            found.extend(promotion_problems(event, history, facts))
        if not rule.signed:
            continue
        if holds:  # a registration since the holder's assignment revived the holder
            found.extend(_revivals(holds[0], history, rule, facts))
        assigned = [
            e.order for e in history if e.kind is EventKind.ASSIGNMENT and e.stage == rule.stage
        ]
        since = max(e.order for e in holds) if holds else max(assigned, default=None)
        # Versions assigned the stage after the holder was: a deregistration of one of
        # them may be what keeps it from holding the stage now.
        newer = {
            e.version
            for e in history
            if e.kind is EventKind.ASSIGNMENT
            and e.stage == rule.stage
            and (not holds or e.order > holds[0].order)
        }
        for event in history:
            if event.kind is EventKind.DEREGISTRATION and event.version in newer:
                kept = _held_without(event, history).get(rule.stage)
                if kept is not None and (not holds or kept.order > holds[0].order):
                    found.extend(
                        p for p in promotion_problems(event, history, facts) if p not in found
                    )
                    continue
            if since is not None and event.order <= since:
                continue
            if (event.kind is EventKind.UNASSIGNMENT and event.stage == rule.stage) or (
                event.kind is EventKind.DEREGISTRATION
                and rule.stage in _held_before(event, history)
            ):
                found.extend(p for p in promotion_problems(event, history, facts) if p not in found)
    return found
