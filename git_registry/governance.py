"""The facts the promotion rules read that only Git has: which branches contain a
commit, and who signed a tag (:class:`rules.Facts`, for a write, ``check`` or a hook).

The policy and its ``allowed_signers`` file come from the caller's trusted commit
(HEAD here; the default branch on the server), never from what is being checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from git_registry import rules
from git_registry.catalog import Catalog
from git_registry.gitvalues import ObjectId
from git_registry.policy import Policy
from git_registry.repo import Repository

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.signing import Verdict, Verifier


class Judge:
    """:class:`rules.Facts` for one repository and policy; close it when done.

    Args:
        repo: where the tags and commits are.
        catalog: the ``artifacts.yaml`` files and the policy's ``allowed_signers``.
        policy: the policy to apply (the catalog's, or the strict one of a write).
        remote: a commit on this remote's tracking branch (``origin/main``) counts as
            on ``main``: a clone's local branch may be behind the server's (only the
            registry's remote: a fork's ``evil/main`` is not ``main``). None: local
            branches only (the server).
        pushed: branch name -> new tip (None: deleted), for the branches a push being
            checked updates (a push may bring ``main`` and the tag that needs it
            together).
        now: the clock, when the tags judged are new (a write, a push): an SSH key
            must be valid now, not only at the tagger time its signer wrote.
    """

    def __init__(
        self,
        repo: Repository,
        catalog: Catalog,
        policy: Policy,
        *,
        remote: str | None,
        pushed: Mapping[str, ObjectId | None] | None = None,
        now: float | None = None,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.policy = policy
        self.remote = remote
        self.pushed = dict(pushed or {})
        self.now = now
        self._tips: list[tuple[str, str, ObjectId]] | None = None
        self._reached: dict[tuple[ObjectId, tuple[str, ...]], str | None] = {}
        self._verifier: Verifier | None = None

    def facts(self) -> rules.Facts:
        return rules.Facts(
            self.policy,
            self.catalog.declaring_problems,
            self.reachable,
            self.verify,
            requires=self.catalog.requires,
        )

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._verifier is not None:
            self._verifier.close()
            self._verifier = None

    def prefetch(self, commits: Iterable[ObjectId], patterns: tuple[str, ...]) -> None:
        """Learn at once which of ``commits`` the branches matching ``patterns`` reach
        (one ``git rev-list`` instead of one ``git merge-base`` per commit and branch):
        ``check`` judges every current holder."""
        todo = {c for c in commits if (c, patterns) not in self._reached}
        if not todo:
            return
        tips = [
            (shown, tip) for shown, branch, tip in self._branches() if _matches(branch, patterns)
        ]
        off = self.repo.unreachable(todo, [tip for _, tip in tips]) if tips else todo
        names = ", ".join(shown for shown, _ in tips)
        on = tips[0][0] if len(tips) == 1 else f"one of {names}"
        # In a shallow clone a commit below the boundary reaches no tip here: unknown.
        lost = "" if off and self.repo.is_shallow() else None
        for commit in todo:
            self._reached[(commit, patterns)] = lost if commit in off else on

    def reachable(self, commit: ObjectId, patterns: tuple[str, ...]) -> str | None:
        """The first branch matching ``patterns`` whose tip contains ``commit``; "" if
        none does here but this is a shallow clone (its history is cut: unknown)."""
        key = (commit, patterns)
        if key not in self._reached:
            self._reached[key] = self._find_branch(commit, patterns)
        return self._reached[key]

    def _find_branch(self, commit: ObjectId, patterns: tuple[str, ...]) -> str | None:
        for shown, branch, tip in self._branches():
            if _matches(branch, patterns) and self.repo.is_ancestor(commit, tip):
                return shown
        return "" if self.repo.is_shallow() else None

    def _branches(self) -> list[tuple[str, str, ObjectId]]:
        """(name shown, branch name the patterns match, tip) of every branch: local
        ones as a push leaves them (new tips, deleted ones gone), and the registry
        remote's tracking ones (``origin/main`` is ``main``)."""
        if self._tips is None:
            local: dict[str, ObjectId | None] = dict(self.repo.branch_tips(remotes=False))
            local.update(self.pushed)
            found = [(name, name, tip) for name, tip in sorted(local.items()) if tip is not None]
            if self.remote is not None:
                prefix = self.remote + "/"
                tracking = self.repo.branch_tips(remotes=True)
                found.extend(
                    (name, name[len(prefix) :], tip)
                    for name, tip in sorted(tracking.items())
                    if name.startswith(prefix) and name not in local
                )
            self._tips = found
        return self._tips

    def verify(self, event: rules.EventLike) -> rules.VerdictLike:
        """The verification of the tag object of ``event`` against the allowed signers.
        For a new tag (``now`` given), an SSH key must also be valid now: Git judges
        ``valid-before`` at the tagger time, which the signer writes."""
        if self._verifier is None:
            from git_registry.signing import Verifier

            self._verifier = Verifier(self.repo, self.catalog.allowed_signers())
        verdict = self._verifier.verify(event.oid, event.tag)
        if self.now is None or verdict.status != "good" or verdict.format != "ssh":
            return verdict
        return self._valid_now(verdict, self.now)

    def _valid_now(self, verdict: Verdict, now: float) -> rules.VerdictLike:
        from git_registry.policy import signer_window

        signers = self.catalog.allowed_signers() or b""
        fingerprint = (verdict.key or "").rpartition(" ")[2]
        window = signer_window(signers, verdict.principal or "", fingerprint)
        if window is None or window[0] <= now < window[1]:
            return verdict
        why = "is not valid yet" if now < window[0] else "has expired"
        detail = f"the key of {verdict.principal} {why} (valid-after/valid-before in its line)"
        return rules.KnownVerdict("expired", None, verdict.key, detail)


def _matches(branch: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(branch, p) for p in patterns)
