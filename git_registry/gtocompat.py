"""Where GTO 1.10.1 reads a registry differently from us, or cannot read it at all
(issue 19): the registry's ``gto-compat`` findings.

GTO builds its state from every tag at once (``gto/registry.py``, ``get_state``):
first the deprecations, then every registration and deregistration, then the stage
tags. A stage tag belongs to "the" version at its commit (``gto/tag.py``,
``index_tag``: ``find_version(commit_hexsha=...)``), and ``find_version`` raises
``ManyVersions`` ("Multiple versions are not allowed on the same Git commit") when
the commit holds two version names with tags, deregistered ones included
(``gto/base.py``). The same lookup runs for every artifact the root ``artifacts.yaml``
at HEAD declares (``gto/index.py``, ``EnrichmentManager.update_state``). Either way
``gto show``, ``history`` and ``check-ref`` fail on the whole repository.

GTO also counts the commits it reads ``artifacts.yaml`` from as events of the artifact
(its "enrichments", dated by the commit's committer time): each version's commit, and
HEAD if its root ``artifacts.yaml`` declares the artifact. An artifact whose newest
event is ``@deprecated`` for us is active again for GTO once such a commit is newer
than the deprecation (``Artifact.is_active``: the newest of all its events).

Also found: a root ``artifacts.yaml`` value GTO's YAML 1.2 reader takes for a date or
a number (GTO then refuses the file: :func:`yaml12_problem`); stage tags of one second
that GTO orders by name, not by counter; an artifact only a sub-folder's
``artifacts.yaml`` declares (GTO reads the root file only); ``.gto`` settings that
differ from the ``.registry.yaml`` we read, or that GTO refuses; ``NAME@created`` tags.
The README's "Relation to GTO" lists each, with the reason we read it as we do.

These findings are warnings: they never make a hook refuse a push. A write that
would add one is refused unless ``--force`` (see :mod:`git_registry.writing`), and
``check`` lists them (exit 1 only with ``--gto``).

Pure: what only Git knows (HEAD, commit times) comes in through :class:`GtoView`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from git_registry.gitvalues import ObjectId, short
from git_registry.grammar import EventKind
from git_registry.rules import Problem, Rule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.annotations import FileProblem
    from git_registry.policy import Policy
    from git_registry.state import ArtifactInfo, Event, Registry
    from git_registry.yamlsafe import Node

GTO = "GTO 1.10.1"
MANY_VERSIONS = "'Multiple versions are not allowed on the same Git commit'"
FAILS = f"gto show, history and check-ref fail on the whole repository ({MANY_VERSIONS})"
_DIRECT = (EventKind.REGISTRATION, EventKind.DEREGISTRATION)
_STAGE = (EventKind.ASSIGNMENT, EventKind.UNASSIGNMENT)


@dataclass(frozen=True, slots=True)
class GtoView:
    """What GTO reads besides the tags: HEAD and its root ``artifacts.yaml``."""

    head: ObjectId | None = None
    declared: frozenset[str] = frozenset()
    """The artifacts the root ``artifacts.yaml`` at HEAD declares (GTO's index)."""
    commit_time: Callable[[ObjectId], int | None] | None = None
    """A commit's committer time (None: the deprecation reading is not compared)."""
    folders: frozenset[str] = frozenset()
    """The artifacts a sub-folder's ``artifacts.yaml`` at HEAD declares (``a/b:NAME``):
    GTO reads only the root file."""
    index_problem: Callable[[ObjectId], str | None] | None = None
    """Why GTO cannot read the root ``artifacts.yaml`` of a commit (see
    :func:`yaml12_problem`), or None."""
    settings: tuple[str, ...] = ()
    """Where GTO's settings (``.gto``) say otherwise than what we read (see
    :func:`settings_differences`)."""


def findings(registry: Registry, view: GtoView | None = None) -> list[Problem]:
    """Every ``gto-compat`` finding of ``registry``, artifact by artifact."""
    view = view or GtoView()
    found: list[Problem] = []
    for name in sorted(registry.artifacts):
        info = registry.artifacts[name]
        found.extend(shared_commits(info, view))
        found.extend(same_second_stage_events(info))
        differs = deprecation_differs(info, view)
        if differs is not None:
            found.append(differs)
    for said in view.settings:
        found.append(Problem(said, None, None, Rule.GTO_COMPAT, hint=_SETTINGS_HINT))
    if view.index_problem is not None:
        found.extend(_index_findings(registry, view, view.index_problem))
    for name in sorted(view.folders - set(registry.artifacts)):
        found.append(
            Problem(
                f"{GTO} does not list {name}: it reads only the root artifacts.yaml, and "
                f"{name} has no tags yet (git registry show lists it)",
                None,
                name,
                Rule.GTO_COMPAT,
                hint=f"GTO lists it once it has a version (git registry register {name})",
            )
        )
    return found


def _versions_by_commit(events: Iterable[Event]) -> dict[ObjectId, dict[str, Event]]:
    """Per commit, each version name with a registration or deregistration there, and
    its first such tag (events in our order)."""
    by_commit: dict[ObjectId, dict[str, Event]] = {}
    for event in events:
        if event.kind in _DIRECT and event.version is not None:
            by_commit.setdefault(event.commit, {}).setdefault(event.version, event)
    return by_commit


def _named(info: ArtifactInfo, versions: Sequence[str]) -> str:
    """``v0.0.1 (deregistered) and v0.0.2``."""
    said = []
    for version in versions:
        known = info.version(version)
        said.append(f"{version} (deregistered)" if known and not known.active else version)
    return " and ".join(said) if len(said) == 2 else ", ".join(said)


def _deregistered(info: ArtifactInfo, version: str) -> str:
    known = info.version(version)
    return ", deregistered" if known is not None and not known.active else ""


def shared_commits(info: ArtifactInfo, view: GtoView) -> list[Problem]:
    """A commit holding several versions of the artifact (one of them deregistered: the
    rulebook refuses two active ones): GTO allows one version per commit. Found on the
    registration that adds each later version, on every stage tag of the commit (GTO
    fails reading it), and on the artifact while HEAD is the commit and declares it."""
    found: list[Problem] = []
    name = info.name
    for commit, versions in _versions_by_commit(info.events).items():
        if len(versions) < 2:
            continue
        names = list(versions)
        stage_tags = [e for e in info.events if e.kind in _STAGE and e.commit == commit]
        at_head = commit == view.head and name in view.declared
        if stage_tags or at_head:
            when = f", so {FAILS} now"
        else:
            when = (
                f": {FAILS} as soon as a stage tag points at {short(commit)}, or HEAD is "
                f"{short(commit)} and its artifacts.yaml declares {name}"
            )
        for version in names[1:]:
            first = versions[names[0]]
            found.append(
                Problem(
                    f"{GTO}: commit {short(commit)} already holds {name} {names[0]} "
                    f"(tag {first.tag}{_deregistered(info, names[0])}), and {GTO} allows "
                    f"one version per commit{when}",
                    versions[version].tag,
                    name,
                    Rule.GTO_COMPAT,
                    hint=(
                        f"re-register {names[0]} there instead (git registry register "
                        f"{name} {short(commit)} --version {names[0]}), or register a new "
                        "commit; --force creates the tag anyway"
                    ),
                )
            )
        for event in stage_tags:
            found.append(
                Problem(
                    f"{GTO} cannot tell which version this tag is about: commit "
                    f"{short(commit)} holds {name} {_named(info, names)}, so {FAILS}",
                    event.tag,
                    name,
                    Rule.GTO_COMPAT,
                    hint=(
                        "delete the tags of the extra version (git registry deregister "
                        f"{name}@{names[-1]} --delete) to let GTO read the repository; "
                        "--force creates such a tag anyway"
                    ),
                )
            )
        if at_head and not stage_tags:
            found.append(
                Problem(
                    f"{GTO}: HEAD ({short(commit)}) declares {name} in artifacts.yaml and "
                    f"holds {name} {_named(info, names)}, so {FAILS}",
                    None,
                    name,
                    Rule.GTO_COMPAT,
                    hint="commit something (GTO then reads the new HEAD) or delete the "
                    f"extra version's tags (git registry deregister {name}@{names[-1]} "
                    "--delete)",
                )
            )
    return found


def same_second_stage_events(info: ArtifactInfo) -> list[Problem]:
    """Stage tags of one stage in the same second that GTO orders otherwise: it sorts a
    tie by tag name (``#10`` before ``#9``), we by counter (SPEC 3.2), so the stage's
    holder may differ. Found on the tag we count as the newer one."""
    found: list[Problem] = []
    greatest: dict[tuple[str | None, int], Event] = {}  # the greatest name of each second
    for later in info.events:  # in our order
        if later.kind not in _STAGE:
            continue
        key = (later.stage, later.tagger.time)
        earlier = greatest.get(key)
        if earlier is None or later.tag > earlier.tag:
            greatest[key] = later
        else:
            found.append(
                Problem(
                    f"{GTO} orders it before {earlier.tag} (the same second: GTO sorts "
                    f"by name, git registry by counter), so GTO may show another holder "
                    f"of {later.stage}",
                    later.tag,
                    info.name,
                    Rule.GTO_COMPAT,
                    hint=f"a new event of {later.stage} in a later second makes both "
                    f"tools agree (git registry promote {info.name}@{later.version} "
                    f"{later.stage} --force)",
                )
            )
    return found


def deprecation_differs(info: ArtifactInfo, view: GtoView) -> Problem | None:
    """A deprecated artifact that GTO shows as active: an event of the same second as
    the deprecation, or a commit GTO reads ``artifacts.yaml`` from (a version's, or
    HEAD if it declares the artifact) committed at or after it."""
    deprecation = info.deprecation
    if deprecation is None:
        return None
    since = deprecation.tagger.time
    why = None
    for event in info.events:
        if event.kind is not EventKind.DEPRECATION and event.tagger.time >= since:
            why = f"{event.tag} is of the same second, and GTO counts it as newer"
            break
    if why is None and view.commit_time is not None:
        commits = [
            (v.commit, f"the commit of {v.version} ({short(v.commit)})") for v in info.versions
        ]
        if view.head is not None and info.name in view.declared:
            head = f"HEAD ({short(view.head)}), whose artifacts.yaml declares {info.name},"
            commits.append((view.head, head))
        for commit, what in commits:
            when = view.commit_time(commit)
            if when is not None and when >= since:
                why = f"{what} is committed after the deprecation"
                break
    if why is None:
        return None
    return Problem(
        f"{GTO} shows {info.name} as active, git registry as deprecated "
        f"({deprecation.tag}): {why} (GTO counts the commits it reads artifacts.yaml "
        "from as events)",
        None,
        info.name,
        Rule.GTO_COMPAT,
        hint=(
            f"retire it in both tools by removing it from artifacts.yaml (git registry "
            f"remove {info.name} --commit), or re-activate it in both with a new event"
        ),
    )


CORRUPTED = "'artifacts.yaml file doesn't conform to GTO format'"

_STRING_FIELDS = ("path", "type", "description")


def yaml12_problem(data: bytes) -> str | None:
    """Why GTO 1.10.1 cannot read this root ``artifacts.yaml``, where we can: a string
    field (``path``, ``type``, ``description``, a label) written plain that YAML 1.2
    reads as a date, a number or a boolean (GTO's pydantic model then refuses the file,
    and ``gto show``, ``history`` and ``check-ref`` fail). None if there is no such value
    (a file we cannot read is our own problem, reported by the validator)."""
    from git_registry.yamlsafe import yaml12_not_string

    for name, entry in _mapping(data):
        if name.text is not None and isinstance(name.value, str) and yaml12_not_string(name.text):
            return (
                f"artifacts.yaml:{name.line}:{name.column}: the name '{name.text}' is not a "
                "string for GTO's YAML 1.2 reader (quote it)"
            )
        if entry.kind != "map":
            continue
        for key, value in entry.value:
            items = value.value if key.value == "labels" and value.kind == "seq" else (value,)
            if key.value not in (*_STRING_FIELDS, "labels"):
                continue
            for item in items:
                text = item.text
                if (
                    item.kind == "scalar"
                    and isinstance(item.value, str)
                    and text is not None
                    and yaml12_not_string(text)
                ):
                    return (
                        f"artifacts.yaml:{item.line}:{item.column}: {name.value}'s "
                        f"{key.value} '{text}' is not a string for GTO's YAML 1.2 reader "
                        "(quote it)"
                    )
    return None


def _index_findings(
    registry: Registry, view: GtoView, problem_at: Callable[[ObjectId], str | None]
) -> list[Problem]:
    """GTO reads the root ``artifacts.yaml`` of HEAD and of every version's commit: one
    it cannot read makes it fail on the whole repository. Found on HEAD (no tag), and on
    the first registration of each version at such a commit."""
    found: list[Problem] = []
    if view.head is not None:
        why = problem_at(view.head)
        if why is not None:
            found.append(
                Problem(
                    f"{GTO} cannot read artifacts.yaml at HEAD ({short(view.head)}): {why}, so "
                    f"gto show, history and check-ref fail on the whole repository ({CORRUPTED})",
                    None,
                    None,
                    Rule.GTO_COMPAT,
                    hint="quote the value in a new commit",
                )
            )
    for name in sorted(registry.artifacts):
        info = registry.artifacts[name]
        for commit, versions in _versions_by_commit(info.events).items():
            why = problem_at(commit)
            if why is None:
                continue
            for event in versions.values():
                found.append(
                    Problem(
                        f"{GTO} cannot read artifacts.yaml at commit {short(commit)}: {why}, "
                        f"so gto show, history and check-ref fail on the whole repository "
                        f"({CORRUPTED}) while a version points at it",
                        event.tag,
                        name,
                        Rule.GTO_COMPAT,
                        hint="quote the value in a new commit and register that one; "
                        "--force creates the tag anyway",
                    )
                )
    return found


_SETTINGS_HINT = "make .gto and .registry.yaml say the same, or remove .gto's setting"


def settings_differences(
    gto: Policy | None,
    index: str | None,
    refused: Sequence[FileProblem],
    ours: Policy,
) -> tuple[str, ...]:
    """Where GTO 1.10.1, reading ``.gto`` (``gto``: its policy, None if there is none or
    it is broken; ``index``: its ``index`` setting; ``refused``: why GTO refuses it),
    would allow or read otherwise than we do with ``ours`` (``.registry.yaml`` wins over
    ``.gto`` for us; GTO never reads it)."""
    said = []
    if refused and ours.file != ".gto":  # else check reports them as our policy's errors
        said.append(
            f"{GTO} refuses .gto ({refused[0]}), so every gto command fails "
            f"('Wrong config file'); git registry reads {ours.file or 'no policy'}"
        )
    if index is not None and index != "artifacts.yaml":
        said.append(
            f"{GTO} reads the annotations from {index} (.gto: index), git registry from "
            "artifacts.yaml files: the two tools list other artifacts"
        )
    if gto is not None and ours.file is not None and ours.file != gto.file:
        for key, theirs, mine, command in (
            ("stages", gto.stages, ours.stages, "gto assign"),
            ("types", gto.types, ours.types, "gto annotate"),
        ):
            if theirs != mine:
                allow = ", ".join(theirs) if theirs is not None else "any"
                ours_allow = ", ".join(mine) if mine is not None else "any"
                said.append(
                    f"{GTO} allows the {key} of .gto ({allow or 'none'}), git registry those "
                    f"of {ours.file} ({ours_allow or 'none'}): {command} accepts or refuses "
                    "others"
                )
    return tuple(said)


def gto_index_setting(data: bytes) -> str | None:
    """``.gto``'s ``index`` setting (in any case, the first), if it is a string."""
    for key, value in _mapping(data):
        if isinstance(key.value, str) and key.value.lower() == "index":
            return value.value if isinstance(value.value, str) else None
    return None


_CREATED = re.compile(
    r"(?:[a-zA-Z0-9_./-]+=)?[a-zA-Z0-9](?:[a-zA-Z0-9_/-]*[a-zA-Z0-9])?@created(?:#[0-9]+)?"
)


def created_tags(names: Iterable[str]) -> list[Problem]:
    """Tags GTO's grammar reads as ``NAME@created`` (an event it names but never writes):
    GTO 1.10.1 then fails on every command (its tag search finds no action for them,
    ``gto/tag.py``, ``find``). We ignore them (they are no registry event)."""
    return [
        Problem(
            f"{GTO} fails on every command while this tag exists (it reads NAME@created "
            "as an event without an action); git registry ignores it",
            name,
            None,
            Rule.GTO_COMPAT,
            hint=f"delete it if nothing needs it: git tag -d '{name}'",
        )
        for name in sorted(names)
        if _CREATED.fullmatch(name)
    ]


def _mapping(data: bytes) -> list[tuple[Node, Node]]:
    """The key and value nodes of a YAML document that is a mapping; none if it is not
    one or cannot be read (a file we cannot read is reported by its own validator)."""
    from git_registry.yamlsafe import YamlError, load

    try:
        root, _ = load(data)
    except YamlError:
        return []
    if root is None or root.kind != "map":
        return []
    return list(root.value)
