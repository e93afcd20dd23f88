"""``git registry hooks install | uninstall | status``: manage the hook wrappers in the
hooks folder Git uses (``core.hooksPath`` honoured), keeping foreign hooks.
"""

from __future__ import annotations

import argparse
import os

from git_registry import gitbin
from git_registry.commands import Command
from git_registry.errors import RegistryError
from git_registry.session import Session

COMMAND = Command(
    name="hooks",
    summary="install, remove or list the Git hooks",
    description=(
        "install: write pre-push and commit-msg hooks (--server: pre-receive and\n"
        "reference-transaction, for a bare repository on a server) into the hooks folder\n"
        "Git uses (core.hooksPath honoured). A hook already there is kept as\n"
        "HOOK.registry-orig and run first; --force sets it aside as HOOK.registry-replaced\n"
        "instead. uninstall removes only our hooks and puts back what was there. status\n"
        "says what is installed where."
    ),
    usage=("git registry hooks (install [--server] [--force] | uninstall | status)"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action", metavar="ACTION", choices=["install", "uninstall", "status"], help="what to do"
    )
    p.add_argument(
        "--server",
        action="store_true",
        help="install the server hooks (pre-receive, reference-transaction)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="set a foreign hook aside instead of chaining it",
    )


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.hookinstall import CLIENT_HOOKS, SERVER_HOOKS

    repo = session.repo()
    hooks_dir = repo.hooks_dir()
    if args.action == "status":
        return _status(session, hooks_dir)
    if args.action == "uninstall":
        return _uninstall(session, hooks_dir)
    bare = repo.paths.work_tree is None
    if bare and not args.server:
        raise RegistryError(
            "this is a bare repository: client hooks (pre-push, commit-msg) never run here",
            hint="on a server, install the server hooks: git registry hooks install --server",
        )
    code = _install(session, hooks_dir, SERVER_HOOKS if args.server else CLIENT_HOOKS, args.force)
    if args.server:
        from git_registry.pushcheck import headless_policy

        headless = headless_policy(repo)
        if headless is not None:
            session.warn(f"{headless.message} when pushed here")
            if headless.hint:
                session.message("hint", headless.hint)
    return code


def _install(session: Session, hooks_dir: str, hooks: tuple[str, ...], force: bool) -> int:
    from git_registry.hookinstall import (
        CHAINED,
        REPLACED,
        installed_executable,
        state,
        wrapper,
        write_hook,
    )

    executable = installed_executable()
    if executable is None:
        session.warn("git-registry was not found as a script: the hooks will look for it on PATH")
    os.makedirs(hooks_dir, exist_ok=True)
    for hook in hooks:
        current = state(hooks_dir, hook)
        note = ""
        if current.foreign:
            if force:
                if current.replaced:
                    raise RegistryError(
                        f"{current.path}{REPLACED} exists already: not replacing it",
                        hint="move it away first; nothing was changed for this hook",
                    )
                os.replace(current.path, current.path + REPLACED)
                note = f" (the hook that was there is kept as {hook}{REPLACED} and not run)"
            else:
                if current.chained:
                    raise RegistryError(
                        f"{current.path} is not ours and {hook}{CHAINED} exists already",
                        hint="merge or move one of them; nothing was changed for this hook",
                    )
                os.replace(current.path, current.path + CHAINED)
                note = f" (the hook that was there is kept as {hook}{CHAINED} and runs first)"
        elif current.ours and current.chained:
            note = f" (runs {hook}{CHAINED} first)"
        write_hook(current.path, wrapper(hook, executable))
        verb = "Updated" if current.ours else "Installed"
        session.out(f"{verb} {hook} hook: {current.path}{note}")
    return 0


def _uninstall(session: Session, hooks_dir: str) -> int:
    from git_registry.hookinstall import CHAINED, CLIENT_HOOKS, REPLACED, SERVER_HOOKS, state

    found = False
    for hook in CLIENT_HOOKS + SERVER_HOOKS:
        current = state(hooks_dir, hook)
        if current.foreign:
            if current.chained or current.replaced:
                session.warn(f"{current.path} is not ours: left alone (and {hook}{CHAINED} kept)")
            continue
        if current.ours:
            os.remove(current.path)
            found = True
            restored = ""
            for suffix in (CHAINED, REPLACED):
                if os.path.lexists(current.path + suffix):
                    os.replace(current.path + suffix, current.path)
                    restored = f"; restored the hook that was there before ({hook}{suffix})"
                    break
            session.out(f"Removed {hook} hook: {current.path}{restored}")
    if not found:
        session.out(f"No git-registry hooks in {hooks_dir}")
    return 0


def _status(session: Session, hooks_dir: str) -> int:
    from git_registry.hookinstall import CLIENT_HOOKS, SERVER_HOOKS, state

    custom = gitbin.config_values(r"^core\.hookspath$", cwd=session.repo().cwd, env=session.env)
    where = hooks_dir + (" (core.hooksPath)" if custom else "")
    session.out(f"hooks folder: {where}")
    width = max(map(len, CLIENT_HOOKS + SERVER_HOOKS))
    for hook in CLIENT_HOOKS + SERVER_HOOKS:
        current = state(hooks_dir, hook)
        session.out(f"{hook:<{width}}  {current.describe()}")
    return 0
