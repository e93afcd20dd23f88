"""``git registry push [REMOTE] [NAME…]``: publish the registry tags the remote lacks,
one tag per push, oldest event first; ``--renumber`` first renumbers the unpushed tags
whose ``#N`` the remote has taken."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from git_registry.commands import Command
from git_registry.commands.fetch import split_remote
from git_registry.errors import EXIT_NOT_FOUND
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.gitvalues import ObjectId
    from git_registry.remote import PushOutcome
    from git_registry.renumber import Clash
    from git_registry.state import Event

COMMAND = Command(
    name="push",
    summary="push the registry tags a remote lacks, one per push",
    description=(
        "Push the registry tags (all, or those of the NAMEs) that the remote lacks, oldest\n"
        "event first, one tag per 'git push' so that each fires its own CI event. Tags the\n"
        "remote has with other contents are reported, never forced. An unpushed tag whose\n"
        "#N the remote has taken (someone else pushed their event first) is not pushed;\n"
        "--renumber makes it again with the next counter, after the remote's events (and\n"
        "the artifact's unpushed events after it), then pushes. REMOTE defaults to\n"
        "registry.remote, then origin."
    ),
    usage=("git registry push [REMOTE] [NAME...] [--renumber] [--dry-run]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "words", metavar="[REMOTE] [NAME]", nargs="*", help="a remote or URL, then artifacts"
    )
    p.add_argument(
        "--renumber",
        action="store_true",
        help="renumber the unpushed tags whose #N the remote took, then push",
    )
    p.add_argument("-n", "--dry-run", action="store_true", help="list what would be pushed")


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.render import count
    from git_registry.writing import PUSH_RETRIES

    remote, names = split_remote(session, list(args.words))
    first = _push_once(session, remote, names, args)
    assert first is not None  # None only after a refusal
    outcomes, todo, held = first
    for _attempt in range(PUSH_RETRIES):
        raced = [o for o in outcomes if not o.ok and o.retryable]
        if not (args.renumber and raced):
            break
        # Refused for what the remote has now: someone pushed meanwhile. If their tags
        # take our counters, renumber and push again; else the refusal stands.
        again = _push_once(session, remote, names, args, refused=raced[0])
        if again is None:
            break
        outcomes, todo, held = again
    if todo is None or args.dry_run:  # nothing pushed: what would be was said
        return EXIT_NOT_FOUND if held and not args.renumber else 0
    for outcome in outcomes:
        if not outcome.ok:
            session.message("error", f"{outcome.name} was not pushed: {outcome.reason}")
            if outcome.hint:
                session.message("hint", outcome.hint)
    failed = sum(not outcome.ok for outcome in outcomes) + len(held)
    if failed:
        session.message(
            "error",
            f"{failed} of {count(len(todo) + len(held), 'tag')} "
            f"{'was' if failed == 1 else 'were'} not pushed to {remote}",
        )
        if any(o.retryable for o in outcomes if not o.ok) and not args.renumber:
            _hint_renumber(session, remote, names, [o.name for o in outcomes if not o.ok])
        return EXIT_NOT_FOUND
    return 0


def _push_once(
    session: Session,
    remote: str,
    names: list[str],
    args: argparse.Namespace,
    refused: PushOutcome | None = None,
) -> tuple[list[PushOutcome], list[str] | None, list[str]] | None:
    """List the remote's tags, renumber (``--renumber``) or hold back what clashes with
    them, and push the rest. Returns the outcomes, the tags tried (None: nothing to
    push, already said) and the tags held back. After the ``refused`` push (a retry):
    None, doing nothing, if no tag of the remote clashes with ours."""
    from git_registry.reading import events_of, load
    from git_registry.remote import list_tags
    from git_registry.renumber import find_clashes, renumber
    from git_registry.writing import push_each

    repo = session.repo()
    theirs = {
        n: t.oid for n, t in list_tags(remote, repo.cwd, names or None, env=session.env).items()
    }
    clashes = find_clashes(repo.tag_refs(), theirs, set(names) if names else None)
    if refused is not None:
        if not clashes:
            return None
        session.warn(
            f"{refused.name} was refused by '{remote}' ({refused.reason}): someone else "
            "was first; renumbering"
        )
    if clashes and args.renumber and not args.dry_run:
        renumber(session, remote, clashes)
        clashes = []
        # Listed again: the renumbering fetched what the remote has now.
        listed = list_tags(remote, repo.cwd, names or None, env=session.env)
        theirs = {name: tag.oid for name, tag in listed.items()}
    loaded = load(session, names or None)
    selected: list[str | None] = list(names) if names else [None]
    events = [e for name in selected for e in events_of(loaded.registry, name)]
    events.sort(key=lambda e: e.order)
    held = _held_back(session, remote, clashes, events, theirs, args)
    todo = []
    for event in events:
        there = theirs.get(event.tag)
        if event.tag in held:
            continue
        if there is None:
            todo.append(event.tag)
        elif there != event.oid:
            session.warn(f"{remote} has a different {event.tag}: not pushed (yours is kept)")
    for problem in loaded.registry.problems:
        if problem.tag and problem.tag not in theirs and problem.tag not in held:
            session.warn(f"not pushed: {problem}")
    if not todo:
        if not held:
            session.out(
                f"Nothing to push: {remote} has every registry tag"
                + (f" of {', '.join(names)}" if names else "")
            )
        return [], None, held
    if args.dry_run:
        for name in todo:
            session.out(f"would push {name}")
        return [], None, held
    return push_each(session, remote, todo, keep_going=True), todo, held


def _held_back(
    session: Session,
    remote: str,
    clashes: list[Clash],
    events: Sequence[Event],
    theirs: Mapping[str, ObjectId],
    args: argparse.Namespace,
) -> list[str]:
    """The tags not pushed because of ``clashes``: each clashing tag and the unpushed
    events of its artifact after it (a later event must not land without it). Says
    which and why, and how to renumber them (or, with ``--dry-run --renumber``, that
    they would be)."""
    from git_registry.grammar import parse_tag_name

    if not clashes:
        return []
    first: dict[str, str] = {}
    for clash in clashes:
        first.setdefault(clash.artifact, clash.mine)
    held = []
    started: set[str] = set()
    for event in events:
        if first.get(event.artifact) == event.tag:
            started.add(event.artifact)
        pushed = theirs.get(event.tag) == event.oid
        if event.artifact in started and not pushed and event.tag not in held:
            held.append(event.tag)
    clashing = {clash.mine for clash in clashes}
    for clash in clashes:
        if args.renumber:  # --dry-run
            session.out(f"would renumber {clash.mine} ({clash.describe(remote)})")
        else:
            session.message("error", f"{clash.mine} was not pushed: {clash.describe(remote)}")
    for name in held:
        parsed = parse_tag_name(name)
        after = first[parsed.artifact] if parsed is not None else ""
        if name in clashing:
            continue
        if args.renumber:
            session.out(f"would renumber {name} (it comes after {after})")
        else:
            session.message("error", f"{name} was not pushed: it comes after {after}")
    if not args.renumber:
        _hint_renumber(session, remote, [c.artifact for c in clashes], held)
    return held


def _hint_renumber(session: Session, remote: str, artifacts: list[str], tags: list[str]) -> None:
    from git_registry.grammar import parse_tag_name
    from git_registry.renumber import renumber_command
    from git_registry.writing import quoted

    named = set(artifacts) | {p.artifact for t in tags if (p := parse_tag_name(t))}
    session.message(
        "hint",
        "give your unpushed events new counters after the remote's, and push: "
        + quoted(renumber_command(remote, sorted(named))),
    )
