"""Registry tags on a remote: list them (one ``git ls-remote``), fetch them without
clobbering local tags, and push them one tag per push. Everything goes through
the ``git`` binary, so credential helpers, ``pushurl``, ``insteadOf`` and the
user's own hooks apply.

Part of the Git layer (with :mod:`gitbin`, :mod:`repo`, :mod:`tagcache` and the
locks): the only module that runs ``git ls-remote``, ``git fetch`` and ``git push``
(through :func:`transport.run_transport`), each with the caller's environment.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from git_registry import gitbin, transport
from git_registry.errors import FetchError, GitError
from git_registry.gitvalues import ObjectId
from git_registry.grammar import TAG_PREFIX, artifact_to_tag, parse_tag_name
from git_registry.render import count

_HEX_RE = re.compile("[0-9a-f]{40}(?:[0-9a-f]{24})?")

_SCP_RE = re.compile(r"^[^/@:]+@[^/:]+:")

__all__ = ["FetchError"]  # re-exported: its home is git_registry.errors


@dataclass(frozen=True, slots=True)
class RemoteTag:
    """A tag as a remote advertises it: its object id and the commit it peels to."""

    name: str
    oid: ObjectId
    peeled: ObjectId
    """The object the tag points at after peeling (equal to ``oid`` for a lightweight tag)."""

    @property
    def annotated(self) -> bool:
        return self.peeled != self.oid


def is_remote(word: str, cwd: str, *, env: gitbin.Env = None) -> bool:
    """Whether a command-line word names a remote (configured, a URL, or a path).

    A relative path is looked up from ``cwd``, where ``git`` runs and resolves it.
    """
    if "://" in word or _SCP_RE.match(word):
        return True
    if word in gitbin.remote_names(cwd, env=env):
        return True
    return word.startswith(("/", "./", "../")) and os.path.exists(os.path.join(cwd, word))


def printable(text: str) -> str:
    """``text`` with control characters escaped: a remote's name, a URL or Git's message
    (which may quote what a server sent) is data, not terminal output."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def git_reason(result: gitbin.GitResult, command: str) -> str:
    """Git's own reason for a failure (:func:`gitbin.git_reason`), escaped: it may quote
    what a server sent."""
    return printable(gitbin.git_reason(result, command))


def _patterns(artifacts: Iterable[str] | None) -> list[str]:
    if artifacts is None:
        return []
    out = []
    for artifact in sorted(set(artifacts)):
        base = artifact_to_tag(artifact)
        out += [f"{TAG_PREFIX}{base}@*", f"{TAG_PREFIX}{base}#*"]
    return out


def list_tags(
    remote: str, cwd: str, artifacts: Iterable[str] | None = None, *, env: gitbin.Env = None
) -> dict[str, RemoteTag]:
    """The registry tags of ``remote`` (of ``artifacts`` only, if given): one ``ls-remote``.

    Args:
        remote: a remote's name, a URL or a path (relative paths are resolved from ``cwd``).
        cwd: where to run ``git``.
        artifacts: only these artifacts' tags.
        env: the environment ``git`` runs with (None: ``os.environ``).

    Raises:
        RegistryError: ``remote`` starts with '-' (see :func:`transport.check_remote`).
        GitError: the remote cannot be read: ``remote 'REMOTE' is not configured in
            this repository``, or ``could not read from remote 'REMOTE' (URL): REASON``
            with Git's first fatal or error line as the reason (:func:`unreachable`).
    """
    patterns = _patterns(artifacts)
    if artifacts is not None and not patterns:
        return {}
    result = transport.run_transport(
        "ls-remote", ["--tags"], remote, patterns, cwd=cwd, env=env, check=False
    )
    if result.returncode != 0:
        raise cannot_read(remote, git_reason(result, "ls-remote"), cwd=cwd, env=env)
    out = result.stdout
    oids: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        oid, _, ref = line.partition("\t")
        if not ref.startswith(TAG_PREFIX):
            continue
        name = ref[len(TAG_PREFIX) :]
        if name.endswith("^{}"):
            peeled[name[:-3]] = oid
        else:
            oids[name] = oid
    wanted = set(artifacts) if artifacts is not None else None
    tags = {}
    for name, oid in oids.items():
        parsed = parse_tag_name(name)
        if parsed is None or (wanted is not None and parsed.artifact not in wanted):
            continue
        tags[name] = RemoteTag(name, ObjectId(oid), ObjectId(peeled.get(name, oid)))
    return tags


def cannot_read(
    remote: str,
    reason: str,
    *,
    cwd: str | None = None,
    env: gitbin.Env = None,
    url: str | None = None,
) -> GitError:
    """The one message for a remote we cannot list or fetch from (see :func:`unreachable`)."""
    message, hint = unreachable(remote, reason, "read from", cwd=cwd, env=env, url=url)
    return GitError(message, hint=hint)


def _cache_cannot_read(remote: str, reason: str, path: str, env: gitbin.Env) -> GitError:
    """:func:`cannot_read` for a fetch into the remote cache ``path``, whose ``origin``
    has the remote's URL (the remote was listed from the user's repository first)."""
    url = gitbin.remote_url("origin", path, env=gitbin.repository_env(path, env))
    return cannot_read(remote, reason, url=url)


def unreachable(
    remote: str,
    reason: str,
    doing: str,
    *,
    cwd: str | None,
    env: gitbin.Env = None,
    url: str | None = None,
) -> tuple[str, str]:
    """What to say when Git could not reach ``remote`` (``doing``: ``read from`` or
    ``push to``), and the hint: the message and what to run.

    A word that can only be a remote's name (no ``/``, no ``:``, no such path) and
    that no remote of the repository at ``cwd`` has (None: no repository, as in a
    remote cache) is not configured: Git's own reason ("'origin' does not appear to be
    a git repository") would hide that. Otherwise the remote is named, with its URL if
    it is configured (or ``url``, if given), and Git's reason (already escaped, see
    :func:`git_reason`).
    """
    name = printable(remote)
    missing = not_configured(remote, cwd, env=env) if cwd is not None else None
    if missing is not None:
        return missing
    if url is None and cwd is not None:
        url = gitbin.remote_url(remote, cwd, env=env)
    where = f" ({printable(url)})" if url is not None and url != remote else ""
    return (
        f"could not {doing} remote '{name}'{where}: {reason}",
        f"check the remote and your access to it: git remote -v; git ls-remote {shlex.quote(name)}",
    )


def not_configured(remote: str, cwd: str, *, env: gitbin.Env = None) -> tuple[str, str] | None:
    """If ``remote`` can only be a remote's name and the repository at ``cwd`` has no
    remote of that name: what to say (``remote 'NAME' is not configured in this
    repository``, with the configured ones) and the hint (``git remote add NAME URL``).
    None if it is configured, or a URL or a path (Git tells about those)."""
    configured = gitbin.remote_names(cwd, env=env)
    if remote in configured or not _only_a_name(remote, cwd):
        return None
    name = printable(remote)
    if not configured and not _in_repository(cwd, env):
        return (
            f"remote '{name}' is not configured: not in a Git repository",
            "give the remote's URL, or run this in a clone that has the remote",
        )
    others = f" (configured: {', '.join(map(printable, configured))})" if configured else ""
    return (
        f"remote '{name}' is not configured in this repository{others}",
        f"add it: git remote add {shlex.quote(name)} URL (or give a URL)",
    )


def _in_repository(cwd: str, env: gitbin.Env) -> bool:
    try:
        gitbin.discover(cwd, env=env)
    except GitError:
        return False
    return True


def _only_a_name(word: str, cwd: str) -> bool:
    """Whether Git can only read ``word`` as a remote's name: not a URL (``://``,
    ``host:path``), not a path (no ``/``, nothing of that name where Git runs)."""
    if any(c in word for c in "/:\\") or word in (".", ".."):
        return False
    return not os.path.exists(os.path.join(cwd, word))


@dataclass(slots=True)
class FetchResult:
    fetched: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    """Lightweight local copies replaced by the remote's annotated tag."""
    kept: list[str] = field(default_factory=list)
    """Local tags that differ from the remote's: kept, not fetched."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """Tags Git could not store here, each with Git's reason."""
    shallow: bool = False
    remote: dict[str, ObjectId] = field(default_factory=dict)
    """The remote's registry tags (of the artifacts asked for) as it listed them."""


def _fetch_error(remote: str, result: FetchResult) -> FetchError:
    name, reason = result.failed[0]
    more = len(result.failed) - 1
    done = len(result.fetched) + len(result.replaced)
    return FetchError(
        f"cannot fetch tag {printable(name)} from '{printable(remote)}': {reason}"
        + (f" (and {more} more {'tag' if more == 1 else 'tags'})" if more else "")
        + (f"; {count(done, 'other tag')} {'was' if done == 1 else 'were'} fetched"),
        result,
        hint="fix what Git names (a local tag in the way: rename or delete it), then fetch again",
    )


def fetch_tags(
    remote: str,
    cwd: str,
    local: Mapping[str, ObjectId],
    artifacts: Iterable[str] | None = None,
    *,
    env: gitbin.Env = None,
    shallow: bool,
) -> FetchResult:
    """Fetch the remote's registry tags that are missing here (of ``artifacts``, if given).

    A local tag that differs from the remote's is kept and reported, except a
    lightweight copy of an annotated remote tag (what CI checkouts make), which
    is replaced. In a shallow clone only the tagged commits themselves are
    fetched (``--depth 1``), not their history. A tag made here meanwhile (after
    ``local`` was read) is kept too: ``git fetch`` never clobbers a tag.

    Args:
        env: the environment ``git`` runs with (None: ``os.environ``).
        shallow: whether the repository is a shallow clone
            (``Repository.is_shallow()``, the one way it is found out).

    Raises:
        RegistryError: ``remote`` starts with '-' (see :func:`transport.check_remote`).
        GitError: the remote cannot be read.
        FetchError: some tags could not be stored here (a ref in the way, a held
            lock): each with Git's reason; the others were fetched.
    """
    result = FetchResult(shallow=shallow)
    refspecs = []
    theirs = list_tags(remote, cwd, artifacts, env=env)
    result.remote = {name: tag.oid for name, tag in theirs.items()}
    for name, tag in sorted(theirs.items()):
        mine = local.get(name)
        ref = TAG_PREFIX + name
        if mine is None:
            refspecs.append(f"{ref}:{ref}")
            result.fetched.append(name)
        elif mine == tag.oid:
            continue
        elif tag.annotated and mine == tag.peeled:
            refspecs.append(f"+{ref}:{ref}")
            result.replaced.append(name)
        else:
            result.kept.append(name)
    if not refspecs:
        return result
    # Not --quiet: with it, Git says nothing about a ref it refused to update.
    options = ["--no-tags", "--no-write-fetch-head", "--stdin"]
    if result.shallow:
        options.insert(0, "--depth=1")
    done = transport.run_transport(
        "fetch",
        options,
        remote,
        cwd=cwd,
        env=env,
        input_text="\n".join(refspecs) + "\n",
        check=False,
    )
    if done.returncode != 0:
        _sort_out_failures(result, done, theirs, gitbin.tag_refs(cwd, env=env))
        if result.failed:
            raise _fetch_error(remote, result)
    return result


def _sort_out_failures(
    result: FetchResult,
    done: gitbin.GitResult,
    theirs: Mapping[str, RemoteTag],
    now: Mapping[str, str],
) -> None:
    """After a failed ``git fetch``, see which tags arrived: a tag that is here now as
    the remote has it was fetched; one that is here but differs was made meanwhile
    (kept, as Git refuses to clobber it); any other failed, with the line of Git's
    output that names it (else Git's first error). ``now``: the local tags after it."""
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
    general = git_reason(done, "fetch")
    for names in (result.fetched, result.replaced):
        for name in list(names):
            here = now.get(name)
            if here == theirs[name].oid:
                continue
            names.remove(name)
            if here is not None and names is result.fetched:
                result.kept.append(name)
                continue
            result.failed.append((name, _reason_for(name, lines) or general))
    result.kept.sort()


def _reason_for(name: str, lines: Sequence[str]) -> str | None:
    """Git's line about tag ``name``: ``error: cannot lock ref 'refs/tags/NAME': …`` or
    `` ! [rejected] NAME -> NAME (REASON)``."""
    ref = f"'{TAG_PREFIX}{name}'"
    for line in lines:
        if ref in line:
            return printable(line.removeprefix("error: ").removeprefix("fatal: "))
        if line.startswith("!") and f" {name} -> " in line:
            reason = line.rpartition("(")[2].rstrip(")")
            return printable(f"rejected: {reason}") if reason else printable(line)
    return None


@dataclass(frozen=True, slots=True)
class PushOutcome:
    name: str
    ok: bool
    reason: str = ""
    retryable: bool = False
    """The remote refused because of what it has (the tag exists, a hook saw a conflict)."""
    said: tuple[str, ...] = ()
    """The server's ``remote:`` lines (:func:`transport.remote_lines`), unescaped."""
    hint: str | None = None
    """What to run when the remote could not be reached at all."""


def push_tag(remote: str, name: str, cwd: str, *, env: gitbin.Env = None) -> PushOutcome:
    """Push one tag (``git push --porcelain REMOTE refs/tags/NAME``), never forced."""
    ref = TAG_PREFIX + name
    result = transport.push(remote, [f"{ref}:{ref}"], cwd=cwd, env=env)
    said = tuple(transport.remote_lines(result))
    if result.returncode == 0:
        return PushOutcome(name, True, said=said)
    for pushed in transport.pushed_refs(result):
        if pushed.rejected:
            reason = pushed.summary
            retryable = "already exists" in reason or "remote rejected" in reason
            return PushOutcome(name, False, reason, retryable, said)
    reason, hint = push_failure(remote, result, cwd=cwd, env=env)
    return PushOutcome(name, False, reason, said=said, hint=hint)


_REACHED = "failed to push some refs"
"""What Git says when a push went as far as the refs (refused there, or by a pre-push
hook), unlike a remote it could not reach (transport.c)."""


def push_failure(
    remote: str, result: gitbin.GitResult, *, cwd: str, env: gitbin.Env = None
) -> tuple[str, str | None]:
    """Why ``git push --porcelain`` failed, escaped, and what to run (None: nothing
    to say): each ref refused with Git's summary (``NAME [remote rejected] (pre-receive
    hook declined)``); else, if the remote was reached or a pre-push hook refused,
    Git's reason (the hook's first ``error:`` line); else the remote could not be
    reached (:func:`unreachable`). The one reader of a failed push."""
    refused = [
        f"{ref.ref.removeprefix(TAG_PREFIX)} {ref.summary}"
        for ref in transport.pushed_refs(result)
        if ref.rejected
    ]
    if refused:
        return printable("; ".join(refused)), None
    reason = git_reason(result, "push")
    if transport.remote_lines(result) or _REACHED in result.stderr:
        return reason, None
    return unreachable(remote, reason, "push to", cwd=cwd, env=env)


def fetch_into_cache(path: str, remote: str, names: Sequence[str], env: gitbin.Env) -> None:
    """Fetch tags ``names`` of ``remote`` (configured as ``origin`` there) into the bare
    cache repository ``path`` (see :mod:`git_registry.remotecache`): their objects and
    tagged commits only (``--depth 1 --filter=tree:0``), overwriting the cache's
    copies.

    Raises:
        GitError: ``could not read from remote 'REMOTE' (URL): REASON``.
    """
    if not names:
        return
    refspecs = "".join(f"+{TAG_PREFIX}{n}:{TAG_PREFIX}{n}\n" for n in names)
    result = transport.run_transport(
        "fetch",
        [
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--depth=1",
            "--filter=tree:0",
            "--stdin",
        ],
        "origin",
        # A partial clone for this fetch only: the cache's own config stays one that
        # any Git (and any reader) can open without knowing extensions.partialClone.
        config=["extensions.partialClone=origin"],
        cwd=path,
        env=gitbin.repository_env(path, env),
        input_text=refspecs,
        check=False,
    )
    if result.returncode != 0:
        raise _cache_cannot_read(remote, git_reason(result, "fetch"), path, env)


def fetch_head_into_cache(path: str, remote: str, env: gitbin.Env) -> ObjectId | None:
    """Fetch the commit at ``remote``'s HEAD (its default branch) into the cache
    repository ``path`` (``origin`` there), with its tree and its small files only
    (``--depth 1 --filter=blob:limit=1m``: enough for the policy and its signers file);
    return it, or None if the remote has no HEAD (an empty repository).

    The commit is named by ``ls-remote`` first and no ref is written: two commands
    reading one remote at once never race on a ref.

    Raises:
        GitError: ``could not read from remote 'REMOTE' (URL): REASON``.
    """
    cache_env = gitbin.repository_env(path, env)
    listed = transport.run_transport(
        "ls-remote", [], "origin", ["HEAD"], cwd=path, env=cache_env, check=False
    )
    if listed.returncode != 0:
        raise _cache_cannot_read(remote, git_reason(listed, "ls-remote"), path, env)
    head = next(
        (line.split("\t")[0] for line in listed.stdout.splitlines() if line.endswith("\tHEAD")),
        None,
    )
    if head is None or not _HEX_RE.fullmatch(head):
        return None
    result = transport.run_transport(
        "fetch",
        ["--quiet", "--no-tags", "--no-write-fetch-head", "--depth=1", "--filter=blob:limit=1m"],
        "origin",
        ["HEAD"],
        config=["extensions.partialClone=origin"],
        cwd=path,
        env=cache_env,
        check=False,
    )
    if result.returncode != 0:
        raise _cache_cannot_read(remote, git_reason(result, "fetch"), path, env)
    return ObjectId(head)
