"""``git registry hook HOOK``: the checks Git runs as hooks (pre-push, commit-msg,
pre-receive, update). The wrappers ``git registry hooks install`` writes call these.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from git_registry.cli import Context
from git_registry.errors import EXIT_NOT_FOUND
from git_registry.hookcheck import (
    Finding,
    PushCheck,
    RefUpdate,
    object_id,
    parse_pre_push,
    parse_pre_receive,
    staged_problems,
)

_TRUE = ("true", "yes", "on", "1")


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.hook == "commit-msg":
        return _commit_msg(ctx)
    if args.hook == "pre-push":
        updates = parse_pre_push(sys.stdin)
        where = "the remote"
    elif args.hook == "pre-receive":
        updates = parse_pre_receive(sys.stdin)
        where = "this repository"
    else:
        old, new = object_id(args.old), object_id(args.new)
        updates = [RefUpdate(args.refname, old, new)]
        where = "this repository"
    return _push(ctx, args.hook, updates, where)


def _push(ctx: Context, hook: str, updates: Sequence[RefUpdate], where: str) -> int:
    if not any(u.ref.startswith(("refs/tags/", "refs/heads/")) for u in updates):
        return 0  # nothing of ours: do not even open the repository
    repo = ctx.repo()
    allow = ctx.config().get("registry.allowdelete", "").lower() in _TRUE
    check = PushCheck(repo, ctx.catalog(), repo.tag_refs(), allow_delete=allow)
    findings = check.run(updates)
    if not findings:
        return 0
    _report(ctx, findings)
    refused = "the push" if hook == "pre-push" else "this push"
    ctx.message(
        "fatal",
        f"git-registry {hook} hook refused {refused}: {len(findings)} problem(s); "
        f"nothing was changed on {where}",
    )
    return EXIT_NOT_FOUND


def _commit_msg(ctx: Context) -> int:
    problems = staged_problems(ctx.repo())
    if not problems:
        return 0
    for problem in problems:
        ctx.message("error", str(problem))
    ctx.message(
        "fatal",
        f"git-registry commit-msg hook refused the commit: {len(problems)} problem(s) in the "
        "staged files: fix them, 'git add' them and commit again",
    )
    return EXIT_NOT_FOUND


def _report(ctx: Context, findings: Sequence[Finding]) -> None:
    for finding in findings:
        ctx.message("error", str(finding))
        if finding.hint:
            ctx.message("hint", finding.hint)
