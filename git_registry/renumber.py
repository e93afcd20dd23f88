"""Unpushed events whose ``#N`` a remote has taken meanwhile: find them (``fetch`` and
``push`` say so) and renumber them (``git registry push --renumber``).

Counters number an artifact's events, and two clones that each wrote ``#15`` without
seeing the other's tag clash: the remote's server hook refuses the second one pushed
(and a remote without the hook would hold both, a counter-reused problem). As when
``promote --push`` loses a race (:func:`writing.create_tags`), the unpushed tag is made
again after the remote's events, with the next counter; so is every unpushed event of
the artifact after it, so that their order does not change. Each old tag is replaced by
its new one in one ref transaction, and only tags the remote does not have are
replaced: nothing is ever overwritten, here or there.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from git_registry import transport
from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId, Signature
from git_registry.grammar import COUNTER_ROOM, parse_tag_name
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.state import Event


@dataclass(frozen=True, slots=True)
class Clash:
    """A local tag the remote lacks whose counter a tag of the remote uses."""

    mine: str
    theirs: str
    """The remote's tag with that counter (``mine`` itself if it differs there)."""
    artifact: str
    counter: int

    def describe(self, remote: str) -> str:
        if self.mine == self.theirs:
            return (
                f"your unpushed {self.mine} differs from {remote}'s tag of that name "
                f"(counter #{self.counter} of {self.artifact} is taken)"
            )
        return (
            f"your unpushed {self.mine} and {remote}'s {self.theirs} both use counter "
            f"#{self.counter} of {self.artifact}"
        )


def find_clashes(
    local: Mapping[str, ObjectId],
    theirs: Mapping[str, ObjectId],
    artifacts: Collection[str] | None = None,
) -> list[Clash]:
    """The local tags (of ``artifacts``, if given) that ``theirs`` (the remote's registry
    tags) lacks, whose ``#N`` a tag of the remote uses for the same artifact, by name."""
    taken: dict[tuple[str, int], str] = {}
    for name in sorted(theirs):
        parsed = parse_tag_name(name)
        if parsed is not None and parsed.counter is not None:
            taken.setdefault((parsed.artifact, parsed.counter), name)
    clashes = []
    for name, oid in sorted(local.items()):
        if theirs.get(name) == oid:
            continue
        parsed = parse_tag_name(name)
        if parsed is None or parsed.counter is None or not 0 <= parsed.counter < COUNTER_ROOM:
            continue
        if artifacts is not None and parsed.artifact not in artifacts:
            continue
        key = (parsed.artifact, parsed.counter)
        other = name if name in theirs else taken.get(key)
        if other is not None:
            clashes.append(Clash(name, other, parsed.artifact, parsed.counter))
    return clashes


def renumber_command(remote: str, artifacts: Sequence[str]) -> list[str]:
    """``registry push --renumber [--] REMOTE ARTIFACT…``: the words to print."""
    dash = ["--"] if any(a.startswith("-") for a in artifacts) else []
    return ["registry", "push", "--renumber", *dash, remote, *sorted(set(artifacts))]


def _refuse_theirs(event: Event, me: Signature) -> None:
    """Refuse to renumber an event someone else made (its tagger's email is not the
    committer's): a tag fetched from another remote is unpushed here too, and
    renumbering it would delete their tag and push the event again as ours.

    Raises:
        RegistryError: the tagger is someone else (nothing was changed).
    """
    tagger = event.tagger
    if tagger.email.lower() == me.email.lower():
        return
    raise RegistryError(
        f"cannot renumber {event.tag}: {tagger.name} <{tagger.email}> made it, not you "
        f"({me.name} <{me.email}>); renumbering would delete their tag and push the event "
        "again as yours",
        hint=f"if it came from another remote, leave it there: delete it here "
        f"(git tag -d {shlex.quote(transport.tag_word(event.tag))}), then push again",
    )


def renumber(session: Session, remote: str, clashes: Sequence[Clash]) -> list[tuple[str, str]]:
    """Fetch the clashing artifacts' tags from ``remote``, then replace each clashing
    tag, and every unpushed event of its artifact after it, by the same event made
    again with the next counters, after the remote's events; say each. Returns the
    (old, new) tag names.

    Raises:
        GitError: the remote cannot be read.
        FetchError: some tags could not be fetched (nothing renumbered).
        RegistryError: an unpushed event after the clash has no counter to renumber,
            a rule refuses the new tags, or Git refused: nothing was changed.
    """
    from git_registry.plan import renumbered
    from git_registry.reading import load, without
    from git_registry.writing import refetch, replace_tags

    artifacts = sorted({c.artifact for c in clashes})
    me = session.repo().committer()
    # As this fetch listed them: a tag that came meanwhile is theirs, never renumbered.
    theirs = refetch(session, remote, artifacts).remote
    loaded = load(session, artifacts)
    moved = []
    for artifact in artifacts:
        info = loaded.registry.artifacts.get(artifact)
        unpushed = [e for e in (info.events if info else ()) if theirs.get(e.tag) != e.oid]
        mine = {c.mine for c in clashes if c.artifact == artifact}
        start = next((i for i, e in enumerate(unpushed) if e.tag in mine), None)
        if start is None:
            raise RegistryError(
                f"cannot renumber {', '.join(sorted(mine))}: not an event of {artifact}",
                hint="see why: git registry check",
            )
        for event in unpushed[start:]:
            _refuse_theirs(event, me)
            if event.counter is None:
                raise RegistryError(
                    f"cannot renumber the unpushed events of {artifact} from "
                    f"{unpushed[start].tag} on: {event.tag} comes after it and has no "
                    "counter (renumbering the others would change the order of events)",
                    hint=f"delete {event.tag} (git tag -d), renumber, then make it again",
                )
        moved += unpushed[start:]
    # Past every counter there is, the old ones included: a new tag never takes the
    # name of one it replaces (one transaction may not create and delete one ref).
    counters = {a: loaded.registry.next_counter(a) for a in artifacts}
    new = []
    for event in moved:
        new.append(renumbered(event, counters[event.artifact]))
        counters[event.artifact] += 1
    replace_tags(
        session, without(loaded, {e.tag for e in moved}), new, [(e.tag, e.oid) for e in moved]
    )
    pairs = [(e.tag, t.name) for e, t in zip(moved, new, strict=True)]
    for before, after in pairs:
        session.out(f"Renumbered {before} as {after}")
    if any(c.mine == c.theirs for c in clashes):  # the remote's own tag of that name
        refetch(session, remote, artifacts)
    return pairs
