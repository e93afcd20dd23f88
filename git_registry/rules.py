"""The rulebook: every registry rule, written once, with its one message.

A rule says whether a tag breaks it, and why. The same functions decide for
every caller:

- the registry state (:mod:`git_registry.state`) applies the rules about one tag
  and about the order of an artifact's tags while it reads them: a tag that
  cannot be an event (malformed object, odd tagger time, unreadable counter) is
  left out, and every broken rule becomes a :class:`Problem` of the registry;
- :func:`held_stage_problems` adds the policy's stage rule for the stages versions
  hold, and :func:`event_problems` the tagged commit's ``artifacts.yaml`` rule for
  registrations and assignments: an event that cancels something (unassignment,
  deregistration, deprecation) is never blocked by either;
- the promotion rules (``after``, ``branches``, ``signed``, ``signers``) are in
  :mod:`git_registry.promotion`, the ``requires`` rule of ``artifacts.yaml`` in
  :mod:`git_registry.requirements`;
- :mod:`git_registry.rulebook` applies them all: ``git registry check`` reports its
  ``evaluate`` of the whole registry; a write is refused, and a hook refuses a push,
  with its ``problems_of_new_tags``: what the registry with the new tags has that it
  did not have without them.

So ``check`` reports what the server hook refuses when the tags are pushed (for the
promotion rules: what decides each stage's holder now), and every tag a write creates
passes the hooks.

Pure: no Git, no I/O, no clock (callers pass ``now``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId, Signature, short
from git_registry.grammar import (
    EventKind,
    check_artifact_name,
    check_stage,
    check_version,
)


class Rule(enum.Enum):
    """The registry's rules; the value is the rule's name in ``check --json``."""

    __hash__ = object.__hash__

    TAG_OBJECT = "tag-object"
    """The tag's object is missing, malformed, lightweight or not on a commit."""
    TAGGER_TIME = "tagger-time"
    """The tagger time or zone is out of range, or far in the future."""
    COUNTER = "counter"
    """The ``#N`` counter has too many digits to be read, or leaves no room after it."""
    MALFORMED_NAME = "malformed-name"
    """A tag of a known artifact whose name is outside the grammar (a typo)."""
    VERSION_TWO_COMMITS = "version-two-commits"
    """A version names one commit: its tags may not point at another."""
    NEVER_REGISTERED = "never-registered"
    """A deregistration of a version that is not registered (yet) at that time."""
    NO_VERSION = "no-version"
    """A stage tag on a commit where the artifact has no registered version."""
    BACKDATED = "backdated"
    """An event dated before the registration of its version."""
    COUNTER_REUSED = "counter-reused"
    """Each ``#N`` is used once per artifact."""
    SHARED_COMMIT = "shared-commit"
    """One commit holds one active version of an artifact."""
    STAGE_NOT_ALLOWED = "stage-not-allowed"
    """A version holds a stage outside the policy's ``stages`` (through this assignment)."""
    INVALID_ANNOTATIONS = "invalid-annotations"
    """A registration or assignment of a commit whose ``artifacts.yaml`` is invalid."""
    PROMOTION_AFTER = "promotion-after"
    """An assignment of a version that has not held the stages its stage comes after."""
    PROMOTION_BRANCHES = "promotion-branches"
    """An assignment of a version whose commit is on none of the stage's branches."""
    PROMOTION_SIGNED = "promotion-signed"
    """A tag of a signed stage without a signature that verifies against allowed_signers."""
    PROMOTION_SIGNERS = "promotion-signers"
    """A tag of a signed stage signed by a principal outside the stage's ``signers``."""
    REQUIRES = "requires"
    """An assignment of a version whose ``artifacts.yaml`` entry ``requires`` artifacts
    that have no version in that stage (see :mod:`git_registry.requirements`)."""
    GTO_COMPAT = "gto-compat"
    """A state GTO 1.10.1 cannot read, or reads otherwise (a warning: see
    :mod:`git_registry.gtocompat`)."""


WARNING_RULES = frozenset((Rule.GTO_COMPAT,))
"""Rules whose findings are warnings: ``check`` lists them and exits 0 for them (1
with ``--gto``); hooks never refuse a push for them; a write asks for ``--force``."""

CONFLICT_RULES = frozenset((Rule.COUNTER_REUSED, Rule.VERSION_TWO_COMMITS))
"""Rules that two pushes, each fine alone, can break together; adding tags never
mends them. The server re-checks these while Git holds the ref locks."""

GATED = (EventKind.REGISTRATION, EventKind.ASSIGNMENT)
"""The events that the policy and the commit's ``artifacts.yaml`` may refuse."""

FUTURE_SKEW = 24 * 60 * 60
"""How far ahead of the clock a tagger time may be (seconds): clocks drift, but an
event dated days ahead would stay "newest" and win every tie until then."""
MAX_TZ_MINUTES = 24 * 60 - 1
"""Tagger zones from -23:59 to +23:59 (Git accepts +2400 or +9959; no clock shows them)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """A tag (or artifact) that breaks a rule, and why, in one line."""

    message: str
    tag: str | None = None
    artifact: str | None = None
    rule: Rule | None = None
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.tag}: {self.message}" if self.tag else self.message

    @property
    def key(self) -> tuple[Rule | None, str | None, str | None]:
        """What identifies the problem when a registry is compared before and after new
        tags (the message may name other tags, which the new tags change)."""
        return (self.rule, self.tag, self.artifact if self.tag is None else None)


# -- rules about one tag ----------------------------------------------------------------


def tag_object(
    name: str,
    artifact: str,
    target: ObjectId | None,
    target_type: str,
    problem: str | None,
) -> Problem | None:
    """A registry event is an annotated tag whose object is well formed and peels to a
    commit; ``problem`` is why its object could not be read (see the repository)."""
    if problem is not None:
        return Problem(problem, name, artifact, Rule.TAG_OBJECT)
    if target is None:
        return Problem(
            "lightweight tag ignored: registry events are annotated tags",
            name,
            artifact,
            Rule.TAG_OBJECT,
            hint=f"recreate it with: git tag -f -a -m MESSAGE '{name}' COMMIT "
            "(or use git registry register/promote)",
        )
    if target_type != "commit":
        return Problem(
            f"points at a {target_type}, not a commit: ignored", name, artifact, Rule.TAG_OBJECT
        )
    return None


def tagger_time(name: str, artifact: str, tagger: Signature, now: int) -> Problem | None:
    """A tagger time is between 1970 and a day from now, in a zone within ±23:59."""
    time, zone = tagger.time, tagger.tz_offset
    if 0 <= time <= now + FUTURE_SKEW and -MAX_TZ_MINUTES <= zone <= MAX_TZ_MINUTES:
        return None
    if not -MAX_TZ_MINUTES <= zone <= MAX_TZ_MINUTES:
        what = f"tagger zone {_zone(zone)} is out of range (-2359 to +2359)"
    elif time < 0:
        what = f"tagger time {time} is before 1970"
    else:
        what = f"tagger time {time} is in the future (the clock says {now})"
    return Problem(
        f"{what}: ignored",
        name,
        artifact,
        Rule.TAGGER_TIME,
        hint="registry events are ordered by tagger time: recreate the tag with the real time",
    )


def _zone(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hours:02d}{rest:02d}"


def artifact_name_problem(artifact: str) -> str | None:
    """Why the grammar refuses ``artifact`` as a name (:func:`check_artifact_name`), or
    None. GTO's tag grammar lets a folder have an empty part (``models/cv/=seg@v1.0.0``,
    the artifact ``models/cv/:seg``, a lookalike of ``models/cv:seg``): no command can
    name such an artifact, so its tags are a problem, not events."""
    try:
        check_artifact_name(artifact)
    except RegistryError as exc:
        return exc.message
    return None


def bad_artifact_name(name: str, artifact: str, why: str) -> Problem:
    """A registry tag of an artifact the grammar refuses (:func:`artifact_name_problem`):
    ignored."""
    return Problem(
        f"{why}: ignored",
        name,
        artifact,
        Rule.MALFORMED_NAME,
        hint="delete the tag (git tag -d) and name the artifact as in 'path/to:model'",
    )


def bad_counter(name: str, artifact: str) -> Problem:
    """A counter longer than the grammar's limit (:data:`~git_registry.grammar.BAD_COUNTER`)."""
    from git_registry.grammar import MAX_COUNTER_DIGITS

    return Problem(
        f"its counter has more than {MAX_COUNTER_DIGITS} digits: ignored",
        name,
        artifact,
        Rule.COUNTER,
        hint="counters count an artifact's events: let git registry pick the next one",
    )


def counter_without_room(name: str, artifact: str) -> Problem:
    """A counter so large that the counters after it would not fit: reported, and left
    out when the next counter is chosen (so writes, and rollbacks, go on)."""
    from git_registry.grammar import COUNTER_ROOM

    return Problem(
        f"its counter is {COUNTER_ROOM:,} or more: no room for the counters after it",
        name,
        artifact,
        Rule.COUNTER,
        hint="counters count an artifact's events: let git registry pick the next one",
    )


# -- rules about an artifact's tags in order (applied by the state) ----------------------


def version_two_commits(
    name: str, artifact: str, version: str, commit: ObjectId, first: str, first_commit: ObjectId
) -> Problem:
    """A later tag of ``version`` on another commit than its first tag ``first``."""
    return Problem(
        f"{version} of {artifact} is already registered at commit {short(first_commit)} "
        f"(tag {first}); this tag points at {short(commit)}: ignored",
        name,
        artifact,
        Rule.VERSION_TWO_COMMITS,
        hint="a version names one commit: register a new version instead",
    )


def never_registered(name: str, artifact: str, version: str) -> Problem:
    """A deregistration older than any registration of its version."""
    return Problem(
        f"deregisters {version}, which is not registered at that time: ignored",
        name,
        artifact,
        Rule.NEVER_REGISTERED,
        hint="a deregistration follows the version's registration",
    )


def no_version(name: str, artifact: str, commit: ObjectId) -> Problem:
    """A stage tag on a commit where no version of the artifact is registered."""
    return Problem(
        f"points at commit {short(commit)}, where {artifact} has no registered version: ignored",
        name,
        artifact,
        Rule.NO_VERSION,
        hint="register a version at that commit first (git registry promote --ref does both)",
    )


def backdated(
    name: str, artifact: str, version: str, tagger: Signature, registration: str, since: int
) -> Problem | None:
    """An event of ``version`` is not dated before the version's first registration."""
    if tagger.time >= since:
        return None
    return Problem(
        f"dated {since - tagger.time} s before {version} was registered (tag {registration})",
        name,
        artifact,
        Rule.BACKDATED,
        hint="an event of a version happens after its registration: recreate the tag now",
    )


def counter_reused(name: str, artifact: str, counter: int, first: str) -> Problem:
    """A counter already used by an earlier tag ``first`` of the artifact."""
    return Problem(
        f"counter #{counter} of {artifact} is already used by tag {first}",
        name,
        artifact,
        Rule.COUNTER_REUSED,
        hint="each #N is used once per artifact: let git registry pick the next counter",
    )


def shared_commit(name: str, artifact: str, commit: ObjectId, live: Sequence[str]) -> Problem:
    """A registration that makes ``commit`` hold several active versions."""
    return Problem(
        f"commit {short(commit)} holds {len(live)} active versions of {artifact} "
        f"({', '.join(live)}); stage tags on it go to the newest registration",
        name,
        artifact,
        Rule.SHARED_COMMIT,
        hint=f"deregister the other version first: git registry deregister {artifact}@{live[0]}",
    )


# -- rules that need the policy and the tagged commit ------------------------------------


# Start-up: typing is not imported at run time; the protocols are for mypy only (it
# reads this name as typing.TYPE_CHECKING).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class EventLike(Protocol):
        """What the rules read of an event (a ``state.Event`` has it all)."""

        @property
        def tag(self) -> str: ...
        @property
        def kind(self) -> EventKind: ...
        @property
        def artifact(self) -> str: ...
        @property
        def stage(self) -> str | None: ...
        @property
        def commit(self) -> ObjectId: ...
        @property
        def version(self) -> str | None: ...
        @property
        def order(self) -> tuple[int, int, int, str]: ...
        @property
        def oid(self) -> ObjectId: ...
        @property
        def message(self) -> str: ...


FileProblems = Callable[[ObjectId, str], "Sequence[FileProblem]"]
"""The problems, in a commit, of the ``artifacts.yaml`` that declares an artifact (or
would: the root file for a plain name, ``a/b/artifacts.yaml`` for ``a/b:NAME``); the
catalog's :meth:`~git_registry.catalog.Catalog.declaring_problems`."""

if TYPE_CHECKING:
    from git_registry.annotations import FileProblem
    from git_registry.policy import Policy

    class VerdictLike(Protocol):
        """What the rules read of a signature's verification (``signing.Verdict``)."""

        @property
        def status(self) -> str: ...
        @property
        def principal(self) -> str | None: ...
        @property
        def key(self) -> str | None: ...
        @property
        def detail(self) -> str: ...


@dataclass(frozen=True, slots=True)
class KnownVerdict:
    """A signature verdict known without asking Git (see ``signing.Verdict``)."""

    status: str
    principal: str | None = None
    key: str | None = None
    detail: str = ""


NOT_SIGNED = KnownVerdict("unsigned", detail="no signature")
"""The verdict of a tag written without a signature."""


Reachable = Callable[[ObjectId, tuple[str, ...]], "str | None"]
"""The branch (matching one of the patterns) whose tip contains a commit, or None; ""
if it cannot be told here (a shallow clone: the server judges it)."""
Verify = Callable[["EventLike"], "VerdictLike"]
"""The verification of an event's tag signature against the policy's allowed signers."""
Requires = Callable[[ObjectId, str], "Sequence[str]"]
"""The artifacts that an artifact's entry in a commit's ``artifacts.yaml`` requires."""
ArtifactOf = Callable[[str], "ArtifactLike | None"]
"""An artifact as the registry being judged has it (None: no tag names it)."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules read beyond the tags: the policy, and the answers only Git has
    (the tagged commits' files, reachability, signatures), as callbacks."""

    policy: Policy
    file_problems: FileProblems
    reachable: Reachable | None = None
    """None: no branch rule can be judged (a rule with ``branches`` then refuses)."""
    verify: Verify | None = None
    """None: no signature can be verified (a signed stage then refuses)."""
    signatures: bool = True
    """False: the signature rules are not judged (a write checks the other rules
    before it asks for a signature, then every rule with the signed tags)."""
    requires: Requires | None = None
    """None: the ``requires`` rule is not judged."""
    artifact_of: ArtifactOf | None = None
    """The artifacts that are not in the registry judged (a write or a push reads only
    the artifacts it changes), for the ``requires`` rule."""


def stage_not_allowed(event: EventLike, facts: Facts) -> Problem | None:
    """An assignment is to a stage in the policy's ``stages`` (if it has that list)."""
    stages, policy_file = facts.policy.stages, facts.policy.file
    if stages is None or event.kind is not EventKind.ASSIGNMENT or event.stage in stages:
        return None
    return Problem(
        f"stage '{event.stage}' is not allowed by {policy_file} "
        f"(allowed: {', '.join(stages) or 'none'})",
        event.tag,
        event.artifact,
        Rule.STAGE_NOT_ALLOWED,
        hint=f"add it to 'stages' in {policy_file}, or promote to an allowed stage",
    )


def invalid_annotations(event: EventLike, problems: Sequence[FileProblem]) -> Problem | None:
    """A registration or assignment tags a commit where the ``artifacts.yaml`` that
    declares its artifact (``problems``: that file's) is valid. Only that file: a
    broken file of another folder blocks none of this artifact's writes."""
    if event.kind not in GATED or not problems:
        return None
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Problem(
        f"{first.file} at commit {short(event.commit)} is invalid: {first}{more}",
        event.tag,
        event.artifact,
        Rule.INVALID_ANNOTATIONS,
        hint=f"fix {first.file} in a new commit and tag that one; "
        "'git registry check' lists every problem",
    )


def event_problems(event: EventLike, facts: Facts) -> list[Problem]:
    """The tagged commit's rule for one event (registrations and assignments only: the
    commit's files are not even read for an event that cancels something)."""
    if event.kind not in GATED:
        return []
    found = invalid_annotations(event, facts.file_problems(event.commit, event.artifact))
    return [] if found is None else [found]


def held_stage_problems(holds: Iterable[EventLike], facts: Facts) -> list[Problem]:
    """The policy's stage rule, for the assignments through which versions hold their
    stages now (``holds``). A stage the policy no longer lists is a problem while it is
    held, and stops being one once it is taken back (an unassignment, which is always
    possible): an old, superseded assignment is history, not a problem, so a team can
    narrow its stages without rewriting its tags."""
    if facts.policy.stages is None:
        return []
    found = (stage_not_allowed(event, facts) for event in holds)
    return [p for p in found if p is not None]


if TYPE_CHECKING:

    class RegistryLike(Protocol):
        """What :func:`problems_of_new_tags` reads of a registry (``state.Registry``)."""

        @property
        def problems(self) -> Sequence[Problem]: ...
        @property
        def artifacts(self) -> Mapping[str, ArtifactLike]: ...
        def holds(self) -> Sequence[EventLike]: ...
        def event(self, tag: str) -> EventLike | None: ...

    class HoldLike(Protocol):
        @property
        def assignment(self) -> EventLike: ...
        @property
        def version(self) -> str: ...

    class ArtifactLike(Protocol):
        @property
        def events(self) -> Sequence[EventLike]: ...
        @property
        def stages(self) -> Mapping[str, Sequence[HoldLike]]: ...
        @property
        def deprecated(self) -> bool: ...


def new_problems(before: Iterable[Problem], after: Iterable[Problem]) -> list[Problem]:
    """The problems of ``after`` that ``before`` did not have (compared by :attr:`Problem.key`)."""
    seen = {p.key for p in before}
    return [p for p in after if p.key not in seen]


# -- names outside the grammar ------------------------------------------------------------


def malformed_name(name: str, artifact: str) -> Problem:
    """A tag outside the grammar whose part before ``@``/``#`` names a known artifact:
    a typo that would otherwise be silently ignored; says what was probably meant."""
    message, hint = _explain_malformed(name, artifact)
    return Problem(message, name, artifact, Rule.MALFORMED_NAME, hint)


def _explain_malformed(name: str, artifact: str) -> tuple[str, str | None]:
    cut = min(i for i in (name.find("@"), name.find("#")) if i >= 0)
    rest = name[cut:]
    try:
        check_artifact_name(artifact)
        if rest.startswith("@"):
            body, _, counter = rest[1:].partition("#")
            version = body.removesuffix("!")
            if version != "deprecated":
                if not version.startswith("v") and _is_version("v" + version):
                    fixed = name[:cut] + "@v" + rest[1:]
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


def _is_version(version: str) -> bool:
    try:
        check_version(version)
    except RegistryError:
        return False
    return True
