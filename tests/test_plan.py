"""The write planner (plan.py), called directly: which tag each write would create or
delete, and why it refuses. Registries are built from hand-made tag values (no Git)."""

from __future__ import annotations

import pytest

from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId, Signature, TagObject, TagRef
from git_registry.grammar import EventKind
from git_registry.lookups import find_artifact, find_version
from git_registry.plan import (
    MAX_NAME_PART,
    Bump,
    Deletion,
    NewTag,
    PromotePlan,
    bump_version,
    event_time,
    message_for,
    plan_deprecate,
    plan_deprecate_delete,
    plan_deregister,
    plan_deregister_delete,
    plan_promote,
    plan_register,
    plan_unassign,
    plan_unassign_delete,
)
from git_registry.state import Registry, build_registry

pytestmark = pytest.mark.core

T0 = 1_700_000_000
C1, C2, C3, HEAD = (ObjectId(c * 40) for c in "123f")


def registry_of(*tags: tuple[str, str], problems: int = 0) -> tuple[Registry, set[str]]:
    """The registry of annotated tags ``(name, commit)``, one second apart, and their
    names (what ``existing`` is to the planner); it must have ``problems`` problems."""
    refs = [
        TagRef(
            name,
            ObjectId(f"{i:040x}"),
            TagObject(
                ObjectId(f"{i:040x}"),
                ObjectId(commit),
                "commit",
                Signature("Cy", "cy@example.com", T0 + i, 0),
                f"made {name}",
            ),
        )
        for i, (name, commit) in enumerate(tags, start=1)
    ]
    registry = build_registry(refs, now=T0 + 1000)
    assert len(registry.problems) == problems, registry.problems
    return registry, {name for name, _ in tags}


def refused(call: object, *args: object, **kwargs: object) -> RegistryError:
    assert callable(call)
    with pytest.raises(RegistryError) as info:
        call(*args, **kwargs)
    return info.value


# churn: v1.0.0 at C1 (prod, then deregistered), v1.1.0 at C2 (staging); seg: v0.1.0 at C3.
CHURN = (
    ("churn@v1.0.0", C1),
    ("churn#prod#1", C1),
    ("churn@v1.1.0", C2),
    ("churn#staging#2", C2),
    ("churn@v1.0.0!", C1),
    ("seg@v0.1.0", C3),
)


# -- the pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "version", "stage", "message"),
    [
        (EventKind.REGISTRATION, "v1.0.0", None, "Registering artifact churn version v1.0.0"),
        (EventKind.DEREGISTRATION, "v1.0.0", None, "Deregistering artifact churn version v1.0.0"),
        (
            EventKind.ASSIGNMENT,
            "v1.0.0",
            "prod",
            "Assigning stage prod to artifact churn version v1.0.0",
        ),
        (
            EventKind.UNASSIGNMENT,
            "v1.0.0",
            "prod",
            "Unassigning stage 'prod' to artifact 'churn' version 'v1.0.0'",
        ),
        (EventKind.DEPRECATION, None, None, "Deprecating artifact 'churn'"),
    ],
)
def test_gto_messages(
    kind: EventKind, version: str | None, stage: str | None, message: str
) -> None:
    assert message_for(kind, "churn", version, stage) == message


@pytest.mark.parametrize(
    ("version", "major", "minor", "patch"),
    [
        ("v1.2.3", "v2.0.0", "v1.3.0", "v1.2.4"),
        ("v0.0.9", "v1.0.0", "v0.1.0", "v0.0.10"),
        # The semver library's rule (as GTO's): a prerelease bumps past its release.
        ("v1.0.0-rc.1", "v2.0.0", "v1.1.0", "v1.0.1"),
    ],
)
def test_bump_version(version: str, major: str, minor: str, patch: str) -> None:
    assert [bump_version(version, b) for b in (Bump.MAJOR, Bump.MINOR, Bump.PATCH)] == [
        major,
        minor,
        patch,
    ]


def test_event_time_is_now_or_one_second_after_the_newest_tag() -> None:
    assert event_time([], T0) == T0
    assert event_time([T0 - 5, T0 - 9], T0) == T0
    assert event_time([T0 - 5, T0, T0 - 9], T0) == T0 + 1
    assert event_time([T0 + 7], T0) == T0 + 8


def test_find_artifact_and_version_say_what_exists() -> None:
    registry, _ = registry_of(*CHURN)
    assert find_artifact(registry, "churn").name == "churn"
    error = refused(find_artifact, registry, "chrun")
    assert (error.message, error.hint) == ("unknown artifact 'chrun'", "did you mean 'churn'?")
    error = refused(find_artifact, registry, "fraud")
    assert (error.message, error.hint) == (
        "unknown artifact 'fraud'",
        "known artifacts: churn, seg",
    )
    empty, _ = registry_of()
    assert refused(find_artifact, empty, "churn").hint == (
        "this repository has no registry tags yet; create one with: git registry register NAME"
    )
    info = registry.artifacts["churn"]
    assert find_version(info, "v1.1.0").commit == C2
    error = refused(find_version, info, "v9.0.0")
    assert (error.message, error.hint) == (
        "churn has no version v9.0.0",
        "active versions of churn: v1.1.0",
    )
    error = refused(find_version, info, "v1.0.0")
    assert (error.message, error.hint) == (
        "churn v1.0.0 is deregistered",
        "register it again with: git registry register churn 1111111 --version v1.0.0",
    )
    assert find_version(info, "v1.0.0", active=False).active is False


# -- register --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bump", "first"),
    [(None, "v0.0.1"), (Bump.PATCH, "v0.0.1"), (Bump.MINOR, "v0.1.0"), (Bump.MAJOR, "v1.0.0")],
)
def test_register_a_new_artifact(bump: Bump | None, first: str) -> None:
    registry, existing = registry_of(*CHURN)
    tag = plan_register(registry, existing, "new", C3, bump=bump)
    assert tag == NewTag(
        f"new@{first}",
        EventKind.REGISTRATION,
        "new",
        C3,
        f"Registering artifact new version {first}",
        first,
        None,
    )


def test_register_bumps_the_highest_version_ever_registered() -> None:
    registry, existing = registry_of(
        ("churn@v2.0.0", C1), ("churn@v2.0.0!", C1), ("churn@v1.5.0", C2)
    )
    # v2.0.0 is deregistered, yet it is the highest ever: the next is v2.0.1 (SPEC 3.1).
    assert plan_register(registry, existing, "churn", C3).name == "churn@v2.0.1"
    assert plan_register(registry, existing, "churn", C3, bump=Bump.MINOR).name == "churn@v2.1.0"


def test_register_an_explicit_version_with_a_message_and_a_folder() -> None:
    registry, existing = registry_of()
    tag = plan_register(registry, existing, "models/cv:seg", C1, version="v3.0.0", message="hi")
    assert (tag.name, tag.artifact, tag.message, tag.version) == (
        "models/cv=seg@v3.0.0",
        "models/cv:seg",
        "hi",
        "v3.0.0",
    )


def test_register_refuses_an_active_version() -> None:
    registry, existing = registry_of(*CHURN)
    error = refused(plan_register, registry, existing, "churn", C3, version="v1.1.0")
    assert error.message == (
        "churn v1.1.0 is already registered at commit 2222222 (tag churn@v1.1.0)"
    )
    assert error.hint == "the next patch version is v1.1.1"
    # force does not make a second active registration of a version
    error = refused(plan_register, registry, existing, "churn", C3, version="v1.1.0", force=True)
    assert error.message.startswith("churn v1.1.0 is already registered")


def test_register_a_deregistered_version_again_gets_a_counter() -> None:
    registry, existing = registry_of(*CHURN)
    tag = plan_register(registry, existing, "churn", C1, version="v1.0.0")
    # churn@v1.0.0 exists: the new tag is numbered after the largest counter (#2).
    assert (tag.name, tag.target, tag.version) == ("churn@v1.0.0#3", C1, "v1.0.0")


@pytest.mark.parametrize(
    ("artifact", "version", "message"),
    [
        ("Churn!", None, "invalid artifact name 'Churn!'"),
        ("churn", "1.0.0", "invalid version '1.0.0'"),
    ],
)
def test_register_refuses_invalid_names(artifact: str, version: str | None, message: str) -> None:
    registry, existing = registry_of()
    error = refused(plan_register, registry, existing, artifact, C1, version=version)
    assert error.message.startswith(message)


def test_register_refuses_a_name_too_long_for_a_ref() -> None:
    registry, existing = registry_of()
    fits = "a" * (MAX_NAME_PART - len("@v0.0.1"))
    assert len(plan_register(registry, existing, fits, C1).name) == MAX_NAME_PART
    error = refused(plan_register, registry, existing, fits + "a", C1)
    assert error.message == (
        f"the tag name would be too long for Git: one part of it is {MAX_NAME_PART + 1} bytes "
        f"(a ref is a file, and its lock file too: at most {MAX_NAME_PART})"
    )
    assert error.hint == "use a shorter version, stage or artifact name"


# -- promote ---------------------------------------------------------------------------------


def test_promote_the_latest_version_with_the_next_counter() -> None:
    registry, existing = registry_of(*CHURN)
    plan = plan_promote(registry, existing, "churn", "dev")
    assert plan == PromotePlan(
        None,
        NewTag(
            "churn#dev#3",
            EventKind.ASSIGNMENT,
            "churn",
            C2,
            "Assigning stage dev to artifact churn version v1.1.0",
            "v1.1.0",
            "dev",
        ),
        "v1.1.0",
    )
    assert plan_promote(registry, existing, "churn", "dev", simple=True).assignment.name == (
        "churn#dev"
    )


def test_promote_a_version_that_already_holds_the_stage() -> None:
    registry, existing = registry_of(*CHURN)
    error = refused(plan_promote, registry, existing, "churn", "staging")
    assert (error.message, error.hint) == (
        "churn v1.1.0 already holds stage 'staging' through staging's newest assignment "
        "(churn#staging#2): nothing to pin",
        "it keeps staging until another version is promoted to it; "
        "use --force to create another assignment tag anyway",
    )
    forced = plan_promote(registry, existing, "churn", "staging", force=True)
    assert forced.assignment.name == "churn#staging#3"


def test_promote_pins_a_version_that_holds_the_stage_by_fallback() -> None:
    # v1.0.0 held prod, v1.1.0 took it, was rolled back: prod fell back to v1.0.0.
    base = (("churn@v1.0.0", C1), ("churn#prod#1", C1), ("churn@v1.1.0", C2))
    registry, existing = registry_of(*base, ("churn#prod#2", C2), ("churn#prod!#3", C2))
    made = plan_promote(registry, existing, "churn", "prod", version="v1.0.0")
    assert made.assignment.name == "churn#prod#4" and made.assignment.target == C1
    assert made.fallback == "v1.1.0 was unassigned from it by churn#prod!#3"
    # The newer holder deregistered: the same, said so.
    registry, existing = registry_of(*base, ("churn#prod#2", C2), ("churn@v1.1.0!", C2))
    made = plan_promote(registry, existing, "churn", "prod", version="v1.0.0")
    assert made.fallback == "v1.1.0 was deregistered by churn@v1.1.0!"
    # An unassignment of another version that never held prod is no fallback.
    registry, existing = registry_of(*base, ("churn#prod!#2", C2))
    error = refused(plan_promote, registry, existing, "churn", "prod", version="v1.0.0")
    assert "through prod's newest assignment (churn#prod#1): nothing to pin" in error.message
    # Another stage's newer assignment does not count either.
    registry, existing = registry_of(*base, ("churn#dev#2", C2), ("churn#dev!#3", C2))
    assert refused(plan_promote, registry, existing, "churn", "prod", version="v1.0.0")


def test_promote_refuses_what_is_not_there() -> None:
    registry, existing = registry_of(*CHURN)
    error = refused(plan_promote, registry, existing, "nope", "prod")
    assert error.message == "unknown artifact 'nope'"
    error = refused(plan_promote, registry, existing, "churn", "prod", version="v1.0.0")
    assert error.message == "churn v1.0.0 is deregistered"
    gone, existing = registry_of(("old@v1.0.0", C1), ("old@v1.0.0!", C1))
    error = refused(plan_promote, gone, existing, "old", "prod")
    assert (error.message, error.hint) == (
        "old has no active version to promote",
        "register one first: git registry register old",
    )
    error = refused(plan_promote, registry, existing, "churn", "Prod!")
    assert error.message.startswith("invalid stage 'Prod!'")


def test_promote_a_simple_tag_that_exists() -> None:
    registry, existing = registry_of(("churn@v1.0.0", C1), ("churn#prod", C1))
    assert plan_promote(registry, existing, "churn", "dev", simple=True).assignment.name == (
        "churn#dev"
    )
    error = refused(plan_promote, registry, existing, "churn", "prod", simple=True, force=True)
    assert (error.message, error.hint) == (
        "tag 'churn#prod' already exists",
        "leave out --simple to create a numbered tag",
    )


def test_promote_a_commit_registers_it_first() -> None:
    registry, existing = registry_of(*CHURN)
    plan = plan_promote(registry, existing, "churn", "prod", commit=C3)
    assert plan.registration is not None
    assert (plan.registration.name, plan.registration.target) == ("churn@v1.1.1", C3)
    assert (plan.assignment.name, plan.assignment.target, plan.version) == (
        "churn#prod#3",
        C3,
        "v1.1.1",
    )
    # A commit holding a version: that one is promoted, nothing registered.
    plan = plan_promote(registry, existing, "churn", "prod", commit=C2)
    assert (plan.registration, plan.assignment.name, plan.version) == (
        None,
        "churn#prod#3",
        "v1.1.0",
    )
    error = refused(plan_promote, registry, existing, "churn", "prod", commit=C2, version="v9.9.9")
    assert (error.message, error.hint) == (
        "commit 2222222 holds churn v1.1.0, not v9.9.9",
        "promote churn@v1.1.0, or leave out --version",
    )


def test_promote_and_unassign_refuse_a_commit_shared_by_two_versions() -> None:
    # Two active versions on one commit (a broken rule): stage tags there would go to
    # the newest registration, whatever version the user named.
    registry, existing = registry_of(("churn@v1.0.0", C1), ("churn@v2.0.0", C1), problems=1)
    (problem,) = registry.problems
    assert problem.tag == "churn@v2.0.0"
    error = refused(plan_promote, registry, existing, "churn", "prod", version="v1.0.0")
    assert (error.message, error.hint) == (
        "commit 1111111 also holds churn v2.0.0; a stage tag there would go to v2.0.0, not v1.0.0",
        "deregister one of them first: git registry deregister churn@v2.0.0",
    )
    error = refused(
        plan_unassign, registry, existing, "churn", "prod", version="v1.0.0", force=True
    )
    assert error.message == (
        "commit 1111111 also holds churn v2.0.0; an unassignment there would go to v2.0.0, "
        "not v1.0.0"
    )


# -- unassign --------------------------------------------------------------------------------


def test_unassign_the_holder() -> None:
    registry, existing = registry_of(*CHURN)
    tag = plan_unassign(registry, existing, "churn", "staging")
    assert tag == NewTag(
        "churn#staging!#3",
        EventKind.UNASSIGNMENT,
        "churn",
        C2,
        "Unassigning stage 'staging' to artifact 'churn' version 'v1.1.0'",
        "v1.1.0",
        "staging",
    )
    assert plan_unassign(registry, existing, "churn", "staging", simple=True).name == (
        "churn#staging!"
    )


def test_unassign_refuses_a_stage_nobody_holds() -> None:
    registry, existing = registry_of(*CHURN)
    error = refused(plan_unassign, registry, existing, "churn", "dev")
    assert error.message == "no version of churn is in stage 'dev'"
    error = refused(plan_unassign, registry, existing, "churn", "staging", version="v1.0.0")
    assert (error.message, error.hint) == (
        "churn v1.0.0 is not in stage 'staging'",
        "use --force to create the unassignment tag anyway",
    )
    forced = plan_unassign(registry, existing, "churn", "staging", version="v1.0.0", force=True)
    assert (forced.name, forced.target) == ("churn#staging!#3", C1)
    error = refused(plan_unassign, registry, existing, "nope", "prod")
    assert error.message == "unknown artifact 'nope'"


def test_unassign_delete_lists_the_stage_tags_of_the_version() -> None:
    registry, _ = registry_of(*CHURN, ("churn#staging!#3", C2), ("churn#staging#4", C2))
    deletions = plan_unassign_delete(registry, "churn", "staging")
    assert [(d.name, d.oid) for d in deletions] == [
        ("churn#staging#2", ObjectId(f"{4:040x}")),
        ("churn#staging!#3", ObjectId(f"{7:040x}")),
        ("churn#staging#4", ObjectId(f"{8:040x}")),
    ]
    assert all(isinstance(d, Deletion) and d.event.stage == "staging" for d in deletions)


# -- deregister ------------------------------------------------------------------------------


def test_deregister_a_version() -> None:
    registry, existing = registry_of(*CHURN)
    tag = plan_deregister(registry, existing, "churn", "v1.1.0")
    assert (tag.name, tag.kind, tag.target, tag.message) == (
        "churn@v1.1.0!",
        EventKind.DEREGISTRATION,
        C2,
        "Deregistering artifact churn version v1.1.0",
    )


def test_deregister_refuses_a_deregistered_or_unknown_version() -> None:
    registry, existing = registry_of(*CHURN)
    error = refused(plan_deregister, registry, existing, "churn", "v1.0.0")
    assert error.message == "churn v1.0.0 is already deregistered"
    # forced: churn@v1.0.0! exists, so the new one is numbered
    forced = plan_deregister(registry, existing, "churn", "v1.0.0", force=True)
    assert forced.name == "churn@v1.0.0!#3"
    error = refused(plan_deregister, registry, existing, "churn", "v7.0.0")
    assert error.message == "churn has no version v7.0.0"


def test_deregister_delete_lists_every_tag_of_the_version() -> None:
    registry, _ = registry_of(*CHURN)
    names = [d.name for d in plan_deregister_delete(registry, "churn", "v1.0.0")]
    assert names == ["churn@v1.0.0", "churn#prod#1", "churn@v1.0.0!"]


# -- deprecate -------------------------------------------------------------------------------


def test_deprecate_goes_on_the_newest_event() -> None:
    registry, existing = registry_of(*CHURN)
    tag = plan_deprecate(registry, existing, "churn", head=HEAD)
    # The newest event of churn is the deregistration of v1.0.0, at C1 (not HEAD).
    assert (tag.name, tag.kind, tag.target, tag.message) == (
        "churn@deprecated",
        EventKind.DEPRECATION,
        C1,
        "Deprecating artifact 'churn'",
    )


def test_deprecate_refuses_an_unknown_or_deprecated_artifact() -> None:
    registry, existing = registry_of(*CHURN, ("seg@deprecated", C3))
    error = refused(plan_deprecate, registry, existing, "nope", head=HEAD)
    assert (error.message, error.hint) == (
        "unknown artifact 'nope'",
        "use --force to deprecate it anyway (the tag goes on HEAD)",
    )
    error = refused(plan_deprecate, registry, existing, "nope", head=None, force=True)
    assert (error.message, error.hint) == ("unknown artifact 'nope'", "known artifacts: churn, seg")
    forced = plan_deprecate(registry, existing, "nope", head=HEAD, force=True)
    assert (forced.name, forced.target) == ("nope@deprecated", HEAD)
    error = refused(plan_deprecate, registry, existing, "seg", head=HEAD)
    assert error.message == "seg is already deprecated"
    again = plan_deprecate(registry, existing, "seg", head=HEAD, force=True)
    assert (again.name, again.target) == ("seg@deprecated#1", C3)


def test_deprecate_delete_lists_every_tag_of_the_artifact() -> None:
    registry, _ = registry_of(*CHURN)
    assert [d.name for d in plan_deprecate_delete(registry, "churn")] == [
        "churn@v1.0.0",
        "churn#prod#1",
        "churn@v1.1.0",
        "churn#staging#2",
        "churn@v1.0.0!",
    ]
    assert plan_deprecate_delete(registry, "seg")[0].event.version == "v0.1.0"
