"""``git registry check``: every problem with the tags, the artifacts.yaml files at HEAD
and the policy, one per line; exit 1 if there is any.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from git_registry import options, rulebook, rules
from git_registry.annotations import FILENAME, FileProblem
from git_registry.commands import Command
from git_registry.gitvalues import ObjectId, short
from git_registry.grammar import parse_tag_name, tag_artifact_prefix
from git_registry.render import plural
from git_registry.rules import Problem
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from git_registry.catalog import Catalog


COMMAND = Command(
    name="check",
    summary="validate tags, artifacts.yaml files and the policy",
    description=(
        "Validate every registry tag, every artifacts.yaml at HEAD and .registry.yaml (or\n"
        ".gto): one line per problem (path:line:column: message, or TAG: message). Exit 1 if\n"
        "there is any. The last line (on stderr) says what was checked.\n"
        "--worktree checks the artifacts.yaml files and the policy of the work tree instead,\n"
        "as 'git add -A' would commit them (uncommitted edits and new files included; files\n"
        "Git ignores left out), before you commit; the tags are not read.\n"
        "It also warns where GTO 1.10.1 cannot read the repository or reads it otherwise\n"
        "(rule gto-compat: TAG: GTO 1.10.1 ...); these warnings do not change the exit\n"
        "status, unless --gto is given (exit 1 on them too)."
    ),
    usage=("git registry check [--worktree] [--gto] [--json]"),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--worktree",
        action="store_true",
        help="check the work tree's artifacts.yaml files and policy (not HEAD's, nor the tags)",
    )
    p.add_argument(
        "--gto",
        action="store_true",
        help="exit 1 on GTO 1.10.1 compatibility warnings too (a team still using GTO)",
    )
    options.json(p)


def run(args: argparse.Namespace, session: Session) -> int:
    if args.worktree:
        return _work_tree(args, session)
    from git_registry.reading import load
    from git_registry.render import dump_json

    repo = session.repo()
    catalog = session.catalog()
    load_result = load(session, keep_rows=False)
    registry = load_result.registry
    found: list[FileProblem | Problem] = list(catalog.policy_problems())
    head = repo.head()
    files = repo.files_named(head, FILENAME) if head is not None else []
    for file in files:
        assert head is not None
        parsed = catalog.file_at(head, file)
        if parsed is not None:
            found.extend(parsed.problems)
    # The rulebook over every tag: what the server hook refuses when they are pushed.
    from git_registry.governance import Judge

    policy = catalog.policy()
    events = [event for info in registry.artifacts.values() for event in info.events]
    remote = session.config().get("registry.remote", "origin")
    with Judge(repo, catalog, policy, remote=remote) as judge:
        for rule in policy.promotion:  # every current holder's commit at once
            if rule.branches:
                holders = (info.holder(rule.stage) for info in registry.artifacts.values())
                commits = [h.assignment.commit for h in holders if h is not None]
                judge.prefetch(commits, rule.branches)
        found.extend(rulebook.evaluate(registry.problems, events, registry, judge.facts()))
    found.extend(_malformed(load_result.tag_names, set(registry.known), catalog, head, files))
    from git_registry.reading import gto_view

    gto = rulebook.gto_findings(registry, gto_view(session, whole=True), load_result.tag_names)
    tags = load_result.tags_read  # every registry tag read, usable or not
    fails = bool(found) or (args.gto and bool(gto))
    if args.json:
        session.stdout.write(
            dump_json(
                {
                    "problems": [_json(p) for p in [*found, *gto]],
                    "checked": {
                        "source": "HEAD",
                        "commit": head,
                        "tags": tags,
                        "files": files,
                        "policy": policy.file,
                    },
                }
            )
        )
        return 1 if fails else 0
    where = f"HEAD ({short(head)})" if head is not None else "HEAD (no commits yet)"
    what = f"{plural(tags, 'tag')}, {_files(files, policy.file)}"
    return _report(session, found, f"checked {where}: {what}", gto, strict=args.gto)


def _work_tree(args: argparse.Namespace, session: Session) -> int:
    """``--worktree``: the commit-msg hook's check (:mod:`~git_registry.treecheck`), of
    the work tree instead of the index, every problem reported."""
    from git_registry.render import dump_json
    from git_registry.treecheck import tree_problems, work_tree_files

    files = work_tree_files(session.repo())
    found: list[FileProblem | Problem] = list(tree_problems(files))
    names, policy = files.annotation_files(), files.policy_file()
    if args.json:
        checked = {"source": "worktree", "commit": None, "tags": None, "files": names}
        checked["policy"] = policy
        session.stdout.write(dump_json({"problems": [_json(p) for p in found], "checked": checked}))
        return 1 if found else 0
    return _report(session, found, f"checked the work tree: {_files(names, policy)}")


def _files(files: list[str], policy: str | None) -> str:
    """How many ``artifacts.yaml`` files, and the policy file, for the summary line."""
    said = plural(len(files), f"{FILENAME} file")
    return f"{said} and {policy}" if policy else said


def _report(
    session: Session,
    found: list[FileProblem | Problem],
    summary: str,
    gto: list[Problem] | None = None,
    *,
    strict: bool = False,
) -> int:
    """Each problem on stdout, then the GTO compatibility warnings, then what was
    checked and the counts on stderr. Exit 1 on a problem, or (``strict``: ``--gto``)
    on a warning."""
    gto = gto or []
    for problem in [*found, *gto]:
        session.out(_line(problem))
    said = plural(len(found), "problem")
    if gto:
        warnings = plural(len(gto), "GTO compatibility warning")
        said += f", {warnings}" + ("" if strict else " (check --gto fails on them)")
    fails = bool(found) or (strict and bool(gto))
    session.message("hint" if fails or gto else "note", f"{summary}: {said}")
    return 1 if fails else 0


def _malformed(
    tag_names: Iterable[str],
    known: set[str],
    catalog: Catalog,
    head: ObjectId | None,
    files: list[str],
) -> list[Problem]:
    """Tags outside the grammar whose part before ``@``/``#`` is a known artifact (from
    tags or an ``artifacts.yaml`` at HEAD): typos the hooks refuse, so ``check`` says so."""
    declared = set(known)
    if head is not None:
        for file in files:
            parsed = catalog.file_at(head, file)
            if parsed is not None:
                declared.update(parsed.annotations)
    problems = []
    for name in sorted(tag_names):
        if parse_tag_name(name) is not None:
            continue
        artifact = tag_artifact_prefix(name)
        if artifact and artifact != name and artifact in declared:
            problems.append(rules.malformed_name(name, artifact))
    return problems


def _line(problem: FileProblem | Problem) -> str:
    if isinstance(problem, Problem) and problem.rule is rules.Rule.MALFORMED_NAME:
        return f"{problem} ({problem.hint})" if problem.hint else str(problem)
    if isinstance(problem, FileProblem) or problem.tag or problem.artifact is None:
        return str(problem)
    return f"{problem.artifact}: {problem.message}"


def _json(problem: FileProblem | Problem) -> dict[str, Any]:
    if isinstance(problem, FileProblem):
        return {
            "file": problem.file,
            "line": problem.line,
            "column": problem.column,
            "tag": None,
            "artifact": problem.artifact,
            "key": problem.key,
            "rule": None,
            "message": problem.message,
            "hint": None,
            "severity": "error",
        }
    return {
        "file": None,
        "line": None,
        "column": None,
        "tag": problem.tag,
        "artifact": problem.artifact,
        "key": None,
        "rule": problem.rule.value if problem.rule else None,
        "message": problem.message,
        "hint": problem.hint,
        "severity": "warning" if problem.rule in rules.WARNING_RULES else "error",
    }
