"""Delete registry tags (``unassign``, ``deregister``, ``deprecate`` with ``--delete``):
say first what a deletion does and what the remote has, and with ``--push`` delete on
the remote first, so that a refused deletion deletes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from git_registry import transport
from git_registry.errors import PushError, RegistryError
from git_registry.grammar import parse_tag_name
from git_registry.plan import Deletion
from git_registry.render import describe_event
from git_registry.session import Session
from git_registry.writing import quoted, refuse_unconfigured, relay, remote_name


def _push_command(remote: str, names: Sequence[str]) -> list[str]:
    """The ``git push`` that deletes tags ``names`` on ``remote``, as the user runs it:
    atomic, as :func:`transport.push` runs it (all deleted there, or none)."""
    return ["push", "--atomic", remote, "--delete", *map(transport.tag_word, names)]


def delete_tags(
    session: Session,
    deletions: Sequence[Deletion],
    *,
    push: bool,
    undo: Sequence[str],
    dry_run: bool = False,
    sign: bool | None = None,
) -> None:
    """Delete tags that still point where the registry saw them, all or none; report each.

    First say what the deletion does (:func:`_advise_deletion`): without ``push`` it is
    local, and a remote that has the tags gives them back at the next fetch. With
    ``push``, the tags the remote has are deleted there first (``git push --delete``:
    refused by the registry's hooks unless ``registry.allowDelete`` is set), and here
    only once the remote has let them go: a refused push deletes nothing.
    ``undo``: the registry command (its words) that undoes the event with a new tag,
    the published way. ``dry_run``: say what would be deleted, delete nothing.

    Raises:
        UsageError: ``--sign`` (a deletion writes no tag to sign).
        RegistryError: nothing to delete; the remote is not configured (``push``); or
            Git refused, with its reason (nothing deleted).
        PushError: the remote refused the deletion (nothing deleted).
    """
    if sign:
        from git_registry.errors import UsageError

        raise UsageError("--sign does not apply to --delete: a deletion writes no tag")
    if not deletions:
        raise RegistryError("there are no tags to delete")
    remote = remote_name(session)  # a bad registry.remote is refused before any deletion
    if push:
        refuse_unconfigured(session, remote, "nothing was deleted")
    names = [d.name for d in deletions]
    there = _advise_deletion(session, remote, names, undo, push=push)
    if dry_run:
        for deletion in deletions:
            session.out(f"Would delete tag {deletion.name} (it {describe_event(deletion.event)})")
        if push and there != []:
            session.out(f"Would delete on {remote}: {', '.join(there or names)}")
        session.message("note", "nothing was deleted (--dry-run)")
        return
    if push and there != []:
        _delete_on_remote(session, remote, there or names, undo)
    # One ref transaction: every tag still where the registry saw it is deleted, or
    # none is (a tag that moved, a held lock: Git's reason, exit 128).
    try:
        session.repo().delete_tags([(d.name, d.oid) for d in deletions])
    except RegistryError as exc:
        if push and there != []:
            raise RegistryError(
                f"deleted on '{remote}', but not here: {exc.message}",
                hint="see what changed (git registry show), then delete again",
            ) from exc
        raise
    for deletion in deletions:
        session.out(f"Deleted tag {deletion.name} (it {describe_event(deletion.event)})")


ALLOW_DELETE = (
    "deleting registry tags on a remote needs registry.allowDelete set in this clone and on "
    "the server (git config registry.allowDelete true, in each)"
)
"""Where the registry's hooks let a push delete tags (pre-push here, pre-receive there)."""


def _advise_deletion(
    session: Session, remote: str, names: Sequence[str], undo: Sequence[str], *, push: bool
) -> list[str] | None:
    """Say, before deleting, what a deletion does, and return the tags of ``names`` that
    ``remote`` has (None if it cannot be read; empty if it is not configured).

    Without ``push`` the deletion is local: a remote that has the tags gives them back
    at the next ``git registry fetch``, so that is said, with how to delete them there.
    Either way, the published way to undo an event is a new tag (``undo``)."""
    from git_registry.remote import list_tags, not_configured

    published = quoted(["registry", *undo, "--push"])
    where = f"here and on {remote}" if push else "in this repository only"
    session.message(
        "note",
        f"--delete deletes {them(names)} {where}; the published way to undo the event is a "
        f"new tag: {published} (the command without --delete)",
    )
    cwd = session.repo().cwd
    if not push and not_configured(remote, cwd, env=session.env) is not None:
        return []  # no remote to bring them back
    artifacts = sorted({p.artifact for n in names if (p := parse_tag_name(n)) is not None})
    try:
        theirs = list_tags(remote, cwd, artifacts, env=session.env)
    except RegistryError as exc:
        if not push:  # with --push, the push says why it cannot reach the remote
            session.warn(
                f"cannot tell whether {remote} has {them(names)} ({exc.message}); if it does, "
                f"'git registry fetch' will bring them back unless they are deleted there too"
            )
            session.message("hint", f"{ALLOW_DELETE}, then: {quoted(_push_command(remote, names))}")
        return None
    there = [name for name in names if name in theirs]
    if not there:
        session.message("note", f"{remote} does not have {them(names)}: nothing to delete there")
    elif not push:
        session.warn(
            f"{remote} has {', '.join(there)}: 'git registry fetch' will bring "
            + ("it back unless it is" if len(there) == 1 else "them back unless they are")
            + f" deleted on {remote} too"
        )
        _hint_remote_deletion(session, remote, there)
    return there


def them(names: Sequence[str]) -> str:
    """``the tag`` or ``the tags``, as many as ``names``."""
    return "the tag" if len(names) == 1 else "the tags"


def _hint_remote_deletion(session: Session, remote: str, names: Sequence[str]) -> None:
    session.message("hint", f"{ALLOW_DELETE}, then: {quoted(_push_command(remote, names))}")


def _delete_on_remote(
    session: Session, remote: str, names: Sequence[str], undo: Sequence[str]
) -> None:
    """``git push --delete`` ``names`` on ``remote``, saying what the server said.

    Raises:
        PushError: the remote (or a pre-push hook) refused; nothing was deleted.
    """
    from git_registry.remote import push_failure

    cwd = session.repo().cwd
    session.out(f"Running: {quoted(_push_command(remote, names))}")
    result = transport.push(remote, names, delete=True, cwd=cwd, env=session.env)
    relay(session, transport.remote_lines(result))
    if result.returncode == 0:
        session.out(f"Deleted on {remote}: {', '.join(names)}")
        return
    reason, hint = push_failure(remote, result, cwd=cwd, env=session.env)
    raise PushError(
        f"cannot delete {them(names)} on '{remote}': {reason}; nothing was deleted, here or there",
        hint=hint
        or f"{ALLOW_DELETE}; or undo the event with a new tag: "
        f"{quoted(['registry', *undo, '--push'])}",
    )
