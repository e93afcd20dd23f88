"""Write registry tags: create them (checked against the rulebook first, in one ref
transaction), delete them, and publish them with ``git push``, retrying when
someone else was first.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from collections.abc import Callable, Sequence

from git_registry import gitbin, rulebook, rules, transport
from git_registry.errors import PushError, RegistryError
from git_registry.gitvalues import ObjectId, Signature
from git_registry.grammar import (
    EventKind,
    parse_tag_name,
)
from git_registry.plan import NewTag, event_time
from git_registry.reading import Loaded, gto_view, load, record_fetch, without
from git_registry.remote import PushOutcome
from git_registry.render import describe
from git_registry.repo import NewTagObject
from git_registry.session import Session
from git_registry.state import build_registry_rows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.remote import FetchResult
    from git_registry.signing import SignRequest


def remote_name(session: Session) -> str:
    """The remote that push hints and --push use: ``registry.remote``, default origin."""
    return transport.check_remote_and_urls(
        session.config().get("registry.remote", "origin"),
        source="registry.remote",
        cwd=session.repo().cwd,
        env=session.env,
    )


def quoted(args: Sequence[str]) -> str:
    return "git " + " ".join(shlex.quote(a) for a in args)


Replan = Callable[[Loaded], Sequence[NewTag]]
"""Plans a write again from a fresh registry (after fetching what the remote has)."""


PUSH_RETRIES = 3


def create_tags(
    session: Session,
    loaded: Loaded,
    tags: Sequence[NewTag],
    *,
    push: bool,
    replan: Replan | None = None,
    sign: bool | None = None,
    dry_run: bool = False,
    gto_force: bool = False,
    requires_force: bool = False,
) -> int:
    """Create ``tags`` in order; if one fails, delete those already created, then fail.

    Each tag is at least one second newer than the artifact's previous event (see
    :func:`~git_registry.plan.event_time`). Prints each created tag and the exact
    ``git push`` command that publishes them (or, with ``push``, pushes them one
    tag per push). If the remote refuses a tag because someone else got there
    first (the same ``#N`` or version), and ``replan`` is given: delete our unpushed
    tags, fetch the artifact's tags, plan again and retry, a bounded number of
    times. Nothing is ever force-pushed, and only tags this command created are
    deleted. ``sign``: ``--sign`` (True), ``--no-sign`` (False), or neither (None: see
    :func:`_signing`). ``dry_run``: print what would be created and every rule it was
    judged by, create nothing; exit status 1 if a rule refuses it. ``gto_force``
    (``--force``): create tags GTO 1.10.1 cannot read (each said in a warning) instead
    of refusing them. ``requires_force`` (``promote --force``): an assignment the
    ``requires`` rule refuses is created with the override in its message.
    """
    if dry_run:
        code = _preview(session, loaded, tags, sign, gto_force, requires_force)
        _warn_reactivation(session, loaded, tags, dry_run=True)
        return code
    remote = remote_name(session)  # a bad registry.remote is refused before any tag is made
    if push:
        refuse_unconfigured(session, remote, "nothing was created")
    created = _create_local(
        session, loaded, tags, sign, gto_force=gto_force, requires_force=requires_force
    )
    _warn_reactivation(session, loaded, tags, dry_run=False)
    if not push:
        _advise_push(session, remote, [t.name for t, _ in created])
        return 0
    for attempt in range(PUSH_RETRIES + 1):
        names = [t.name for t, _ in created]
        session.out(f"Pushing to {remote}: {', '.join(names)}")
        outcomes = push_each(session, remote, names)
        failed = outcomes[-1] if outcomes and not outcomes[-1].ok else None
        if failed is None:
            return 0
        unpushed = created[len(outcomes) - 1 :]
        kept = f"{', '.join(t.name for t, _ in unpushed)} kept in your local repository"
        if replan is None or not failed.retryable or attempt == PUSH_RETRIES:
            retry = f"retry with: {quoted(['registry', 'push', remote])}"
            if failed.hint is not None:  # the remote was not reached
                raise PushError(f"{failed.reason}; {kept}", hint=f"{failed.hint}; then {retry}")
            raise PushError(
                f"push to '{remote}' failed: {failed.name} {failed.reason}; {kept}", hint=retry
            )
        # Someone else took the tag, or the remote's hook saw a conflict: fetch what the
        # remote has (our unpushed tags stay) and plan again without them. Ours are
        # dropped and made again only if the remote's tags explain the refusal.
        artifacts = sorted({t.artifact for t, _ in unpushed})
        mine = {t.name for t, _ in unpushed}
        in_the_way = mine & set(refetch(session, remote, artifacts).kept)
        loaded = without(load(session, artifacts), mine)
        refused = f"{failed.name} was refused by '{remote}' ({failed.reason})"
        todo = _replanned(replan, loaded, refused, kept)
        if not in_the_way and [t.name for t in todo] == [t.name for t, _ in unpushed]:
            raise PushError(
                f"push to '{remote}' failed: {failed.name} {failed.reason}; {kept}",
                hint="the remote's tags do not explain it: see the message above",
            )
        for tag, oid in reversed(unpushed):
            session.repo().delete_tag(tag.name, oid)
        if in_the_way:  # the remote's tags of those names can come in now
            refetch(session, remote, artifacts)
            loaded = load(session, artifacts)
            removed = "your unpushed " + ("tag was" if len(unpushed) == 1 else "tags were")
            todo = _replanned(replan, loaded, refused, f"{removed} removed")
        session.warn(
            f"{failed.name} was refused by '{remote}' ({failed.reason}): someone else "
            f"was first; retrying as {', '.join(t.name for t in todo) or 'nothing new'}"
        )
        if not todo:
            return 0
        created = _create_local(
            session, loaded, todo, sign, gto_force=gto_force, requires_force=requires_force
        )
    return 0


def _replanned(replan: Replan, loaded: Loaded, refused: str, left: str) -> list[NewTag]:
    """The tags ``replan`` makes on the registry fetched after a refusal, but those that
    exist already.

    Raises:
        PushError: the plan itself fails now (``refused``, the reason, and ``left``: what
            became of our unpushed tags).
    """
    try:
        again = list(replan(loaded))
    except RegistryError as exc:
        raise PushError(
            f"{refused}, and after fetching its tags: {exc.message}; {left}", hint=exc.hint
        ) from exc
    return [t for t in again if t.name not in loaded.tag_names]


def refetch(session: Session, remote: str, artifacts: Sequence[str]) -> FetchResult:
    """Fetch ``artifacts``' tags from ``remote`` (never clobbering a local tag) after it
    refused a push, and let the session see them: what a retried ``--push`` and ``push
    --renumber`` plan on.

    Raises:
        GitError: the remote cannot be read.
        FetchError: some tags could not be fetched.
    """
    from git_registry.remote import fetch_tags

    repo = session.repo()
    result = fetch_tags(
        remote, repo.cwd, repo.tag_refs(), artifacts, env=session.env, shallow=repo.is_shallow()
    )
    record_fetch(session, artifacts)
    repo.close()  # see the new objects
    return result


def push_each(
    session: Session, remote: str, names: Sequence[str], *, keep_going: bool = False
) -> list[PushOutcome]:
    """Push ``names`` in order, one tag per push (each fires its own CI event), saying
    each one pushed. Stop at the first failure unless ``keep_going``: a new event must
    never land without the one before it."""
    from git_registry.remote import push_tag

    outcomes = []
    for name in names:
        outcome = push_tag(remote, name, session.repo().cwd, env=session.env)
        outcomes.append(outcome)
        relay(session, outcome.said)
        if outcome.ok:
            session.out(f"Pushed {name}")
        elif not keep_going:
            break
    return outcomes


def relay(session: Session, said: Sequence[str]) -> None:
    """Print what the server said during a push (its hooks' reasons), as ``git push``
    does: ``remote: TEXT`` lines on stderr, escaped (they are the server's data)."""
    for line in said:
        session.message("remote", line)


def refuse_unconfigured(session: Session, remote: str, done: str) -> None:
    """Refuse a ``--push`` to a remote this repository does not have, before anything is
    written (``done``: what is said about that, such as ``nothing was created``).

    Raises:
        RegistryError: ``remote 'NAME' is not configured in this repository``.
    """
    from git_registry.remote import not_configured

    missing = not_configured(remote, session.repo().cwd, env=session.env)
    if missing is not None:
        message, hint = missing
        raise RegistryError(f"{message}; {done}", hint=f"{hint}, or leave out --push")


def replace_tags(
    session: Session,
    loaded: Loaded,
    tags: Sequence[NewTag],
    replacing: Sequence[tuple[str, ObjectId]],
) -> list[tuple[NewTag, ObjectId]]:
    """Create ``tags`` (judged and signed as any write's, against ``loaded``: the
    registry without the tags they replace) and delete the tags ``replacing`` (name, the
    object id it must still point at) in one ref transaction: all of it, or nothing.

    Raises:
        RegistryError: a rule refuses the new tags, or Git refused (nothing changed).
    """
    return _create_local(session, loaded, tags, replacing=replacing)


def _create_local(
    session: Session,
    loaded: Loaded,
    tags: Sequence[NewTag],
    sign: bool | None = None,
    replacing: Sequence[tuple[str, ObjectId]] = (),
    *,
    gto_force: bool = False,
    requires_force: bool = False,
) -> list[tuple[NewTag, ObjectId]]:
    repo = session.repo()
    timed = _timed(loaded, tags, repo.committer())
    # Every rule before anything is written (nobody is asked to sign a tag that would
    # be refused anyway); the signatures' once Git signed the tags, as the hooks will.
    planned = _plan_signing(session, loaded, timed, sign)
    if requires_force:
        timed, planned = _with_overrides(session, loaded, timed, sign, planned)
    request, why, report = planned
    objects = [NewTagObject(tag.name, tag.target, tag.message, tagger) for tag, tagger in timed]
    forced = _refuse(report, len(timed), gto_force)
    if why is not None:
        session.message("note", f"signing {_the_tags(len(timed))}: {why}")
    oids = repo.write_tag_objects(objects, sign=request)
    if request is not None:  # the signed objects, as Git verifies them
        written = [(t, tagger, oid) for (t, tagger), oid in zip(timed, oids, strict=True)]
        _refuse(_judge(session, loaded, written, signatures=True), len(timed), gto_force)
    # One ref transaction: a registration and its assignment land together or not at all.
    repo.create_tag_refs([o.name for o in objects], oids, replacing)
    created = [(tag, oid) for (tag, _), oid in zip(timed, oids, strict=True)]
    for tag, _oid in created:
        what = describe(tag.kind, tag.artifact, tag.version, tag.stage, tag.target)
        signed = " (signed)" if request is not None else ""
        session.out("Created tag ", (tag.name, "name"), f"{signed}: {what}")
    for problem in forced:
        session.warn(f"{problem} (--force: created anyway)")
    for name, rule, verdict in report:
        if _overrode(rule, verdict):
            session.warn(f"{name}: requires {verdict} (--force)")
    return created


def _overrode(rule: str, verdict: object) -> bool:
    """Whether a verdict is that of a tag the ``requires`` rule lets through only by
    the override ``--force`` wrote in its message."""
    from git_registry.requirements import overridden_verdict

    return rule == rules.Rule.REQUIRES.value and overridden_verdict(verdict)


def _with_overrides(
    session: Session,
    loaded: Loaded,
    timed: list[tuple[NewTag, Signature]],
    sign: bool | None,
    planned: Planned,
) -> tuple[list[tuple[NewTag, Signature]], Planned]:
    """``--force`` against the ``requires`` rule: the tags it refuses carry the
    override in their messages, and are judged again with it."""
    overridden = _override_requirements(planned[2], timed)
    if overridden == timed:
        return timed, planned
    return overridden, _plan_signing(session, loaded, overridden, sign)


Planned = tuple["SignRequest | None", "str | None", "list[rulebook.Judged]"]
"""What :func:`_plan_signing` decides: the signing request, why, and the report."""


def _preview(
    session: Session,
    loaded: Loaded,
    tags: Sequence[NewTag],
    sign: bool | None,
    gto_force: bool = False,
    requires_force: bool = False,
) -> int:
    """``--dry-run``: the tags a write would create, and every rule they were judged by."""
    timed = _timed(loaded, tags, session.repo().committer())
    planned = _plan_signing(session, loaded, timed, sign)
    if requires_force:
        timed, planned = _with_overrides(session, loaded, timed, sign, planned)
    request, why, report = planned
    for tag in tags:
        what = describe(tag.kind, tag.artifact, tag.version, tag.stage, tag.target)
        session.out("Would create ", (tag.name, "name"), f": {what}")
    session.out("Checked against:")
    refused = False
    for name, rule, verdict in report:
        if isinstance(verdict, rules.Problem) and gto_force and _gto(verdict):
            session.out(f"  forced   {name}: {rule}: {verdict.message}")
        elif _overrode(rule, verdict):
            session.out(f"  forced   {name}: {rule}: {verdict}")
        elif isinstance(verdict, rules.Problem):
            refused = True
            message = verdict.message.removesuffix(": ignored")
            session.out(f"  refused  {name}: {rule}: {message}")
            if verdict.hint:
                session.out(f"           hint: {verdict.hint}")
        else:
            session.out(f"  ok       {name}: {rule}: {verdict}")
    if request is not None:
        reason = why or "asked"
        session.out(
            f"  signed   {_the_tags(len(timed))} would be signed ({reason}): "
            "verified once Git signs them"
        )
    if refused:
        session.message("hint", "nothing was created: the rules above refuse it")
        return 1
    session.message("note", "nothing was created (--dry-run)")
    return 0


def _plan_signing(
    session: Session,
    loaded: Loaded,
    timed: Sequence[tuple[NewTag, Signature]],
    sign: bool | None,
) -> tuple[SignRequest | None, str | None, list[rulebook.Judged]]:
    """Whether to sign the new tags, why if the policy decided it, and every rule they
    are judged by before anything is written.

    ``--sign``/``--no-sign``, else ``registry.sign``, else Git's ``tag.gpgSign``
    decide; without any, the tags are signed when the rulebook refuses them unsigned
    (a stage that needs signed tags), and the reason is returned, to be said. The
    signature rules of tags to be signed are left out of the report: they are judged
    once Git has signed them."""
    from git_registry.signing import SignRequest

    config = session.config()
    if sign is None:
        for key in ("registry.sign", "tag.gpgsign"):
            if key in config:
                sign = gitbin.config_bool(config, key, False)
                break
    unwritten = [(t, tagger, ObjectId("")) for t, tagger in timed]
    report = _judge(session, loaded, unwritten, signatures=sign is not True)
    why = None
    if sign is None:
        unsigned = [
            v
            for _, _, v in report
            if isinstance(v, rules.Problem) and v.rule is rules.Rule.PROMOTION_SIGNED
        ]
        if unsigned:
            # "prod needs signed tags (.registry.yaml:5 promotion: prod: signed): ..."
            stage_needs = unsigned[0].message.partition(" (")[0]
            why = f"{stage_needs} ({session.catalog().policy().file})"
            report = [j for j in report if j[2] not in unsigned]
        sign = bool(unsigned)
    return (SignRequest(config.get("registry.signingkey")) if sign else None), why, report


def _timed(
    loaded: Loaded, tags: Sequence[NewTag], ident: Signature
) -> list[tuple[NewTag, Signature]]:
    """Each new tag with its tagger: ``ident``, at least one second after the
    artifact's newest event and the tag before it."""
    timed: list[tuple[NewTag, Signature]] = []
    previous: int | None = None
    for tag in tags:
        when = event_time(_tag_times(loaded, tag.artifact, ident.time), ident.time)
        if previous is not None:
            when = max(when, previous + 1)
        previous = when
        timed.append((tag, dataclasses.replace(ident, time=when)))
    return timed


def _tag_times(loaded: Loaded, artifact: str, now: int) -> list[int]:
    """The tagger times of every loaded tag of ``artifact`` that the tagger-time rule
    accepts (a far-future tag must never push our new events' times after it)."""
    latest = now + rules.FUTURE_SKEW
    return [
        row[4].time
        for row, parsed in zip(loaded.rows, loaded.fields, strict=True)
        if parsed[0] == artifact and row[4] is not None and 0 <= row[4].time <= latest
    ]


def _the_tags(n: int) -> str:
    """``the tag``, ``the 2 tags``."""
    return "the tag" if n == 1 else f"the {n} tags"


def _gto(problem: rules.Problem) -> bool:
    return problem.rule in rules.WARNING_RULES


def _refuse(
    report: Sequence[rulebook.Judged], tags: int, gto_force: bool = False
) -> list[rules.Problem]:
    """Refuse the write if a rule in ``report`` refuses its tags: the rulebook the hooks
    apply, so a tag a write creates is a tag they accept; and a tag GTO 1.10.1 cannot
    read, unless ``gto_force``.

    Returns:
        The GTO findings ``gto_force`` lets through, to be said once the tags exist.

    Raises:
        RegistryError: the first broken rule, with its hint.
    """
    problems = [v for _, _, v in report if isinstance(v, rules.Problem)]
    forced = [p for p in problems if gto_force and _gto(p)]
    problems = [p for p in problems if p not in forced]
    if problems:
        first = problems[0]
        message = first.message.removesuffix(": ignored")
        where = f"{first.tag}: " if first.tag else ""
        raise RegistryError(
            f"refusing to create {_the_tags(tags)}: {where}{message}", hint=first.hint
        )
    return forced


def _judge(
    session: Session,
    loaded: Loaded,
    tags: Sequence[tuple[NewTag, Signature, ObjectId]],
    signatures: bool,
) -> list[rulebook.Judged]:
    """Every rule ``tags`` (with these taggers and tag objects: an empty id for one not
    written yet, which is unsigned) are judged by, and its verdict: what the registry
    with them has that it did not have without them. ``signatures`` False: all rules
    but the signature rules."""
    from git_registry.governance import Judge

    rows = list(loaded.rows)
    fields = list(loaded.fields)
    for tag, tagger, oid in tags:
        parsed = parse_tag_name(tag.name)
        assert parsed is not None, tag.name
        rows.append((tag.name, oid, tag.target, "commit", tagger, tag.message, None))
        fields.append((parsed.artifact, parsed.kind, parsed.version, parsed.stage, parsed.counter))
    after = build_registry_rows(rows, fields)
    catalog = session.catalog()
    # A broken policy cannot say which stages are allowed: fatal for an assignment only.
    assigns = any(tag.kind is EventKind.ASSIGNMENT for tag, _, _ in tags)
    policy = catalog.strict_policy() if assigns else catalog.policy()
    names = {tag.name for tag, _, _ in tags}
    remote = session.config().get("registry.remote", "origin")
    with Judge(session.repo(), catalog, policy, remote=remote, now=time.time()) as judge:
        facts = judge.facts()
        unwritten = {tag.name for tag, _, oid in tags if not oid}

        def verify(event: rules.EventLike) -> rules.VerdictLike:
            return rules.NOT_SIGNED if event.tag in unwritten else judge.verify(event)

        facts = dataclasses.replace(
            facts, verify=verify, signatures=signatures, artifact_of=_other_artifacts(session)
        )
        report = rulebook.report_of_new_tags(loaded.registry, after, names, facts)
    ordered = list(dict.fromkeys(tag.name for tag, _, _ in tags))
    view = gto_view(session, {tag.artifact for tag, _, _ in tags})  # (reading.py)
    # Only the new tags' findings matter: read the files of their commits only, and no
    # commit times (a deprecation's finding is not a tag's).
    targets = {tag.target for tag, _, _ in tags}
    index_problem = view.index_problem
    assert index_problem is not None
    view = dataclasses.replace(
        view,
        commit_time=None,
        index_problem=lambda commit: index_problem(commit) if commit in targets else None,
    )
    return report + rulebook.gto_report_of_new_tags(loaded.registry, after, ordered, view)


def _other_artifacts(session: Session) -> rules.ArtifactOf:
    """The artifacts a write did not load, read when the ``requires`` rule asks (their
    tags only: the cost of the required artifacts, not of the repository)."""
    read: dict[str, rules.ArtifactLike | None] = {}

    def artifact_of(name: str) -> rules.ArtifactLike | None:
        if name not in read:
            read[name] = load(session, [name], keep_rows=False).registry.artifacts.get(name)
        return read[name]

    return artifact_of


def _override_requirements(
    report: Sequence[rulebook.Judged], timed: Sequence[tuple[NewTag, Signature]]
) -> list[tuple[NewTag, Signature]]:
    """``--force``: the new assignments the ``requires`` rule refuses, their messages
    given the override line (:data:`requirements.OVERRIDE`), which the hooks read."""
    from git_registry.requirements import with_override

    refused = {
        v.tag
        for _, _, v in report
        if isinstance(v, rules.Problem) and v.rule is rules.Rule.REQUIRES
    }
    return [
        (dataclasses.replace(tag, message=with_override(tag.message)), tagger)
        if tag.name in refused
        else (tag, tagger)
        for tag, tagger in timed
    ]


def _warn_reactivation(
    session: Session, loaded: Loaded, tags: Sequence[NewTag], *, dry_run: bool
) -> None:
    """Warn when a new event of a deprecated artifact makes it active again (its newest
    event is no longer the deprecation: SPEC 3.1, as GTO reads it), so that its stages
    and latest version are served again."""
    from git_registry.serving import deprecated_note

    for artifact in dict.fromkeys(t.artifact for t in tags if t.kind is not EventKind.DEPRECATION):
        info = loaded.registry.artifacts.get(artifact)
        note = deprecated_note(info) if info is not None else None
        if note is not None:
            makes, are = ("would make", "would be") if dry_run else ("makes", "are")
            session.warn(
                f"{note}: this event {makes} it active again: its stages and latest "
                f"version {are} served again"
            )


def say_holders(
    session: Session, artifact: str, stages: Sequence[str], *, deregistered: str | None = None
) -> None:
    """Say who holds each of ``stages`` of ``artifact`` now (after a rollback or a
    deregistration, the stage falls back to an older holder, or is left empty). With
    ``deregistered`` (the version that held them), also warn on stderr: a stage that
    falls back serves an older version from now on. Warn too for each artifact whose
    ``requires`` the change leaves unmet (:mod:`git_registry.dependents`)."""
    if not stages:
        return
    info = load(session, [artifact]).registry.artifacts.get(artifact)
    for stage in stages:
        hold = info.holder(stage) if info is not None else None
        if hold is None:
            session.out(f"Now {stage} of {artifact} is empty (no version holds it)")
        else:
            session.out(
                f"Now {stage} of {artifact} is {hold.version} (through {hold.assignment.tag})"
            )
        if deregistered is None:
            continue
        if hold is None:
            now = f"{stage} is now empty"
        else:
            now = f"{stage} falls back to {hold.version} ({hold.assignment.tag})"
        session.warn(f"the deregistered {artifact} {deregistered} held {stage}: {now}")
    from git_registry.dependents import warn_unmet

    warn_unmet(session, artifact, stages)


def _advise_push(session: Session, remote: str, names: Sequence[str]) -> None:
    session.out("To publish, run:")
    session.out(f"    {quoted(['push', remote, *map(transport.tag_word, names)])}")
