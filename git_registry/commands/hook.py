"""``git registry hook HOOK``: the checks Git runs as hooks (pre-push, commit-msg,
pre-receive, update, reference-transaction). The wrappers ``git registry hooks
install`` writes call these.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence

from git_registry.commands import Command
from git_registry.errors import EXIT_NOT_FOUND, RegistryError
from git_registry.gitbin import config_bool
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

    from git_registry.gitvalues import ObjectId
    from git_registry.pushcheck import Finding, RefUpdate
    from git_registry.pushlock import PushLock
    from git_registry.repo import Repository

COMMAND = Command(
    name="hook",
    summary="run a hook's checks (called by the installed hooks)",
    description=(
        "The checks the installed hooks run. Git calls them through the wrappers that\n"
        "'git registry hooks install' writes; you can also call them from your own hooks.\n"
        "  pre-push REMOTE URL   pushed registry tags and branches (reads Git's pre-push input)\n"
        "  commit-msg [FILE]     the staged artifacts.yaml files and .registry.yaml\n"
        "  pre-receive           on a server: the same checks as pre-push, on incoming refs\n"
        "  update REF OLD NEW    on a server: the same checks for one ref\n"
        "  reference-transaction STATE\n"
        "                        on a server: registry tags are written one push at a\n"
        "                        time (pre-receive takes a lock, this releases it)\n"
        "Exit 1 with one line per problem if something is refused."
    ),
    usage=(
        "git registry hook (pre-push REMOTE URL | commit-msg [FILE] | pre-receive | "
        "update REF OLD NEW | reference-transaction STATE)"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    hook_sub = p.add_subparsers(dest="hook", metavar="HOOK", parser_class=type(p), required=True)

    def hook(name: str, summary: str) -> argparse.ArgumentParser:
        # The command's formatter (argparse's default imports shutil: 2 ms of every push).
        return hook_sub.add_parser(name, help=summary, formatter_class=p.formatter_class)

    h = hook("pre-push", "check pushed registry tags and branches")
    h.add_argument("remote_name", metavar="REMOTE", nargs="?", help="the remote's name (from Git)")
    h.add_argument("url", metavar="URL", nargs="?", help="the remote's URL (from Git)")
    h = hook("commit-msg", "check the staged artifacts.yaml and policy")
    h.add_argument("file", metavar="FILE", nargs="?", help="the commit message file (unused)")
    hook("pre-receive", "check incoming refs on a server")
    h = hook("update", "check one incoming ref on a server")
    h.add_argument("refname", metavar="REF", help="the ref being updated")
    h.add_argument("old", metavar="OLD", help="its old object id")
    h.add_argument("new", metavar="NEW", help="its new object id")
    h = hook("reference-transaction", "write registry tags one push at a time (server)")
    h.add_argument(
        "state",
        metavar="STATE",
        choices=["prepared", "committed", "aborted"],
        help="the transaction's state (from Git): prepared, committed or aborted",
    )


def run(args: argparse.Namespace, session: Session) -> int:
    if args.hook == "reference-transaction":
        return _reference_transaction(session, args.state, session.stdin)
    # The checks import most of the package: not for reference-transaction, which
    # Git runs for every ref update.
    from git_registry.pushcheck import RefUpdate, object_id, parse_pre_push, parse_pre_receive

    if args.hook == "commit-msg":
        return _commit_msg(session)
    if args.hook == "pre-push":
        updates = parse_pre_push(session.stdin)
        where = "the remote"
    elif args.hook == "pre-receive":
        updates = parse_pre_receive(session.stdin)
        where = "this repository"
    else:
        old, new = object_id(args.old), object_id(args.new)
        updates = [RefUpdate(args.refname, old, new)]
        where = "this repository"
    return _push(session, args.hook, updates, where)


def _push(session: Session, hook: str, updates: Sequence[RefUpdate], where: str) -> int:
    if not any(u.ref.startswith(("refs/tags/", "refs/heads/")) for u in updates):
        return 0  # nothing of ours: do not even open the repository
    from git_registry.pushcheck import Finding, PushCheck, headless_policy

    repo = session.repo()
    allow = config_bool(session.config(), "registry.allowdelete", False)
    server = hook != "pre-push"
    tags = _registry_tags((u.ref, u.old, u.new) for u in updates) if server else []
    created = {u.ref for u in updates if u.old is None and u.new is not None}
    if server and created and repo.head() is None and repo.head_ref() in created:
        # The branch an unborn HEAD names would become the default branch, whose policy
        # and keys the hook applies: a push may not make it (nor the pusher's rules).
        headless = headless_policy(repo)
        if headless is not None:
            head = repo.head_ref()
            finding = Finding(
                headless.ref,
                f"{headless.message}; a push may not create {head}, which would give "
                "the server its policy",
                headless.hint,
            )
            return _refuse(session, hook, [finding], where)
    if any(new is not None for _ref, _old, new in tags):
        # Without the policy of the default branch, no registry tag can be judged.
        headless = headless_policy(repo)
        if headless is not None:
            return _refuse(session, hook, [headless], where)
    lock = None
    pending = set()
    if hook == "pre-receive":
        # A server checks and writes registry tags one push at a time: no other push
        # may store or delete tags between this check and the updates it lets through.
        pending = _pending(tags)
    if pending:
        lock = _take_lock(session, repo)
    try:
        remote = None if server else session.config().get("registry.remote", "origin")
        check = PushCheck(repo, session.catalog(), repo.tag_refs, allow_delete=allow, remote=remote)
        findings = check.run(updates)
        if lock is not None and not findings:
            lock.note(pending)  # reference-transaction releases it once they are written
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    if not findings:
        return 0
    if lock is not None:
        lock.release()
    return _refuse(session, hook, findings, where)


def _refuse(session: Session, hook: str, findings: Sequence[Finding], where: str) -> int:
    from git_registry.render import count

    report_findings(session, findings)
    refused = "the push" if hook == "pre-push" else "this push"
    session.message(
        "error",
        f"git-registry {hook} hook refused {refused}: {count(len(findings), 'problem')}; "
        f"nothing was changed on {where}",
    )
    return EXIT_NOT_FOUND


def _commit_msg(session: Session) -> int:
    from git_registry.annotations import FileProblem
    from git_registry.treecheck import commit_hook_problems

    repo = session.repo()
    head = repo.head()
    before: list[FileProblem] = []
    if head is not None:
        before = session.catalog().own_problems(head)
    problems = commit_hook_problems(repo, before)
    if not problems:
        return 0
    from git_registry.render import count

    for problem in problems:
        session.message("error", str(problem))
    session.message(
        "error",
        f"git-registry commit-msg hook refused the commit: {count(len(problems), 'problem')} "
        "in the staged files: fix them, 'git add' them and commit again",
    )
    return EXIT_NOT_FOUND


def report_findings(session: Session, findings: Sequence[Finding]) -> None:
    """One ``error: REF: message`` line (and its ``hint:``) per finding."""
    for finding in findings:
        session.message("error", str(finding))
        if finding.hint:
            session.message("hint", finding.hint)


# -- the push lock: pre-receive and reference-transaction --------------------------------

Update: TypeAlias = "tuple[str, str | None, str | None]"
"""A ref update as (ref, old, new), None for Git's all-zero id (no imports needed)."""


def _reference_transaction(session: Session, state: str, lines: Iterable[str]) -> int:
    """``reference-transaction STATE``: registry tags are written under the push lock.

    Git runs this hook for every ref transaction of the repository: a push (one per
    ref, or one for all with ``--atomic``), but also ``git tag`` or ``git fetch`` run
    on the server. At ``prepared`` Git holds the ref locks. The transaction's
    registry tags were checked under the push lock if our ``pre-receive`` hook let
    them through (they are pending in the lock this Git process holds); otherwise
    the lock is taken now and they are checked against the tags as they are, for the
    rules two writers can break together (:data:`~git_registry.rules.CONFLICT_RULES`).
    A refusal aborts the transaction: Git then stops with "ref updates aborted by
    hook" (a receive-pack ends the connection: the client sees no reason over git://
    or HTTP). At ``committed`` or ``aborted`` the updates (deletions too) are struck
    off the lock, which is released when none is left.
    """
    every = _transaction_lines(lines)
    updates = _registry_tags(every)
    if state != "prepared":
        # Deletions too: pre-receive holds the lock for them (a deletion landing
        # between another push's check and its write would break what it checked).
        entries = _pending(updates)
        if entries:  # not only Git's own "0 0" lines for packed-refs
            _push_lock(session, session.repo(), wait=False).done(entries)
        return 0
    pending = _pending(u for u in updates if u[2] is not None)
    if not pending:
        # Deleting tags cannot make a conflict; pre-receive judged it (under the lock).
        return 0
    repo = session.repo()
    if pending <= _push_lock(session, repo, wait=False).pending():
        # Our pre-receive checked these updates under the lock this Git process
        # holds since: no registry tag was stored meanwhile. But it counted the
        # branches the push updates, and Git may have refused one since.
        findings = _branches_now(session, repo, every)
        if not findings:
            return 0
        _push_lock(session, repo, wait=False).done(pending)
        return _refuse_transaction(session, findings, "the branches as they are now")
    if not _changes(updates, repo.tag_refs()):
        # git pack-refs: every tag keeps its value (Git holds the ref locks), and a
        # gc must not wait for a push.
        return 0
    lock = _take_lock(session, repo)
    try:
        findings = _conflicts(session, repo, updates)
        if not findings:
            lock.note(pending)
    except BaseException:
        lock.release()  # Git runs no "aborted" hook after a failure at "prepared"
        raise
    if not findings:
        return 0  # keep the lock until the transaction is committed or aborted
    lock.release()
    return _refuse_transaction(session, findings, "tags stored meanwhile")


def _refuse_transaction(session: Session, findings: Sequence[Finding], what: str) -> int:
    from git_registry.render import count

    report_findings(session, findings)
    session.message(
        "error",
        f"git-registry reference-transaction hook refused this ref transaction: "
        f"{count(len(findings), 'problem')} with {what}; no ref was changed",
    )
    return EXIT_NOT_FOUND


def _branches_now(session: Session, repo: Repository, every: Sequence[Update]) -> list[Finding]:
    """The ``branches`` rule for the transaction's registry tags, with the branches as
    Git stored them and those this same transaction updates (pre-receive counted every
    branch the push updates; Git may have refused one since: another hook, a forced
    update under ``receive.denyNonFastForwards``, a lost lock)."""
    from git_registry import rules
    from git_registry.pushcheck import PushCheck, RefUpdate

    if not any(rule.branches for rule in session.catalog().policy().promotion):
        return []
    refs = repo.tag_refs()
    changes = [
        RefUpdate(ref, _object(old), _object(new))
        for ref, old, new in every
        if ref.startswith("refs/heads/") or (ref.startswith("refs/tags/") and new is not None)
    ]
    check = PushCheck(repo, session.catalog(), refs, allow_delete=True)
    return check.run(changes, only={rules.Rule.PROMOTION_BRANCHES})


def _transaction_lines(lines: Iterable[str]) -> list[Update]:
    """Git's ``<old> <new> <ref>`` lines as (ref, old, new).

    Raises:
        RegistryError: a line that is not in that form.
    """
    found: list[Update] = []
    for line in lines:
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3:
            raise RegistryError(f"reference-transaction: cannot read the line '{line.rstrip()}'")
        old, new, ref = parts
        found.append((ref, _oid(old), _oid(new)))
    return found


def _oid(text: str) -> str | None:
    return None if not text.strip("0") else text


def _registry_tags(updates: Iterable[Update]) -> list[Update]:
    """The updates of registry tags."""
    # Registry tags have '@' or '#': most refs are skipped without the grammar.
    found = [u for u in updates if u[0].startswith("refs/tags/") and ("@" in u[0] or "#" in u[0])]
    if not found:
        return []
    from git_registry.grammar import parse_tag_name

    return [u for u in found if parse_tag_name(u[0][len("refs/tags/") :]) is not None]


def _pending(updates: Iterable[Update]) -> set[str]:
    """How the lock names updates: ``<new object id> <ref>`` stores a tag, ``delete
    <old object id> <ref>`` deletes one.

    Deleting a ref, Git (2.39 does) may also run a transaction on packed-refs whose
    lines are ``0 0 <ref>``: committed before the loose ref is removed, or aborted
    before the deletion's own transaction starts. Without the old object id they
    name nothing here, so only the deletion itself strikes its entry off.
    """
    found = set()
    for ref, old, new in updates:
        if new is not None:
            found.add(f"{new} {ref}")
        elif old is not None:
            found.add(f"delete {old} {ref}")
    return found


def _take_lock(session: Session, repo: Repository) -> PushLock:
    lock = _push_lock(session, repo)
    stale = lock.acquire()
    if stale is not None:
        holder, why = stale
        session.warn(f"took over the registry push lock {lock.path} of {holder.owner}: {why}")
        session.message(
            "hint",
            "a push that ends before its registry tags are written leaves the lock; "
            "the reference-transaction hook releases it (git registry hooks status)",
        )
    return lock


def _push_lock(session: Session, repo: Repository, *, wait: bool = True) -> PushLock:
    """The push lock, owned by the Git process running the hook; ``wait``: read how
    long to wait for it (``registry.pushLockTimeout``; releasing it never waits long)."""
    from git_registry import pushlock

    timeout = pushlock.TIMEOUT
    value = session.config().get("registry.pushlocktimeout") if wait else None
    if value is not None:
        try:
            timeout = float(value)
            if not 0 <= timeout <= 3600:
                raise ValueError(value)
        except ValueError:
            timeout = pushlock.TIMEOUT
            session.warn(
                f"registry.pushLockTimeout '{value}' is not a number of seconds (0 to 3600): "
                f"using {pushlock.TIMEOUT:g}"
            )
    owner = pushlock.hook_owner(session.env)
    return repo.push_lock(owner, timeout=timeout)


def _conflicts(session: Session, repo: Repository, updates: Sequence[Update]) -> list[Finding]:
    """The conflicts ``updates`` make with the tags as they are now (read under the lock)."""
    from git_registry import rules
    from git_registry.pushcheck import PushCheck, RefUpdate

    refs = repo.tag_refs()  # now, under the lock
    changes = [RefUpdate(r, _object(old), _object(new)) for r, old, new in _changes(updates, refs)]
    if not changes:
        return []
    # Deletions and rewrites were judged by pre-receive (registry.allowDelete).
    check = PushCheck(repo, session.catalog(), refs, allow_delete=True)
    return check.run(changes, only=rules.CONFLICT_RULES)


def _object(oid: str | None) -> ObjectId | None:
    from git_registry.gitvalues import ObjectId

    return None if oid is None else ObjectId(oid)


def _changes(updates: Iterable[Update], refs: Mapping[str, str]) -> list[Update]:
    """The updates as they change ``refs`` (old: the value now), if one stores a tag.

    Git's ``<old>`` is all zeros when it does not check the old value, and ``git
    pack-refs`` "creates" every tag with the value it has.
    """
    changes: list[Update] = []
    for ref, _old, new in updates:
        current = refs.get(ref[len("refs/tags/") :])
        if new != current:
            changes.append((ref, current, new))
    return changes if any(new is not None for _ref, _old, new in changes) else []
