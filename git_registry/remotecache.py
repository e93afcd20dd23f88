"""Read a remote's registry without cloning it (``--remote NAME|URL``).

One ``git ls-remote --tags`` lists the tag names and the commits they peel to;
the tag objects (their times and messages) are then fetched into a small bare
cache repository, with their commits only (``--depth 1 --filter=tree:0``: no
trees, no files; a server without filter support sends the tagged commits'
trees too, never their history). Only tags the cache lacks are fetched, so a
second read of the same remote costs one ``ls-remote``. The cache lives under
``$XDG_CACHE_HOME/git-registry/remotes`` and can be deleted at any time.

Several commands may read one remote at once (parallel CI jobs): each cache is
updated under an ``flock`` on ``KEY.lock`` next to it (the kernel drops it when
its holder dies, so a killed command blocks nobody), waited for up to
``registry.lockTimeout`` seconds (default 120: the holder may be fetching over a
slow network). A new cache is built in a temporary folder, with its tags, and
renamed into place: nobody ever sees half a cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence

from git_registry import gitbin, transport
from git_registry.errors import RegistryError
from git_registry.grammar import TAG_PREFIX
from git_registry.lockfile import Backoff
from git_registry.remote import fetch_into_cache, list_tags, printable
from git_registry.selectors import labels
from git_registry.state import ArtifactInfo, Event, KnownNames, Registry, VersionInfo

_SCP_RE = re.compile(r"^[^/]*:")

DEFAULT_LOCK_TIMEOUT = 120.0
"""Seconds to wait for another command updating the same cache, unless
``registry.lockTimeout`` says otherwise."""

_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.1


def resolve_url(remote: str, cwd: str, *, env: gitbin.Env = None) -> str:
    """The URL of a configured remote (``git remote get-url``), else ``remote`` itself;
    a relative path made absolute as Git resolves it (see :func:`git_cwd`).

    Raises:
        RegistryError: ``remote``, or the URL configured for it, starts with '-'.
    """
    transport.check_remote(remote, source="--remote")
    url = gitbin.remote_url(remote, cwd, env=env)
    if url is not None:
        url = transport.check_remote(url, source=f"the URL of remote '{remote}'")
    else:
        url = remote
    if _is_relative_path(url):
        return os.path.normpath(os.path.join(git_cwd(cwd, env=env), url))
    return url


def _is_relative_path(url: str) -> bool:
    """Whether Git reads ``url`` as a relative path: not ``scheme://``, not scp-like
    ``host:path`` (a ':' before any '/'; ``transport::address`` too), not absolute
    (connect.c, ``url_is_local_not_ssh``)."""
    return "://" not in url and not _SCP_RE.match(url) and not os.path.isabs(url)


def git_cwd(cwd: str, *, env: gitbin.Env = None) -> str:
    """Where Git works when run in ``cwd``, so where it resolves a relative path URL
    (``git ls-remote ../srv.git``, or a remote configured so): the top of the work
    tree when ``cwd`` is inside one, else ``cwd`` itself (a bare repository, a Git
    directory, ``GIT_DIR`` outside the work tree, no repository: setup.c goes back
    to where it started)."""
    try:
        paths = gitbin.discover(cwd, env=env)
    except gitbin.GitError:
        return cwd
    return paths.work_tree if paths.work_tree is not None else cwd


def cache_root(env: Mapping[str, str]) -> str:
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is invalid, ignore it
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "git-registry", "remotes")


def lock_timeout(config: Mapping[str, str]) -> float:
    """``registry.lockTimeout`` if set, else :data:`DEFAULT_LOCK_TIMEOUT`.

    Raises:
        RegistryError: the value is not a number of seconds.
    """
    if "registry.locktimeout" not in config:
        return DEFAULT_LOCK_TIMEOUT
    from git_registry.writelock import lock_timeout as configured

    return configured(config)


def sync_all(
    remotes: Sequence[str], cwd: str, env: Mapping[str, str], config: Mapping[str, str]
) -> list[tuple[str, str]]:
    """``(label, cache path)`` of each of ``remotes``, each cache brought up to date.

    Raises:
        RegistryError: see :func:`sync`.
    """
    root = cache_root(env)
    timeout = lock_timeout(config)
    return [
        (label, sync(remote, cwd, root, timeout=timeout, env=env))
        for label, remote in zip(labels(remotes), remotes, strict=True)
    ]


def cache_paths(path: str) -> gitbin.RepoPaths:
    """A cache as a repository, without asking Git to find it (``GIT_DIR`` may name
    the user's repository)."""
    return gitbin.RepoPaths(git_dir=path, common_dir=path, work_tree=None, bare=True)


def sync(
    remote: str,
    cwd: str,
    root: str,
    *,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    env: gitbin.Env = None,
) -> str:
    """Bring the cache of ``remote`` up to date; return its path (a bare repository).

    Raises:
        RegistryError: ``remote`` (or its configured URL) starts with '-'; another
            command held the cache's lock for ``timeout`` seconds; the cache folder
            cannot be written.
        GitError: the remote cannot be listed or fetched:
            see :func:`~git_registry.remote.unreachable`.
    """
    import glob
    import hashlib

    url = resolve_url(remote, cwd, env=env)
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    path = os.path.join(root, key + ".git")
    # Every registry tag: names, objects, peeled commits. Listed from where the user
    # is, as given: Git finds the remote, and words its errors, as 'git ls-remote' does.
    tags = {name: tag.oid for name, tag in list_tags(remote, cwd, env=env).items()}
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(root, exc) from None
    with _locked(os.path.join(root, key + ".lock"), remote, timeout):
        for stale in glob.glob(os.path.join(glob.escape(root), glob.escape(key) + ".tmp-*")):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed command
        if os.path.isdir(path):
            _update(path, remote, tags, env)
        else:
            _create(path, url, remote, tags, env)
    return path


def _create(path: str, url: str, remote: str, tags: Mapping[str, str], env: gitbin.Env) -> None:
    """Build the cache in a temporary folder, with its tags, then rename it into place."""
    root = os.path.dirname(path)
    key = os.path.basename(path).removesuffix(".git")
    try:
        tmp = tempfile.mkdtemp(prefix=key + ".tmp-", dir=root)
    except OSError as exc:
        raise _cannot_write(root, exc) from None
    try:
        cache_env = gitbin.repository_env(tmp, env)
        gitbin.init_bare(tmp, env=cache_env)
        for setting, value in (
            ("remote.origin.url", url),
            ("remote.origin.promisor", "true"),
            ("remote.origin.partialclonefilter", "tree:0"),
            ("gc.auto", "0"),
        ):
            gitbin.set_config(setting, value, cwd=tmp, env=cache_env)
        fetch_into_cache(tmp, remote, sorted(tags), env)
        try:
            os.rename(tmp, path)
        except OSError:
            if not os.path.isdir(path):  # else made meanwhile by a command that took no lock
                raise
    except OSError as exc:
        raise _cannot_write(root, exc) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _update(path: str, remote: str, tags: Mapping[str, str], env: gitbin.Env) -> None:
    cache_env = gitbin.repository_env(path, env)
    have = gitbin.tag_refs(path, env=cache_env)
    for name in sorted(set(have) - set(tags)):
        gitbin.delete_ref(TAG_PREFIX + name, cwd=path, env=cache_env)
    stale = [name for name, oid in sorted(tags.items()) if have.get(name) != oid]
    fetch_into_cache(path, remote, stale, env)


@contextlib.contextmanager
def _locked(lock: str, remote: str, timeout: float) -> Iterator[None]:
    """Hold an exclusive ``flock`` on file ``lock``, waiting up to ``timeout`` seconds.

    The file is never removed (removing a file others wait on would let two hold
    "the" lock); a cache folder deleted by hand meanwhile is noticed (the path names
    another file now) and the lock taken again.

    Raises:
        RegistryError: still held after ``timeout``; or the file cannot be created.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no flock, updates are not serialised
        yield
        return
    deadline = time.monotonic() + timeout
    backoff = Backoff(_FIRST_BACKOFF, _MAX_BACKOFF)
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            raise _cannot_write(lock, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RegistryError(
                    f"another git registry command is updating the cache of remote "
                    f"'{printable(remote)}': gave up waiting after {timeout:g} s",
                    hint="try again (registry.lockTimeout sets how long to wait)",
                ) from None
            backoff.sleep(remaining)
            continue
        except OSError:  # no flock on this file system (some NFS): go on unlocked
            break
        try:
            held, now = os.fstat(fd), os.stat(lock)
        except OSError:
            now = None
        if now is not None and (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
            break
        os.close(fd)  # the file was removed (the cache folder deleted): lock the new one
    try:
        yield
    finally:
        os.close(fd)


def _cannot_write(path: str, exc: OSError) -> RegistryError:
    return RegistryError(
        f"cannot write the cache of remote registries: {printable(path)}: {exc.strerror or exc}",
        hint="set XDG_CACHE_HOME to a folder you can write",
    )


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
    for label, registry in parts:
        for info in registry.artifacts.values():
            renamed = prefixed(info, label)
            artifacts[renamed.name] = renamed
        problems += [
            dataclasses.replace(p, message=f"{label}: {p.message}") for p in registry.problems
        ]
        stages += [s for s in registry.stages if s not in stages]
        counters.update({f"{label}:{k}": v for k, v in registry.counters.items()})

    def known() -> list[str]:  # listed only when used (a hint)
        return [f"{label}:{k}" for label, registry in parts for k in registry.known]

    return Registry(
        dict(sorted(artifacts.items())),
        tuple(problems),
        tuple(stages),
        counters,
        KnownNames(known, ()),
    )
