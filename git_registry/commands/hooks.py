"""``git registry hooks install | uninstall | status``: manage the hook wrappers in the
hooks folder Git uses (``core.hooksPath`` honoured), keeping foreign hooks.
"""

from __future__ import annotations

import argparse
import os

from git_registry import gitbin
from git_registry.cli import Context
from git_registry.errors import RegistryError
from git_registry.hookfiles import (
    CHAINED,
    CLIENT_HOOKS,
    REPLACED,
    SERVER_HOOKS,
    installed_executable,
    state,
    wrapper,
    write_hook,
)


def run(args: argparse.Namespace, ctx: Context) -> int:
    repo = ctx.repo()
    hooks_dir = gitbin.run_git(
        ["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd=repo.cwd
    ).stdout.strip()
    if args.action == "status":
        return _status(ctx, hooks_dir)
    if args.action == "uninstall":
        return _uninstall(ctx, hooks_dir)
    bare = repo.paths.work_tree is None
    if bare and not args.server:
        raise RegistryError(
            "this is a bare repository: client hooks (pre-push, commit-msg) never run here",
            hint="on a server, install the server hooks: git registry hooks install --server",
        )
    code = _install(ctx, hooks_dir, SERVER_HOOKS if args.server else CLIENT_HOOKS, args.force)
    if args.server:
        from git_registry.hookcheck import headless_policy

        headless = headless_policy(repo)
        if headless is not None:
            ctx.warn(f"{headless.message} when pushed here")
            if headless.hint:
                ctx.message("hint", headless.hint)
    return code


def _install(ctx: Context, hooks_dir: str, hooks: tuple[str, ...], force: bool) -> int:
    executable = installed_executable()
    if executable is None:
        ctx.warn("git-registry was not found as a script: the hooks will look for it on PATH")
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
        ctx.out(f"{verb} {hook} hook: {current.path}{note}")
    return 0


def _uninstall(ctx: Context, hooks_dir: str) -> int:
    found = False
    for hook in CLIENT_HOOKS + SERVER_HOOKS:
        current = state(hooks_dir, hook)
        if current.foreign:
            if current.chained or current.replaced:
                ctx.warn(f"{current.path} is not ours: left alone (and {hook}{CHAINED} kept)")
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
            ctx.out(f"Removed {hook} hook: {current.path}{restored}")
    if not found:
        ctx.out(f"No git-registry hooks in {hooks_dir}")
    return 0


def _status(ctx: Context, hooks_dir: str) -> int:
    custom = gitbin.config_values(r"^core\.hookspath$", cwd=ctx.repo().cwd)
    where = hooks_dir + (" (core.hooksPath)" if custom else "")
    ctx.out(f"hooks folder: {where}")
    width = max(map(len, CLIENT_HOOKS + SERVER_HOOKS))
    for hook in CLIENT_HOOKS + SERVER_HOOKS:
        current = state(hooks_dir, hook)
        ctx.out(f"{hook:<{width}}  {current.describe()}")
    return 0
