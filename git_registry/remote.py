"""Registry tags on a remote: list them (one ``git ls-remote``), fetch them without
clobbering local tags, and push them one tag per push. Everything goes through
the ``git`` binary, so credential helpers, ``pushurl``, ``insteadOf`` and the
user's own hooks apply.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from git_registry import gitbin
from git_registry.grammar import TAG_PREFIX, artifact_to_tag, parse_tag
from git_registry.tags import ObjectId

_SCP_RE = re.compile(r"^[^/@:]+@[^/:]+:")


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


def is_remote(word: str, cwd: str) -> bool:
    """Whether a command-line word names a remote (configured, a URL, or a path)."""
    if "://" in word or _SCP_RE.match(word):
        return True
    remotes = gitbin.run_git(["remote"], cwd=cwd, check=False).stdout.split()
    if word in remotes:
        return True
    return word.startswith(("/", "./", "../")) and os.path.exists(word)


def _patterns(artifacts: Iterable[str] | None) -> list[str]:
    if artifacts is None:
        return []
    out = []
    for artifact in sorted(set(artifacts)):
        base = artifact_to_tag(artifact)
        out += [f"{TAG_PREFIX}{base}@*", f"{TAG_PREFIX}{base}#*"]
    return out


def list_tags(
    remote: str, cwd: str, artifacts: Iterable[str] | None = None
) -> dict[str, RemoteTag]:
    """The registry tags of ``remote`` (of ``artifacts`` only, if given): one ``ls-remote``.

    Raises:
        RegistryError: ``remote`` starts with '-' (see :func:`gitbin.check_remote`).
        GitError: the remote cannot be reached (Git's message).
    """
    patterns = _patterns(artifacts)
    if artifacts is not None and not patterns:
        return {}
    out = gitbin.run_transport("ls-remote", ["--tags"], remote, patterns, cwd=cwd).stdout
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
        parsed = parse_tag(name)
        if parsed is None or (wanted is not None and parsed.artifact not in wanted):
            continue
        tags[name] = RemoteTag(name, ObjectId(oid), ObjectId(peeled.get(name, oid)))
    return tags


@dataclass(slots=True)
class FetchResult:
    fetched: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    """Lightweight local copies replaced by the remote's annotated tag."""
    kept: list[str] = field(default_factory=list)
    """Local tags that differ from the remote's: kept, not fetched."""
    shallow: bool = False


def is_shallow(cwd: str) -> bool:
    out = gitbin.run_git(["rev-parse", "--is-shallow-repository"], cwd=cwd, check=False)
    return out.stdout.strip() == "true"


def fetch_tags(
    remote: str,
    cwd: str,
    local: Mapping[str, ObjectId],
    artifacts: Iterable[str] | None = None,
) -> FetchResult:
    """Fetch the remote's registry tags that are missing here (of ``artifacts``, if given).

    A local tag that differs from the remote's is kept and reported, except a
    lightweight copy of an annotated remote tag (what CI checkouts make), which
    is replaced. In a shallow clone only the tagged commits themselves are
    fetched (``--depth 1``), not their history.

    Raises:
        RegistryError: ``remote`` starts with '-' (see :func:`gitbin.check_remote`).
        GitError: the remote cannot be reached, or ``git fetch`` fails.
    """
    result = FetchResult(shallow=is_shallow(cwd))
    refspecs = []
    for name, tag in sorted(list_tags(remote, cwd, artifacts).items()):
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
    if refspecs:
        options = ["--quiet", "--no-tags", "--no-write-fetch-head", "--stdin"]
        if result.shallow:
            options.insert(0, "--depth=1")
        gitbin.run_transport(
            "fetch", options, remote, cwd=cwd, input_text="\n".join(refspecs) + "\n"
        )
    return result


@dataclass(frozen=True, slots=True)
class PushOutcome:
    name: str
    ok: bool
    reason: str = ""
    retryable: bool = False
    """The remote refused because of what it has (the tag exists, a hook saw a conflict)."""


def push_tag(remote: str, name: str, cwd: str) -> PushOutcome:
    """Push one tag (``git push --porcelain REMOTE refs/tags/NAME``), never forced."""
    ref = TAG_PREFIX + name
    result = gitbin.push(remote, [f"{ref}:{ref}"], cwd=cwd)
    if result.returncode == 0:
        return PushOutcome(name, True)
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "!":
            reason = parts[2]
            retryable = "already exists" in reason or "remote rejected" in reason
            return PushOutcome(name, False, reason, retryable)
    lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    reason = (fatal or lines or [f"git push exited with {result.returncode}"])[-1]
    return PushOutcome(name, False, reason)


def push_tags(remote: str, names: Sequence[str], cwd: str) -> list[PushOutcome]:
    """Push ``names`` in order, one push each (each fires its own CI event); stop at the
    first failure, so a later tag never lands without an earlier one."""
    outcomes = []
    for name in names:
        outcome = push_tag(remote, name, cwd)
        outcomes.append(outcome)
        if not outcome.ok:
            break
    return outcomes
