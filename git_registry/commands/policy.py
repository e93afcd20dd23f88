"""``git registry policy``: the effective policy (from HEAD, or a remote's default
branch), in human form or ``--json``."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.annotations import FileProblem
from git_registry.commands import Command
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from git_registry.gitvalues import ObjectId
    from git_registry.policy import Policy, Promotion

COMMAND = Command(
    name="policy",
    summary="print the effective policy (stages, types, promotion rules, signers)",
    description=(
        "Print the policy the registry enforces: .registry.yaml (or GTO's .gto) as committed\n"
        "at HEAD, or with --remote at that remote's default branch (what its server hook\n"
        "applies): the allowed stages and types, each stage's promotion rules, and the\n"
        "principals of the allowed_signers file. Problems of the files are warnings\n"
        "(exit 1)."
    ),
    usage="git registry policy [--remote NAME|URL] [--json]",
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--remote",
        metavar="NAME|URL",
        action="append",
        help="the policy of this remote's default branch (fetches that commit's small files)",
    )
    options.json(p)


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.catalog import policy_at, signers_at
    from git_registry.render import dump_json

    if args.remote and len(args.remote) > 1:
        from git_registry.errors import UsageError

        raise UsageError("policy reads one remote: give --remote once")
    from git_registry.policy import Policy

    repo = session.repo()
    commit = _remote_head(session) if session.remotes else repo.head()
    if commit is None and session.remotes:
        from git_registry.errors import RegistryError

        raise RegistryError(
            f"the HEAD of '{session.remotes[0]}' names no commit: it has no default branch "
            "to read a policy from (its server hook refuses registry tags until it has)",
            hint="on the server: git symbolic-ref HEAD refs/heads/BRANCH",
        )
    policy, problems, signers = Policy(), tuple[FileProblem, ...](), None
    if commit is not None:
        policy, problems = policy_at(repo, commit)
        found = signers_at(repo, commit, policy)
        signers = found if isinstance(found, bytes) else None
    principals = _principals(signers) if signers is not None else None
    where = session.remotes[0] if session.remotes else "HEAD"
    if args.json:
        session.stdout.write(dump_json(_json(policy, problems, principals, where, commit)))
    else:
        for line in _lines(policy, principals, where, commit):
            session.out(line)
    for problem in problems:
        session.warn(str(problem))
    return 1 if problems else 0


def _remote_head(session: Session) -> ObjectId | None:
    from git_registry.remote import fetch_head_into_cache

    ((_label, path),) = session.mirrors()
    return fetch_head_into_cache(path, session.remotes[0], session.env)


def _principals(data: bytes) -> list[str]:
    """The principals of an allowed-signers file, in order, each once."""
    found: dict[str, None] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            found.update(dict.fromkeys(p for p in words[0].split(",") if p))
    return list(found)


def _lines(
    policy: Policy, principals: list[str] | None, where: str, commit: ObjectId | None
) -> list[str]:
    from git_registry.gitvalues import short

    if policy.file is None:
        at = f"{where} ({short(commit)})" if commit else where
        return [f"No policy file at {at}: every stage and type is allowed, no promotion rules."]
    lines = [f"Policy: {policy.file} at {where} ({short(commit) if commit else '-'})"]
    lines.append(f"stages: {', '.join(policy.stages) if policy.stages is not None else 'any'}")
    lines.append(f"types: {', '.join(policy.types) if policy.types is not None else 'any'}")
    if policy.promotion:
        lines.append("promotion:")
        for rule in policy.promotion:
            lines.append(f"  {rule.stage}: {_rule_text(rule)}")
    else:
        lines.append("promotion: no rules (any version may be assigned any allowed stage)")
    if policy.allowed_signers is not None:
        listed = ", ".join(principals) if principals else "none"
        lines.append(f"allowed_signers: {policy.allowed_signers} ({listed})")
    return lines


def _rule_text(rule: Promotion) -> str:
    parts = []
    if rule.after:
        parts.append(f"after {' or '.join(rule.after)}")
    if rule.branches:
        parts.append(f"commit on {' or '.join(rule.branches)}")
    if rule.signers:
        parts.append(f"signed by {' or '.join(rule.signers)}")
    elif rule.signed:
        parts.append("signed by an allowed signer")
    return "; ".join(parts) or "no rules"


def _json(
    policy: Policy,
    problems: tuple[FileProblem, ...],
    principals: list[str] | None,
    where: str,
    commit: ObjectId | None,
) -> dict[str, Any]:
    return {
        "source": {"at": where, "commit": commit, "file": policy.file},
        "stages": list(policy.stages) if policy.stages is not None else None,
        "types": list(policy.types) if policy.types is not None else None,
        "promotion": {
            rule.stage: {
                "after": list(rule.after),
                "branches": list(rule.branches),
                "signed": rule.signed,
                "signers": list(rule.signers),
            }
            for rule in policy.promotion
        },
        "allowed_signers": None
        if policy.allowed_signers is None
        else {"path": policy.allowed_signers, "principals": principals},
        "problems": [
            {"file": p.file, "line": p.line, "column": p.column, "message": p.message}
            for p in problems
        ],
    }
