"""Read a remote's registry without cloning it (``--remote NAME|URL``).

One ``git ls-remote --tags`` lists the tag names and the commits they peel to;
the tag objects (their times and messages) are then fetched into a small bare
cache repository, with their commits only (``--depth 1 --filter=tree:0``: no
trees, no files; a server without filter support sends the tagged commits'
trees too, never their history). Only tags the cache lacks are fetched, so a
second read of the same remote costs one ``ls-remote``. The cache lives under
``$XDG_CACHE_HOME/git-registry/remotes`` and can be deleted at any time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shlex
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from git_registry import gitbin
from git_registry.errors import RegistryError
from git_registry.grammar import TAG_PREFIX
from git_registry.remote import list_tags
from git_registry.state import ArtifactInfo, Event, Registry, VersionInfo

if TYPE_CHECKING:
    from git_registry.cli import Context
    from git_registry.commands._common import Loaded

_LABEL_RE = re.compile(r"[^A-Za-z0-9._-]+")


def resolve_url(remote: str, cwd: str) -> str:
    """The URL of a configured remote (``git remote get-url``), else ``remote`` itself.

    Raises:
        RegistryError: ``remote``, or the URL configured for it, starts with '-'.
    """
    gitbin.check_remote(remote, source="--remote")
    result = gitbin.run_git(["remote", "get-url", "--end-of-options", remote], cwd=cwd, check=False)
    url = result.stdout.strip()
    if result.returncode == 0 and url:
        return gitbin.check_remote(url, source=f"the URL of remote '{remote}'")
    if os.path.isdir(remote):  # a local path: make it absolute for the cache
        return os.path.abspath(remote)
    return remote


def label_for(remote: str) -> str:
    """A short name for a remote in output: its name, or the URL's last part."""
    base = remote.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    base = base.removesuffix(".git") or remote
    return _LABEL_RE.sub("-", base).strip("-") or "remote"


def cache_root(env: Mapping[str, str]) -> str:
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is invalid, ignore it
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "git-registry", "remotes")


def sync(remote: str, cwd: str, root: str) -> str:
    """Bring the cache of ``remote`` up to date; return its path (a bare repository).

    Raises:
        RegistryError: ``remote`` (or its configured URL) starts with '-'.
        GitError: the remote cannot be listed or fetched (Git's message).
    """
    url = resolve_url(remote, cwd)
    path = os.path.join(root, hashlib.sha256(url.encode()).hexdigest()[:24] + ".git")
    tags = list_tags(url, cwd)  # every registry tag: names, objects, peeled commits
    if not os.path.isdir(path):
        _create(path, url)
    have = _local_tags(path)
    for name in sorted(set(have) - set(tags)):
        gitbin.run_git(
            ["update-ref", "-d", "--end-of-options", TAG_PREFIX + name], cwd=path, check=False
        )
    missing = [name for name, tag in sorted(tags.items()) if have.get(name) != tag.oid]
    if missing:
        refspecs = "".join(f"+{TAG_PREFIX}{n}:{TAG_PREFIX}{n}\n" for n in missing)
        result = gitbin.run_transport(
            "fetch",
            ["--quiet", "--no-tags", "--depth=1", "--filter=tree:0", "--stdin"],
            "origin",
            # A partial clone for this fetch only: dulwich refuses to open a
            # repository whose config declares extensions.partialClone.
            config=["extensions.partialClone=origin"],
            cwd=path,
            input_text=refspecs,
            check=False,
        )
        if result.returncode != 0:
            raise RegistryError(
                f"cannot read the registry of '{remote}': "
                + (result.stderr.strip().splitlines() or ["git fetch failed"])[-1],
                hint="check the remote with: git ls-remote --tags " + shlex.quote(url),
            )
    return path


def _create(path: str, url: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    gitbin.run_git(["init", "--quiet", "--bare", "--", tmp])
    for key, value in (
        ("remote.origin.url", url),
        ("remote.origin.promisor", "true"),
        ("remote.origin.partialclonefilter", "tree:0"),
        ("gc.auto", "0"),
    ):
        gitbin.run_git(["config", "--end-of-options", key, value], cwd=tmp)
    try:
        os.rename(tmp, path)
    except OSError:  # another process made it first: use theirs
        shutil.rmtree(tmp, ignore_errors=True)


def _local_tags(path: str) -> dict[str, str]:
    out = gitbin.run_git(
        ["for-each-ref", "--format=%(objectname) %(refname)", TAG_PREFIX], cwd=path
    ).stdout
    found = {}
    for line in out.splitlines():
        oid, _, ref = line.partition(" ")
        found[ref[len(TAG_PREFIX) :]] = oid
    return found


# -- several remotes in one registry ---------------------------------------------------------


def _prefix_event(event: Event, name: str) -> Event:
    return dataclasses.replace(event, artifact=name)


def _prefix_version(info: VersionInfo, name: str) -> VersionInfo:
    return dataclasses.replace(
        info,
        artifact=name,
        registration=_prefix_event(info.registration, name),
        events=tuple(_prefix_event(e, name) for e in info.events),
    )


def prefixed(info: ArtifactInfo, label: str) -> ArtifactInfo:
    """``info`` renamed ``LABEL:NAME`` throughout (versions, stage holders, events)."""
    name = f"{label}:{info.name}"
    versions = {v.version: _prefix_version(v, name) for v in info.versions}
    return dataclasses.replace(
        info,
        name=name,
        versions=tuple(versions.values()),
        latest=versions[info.latest.version] if info.latest else None,
        stages={
            stage: tuple(
                dataclasses.replace(h, assignment=_prefix_event(h.assignment, name)) for h in holds
            )
            for stage, holds in info.stages.items()
        },
        events=tuple(_prefix_event(e, name) for e in info.events),
    )


def merge(parts: Sequence[tuple[str, Registry]]) -> Registry:
    """One registry from several, each artifact named ``LABEL:NAME``."""
    artifacts: dict[str, ArtifactInfo] = {}
    problems = []
    stages: list[str] = []
    counters: dict[str, int] = {}
    known: list[str] = []
    for label, registry in parts:
        for info in registry.artifacts.values():
            renamed = prefixed(info, label)
            artifacts[renamed.name] = renamed
        problems += [
            dataclasses.replace(p, message=f"{label}: {p.message}") for p in registry.problems
        ]
        stages += [s for s in registry.stages if s not in stages]
        counters.update({f"{label}:{k}": v for k, v in registry.counters.items()})
        known += [f"{label}:{k}" for k in registry.known]
    return Registry(
        dict(sorted(artifacts.items())),
        tuple(problems),
        tuple(stages),
        counters,
        tuple(sorted(known)),
    )


def load_many(ctx: Context, artifacts: Iterable[str] | None) -> Loaded:
    """The registries of several ``--remote``s as one, artifacts named ``LABEL:NAME``.

    An artifact filter ``LABEL:NAME`` reads ``NAME`` from that remote only; a plain
    ``NAME`` is read from every remote.
    """
    from git_registry.cli import Context
    from git_registry.commands._common import Loaded, load

    parts = []
    names: set[str] = set()
    for label, path in ctx.mirrors():
        wanted = None
        if artifacts is not None:
            wanted = []
            for artifact in artifacts:
                head, sep, rest = artifact.partition(":")
                if sep and head == label:
                    wanted.append(rest)
                elif not sep or head not in {lb for lb, _ in ctx.mirrors()}:
                    wanted.append(artifact)
        child = Context(ctx.stdout, ctx.stderr, ctx.env, path, ctx.color_option)
        try:
            loaded = load(child, wanted)
        finally:
            child.close()
        parts.append((label, loaded.registry))
        names.update(f"{label}:{n}" for n in loaded.tag_names)
    return Loaded(merge(parts), frozenset(names))
