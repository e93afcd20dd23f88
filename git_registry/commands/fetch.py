"""``git registry fetch [REMOTE] [NAME…]``: fetch registry tags only, never clobbering."""

from __future__ import annotations

import argparse
import shlex

from git_registry.cli import Context
from git_registry.commands._common import record_fetch, remote_name
from git_registry.gitbin import check_remote, tag_word
from git_registry.grammar import GrammarError, check_artifact_name
from git_registry.remote import FetchError, FetchResult, fetch_tags, is_remote


def split_remote(ctx: Context, words: list[str]) -> tuple[str, list[str]]:
    """``[REMOTE] [NAME…]``: the first word is a remote if it names one (or is a URL).

    A first word that starts with '-' and is not an artifact name is refused as a
    remote (:func:`~git_registry.gitbin.check_remote`), before anything runs.
    """
    if words and words[0].startswith("-"):
        try:
            check_artifact_name(words[0])
        except GrammarError:
            check_remote(words[0], source="remote")
    if words and is_remote(words[0], ctx.repo().cwd):
        return check_remote(words[0], source="remote"), [check_artifact_name(w) for w in words[1:]]
    return remote_name(ctx), [check_artifact_name(w) for w in words]


def fetch(ctx: Context, remote: str, names: list[str] | None) -> FetchResult:
    """Fetch and report (the report is shared with ``check-ref --fetch``).

    Raises:
        FetchError: some tags could not be fetched (the differing local tags kept
            were reported first).
    """
    repo = ctx.repo()
    failure = None
    try:
        result = fetch_tags(remote, repo.cwd, repo.tag_refs(), names)
    except FetchError as exc:
        result, failure = exc.result, exc
    if failure is None:  # reads stop warning only once every tag is here
        record_fetch(ctx, names)
    repo.close()  # see the new objects
    for name in result.kept:
        ctx.warn(
            f"tag {name} differs from {remote}'s: kept yours, not fetched (compare: "
            f"git ls-remote {shlex.quote(remote)} 'refs/tags/{name}*'; "
            f"git show {shlex.quote(tag_word(name))})"
        )
    if failure is not None:
        raise failure
    return result


def run(args: argparse.Namespace, ctx: Context) -> int:
    remote, names = split_remote(ctx, list(args.words))
    try:
        result = fetch(ctx, remote, names or None)
    except FetchError as exc:
        _report(ctx, remote, names, exc.result)  # what was fetched, then Git's reason
        raise
    _report(ctx, remote, names, result)
    return 0


def _report(ctx: Context, remote: str, names: list[str], result: FetchResult) -> None:
    what = f" of {', '.join(names)}" if names else ""
    parts = [f"{len(result.fetched)} new"]
    if result.replaced:
        parts.append(f"{len(result.replaced)} lightweight copies replaced by the annotated tags")
    if result.kept:
        parts.append(f"{len(result.kept)} differing local tags kept")
    if result.failed:
        parts.append(f"{len(result.failed)} not fetched")
    ctx.out(f"Fetched registry tags{what} from {remote}: {', '.join(parts)}")
    if result.shallow and (result.fetched or result.replaced):
        ctx.out("(shallow clone: fetched the tagged commits only, not their history)")
