"""What a write command creates or deletes, decided from the registry state (pure).

Each ``plan_*`` function checks the request against the registry and returns
the tags to create (:class:`NewTag`) or delete (:class:`Deletion`), or raises a
:class:`~git_registry.errors.RegistryError` that says what is wrong; nothing
is written here. Tag names, targets and default messages are GTO's (SPEC 2).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from git_registry.errors import NotFoundError, RegistryError
from git_registry.gitvalues import ObjectId, short
from git_registry.grammar import (
    EventKind,
    TagName,
    check_artifact_name,
    check_stage,
    check_version,
    format_tag,
)
from git_registry.state import ArtifactInfo, Event, Registry, StageHold, VersionInfo

FIRST_VERSION = "v0.0.1"


class Bump(enum.Enum):
    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"


# The first version of an artifact: GTO's v0.0.1, or what a bump of v0.0.0 gives.
_FIRST_VERSIONS: dict[Bump | None, str] = {
    None: FIRST_VERSION,
    Bump.PATCH: FIRST_VERSION,
    Bump.MINOR: "v0.1.0",
    Bump.MAJOR: "v1.0.0",
}


@dataclass(frozen=True, slots=True)
class NewTag:
    """An annotated tag to create, and what it means."""

    name: str
    kind: EventKind
    artifact: str
    target: ObjectId
    message: str
    version: str | None = None
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class Deletion:
    """A tag to delete, if it still points at ``oid``."""

    name: str
    oid: ObjectId
    event: Event


def message_for(kind: EventKind, artifact: str, version: str | None, stage: str | None) -> str:
    """GTO 1.10's default tag message for an event (byte for byte, no trailing newline)."""
    if kind is EventKind.REGISTRATION:
        return f"Registering artifact {artifact} version {version}"
    if kind is EventKind.DEREGISTRATION:
        return f"Deregistering artifact {artifact} version {version}"
    if kind is EventKind.ASSIGNMENT:
        return f"Assigning stage {stage} to artifact {artifact} version {version}"
    if kind is EventKind.UNASSIGNMENT:
        return f"Unassigning stage '{stage}' to artifact '{artifact}' version '{version}'"
    return f"Deprecating artifact '{artifact}'"


def bump_version(version: str, bump: Bump) -> str:
    """``v1.2.3`` bumped by one part, with the semver library's rules (as GTO)."""
    import semver

    parsed = semver.Version.parse(version[1:])
    if bump is Bump.MAJOR:
        return f"v{parsed.bump_major()}"
    if bump is Bump.MINOR:
        return f"v{parsed.bump_minor()}"
    return f"v{parsed.bump_patch()}"


def _new_tag(
    kind: EventKind,
    artifact: str,
    target: ObjectId,
    message: str | None,
    *,
    version: str | None = None,
    stage: str | None = None,
    counter: int | None = None,
) -> NewTag:
    name = format_tag(TagName(artifact, kind, version=version, stage=stage, counter=counter))
    longest = max(len(part.encode("utf-8")) for part in name.split("/"))
    if longest > MAX_NAME_PART:
        raise RegistryError(
            f"the tag name would be too long for Git: one part of it is {longest} bytes "
            f"(a ref is a file, and its lock file too: at most {MAX_NAME_PART})",
            hint="use a shorter version, stage or artifact name",
        )
    text = message if message is not None else message_for(kind, artifact, version, stage)
    return NewTag(name, kind, artifact, target, text, version, stage)


def renumbered(event: Event, counter: int) -> NewTag:
    """The tag that makes ``event`` again with counter ``counter`` (same kind, commit,
    stage, version and message): ``push --renumber``."""
    return _new_tag(
        event.kind,
        event.artifact,
        event.commit,
        event.message,
        version=event.version,
        stage=event.stage,
        counter=counter,
    )


MAX_NAME_PART = 250
"""The longest part of a tag name between '/' (bytes): a file name has at most 255,
and Git writes ``NAME.lock`` first."""


def _simple_or_counted(
    kind: EventKind,
    artifact: str,
    target: ObjectId,
    message: str | None,
    registry: Registry,
    existing: Collection[str],
    *,
    version: str | None = None,
    stage: str | None = None,
) -> NewTag:
    """The simple tag (GTO's default for these kinds), or ``#N`` if the simple one exists."""
    tag = _new_tag(kind, artifact, target, message, version=version, stage=stage)
    if tag.name not in existing:
        return tag
    counter = registry.next_counter(artifact)
    return _new_tag(kind, artifact, target, message, version=version, stage=stage, counter=counter)


def event_time(times: Iterable[int], now: int) -> int:
    """The tagger time for a new event of an artifact whose tags have tagger ``times``:
    now, or one second after the newest of them if the clock has not moved past it.

    Tagger times have one-second resolution and are the only order Git records;
    without this, a script that registers and deprecates within one second would
    leave the order of its own events ambiguous (GTO reads such ties by name). Every
    tag counts, not only the events: a stray deregistration that breaks a rule today
    would otherwise cancel, in the same second, the registration we are making.
    ``times`` must not hold times the rulebook refuses (far in the future).
    """
    return max(now, max(times, default=now - 1) + 1)


def find_artifact(registry: Registry, name: str) -> ArtifactInfo:
    """The artifact ``name``; raises with the known names as a hint if there is none."""
    check_artifact_name(name)
    info = registry.artifacts.get(name)
    if info is None:
        raise unknown_artifact(registry, name)
    return info


def unknown_artifact(registry: Registry, name: str) -> NotFoundError:
    """The error for an artifact no registry tag names: the closest known names if
    some are close (``chrun``: did you mean 'churn'?), else the known names."""
    return NotFoundError(f"unknown artifact '{name}'", hint=known_hint(registry, name))


def known_hint(registry: Registry, name: str | None = None) -> str:
    from git_registry.suggest import did_you_mean  # only for this message

    names = list(registry.known or registry.artifacts)
    if not names:
        return (
            "this repository has no registry tags yet; create one with: git registry register NAME"
        )
    close = did_you_mean(name, names) if name is not None else None
    if close is not None:
        return close
    shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
    return f"known artifacts: {shown}"


def empty_stage(name: str, stage: str, known_stages: Iterable[str]) -> NotFoundError:
    """The error for a stage no version of ``name`` holds; if no policy declares the
    stage and no tag ever used it, the closest stages that exist (``prd``: did you
    mean 'prod'?)."""
    from git_registry.suggest import did_you_mean  # only for this message

    known = list(dict.fromkeys(known_stages))
    hint = None
    if stage not in known and known:
        hint = did_you_mean(stage, known) or "stages: " + ", ".join(known)
    return NotFoundError(f"no version of {name} is in stage '{stage}'", hint=hint)


def _versions_hint(info: ArtifactInfo) -> str:
    active = [v.version for v in info.versions if v.active]
    if not active:
        return f"{info.name} has no active versions"
    shown = ", ".join(active[:10]) + (", …" if len(active) > 10 else "")
    return f"active versions of {info.name}: {shown}"


def find_version(info: ArtifactInfo, version: str, *, active: bool = True) -> VersionInfo:
    """A version of an artifact; raises if it does not exist (or, with ``active``, is
    deregistered)."""
    check_version(version)
    found = info.version(version)
    if found is None:
        raise NotFoundError(f"{info.name} has no version {version}", hint=_versions_hint(info))
    if active and not found.active:
        raise RegistryError(
            f"{info.name} {version} is deregistered",
            hint=f"register it again with: git registry register {info.name} "
            f"{short(found.commit)} --version {version}",
        )
    return found


def active_version_at(info: ArtifactInfo | None, commit: str) -> VersionInfo | None:
    """The active version registered at ``commit`` (the newest registration if several)."""
    if info is None:
        return None
    live = [v for v in info.versions_at(commit) if v.active]
    return live[-1] if live else None


def plan_register(
    registry: Registry,
    existing: Collection[str],
    artifact: str,
    commit: ObjectId,
    *,
    version: str | None = None,
    bump: Bump | None = None,
    message: str | None = None,
    force: bool = False,
) -> NewTag:
    """Register a version of ``artifact`` at ``commit``.

    Without ``version`` the highest version ever registered (deregistered ones
    included, SPEC 3.1) is bumped (patch by default); the first version is
    v0.0.1, or v1.0.0 / v0.1.0 with a major / minor bump.

    The rulebook's rules (a version names one commit, a commit holds one active
    version) are applied to the planned tag when it is created, not here.

    Raises:
        RegistryError: invalid name or version; the version is active already.
    """
    check_artifact_name(artifact)
    if version is not None:
        check_version(version)
    info = registry.artifacts.get(artifact)
    # ``force`` no longer registers a second active version on a commit: that breaks
    # the shared-commit rule, which the write's final check applies (rules.py).
    if version is not None:
        known = info.version(version) if info else None
        if known is not None and known.active:
            raise RegistryError(
                f"{artifact} {version} is already registered at commit "
                f"{short(known.commit)} (tag {known.registration.tag})",
                hint=_next_hint(info),
            )
    else:
        highest = info.highest_ever if info else None
        if highest is None:
            version = _FIRST_VERSIONS[bump]
        else:
            version = bump_version(highest.version, bump or Bump.PATCH)
    return _simple_or_counted(
        EventKind.REGISTRATION, artifact, commit, message, registry, existing, version=version
    )


def check_new_stage(stage: str, known: Collection[str]) -> None:
    """Refuse a stage nobody has used or declared whose name is one edit away from one
    that exists (``prdo`` next to ``prod``), as :func:`check_new_name` does for names.

    Raises:
        RegistryError: the stage is new and close to a known one (``--new`` allows it).
    """
    from git_registry.suggest import likely_typo

    if stage in known:
        return
    near = [k for k in known if likely_typo(stage, k)]
    if near:
        shown = " or ".join(f"'{k}'" for k in near[:3])
        raise RegistryError(
            f"'{stage}' would be a new stage, one edit away from {shown}",
            hint=f"did you mean {shown}? To start a new stage named '{stage}', pass --new",
        )


def check_new_name(registry: Registry, name: str, annotated: Collection[str]) -> None:
    """Refuse to start a new artifact whose name is one edit away from one that exists
    (``chrun`` next to ``churn``): a typo would otherwise start a second artifact
    silently. A name with tags, or annotated in ``artifacts.yaml``, is not new.

    Raises:
        RegistryError: the name is new and close to an existing one (``--new`` allows it).
    """
    from git_registry.suggest import likely_typo

    if name in registry.artifacts or name in registry.known or name in annotated:
        return
    near = [k for k in dict.fromkeys([*registry.known, *annotated]) if likely_typo(name, k)]
    if near:
        shown = " or ".join(f"'{k}'" for k in near[:3])
        raise RegistryError(
            f"'{name}' would be a new artifact, one edit away from {shown}",
            hint=f"did you mean {shown}? To start a new artifact named '{name}', pass --new",
        )


def _next_hint(info: ArtifactInfo | None) -> str:
    highest = info.highest_ever if info else None
    if highest is None:
        return "pick another version"
    return f"the next patch version is {bump_version(highest.version, Bump.PATCH)}"


@dataclass(frozen=True, slots=True)
class PromotePlan:
    """What ``promote`` creates: maybe a registration first, then the assignment."""

    registration: NewTag | None
    assignment: NewTag
    version: str
    fallback: str | None = None
    """Set when the version held the stage only by fallback, so that the new assignment
    pins it: what cancelled the stage's newest assignment (see :func:`fallback_cause`)."""


def plan_promote(
    registry: Registry,
    existing: Collection[str],
    artifact: str,
    stage: str,
    *,
    version: str | None = None,
    commit: ObjectId | None = None,
    simple: bool = False,
    force: bool = False,
    message: str | None = None,
) -> PromotePlan:
    """Assign ``stage`` to a version of ``artifact``.

    The version is ``version`` if given; else the version at ``commit`` (from
    ``--ref``), which is registered first if the commit has none; else the
    latest version.

    Raises:
        RegistryError: invalid names; unknown artifact or version; a stage not
            allowed; the version already holds the stage through the stage's
            newest assignment (without ``force``). A version that holds it only by
            fallback gets a new assignment (``fallback`` says why).
    """
    check_artifact_name(artifact)
    check_stage(stage)
    info = registry.artifacts.get(artifact)
    registration: NewTag | None = None
    if commit is not None:
        found = active_version_at(info, commit)
        if found is not None:
            if version is not None and version != found.version:
                raise RegistryError(
                    f"commit {short(commit)} holds {artifact} {found.version}, not {version}",
                    hint=f"promote {artifact}@{found.version}, or leave out --version",
                )
            target = found
        else:
            registration = plan_register(registry, existing, artifact, commit, version=version)
            assert registration.version is not None
            tag = _new_tag(
                EventKind.ASSIGNMENT,
                artifact,
                commit,
                message,
                version=registration.version,
                stage=stage,
                counter=None if simple else registry.next_counter(artifact),
            )
            _check_free(tag, existing, simple)
            return PromotePlan(registration, tag, registration.version)
    else:
        if info is None:
            raise unknown_artifact(registry, artifact)
        if version is not None:
            target = find_version(info, version)
        elif info.latest is not None:
            target = info.latest
        else:
            raise RegistryError(
                f"{artifact} has no active version to promote",
                hint=f"register one first: git registry register {artifact}",
            )
    assert info is not None
    holder = info.holder(stage)
    fallback = None
    if holder is not None and holder.version == target.version:
        # "Already holds" means through the stage's newest assignment. A version the
        # stage fell back to (a newer assignment of another version was unassigned or
        # deregistered) is pinned by a new assignment: a later rollback of that one must
        # not move the stage to whatever held it before.
        fallback = fallback_cause(info, holder)
        if fallback is None and not force:
            raise RegistryError(
                f"{artifact} {target.version} already holds stage '{stage}' through "
                f"{stage}'s newest assignment ({holder.assignment.tag}): nothing to pin",
                hint=f"it keeps {stage} until another version is promoted to it; "
                "use --force to create another assignment tag anyway",
            )
    owner = active_version_at(info, target.commit)
    if owner is not None and owner.version != target.version:
        raise RegistryError(
            f"commit {short(target.commit)} also holds {artifact} {owner.version}; a stage tag "
            f"there would go to {owner.version}, not {target.version}",
            hint="deregister one of them first: "
            f"git registry deregister {artifact}@{owner.version}",
        )
    tag = _new_tag(
        EventKind.ASSIGNMENT,
        artifact,
        target.commit,
        message,
        version=target.version,
        stage=stage,
        counter=None if simple else registry.next_counter(artifact),
    )
    _check_free(tag, existing, simple)
    return PromotePlan(None, tag, target.version, fallback)


def fallback_cause(info: ArtifactInfo, hold: StageHold) -> str | None:
    """Why ``hold`` holds its stage only by fallback, e.g. ``v1.1.0 was unassigned from
    it by churn#prod!#3``; None if its assignment is the stage's newest.

    The stage's newest assignment belongs to another version that no longer holds the
    stage: it was unassigned since, or that version deregistered (SPEC 3.2).
    """
    newest = next(
        (
            e
            for e in reversed(info.events)
            if e.kind is EventKind.ASSIGNMENT and e.stage == hold.stage
        ),
        None,
    )
    if newest is None or newest.tag == hold.assignment.tag:
        return None
    other = info.version(newest.version) if newest.version is not None else None
    if other is not None and not other.active:
        cancel = next(e for e in reversed(other.events) if e.kind is EventKind.DEREGISTRATION)
        return f"{newest.version} was deregistered by {cancel.tag}"
    if other is not None:
        for event in reversed(other.events):
            if event.stage == hold.stage and event.kind is EventKind.UNASSIGNMENT:
                return f"{newest.version} was unassigned from it by {event.tag}"
    return f"{newest.version}'s newer assignment {newest.tag} no longer holds it"


def _check_free(tag: NewTag, existing: Collection[str], simple: bool) -> None:
    if tag.name in existing:
        raise RegistryError(
            f"tag '{tag.name}' already exists",
            hint="leave out --simple to create a numbered tag" if simple else None,
        )


def plan_unassign(
    registry: Registry,
    existing: Collection[str],
    artifact: str,
    stage: str,
    *,
    version: str | None = None,
    simple: bool = False,
    force: bool = False,
    message: str | None = None,
) -> NewTag:
    """Unassign ``stage`` from ``version`` (default: the version holding it).

    Never refused by the policy: taking a stage back is always possible (even one
    that today's policy no longer lists).
    """
    target = _stage_target(registry, artifact, stage, version, force)
    info = registry.artifacts[artifact]
    owner = active_version_at(info, target.commit)
    if owner is not None and owner.version != target.version:
        # A stage tag at a commit belongs to the newest registration there: this one
        # would unassign the stage from owner.version, not from target.version.
        raise RegistryError(
            f"commit {short(target.commit)} also holds {artifact} {owner.version}; an "
            f"unassignment there would go to {owner.version}, not {target.version}",
            hint=f"deregister {owner.version} first (always possible): "
            f"git registry deregister {artifact}@{owner.version}",
        )
    tag = _new_tag(
        EventKind.UNASSIGNMENT,
        artifact,
        target.commit,
        message,
        version=target.version,
        stage=stage,
        counter=None if simple else registry.next_counter(artifact),
    )
    _check_free(tag, existing, simple)
    return tag


def _stage_target(
    registry: Registry, artifact: str, stage: str, version: str | None, force: bool
) -> VersionInfo:
    info = find_artifact(registry, artifact)
    check_stage(stage)
    holds = info.stages.get(stage, ())
    if version is None:
        if not holds:
            raise empty_stage(artifact, stage, registry.stages)
        found = info.version(holds[0].version)
        assert found is not None
        return found
    found = find_version(info, version, active=False)
    if not force and all(h.version != version for h in holds):
        raise RegistryError(
            f"{artifact} {version} is not in stage '{stage}'",
            hint="use --force to create the unassignment tag anyway",
        )
    return found


def plan_unassign_delete(
    registry: Registry, artifact: str, stage: str, *, version: str | None = None
) -> list[Deletion]:
    """Delete the tags that assigned and unassigned ``stage`` to the version (GTO --delete)."""
    target = _stage_target(registry, artifact, stage, version, force=True)
    return [Deletion(e.tag, e.oid, e) for e in target.events if e.stage == stage]


def plan_deregister(
    registry: Registry,
    existing: Collection[str],
    artifact: str,
    version: str,
    *,
    force: bool = False,
    message: str | None = None,
) -> NewTag:
    """Deregister ``version``: ``NAME@vX.Y.Z!`` (``#N`` if that tag exists already)."""
    info = find_artifact(registry, artifact)
    found = find_version(info, version, active=False)
    if not found.active and not force:
        raise RegistryError(f"{artifact} {version} is already deregistered")
    return _simple_or_counted(
        EventKind.DEREGISTRATION,
        artifact,
        found.commit,
        message,
        registry,
        existing,
        version=version,
    )


def plan_deregister_delete(registry: Registry, artifact: str, version: str) -> list[Deletion]:
    """Delete every tag of ``version``: registrations, deregistrations and stage tags."""
    info = find_artifact(registry, artifact)
    found = find_version(info, version, active=False)
    return [Deletion(e.tag, e.oid, e) for e in found.events]


def plan_deprecate(
    registry: Registry,
    existing: Collection[str],
    artifact: str,
    *,
    head: ObjectId | None,
    commit: ObjectId | None = None,
    force: bool = False,
    message: str | None = None,
) -> NewTag:
    """Deprecate ``artifact`` at ``commit``, else at its newest event's commit (``head``
    if it has none)."""
    check_artifact_name(artifact)
    info = registry.artifacts.get(artifact)
    if info is None:
        if not force or head is None:
            raise NotFoundError(
                f"unknown artifact '{artifact}'",
                hint="use --force to deprecate it anyway (the tag goes on HEAD)"
                if head is not None
                else known_hint(registry),
            )
        target = head
    elif not info.events:  # every tag of it breaks a rule: as for an unknown artifact
        if head is None:
            raise RegistryError(f"{artifact} has no usable events and there is no HEAD")
        target = head
    else:
        if info.deprecated and not force:
            raise RegistryError(f"{artifact} is already deprecated")
        target = info.events[-1].commit
    if commit is not None and (info is not None or force):
        target = commit
    return _simple_or_counted(EventKind.DEPRECATION, artifact, target, message, registry, existing)


def plan_deprecate_delete(registry: Registry, artifact: str) -> list[Deletion]:
    """Delete every registry tag of ``artifact``."""
    info = find_artifact(registry, artifact)
    return [Deletion(e.tag, e.oid, e) for e in info.events]
