"""``git registry fetch [REMOTE] [NAME…]``: fetch registry tags only, never clobbering."""

from __future__ import annotations

import argparse
import shlex

from git_registry.commands import Command
from git_registry.grammar import GrammarError, check_artifact_name
from git_registry.session import Session
from git_registry.transport import check_remote, tag_word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.remote import FetchResult


COMMAND = Command(
    name="fetch",
    summary="fetch registry tags from a remote",
    description=(
        "Fetch the registry tags (all, or those of the NAMEs) that the remote has and this\n"
        "repository lacks. Local tags that differ are kept and reported, except lightweight\n"
        "copies of annotated tags (as CI checkouts make), which are replaced. In a shallow\n"
        "clone only the tagged commits are fetched, not their history. An unpushed local\n"
        "tag whose #N the remote has taken is reported, with the command that renumbers it\n"
        "(git registry push --renumber). REMOTE defaults to registry.remote, then origin."
    ),
    usage=("git registry fetch [REMOTE] [NAME...]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "words", metavar="[REMOTE] [NAME]", nargs="*", help="a remote or URL, then artifacts"
    )


def split_remote(session: Session, words: list[str]) -> tuple[str, list[str]]:
    """``[REMOTE] [NAME…]``: the first word is a remote if it names one (or is a URL).

    A first word that starts with '-' and is not an artifact name is refused as a
    remote (:func:`~git_registry.transport.check_remote`), before anything runs.
    """
    from git_registry.remote import is_remote
    from git_registry.writing import remote_name

    if words and words[0].startswith("-"):
        try:
            check_artifact_name(words[0])
        except GrammarError:
            check_remote(words[0], source="remote")
    if words and is_remote(words[0], session.repo().cwd, env=session.env):
        return check_remote(words[0], source="remote"), [check_artifact_name(w) for w in words[1:]]
    return remote_name(session), [check_artifact_name(w) for w in words]


def fetch(session: Session, remote: str, names: list[str] | None) -> FetchResult:
    """Fetch and report (the report is shared with ``check-ref --fetch``).

    Raises:
        FetchError: some tags could not be fetched (the differing local tags kept
            were reported first).
    """
    from git_registry.reading import record_fetch
    from git_registry.remote import FetchError, fetch_tags
    from git_registry.renumber import find_clashes, renumber_command
    from git_registry.writing import quoted

    repo = session.repo()
    failure = None
    try:
        result = fetch_tags(
            remote, repo.cwd, repo.tag_refs(), names, env=session.env, shallow=repo.is_shallow()
        )
    except FetchError as exc:
        result, failure = exc.result, exc
    if failure is None:  # reads stop warning only once every tag is here
        record_fetch(session, names)
    repo.close()  # see the new objects
    for name in result.kept:
        session.warn(
            f"tag {name} differs from {remote}'s: kept yours, not fetched (compare: "
            f"git ls-remote {shlex.quote(remote)} 'refs/tags/{name}*'; "
            f"git show {shlex.quote(tag_word(name))})"
        )
    # Unpushed tags whose #N the remote took (a kept tag of the same name was just said).
    clashes = find_clashes(repo.tag_refs(), result.remote, set(names) if names else None)
    for clash in clashes:
        if clash.mine != clash.theirs:
            session.warn(f"{clash.describe(remote)}: yours cannot be pushed as it is")
    if clashes:
        artifacts = [clash.artifact for clash in clashes]
        session.message(
            "hint",
            "give your unpushed events new counters after the remote's, and push: "
            + quoted(renumber_command(remote, artifacts)),
        )
    if failure is not None:
        raise failure
    return result


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.remote import FetchError

    remote, names = split_remote(session, list(args.words))
    try:
        result = fetch(session, remote, names or None)
    except FetchError as exc:
        _report(session, remote, names, exc.result)  # what was fetched, then Git's reason
        raise
    _report(session, remote, names, result)
    return 0


def _report(session: Session, remote: str, names: list[str], result: FetchResult) -> None:
    what = f" of {', '.join(names)}" if names else ""
    parts = [f"{len(result.fetched)} new"]
    if result.replaced:
        parts.append(f"{len(result.replaced)} lightweight copies replaced by the annotated tags")
    if result.kept:
        parts.append(f"{len(result.kept)} differing local tags kept")
    if result.failed:
        parts.append(f"{len(result.failed)} not fetched")
    session.out(f"Fetched registry tags{what} from {remote}: {', '.join(parts)}")
    if result.shallow and (result.fetched or result.replaced):
        session.out("(shallow clone: fetched the tagged commits only, not their history)")
