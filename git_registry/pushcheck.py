"""The checks the hooks run (SPEC 7): pushed registry tags, pushed branches, staged files.

One rulebook (:mod:`git_registry.rules`): the same rules as the write commands and
``git registry check``. Only the pushed refs are
checked: tag names are listed once, and tag objects are read only for the
artifacts being pushed.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from git_registry import annotations as ann
from git_registry import rulebook, rules
from git_registry.catalog import Catalog
from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId
from git_registry.governance import Judge
from git_registry.grammar import (
    TAG_PREFIX,
    artifact_to_tag,
    parse_tag_name,
    tag_artifact_prefix,
    tag_prefixes,
)
from git_registry.repo import Repository
from git_registry.state import build_registry

_ZERO_RE = re.compile(r"0{40}(?:0{24})?")
BRANCH_PREFIX = "refs/heads/"


@dataclass(frozen=True, slots=True)
class RefUpdate:
    """One ref a push changes: ``new`` None deletes it, ``old`` None creates it."""

    ref: str
    old: ObjectId | None
    new: ObjectId | None


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a ref (or a staged file) is refused."""

    ref: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.ref}: {self.message}"


def object_id(text: str) -> ObjectId | None:
    """An object id from a hook's input; None for Git's all-zero id (40 or 64 digits)."""
    return None if _ZERO_RE.fullmatch(text) else ObjectId(text)


def _fields(lines: Iterable[str], count: int, hook: str) -> Iterator[list[str]]:
    """The whitespace-separated fields of each non-empty line of a hook's input."""
    for line in lines:
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != count:
            raise RegistryError(f"{hook}: cannot read the line '{line.rstrip()}'")
        yield parts


def parse_pre_push(lines: Iterable[str]) -> list[RefUpdate]:
    """Git's pre-push input: ``<local ref> <local oid> <remote ref> <remote oid>`` lines.

    Raises:
        RegistryError: a line that is not in that form.
    """
    return [
        RefUpdate(remote_ref, object_id(remote_oid), object_id(local_oid))
        for _local, local_oid, remote_ref, remote_oid in _fields(lines, 4, "pre-push")
    ]


def parse_pre_receive(lines: Iterable[str]) -> list[RefUpdate]:
    """Git's pre-receive input: ``<old oid> <new oid> <ref>`` lines."""
    return [
        RefUpdate(ref, object_id(old), object_id(new))
        for old, new, ref in _fields(lines, 3, "pre-receive")
    ]


class PushCheck:
    """Checks ref updates: a push may not give the registry a problem it did not have.

    The registry's rules are the rulebook's (:mod:`git_registry.rules`): for each
    artifact the push touches, the registry is built from its tags before and after
    the push, and every problem of the second that the first did not have refuses
    the push, as do the policy's and the tagged commit's rules for each pushed
    registration and assignment. Rewriting or deleting a registry tag on the remote
    is refused unless ``registry.allowDelete`` is set (a rule of pushes, not of tags).

    Args:
        repo: where the objects are (the client, or the server with its quarantine).
        catalog: annotations and the policy (from HEAD: the server's default branch).
        existing: tag name -> object id of the tags already there (the client's
            local tags for pre-push, the server's tags for pre-receive); or a function
            listing them (:meth:`Repository.tag_refs`: given prefixes, only the tags
            whose names start with one), so that a push of one artifact's tags lists
            that artifact's tags only.
        allow_delete: ``registry.allowDelete``.
        remote: a commit on this remote's tracking branches counts for the policy's
            ``branches`` rule (a client's pre-push; None for a server's hooks).
        now: the clock for the tagger-time rule (default: the system's).
    """

    def __init__(
        self,
        repo: Repository,
        catalog: Catalog,
        existing: Mapping[str, ObjectId] | Lister,
        *,
        allow_delete: bool,
        remote: str | None = None,
        now: int | None = None,
    ) -> None:
        self.repo = repo
        self.remote = remote
        self._judge: Judge | None = None
        self.catalog = catalog
        self.existing = existing
        self.allow_delete = allow_delete
        self.now = now
        self._views: tuple[_View, _View] | None = None
        self._known: set[str] | None = None
        self._others: dict[str, rules.ArtifactLike | None] = {}

    def run(
        self, updates: Sequence[RefUpdate], only: Collection[rules.Rule] | None = None
    ) -> list[Finding]:
        """Every problem with ``updates``; empty if the push may go ahead.

        Args:
            updates: the refs the push changes.
            only: check only these rules of the state (and nothing else): the
                server's re-check while Git holds the ref locks.
        """
        changed_before: dict[str, ObjectId | None] = {}
        changed_after: dict[str, ObjectId | None] = {}
        for update in updates:
            if update.ref.startswith(TAG_PREFIX):
                name = update.ref[len(TAG_PREFIX) :]
                # pre-push lists our local tags: "before" is what the remote has.
                changed_before[name] = update.old
                changed_after[name] = update.new
        listing = _Listing(self.existing)
        before = _View(listing, changed_before)
        after = _View(listing, changed_after)
        self._views = (before, after)
        self._known = None
        self._others = {}
        touched = {u.ref[len(TAG_PREFIX) :] for u in updates if u.ref.startswith(TAG_PREFIX)}
        # A push may bring a branch and the tag whose rule needs it together.
        policy = self.catalog.policy()
        ruled = any(rule.branches for rule in policy.promotion)
        settled = only is not None  # in Git's ref transaction: its updates happen with it
        branches = {
            u.ref[len(BRANCH_PREFIX) :]: u.new
            for u in updates
            if ruled and u.ref.startswith(BRANCH_PREFIX) and (settled or self._moves(u))
        }
        clock = time.time() if self.now is None else self.now
        self._judge = Judge(
            self.repo, self.catalog, policy, remote=self.remote, pushed=branches, now=clock
        )
        with self._judge:
            return self._check(updates, only, touched, before, after)

    def _moves(self, update: RefUpdate) -> bool:
        """Whether the branches rule may count a pushed branch update as done: a deletion
        (taking a branch away only refuses more), or a commit that fast-forwards it. Git
        may still refuse an update after this hook (a tag object as a branch, a forced
        update under receive.denyNonFastForwards): those do not count."""
        if update.new is None:
            return True
        if self.repo.resolve_commit(update.new) != update.new:
            return False
        return update.old is None or self.repo.is_ancestor(update.old, update.new)

    def _check(
        self,
        updates: Sequence[RefUpdate],
        only: Collection[rules.Rule] | None,
        touched: Collection[str],
        before: _View,
        after: _View,
    ) -> list[Finding]:
        findings: list[Finding] = []
        pushed: dict[str, list[str]] = {}
        for update in updates:
            if update.ref.startswith(BRANCH_PREFIX):
                if update.new is not None and only is None:
                    findings.extend(self._branch(update.ref, update.old, update.new))
                continue
            if not update.ref.startswith(TAG_PREFIX):
                continue
            name = update.ref[len(TAG_PREFIX) :]
            parsed = parse_tag_name(name)
            if parsed is None:
                finding = self._malformed(name, update) if only is None else None
                if finding is not None:
                    findings.append(finding)
                continue
            if update.old is not None and update.new != update.old and not self.allow_delete:
                if only is None:
                    findings.append(_rewrite(name, parsed.artifact, deleted=update.new is None))
                continue
            pushed.setdefault(parsed.artifact, [])
            if update.new is not None:
                pushed[parsed.artifact].append(name)
        for artifact, names in sorted(pushed.items()):
            findings.extend(self._artifact(artifact, names, before, after, only))
            if only is None and names:
                findings.extend(self._made_known(artifact, names, before, after, touched))
        return findings

    # -- tags ------------------------------------------------------------------------------

    def _malformed(self, name: str, update: RefUpdate) -> Finding | None:
        """A tag that is not in the grammar but names a known artifact: a typo, refuse it."""
        artifact = tag_artifact_prefix(name)
        if artifact == name or not artifact:
            return None
        if self._known is None:  # every artifact named by a tag, before or after the push
            assert self._views is not None
            before, after = self._views
            names = [*after.every(), *before.every()]
            self._known = {p.artifact for p in map(parse_tag_name, names) if p is not None}
        if artifact not in self._known and not self._declared(artifact):
            return None
        if update.new is None:
            return None  # deleting a malformed tag only cleans up
        return _finding(rules.malformed_name(name, artifact))

    def _made_known(
        self,
        artifact: str,
        pushed: Sequence[str],
        before: _View,
        after: _View,
        touched: Collection[str],
    ) -> list[Finding]:
        """Malformed names that the push makes problems: tags of ``artifact`` outside
        the grammar, already there, when the pushed tags make it a known artifact
        (``check`` then reports them). Only for an artifact new to the registry."""
        if before.tags_of(artifact) or self._declared(artifact):
            return []  # known before: its malformed names were problems already
        prefix = artifact_to_tag(artifact)
        verb = "makes" if len(pushed) == 1 else "make"
        findings = []
        for name in sorted(after.every()):
            # The names check reads as this artifact's (tag_artifact_prefix decides,
            # as for _malformed); the prefixes only skip the others cheaply.
            if (
                name.startswith((prefix, TAG_PREFIX))
                and ("@" in name or "#" in name)
                and name not in touched  # pushed: judged by _malformed
                and parse_tag_name(name) is None
                and tag_artifact_prefix(name) == artifact
            ):
                problem = rules.malformed_name(name, artifact)
                findings.append(
                    Finding(
                        name,
                        f"{problem.message} (the pushed {', '.join(pushed)} {verb} {artifact} "
                        f"a known artifact: delete {name} first)",
                        problem.hint,
                    )
                )
        return findings

    def _declared(self, artifact: str) -> bool:
        """Whether an ``artifacts.yaml`` at HEAD declares ``artifact`` (looked up by path)."""
        head = self.repo.head()
        if head is None:
            return False
        try:
            file, _key = ann.file_for(artifact)
            parsed = self.catalog.file_at(head, file)
        except (RegistryError, ValueError):
            return False
        return parsed is not None and artifact in parsed.annotations

    def _facts(self) -> rules.Facts:
        """The judge's facts, and the other artifacts as the push leaves them (the
        ``requires`` rule: a required artifact's tags pushed together count)."""
        assert self._judge is not None
        return dataclasses.replace(self._judge.facts(), artifact_of=self._after_artifact)

    def _after_artifact(self, artifact: str) -> rules.ArtifactLike | None:
        if artifact not in self._others:
            assert self._views is not None
            tags = self._views[1].tags_of(artifact)
            registry = build_registry(self.repo.read_tags(tags), now=self.now)
            self._others[artifact] = registry.artifacts.get(artifact)
        return self._others[artifact]

    def _artifact(
        self,
        artifact: str,
        pushed: Sequence[str],
        before: _View,
        after: _View,
        only: Collection[rules.Rule] | None,
    ) -> list[Finding]:
        """The problems the push gives ``artifact``: the rulebook's, after minus before."""
        old = build_registry(self.repo.read_tags(before.tags_of(artifact)), now=self.now)
        new = build_registry(self.repo.read_tags(after.tags_of(artifact)), now=self.now)
        if only is not None and rules.Rule.PROMOTION_BRANCHES in only:
            # Re-judged where Git holds the ref locks: the branches as they are then.
            assert self._judge is not None
            facts = dataclasses.replace(self._facts(), signatures=False)
            problems = rulebook.problems_of_new_tags(old, new, set(pushed), facts)
            problems = [p for p in problems if p.rule in only]
        elif only is not None:
            problems = rules.new_problems(old.problems, new.problems)
            problems = [p for p in problems if p.rule in only]
        else:
            assert self._judge is not None
            problems = rulebook.problems_of_new_tags(old, new, set(pushed), self._facts())
        findings = []
        for problem in problems:
            finding = _finding(problem)
            if problem.tag not in pushed and pushed:
                # The pushed tag made an existing one break a rule (it sorts first).
                finding = Finding(
                    finding.ref,
                    f"{finding.message} (with the pushed {', '.join(pushed)})",
                    finding.hint,
                )
            findings.append(finding)
        return findings

    # -- branches --------------------------------------------------------------------------

    def _branch(self, ref: str, old: ObjectId | None, new: ObjectId) -> list[Finding]:
        """The problems of the ``artifacts.yaml`` files (and the policy) at a pushed
        branch tip that its old tip (:meth:`_base`) did not have: a file already broken
        there refuses nothing the push does not change, as a broken file blocks no
        write but of what it declares."""
        from git_registry.treecheck import new_problems

        commit = self.repo.resolve_commit(new)
        if commit is None:
            return []  # not a commit: nothing of ours to check
        branch = ref[len(BRANCH_PREFIX) :]
        found = new_problems(self._file_problems(self._base(old)), self._file_problems(commit))
        return [Finding(branch, str(p)) for p in found]

    def _base(self, old: ObjectId | None) -> ObjectId | None:
        """What a pushed branch is compared with: its old tip; for a new branch, the
        default branch (the server's HEAD; a client's ``REMOTE/HEAD``, if it knows it:
        else nothing, and every problem counts)."""
        if old is not None:
            return self.repo.resolve_commit(old)
        if self.remote is None:
            return self.repo.head()
        return self.repo.resolve_commit(f"refs/remotes/{self.remote}/HEAD")

    def _file_problems(self, commit: ObjectId | None) -> list[ann.FileProblem]:
        if commit is None:
            return []
        return self.catalog.own_problems(commit)


def headless_policy(repo: Repository) -> Finding | None:
    """Why the server cannot read its policy, if HEAD names no commit while the
    repository has branches (see :func:`headless`); None if it can, or if the
    repository is empty (no policy yet: its first push brings the branches)."""
    if repo.head() is not None:
        return None
    branches = repo.branches(_BRANCHES_SHOWN)
    if not branches:
        return None
    return headless(repo.head_ref(), branches)


_BRANCHES_SHOWN = 20


def headless(head: str | None, branches: Sequence[str]) -> Finding:
    """HEAD (naming ``head``, None if detached) names no commit, in a repository with
    ``branches``: the server's policy cannot be read, and judging registry tags without
    it would let through what ``check`` reports in every clone (a plain ``git init
    --bare`` names ``master`` while the team pushes ``main``). So pushed registry tags
    are refused until HEAD names the default branch."""
    main = BRANCH_PREFIX + "main"
    suggested = main if main in branches else branches[0] if len(branches) == 1 else None
    if suggested is None:
        names = ", ".join(b.removeprefix(BRANCH_PREFIX) for b in branches)
        more = ", ..." if len(branches) >= _BRANCHES_SHOWN else ""
        hint = f"git symbolic-ref HEAD refs/heads/BRANCH (branches: {names}{more})"
    else:
        hint = f"git symbolic-ref HEAD {suggested}"
    what = (
        f"the server's HEAD ({head}) names no branch"
        if head
        else "the server's HEAD names no commit"
    )
    return Finding(
        "HEAD",
        f"{what}, so its policy cannot be read: registry tags are refused",
        hint=f"point it at the default branch: {hint}",
    )


Lister = Callable[[Sequence[str] | None], Mapping[str, ObjectId]]
"""Lists tag refs: all (None), or those whose names start with one of the prefixes."""


class _Listing:
    """The tags already there, listed once: all of them, or an artifact's at a time."""

    def __init__(self, existing: Mapping[str, ObjectId] | Lister) -> None:
        self._existing = existing
        self._all: Mapping[str, ObjectId] | None = None
        self._of: dict[str, Mapping[str, ObjectId]] = {}

    def every(self) -> Mapping[str, ObjectId]:
        if self._all is None:
            existing = self._existing
            self._all = existing(None) if callable(existing) else existing
        return self._all

    def of(self, artifact: str) -> Mapping[str, ObjectId]:
        """The tags whose names start as ``artifact``'s registry tags do."""
        found = self._of.get(artifact)
        if found is None:
            prefixes = tuple(tag_prefixes([artifact]))
            existing = self._existing
            if callable(existing) and self._all is None:
                found = existing(prefixes)
            else:
                found = {n: o for n, o in self.every().items() if n.startswith(prefixes)}
            self._of[artifact] = found
        return found


class _View:
    """The tags before or after the push: those there, with the pushed changes."""

    def __init__(self, listing: _Listing, changes: Mapping[str, ObjectId | None]) -> None:
        self._listing = listing
        self._changes = changes

    def _with_changes(
        self, refs: Mapping[str, ObjectId], keep: Callable[[str], bool]
    ) -> dict[str, ObjectId]:
        state = dict(refs)
        for name, oid in self._changes.items():
            if keep(name):
                if oid is None:
                    state.pop(name, None)
                else:
                    state[name] = oid
        return state

    def every(self) -> dict[str, ObjectId]:
        """Every tag: name -> object id."""
        return self._with_changes(self._listing.every(), lambda _name: True)

    def tags_of(self, artifact: str) -> list[tuple[str, ObjectId]]:
        """The registry tags of ``artifact`` (name, object id), by name."""
        prefixes = tuple(tag_prefixes([artifact]))
        state = self._with_changes(self._listing.of(artifact), lambda n: n.startswith(prefixes))
        return _tags_of(artifact, state)


def _tags_of(artifact: str, refs: Mapping[str, ObjectId]) -> list[tuple[str, ObjectId]]:
    """The registry tags of ``artifact`` among ``refs`` (name, object id), by name."""
    prefix = artifact_to_tag(artifact)
    return sorted(
        (name, oid)
        for name, oid in refs.items()
        if name.startswith(prefix)
        and name[len(prefix) : len(prefix) + 1] in ("@", "#")
        and (p := parse_tag_name(name)) is not None
        and p.artifact == artifact
    )


def _finding(problem: rules.Problem) -> Finding:
    return Finding(problem.tag or problem.artifact or "", problem.message, problem.hint)


def _rewrite(name: str, artifact: str, *, deleted: bool) -> Finding:
    what = (
        "deleting a registry tag on the remote is refused"
        if deleted
        else "the remote already has this tag, pointing elsewhere: replacing it is refused"
    )
    return Finding(
        name,
        f"{what} (it would rewrite the history of {artifact})",
        hint="undo an event with a new tag (deregister, unassign, deprecate); "
        "to allow this, run 'git config registry.allowDelete true' "
        "(on the server for the server hook)",
    )
