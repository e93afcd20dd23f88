"""Talking to remotes through ``git``: the one way we run ``ls-remote``, ``fetch`` and
``push`` (remote values after ``--end-of-options``, never an option; the ``ext::``
transport off), and the one reader of ``git push --porcelain``. Part of the Git layer;
:mod:`git_registry.remote` builds the registry's fetch and push on it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from git_registry.errors import RegistryError
from git_registry.gitbin import Env, GitResult, remote_urls, run_git


def check_remote(remote: str, *, source: str = "remote") -> str:
    """Return ``remote`` (a remote's name, a URL or a path) if it may be given to Git.

    Git reads a word that starts with '-' as an option even where it expects a remote
    (``git fetch --upload-pack=CMD`` runs CMD), so such a remote is refused, wherever it
    came from (the command line, ``registry.remote``, a configured remote's URL).

    Args:
        remote: the remote as the user gave it.
        source: where it came from, for the message (``--remote``, ``registry.remote``…).

    Raises:
        RegistryError: ``remote`` starts with '-'.
    """
    if remote.startswith("-"):
        # Not escaped here: every message is, when it is printed (render.escape).
        raise RegistryError(
            f"refusing {source} '{remote}': a remote name or URL cannot start with '-' "
            "(Git would read it as an option)",
            hint="give a configured remote's name (see: git remote -v) or its URL; "
            "write a path that starts with '-' as ./-path",
        )
    return remote


def check_remote_and_urls(remote: str, *, source: str, cwd: str | None, env: Env = None) -> str:
    """:func:`check_remote` for ``remote`` and for every URL configured for it (to fetch
    and to push): a configured remote whose URL starts with '-' is refused too.

    Raises:
        RegistryError: ``remote`` or one of its URLs starts with '-'.
    """
    check_remote(remote, source=source)
    for url in remote_urls(remote, cwd, env=env):
        check_remote(url, source=f"the URL of remote '{remote}'")
    return remote


_NO_EXT = ("-c", "protocol.ext.allow=never")
"""``ext::CMD`` URLs run CMD (git-remote-ext(1)): never allowed, whatever the user's
config says (``-c`` beats every config file)."""


def _without_ext(env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` without ``ext`` in ``GIT_ALLOW_PROTOCOL``, which beats even ``-c``
    (git(1), GIT_ALLOW_PROTOCOL)."""
    allowed = env.get("GIT_ALLOW_PROTOCOL")
    if allowed is None:
        return env
    kept = ":".join(p for p in allowed.split(":") if p.strip().lower() != "ext")
    return {**env, "GIT_ALLOW_PROTOCOL": kept}


def run_transport(
    command: str,
    options: Sequence[str],
    remote: str,
    operands: Sequence[str] = (),
    *,
    cwd: str | None = None,
    config: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    check: bool = True,
) -> GitResult:
    """Run ``git [-c CONFIG]… COMMAND OPTIONS --end-of-options REMOTE OPERANDS…``.

    The one way we run a command that talks to a remote (``ls-remote``, ``fetch``,
    ``push``): the remote and the operands (patterns, refspecs) come after
    ``--end-of-options``, so Git never reads them as options; the remote passes
    :func:`check_remote`; the ``ext::`` transport is off.

    Args:
        command: the Git command (a literal).
        options: its options (literals we wrote, never user values).
        remote: a remote's name, a URL or a path.
        operands: what follows the remote (refspecs, patterns).
        config: ``key=value`` settings for this run only (literals).
        env: the environment (default ``os.environ``).

    Raises:
        RegistryError: ``remote`` starts with '-'.
        GitError: ``git`` fails and ``check`` is set.
    """
    args = [*_NO_EXT]
    for setting in config:
        args += ["-c", setting]
    check_remote_and_urls(remote, source="remote", cwd=cwd, env=env)
    args += [command, *options, "--end-of-options", remote, *operands]
    return run_git(
        args,
        cwd=cwd,
        env=_without_ext(os.environ if env is None else env),
        input_text=input_text,
        check=check,
    )


def push(
    remote: str,
    refspecs: Sequence[str],
    *,
    delete: bool = False,
    cwd: str | None = None,
    env: Env = None,
) -> GitResult:
    """``git push --porcelain [--atomic --delete] REMOTE REFSPEC…`` through the real
    binary; never forced. A deletion is atomic: the remote deletes every ref or none
    (a server's per-ref ``update`` hook refusing one would otherwise leave the others
    deleted, while we say nothing was). Read the result with :func:`pushed_refs` and
    :func:`git_reason`."""
    options = ["--porcelain", *(["--atomic", "--delete"] if delete else [])]
    return run_transport("push", options, remote, refspecs, cwd=cwd, env=env, check=False)


@dataclass(frozen=True, slots=True)
class PushedRef:
    """One ref of ``git push --porcelain`` output: ``FLAG \\t FROM:TO \\t SUMMARY``.

    ``flag`` is Git's (git-push(1), OUTPUT): ``' '`` fast-forward, ``+`` forced,
    ``-`` deleted, ``*`` new, ``!`` rejected or failed, ``=`` up to date.
    """

    flag: str
    source: str
    ref: str
    """The remote ref (``refs/tags/NAME``)."""
    summary: str
    """As Git printed it: ``[new tag]``, ``[rejected] (already exists)``,
    ``[remote rejected] (pre-receive hook declined)``…"""

    @property
    def rejected(self) -> bool:
        return self.flag == "!"


def pushed_refs(result: GitResult) -> list[PushedRef]:
    """The refs a ``git push --porcelain`` reported, in Git's order (the ``To URL`` and
    ``Done`` lines skipped). The one reader of that output."""
    refs = []
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[0]) == 1:
            source, _, ref = parts[1].rpartition(":")
            refs.append(PushedRef(parts[0], source, ref, "\t".join(parts[2:])))
    return refs


_CLEAR_LINE = "\x1b[K"
"""What Git's sideband ends a ``remote:`` line with on a terminal (sideband.c)."""


def remote_lines(result: GitResult) -> list[str]:
    """What the server said during a ``git push`` or ``git fetch``: each ``remote: TEXT``
    line of Git's output (its hooks' messages: why a push was refused), as TEXT, without
    the blanks and clear-line code Git pads it with, and without empty lines. Not
    escaped: it is the server's data, escaped when printed (``Session.message``)."""
    lines = []
    for line in result.stderr.splitlines():
        if line.startswith("remote:"):
            text = line.removeprefix("remote:").replace(_CLEAR_LINE, "").strip()
            if text:
                lines.append(text)
    return lines


def tag_word(name: str) -> str:
    """Tag ``name`` as a word of a ``git`` command we print for the user to run:
    ``refs/tags/NAME`` if it starts with '-' (a folder such as ``-x:model``), so that
    Git cannot read it as an option."""
    return "refs/tags/" + name if name.startswith("-") else name
