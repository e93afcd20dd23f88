"""Hook wrapper scripts: what ``git registry hooks install`` writes, and how it
recognises, chains and restores hooks. The files in the top-level ``hooks/`` folder
are :func:`wrapper` with no installation path (they find ``git-registry`` on PATH).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass

from git_registry.fsio import write_atomic

CLIENT_HOOKS = ("pre-push", "commit-msg")
SERVER_HOOKS = ("pre-receive", "reference-transaction")
MARKER = "# git-registry hook wrapper"
CHAINED = ".registry-orig"
"""Suffix of a foreign hook kept and run first by our wrapper."""
REPLACED = ".registry-replaced"
"""Suffix of a foreign hook set aside (not run) by ``hooks install --force``."""
_STDIN_HOOKS = ("pre-push", "pre-receive")
_LOCKING_HOOKS = ("pre-receive", "reference-transaction")


def wrapper(hook: str, executable: str | None) -> str:
    """The ``#!/bin/sh`` wrapper for ``hook``.

    It runs a foreign hook kept beside it first (its failure stops Git), then
    ``git-registry hook HOOK`` from ``executable`` (an absolute path) or, if that is
    gone, from PATH. Hooks that read stdin get the same input twice. The server's
    hooks export ``GIT_REGISTRY_HOOK_PARENT``, the Git process running them (the
    owner of the push lock, :mod:`git_registry.pushlock`). Git runs the
    reference-transaction hook for every ref transaction, so its wrapper itself skips
    those without a tag, without starting Python.
    """
    registry = shlex.quote(executable or "")
    lines = [
        "#!/bin/sh",
        f"{MARKER}: {hook}",
        f"# Runs 'git-registry hook {hook}'. 'git registry hooks install' writes this file;",
        "# 'git registry hooks uninstall' removes it and restores a hook that was here",
        f"# before (kept as {hook}{CHAINED} and run first).",
        f"hook={hook}",
        f"registry={registry}",
        'if [ -z "$registry" ] || [ ! -x "$registry" ]; then',
        "    registry=$(command -v git-registry) || {",
        '        echo "error: git-registry $hook hook: git-registry is not installed" >&2',
        '        echo "hint: install it, or remove the hook: git registry hooks uninstall" >&2',
        "        exit 1",
        "    }",
        "fi",
        f'chained="$0{CHAINED}"',
    ]
    if hook in _LOCKING_HOOKS:
        lines += [
            "# The Git process that runs this hook (receive-pack): the push lock's owner.",
            "GIT_REGISTRY_HOOK_PARENT=$PPID",
            "export GIT_REGISTRY_HOOK_PARENT",
        ]
    if hook == "reference-transaction":
        lines += [
            'input=$(mktemp "${TMPDIR:-/tmp}/git-registry.XXXXXX") || exit 1',
            "trap 'rm -f \"$input\"' EXIT",
            'cat >"$input"',
            "# Git runs this hook for every ref transaction: only tags are ours.",
            "tags() { grep -q ' refs/tags/' \"$input\"; }",
            'if [ -x "$chained" ]; then',
            '    status=0; "$chained" "$@" <"$input" || status=$?',
            "    # Git ignores the exit code after prepared (ours must run: it releases",
            "    # the push lock) and runs no aborted hook after a refusal at prepared.",
            '    if [ $status -ne 0 ] && [ "$1" = prepared ]; then',
            '        if tags; then "$registry" hook "$hook" aborted <"$input"; fi',
            "        exit $status",
            "    fi",
            "fi",
            "tags || exit 0",
            '"$registry" hook "$hook" "$@" <"$input"',
        ]
    elif hook in _STDIN_HOOKS:
        lines += [
            'input=$(mktemp "${TMPDIR:-/tmp}/git-registry.XXXXXX") || exit 1',
            "trap 'rm -f \"$input\"' EXIT",
            'cat >"$input"',
            'if [ -x "$chained" ]; then',
            '    "$chained" "$@" <"$input" || exit $?',
            "fi",
            '"$registry" hook "$hook" "$@" <"$input"',
        ]
    else:
        lines += [
            'if [ -x "$chained" ]; then',
            '    "$chained" "$@" || exit $?',
            "fi",
            'exec "$registry" hook "$hook" "$@"',
        ]
    return "\n".join(lines) + "\n"


def installed_executable() -> str | None:
    """This installation's ``git-registry`` script (absolute), or None if there is none."""
    beside = os.path.join(os.path.dirname(sys.executable), "git-registry")
    if os.access(beside, os.X_OK):
        return os.path.abspath(beside)
    found = shutil.which("git-registry")
    return os.path.abspath(found) if found else None


def is_ours(path: str) -> bool:
    """Whether the hook file at ``path`` is one of our wrappers."""
    try:
        with open(path, "rb") as f:
            head = f.read(200)
    except OSError:
        return False
    return MARKER.encode() in head


@dataclass(frozen=True, slots=True)
class HookState:
    hook: str
    path: str
    ours: bool
    foreign: bool
    chained: bool
    replaced: bool

    def describe(self) -> str:
        if self.ours:
            extra = f", runs {self.hook}{CHAINED} first" if self.chained else ""
            extra += f"; {self.hook}{REPLACED} set aside" if self.replaced else ""
            return f"installed{extra}"
        if self.foreign:
            return "not installed (another hook is there)"
        return "not installed"


def state(hooks_dir: str, hook: str) -> HookState:
    path = os.path.join(hooks_dir, hook)
    exists = os.path.lexists(path)
    ours = exists and is_ours(path)
    return HookState(
        hook=hook,
        path=path,
        ours=ours,
        foreign=exists and not ours,
        chained=os.path.lexists(path + CHAINED),
        replaced=os.path.lexists(path + REPLACED),
    )


def write_hook(path: str, text: str) -> None:
    """Write an executable hook atomically (a temporary file renamed into place)."""
    write_atomic(path, text.encode("utf-8"), mode=0o755)
