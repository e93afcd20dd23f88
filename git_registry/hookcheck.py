"""The checks the hooks run (SPEC 7): pushed registry tags, pushed branches, staged files.

One validator: the same tag grammar, registry state, policy and ``artifacts.yaml``
checks as the write commands and ``git registry check``. Only the pushed refs are
checked: tag names are listed once, and tag objects are read only for the
artifacts being pushed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from git_registry import annotations as ann
from git_registry import gitbin
from git_registry.catalog import Catalog, policy_at
from git_registry.errors import RegistryError
from git_registry.grammar import (
    TAG_PREFIX,
    EventKind,
    TagName,
    artifact_to_tag,
    check_artifact_name,
    check_stage,
    check_version,
    parse_tag,
    tag_artifact_prefix,
)
from git_registry.policy import CONFIG_FILE, GTO_CONFIG_FILE, Policy, parse_policy
from git_registry.repo import Repository
from git_registry.state import build_registry
from git_registry.tags import ObjectId, TagRef, short

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
    """Checks ref updates against the registry as it will be after the push.

    Args:
        repo: where the objects are (the client, or the server with its quarantine).
        catalog: annotations and the policy (from HEAD: the server's default branch).
        existing: tag name -> object id of the tags already there (the client's
            local tags for pre-push, the server's tags for pre-receive).
        allow_delete: ``registry.allowDelete``.
    """

    def __init__(
        self,
        repo: Repository,
        catalog: Catalog,
        existing: Mapping[str, ObjectId],
        *,
        allow_delete: bool,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.existing = existing
        self.allow_delete = allow_delete
        self._names: list[str] = []
        self._known: set[str] | None = None

    def run(self, updates: Sequence[RefUpdate]) -> list[Finding]:
        """Every problem with ``updates``; empty if the push may go ahead."""
        after = dict(self.existing)
        for update in updates:
            if update.ref.startswith(TAG_PREFIX):
                name = update.ref[len(TAG_PREFIX) :]
                if update.new is None:
                    after.pop(name, None)
                else:
                    after[name] = update.new
        self._names = list(after) + [n for n in self.existing if n not in after]
        self._known = None
        findings: list[Finding] = []
        pushed: dict[str, list[tuple[str, TagName, ObjectId]]] = {}
        for update in updates:
            if update.ref.startswith(BRANCH_PREFIX):
                if update.new is not None:
                    findings.extend(self._branch(update.ref, update.new))
                continue
            if not update.ref.startswith(TAG_PREFIX):
                continue
            name = update.ref[len(TAG_PREFIX) :]
            parsed = parse_tag(name)
            if parsed is None:
                finding = self._malformed(name, update)
                if finding is not None:
                    findings.append(finding)
                continue
            if update.old is not None and update.new != update.old and not self.allow_delete:
                what = (
                    "deleting a registry tag on the remote is refused"
                    if update.new is None
                    else "the remote already has this tag, pointing elsewhere: replacing it "
                    "is refused"
                )
                findings.append(
                    Finding(
                        name,
                        f"{what} (it would rewrite the history of {parsed.artifact})",
                        hint="undo an event with a new tag (deregister, unassign, deprecate); "
                        "to allow this, run 'git config registry.allowDelete true' "
                        "(on the server for the server hook)",
                    )
                )
                continue
            if update.new is not None:
                pushed.setdefault(parsed.artifact, []).append((name, parsed, update.new))
        for artifact, tags in sorted(pushed.items()):
            findings.extend(self._artifact(artifact, tags, after))
        return findings

    # -- tags ------------------------------------------------------------------------------

    def _malformed(self, name: str, update: RefUpdate) -> Finding | None:
        """A tag that is not in the grammar but names a known artifact: a typo, refuse it."""
        artifact = tag_artifact_prefix(name)
        if artifact == name or not artifact:
            return None
        if self._known is None:  # every artifact named by a tag, before or after the push
            self._known = {p.artifact for p in map(parse_tag, self._names) if p is not None}
        if artifact not in self._known and not self._declared(artifact):
            return None
        if update.new is None:
            return None  # deleting a malformed tag only cleans up
        return Finding(name, *explain_malformed(name, artifact))

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

    def _artifact(
        self,
        artifact: str,
        tags: list[tuple[str, TagName, ObjectId]],
        after: Mapping[str, ObjectId],
    ) -> list[Finding]:
        """Check the pushed tags of one artifact against all its tags after the push."""
        prefix = artifact_to_tag(artifact)
        mine = sorted(
            (name, oid)
            for name, oid in after.items()
            if name.startswith(prefix)
            and name[len(prefix) : len(prefix) + 1] in ("@", "#")
            and (p := parse_tag(name)) is not None
            and p.artifact == artifact
        )
        refs = {ref.name: ref for ref in self.repo.read_tags(mine)}
        for name, _parsed, oid in tags:
            if name not in refs:  # pushed from an object id under another name
                refs[name] = self.repo.read_tags([(name, oid)])[0]
        registry = build_registry(refs.values())
        info = registry.artifacts.get(artifact)
        policy = self.catalog.policy()
        findings: list[Finding] = []
        for name, parsed, _oid in tags:
            ref = refs[name]
            refused = _object_problem(ref)
            if refused is not None:
                findings.append(refused)
                continue
            assert ref.tag is not None
            commit = ref.tag.target
            others = [r for r in refs.values() if r.name != name]
            findings.extend(_counter_reuse(name, parsed, others))
            if parsed.kind in (EventKind.REGISTRATION, EventKind.DEREGISTRATION):
                findings.extend(_version_conflicts(name, parsed, commit, others))
            if parsed.kind is EventKind.REGISTRATION and info is not None:
                live = [v.version for v in info.versions_at(commit) if v.active]
                if parsed.version in live and len(live) > 1:
                    findings.append(
                        Finding(
                            name,
                            f"commit {short(commit)} would hold {len(live)} active versions of "
                            f"{artifact} ({', '.join(live)})",
                            hint="deregister the other version first, or register another commit",
                        )
                    )
            if parsed.kind in (EventKind.ASSIGNMENT, EventKind.UNASSIGNMENT):
                assert parsed.stage is not None
                findings.extend(_stage_problems(name, parsed, commit, policy, others))
            for problem in self.catalog.commit_problems(commit):
                findings.append(
                    Finding(
                        name,
                        f"{ann.FILENAME} at commit {short(commit)} is invalid: {problem}",
                        hint="fix it in a new commit and tag that one",
                    )
                )
        return findings

    # -- branches --------------------------------------------------------------------------

    def _branch(self, ref: str, new: ObjectId) -> list[Finding]:
        """The ``artifacts.yaml`` files (and the policy) at a pushed branch tip must be valid."""
        commit = gitbin.resolve_commit(new, cwd=self.repo.cwd)
        if commit is None:
            return []  # not a commit: nothing of ours to check
        branch = ref[len(BRANCH_PREFIX) :]
        findings = [Finding(branch, str(p)) for p in self.catalog.commit_problems(commit)]
        findings.extend(Finding(branch, str(p)) for p in policy_problems_at(self.repo, commit))
        return findings


def staged_problems(repo: Repository) -> list[ann.FileProblem]:
    """Problems of the staged (index) ``artifacts.yaml`` files and policy file.

    Reads the index Git uses for this commit (``GIT_INDEX_FILE`` during
    ``git commit --only``), never the work tree.
    """
    listing = gitbin.run_git(["ls-files", "--stage", "-z"], cwd=repo.cwd).stdout
    staged: dict[str, ObjectId] = {}
    links: set[str] = set()
    for entry in listing.split("\0"):
        meta, tab, path = entry.partition("\t")
        fields = meta.split()
        if tab and len(fields) == 3 and fields[2] == "0" and not fields[0].startswith("16"):
            staged[path] = ObjectId(fields[1])
            if fields[0] == "120000":
                links.add(path)
    folders = {""}
    for path in staged:
        parts = path.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    problems: list[ann.FileProblem] = []
    policy = Policy()
    for file in (CONFIG_FILE, GTO_CONFIG_FILE):
        if file in links:
            problems.append(ann.link_problem(file))
            break
        if file in staged:
            policy, found = parse_policy(repo.blob(staged[file]) or b"", file)
            problems.extend(found)
            break
    for path, oid in sorted(staged.items()):
        if path in links and (path == ann.FILENAME or path.endswith("/" + ann.FILENAME)):
            problems.append(ann.link_problem(path))
        elif path == ann.FILENAME or path.endswith("/" + ann.FILENAME):
            parsed = ann.parse(
                repo.blob(oid) or b"",
                path,
                types=policy.types,
                exists=lambda p: p in staged or p in folders,
            )
            problems.extend(parsed.problems)
    return problems


def policy_problems_at(repo: Repository, commit: ObjectId) -> tuple[ann.FileProblem, ...]:
    """Problems of the policy file committed in ``commit`` (``.registry.yaml``, else ``.gto``)."""
    return policy_at(repo, commit)[1]


def _object_problem(ref: TagRef) -> Finding | None:
    if ref.problem is not None:
        return Finding(ref.name, ref.problem)
    if ref.tag is None:
        return Finding(
            ref.name,
            "lightweight tag: registry events must be annotated tags",
            hint=f"recreate it with: git tag -f -a -m MESSAGE '{ref.name}' COMMIT "
            "(or use git registry register/promote)",
        )
    if ref.tag.target_type != "commit":
        return Finding(ref.name, f"points at a {ref.tag.target_type}, not a commit")
    return None


def _peeled(ref: TagRef) -> ObjectId | None:
    if ref.tag is None or ref.tag.target_type != "commit":
        return None
    return ref.tag.target


def _counter_reuse(name: str, parsed: TagName, others: Iterable[TagRef]) -> list[Finding]:
    if parsed.counter is None:
        return []
    for other in others:
        theirs = parse_tag(other.name)
        if theirs is not None and theirs.counter == parsed.counter:
            return [
                Finding(
                    name,
                    f"counter #{parsed.counter} of {parsed.artifact} is already used by "
                    f"tag {other.name}",
                    hint="each #N is used once per artifact: let 'git registry promote' "
                    "pick the next counter",
                )
            ]
    return []


def _version_conflicts(
    name: str, parsed: TagName, commit: ObjectId, others: Iterable[TagRef]
) -> list[Finding]:
    registered_here = False
    findings: list[Finding] = []
    for other in others:
        theirs = parse_tag(other.name)
        if theirs is None or theirs.version != parsed.version:
            continue
        if theirs.kind not in (EventKind.REGISTRATION, EventKind.DEREGISTRATION):
            continue
        at = _peeled(other)
        if at is None:
            continue
        if at != commit:
            if findings:
                continue  # one conflict is enough to say
            findings.append(
                Finding(
                    name,
                    f"{parsed.version} of {parsed.artifact} is already registered at commit "
                    f"{short(at)} (tag {other.name}); this tag points at {short(commit)}",
                    hint="a version names one commit: register a new version instead",
                )
            )
        elif theirs.kind is EventKind.REGISTRATION:
            registered_here = True
    if parsed.kind is EventKind.DEREGISTRATION and not registered_here and not findings:
        findings.append(
            Finding(
                name,
                f"deregisters {parsed.version} of {parsed.artifact}, which is not registered "
                f"at commit {short(commit)}",
                hint="push the registration tag first (or with it)",
            )
        )
    return findings


def _stage_problems(
    name: str, parsed: TagName, commit: ObjectId, policy: Policy, others: Iterable[TagRef]
) -> list[Finding]:
    findings = []
    if policy.stages is not None and parsed.stage not in policy.stages:
        findings.append(
            Finding(
                name,
                f"stage '{parsed.stage}' is not allowed by {policy.file}",
                hint=f"allowed stages: {', '.join(policy.stages) or '(none)'}",
            )
        )
    registered = any(
        (p := parse_tag(o.name)) is not None
        and p.kind is EventKind.REGISTRATION
        and _peeled(o) == commit
        for o in others
    )
    if not registered:
        findings.append(
            Finding(
                name,
                f"no version of {parsed.artifact} is registered at commit {short(commit)}",
                hint="push the version's registration tag first (or with it)",
            )
        )
    return findings


def explain_malformed(name: str, artifact: str) -> tuple[str, str | None]:
    """Why ``name`` is not a registry tag of ``artifact``, and what was probably meant."""
    base = name
    cut = min(i for i in (base.find("@"), base.find("#")) if i >= 0)
    rest = base[cut:]
    try:
        check_artifact_name(artifact)
        if rest.startswith("@"):
            body, _, counter = rest[1:].partition("#")
            version = body.removesuffix("!")
            if version != "deprecated":
                if not version.startswith("v") and _looks_semver("v" + version):
                    fixed = base[:cut] + "@v" + rest[1:]
                    return (
                        f"'{version}' is not a version",
                        f"versions are v + SemVer: did you mean {fixed}?",
                    )
                check_version(version)
        else:
            body = rest[1:]
            stage, _, counter = body.partition("#")
            check_stage(stage.removesuffix("!"))
        if counter and not counter.isdigit():
            return f"'#{counter}' is not a counter", "a counter is a number: NAME#STAGE#3"
    except RegistryError as exc:
        return f"not a valid registry tag of {artifact}: {exc.message}", exc.hint
    return (
        f"not a valid registry tag of {artifact}",
        "registry tags are NAME@vX.Y.Z, NAME@vX.Y.Z!, NAME#STAGE#N, NAME#STAGE!#N "
        "or NAME@deprecated",
    )


def _looks_semver(version: str) -> bool:
    try:
        check_version(version)
    except RegistryError:
        return False
    return True
