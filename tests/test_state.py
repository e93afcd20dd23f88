"""The registry state (SPEC 3), built directly from tag refs: versions, stages, order, problems."""

from __future__ import annotations

import hashlib
import random

import pytest

from git_registry.gitvalues import ObjectId, Signature, TagObject, TagRef
from git_registry.grammar import EventKind
from git_registry.rules import Rule
from git_registry.state import ArtifactInfo, Registry, build_registry

pytestmark = pytest.mark.core

T0 = 1_700_000_000
C1 = ObjectId("1" * 40)
C2 = ObjectId("2" * 40)
C3 = ObjectId("3" * 40)
C4 = ObjectId("4" * 40)
C9 = ObjectId("9" * 40)
ADA = Signature("Ada", "ada@example.com", T0, 0)


def oid_of(name: str) -> ObjectId:
    """A fake, stable tag object id."""
    return ObjectId(hashlib.sha1(name.encode()).hexdigest())


def ev(
    name: str,
    commit: str,
    time: int,
    *,
    target_type: str = "commit",
    message: str = "",
    tagger: bool = True,
) -> TagRef:
    """An annotated tag ``name`` on ``commit``, tagged ``time`` seconds after T0."""
    oid = oid_of(name)
    signature = Signature("Ada", "ada@example.com", T0 + time, 0) if tagger else None
    return TagRef(
        name, oid, TagObject(oid, ObjectId(commit), target_type, signature, message or name)
    )


def lightweight(name: str) -> TagRef:
    return TagRef(name, oid_of(name))


def missing(name: str) -> TagRef:
    oid = oid_of(name)
    return TagRef(name, oid, None, f"object {oid} is missing from the repository")


def churn(*refs: TagRef) -> ArtifactInfo:
    """Build a registry with no problems and return its artifact 'churn'."""
    registry = build_registry(refs)
    assert registry.problems == ()
    return registry.artifacts["churn"]


def holders(info: ArtifactInfo, stage: str) -> list[tuple[str, str]]:
    """(version, assignment tag) of every holder of ``stage``, newest first."""
    return [(h.version, h.assignment.tag) for h in info.stages.get(stage, ())]


# -- versions and latest (SPEC 3.1) -------------------------------------------------------


def test_latest_is_the_highest_semver_not_the_newest() -> None:
    info = churn(
        ev("churn@v1.10.0", C1, 100),
        ev("churn@v1.9.0", C2, 200),
        ev("churn@v1.2.0", C3, 300),
    )
    assert info.latest is not None
    assert info.latest.version == "v1.10.0"
    assert [v.version for v in info.versions] == ["v1.10.0", "v1.9.0", "v1.2.0"]
    assert [v.commit for v in info.versions] == [C1, C2, C3]
    assert all(v.active for v in info.versions)


def test_prerelease_sorts_below_its_release() -> None:
    info = churn(ev("churn@v2.0.0", C1, 100), ev("churn@v2.0.0-rc.1", C2, 200))
    assert info.latest is not None and info.latest.version == "v2.0.0"
    assert [v.version for v in info.versions] == ["v2.0.0", "v2.0.0-rc.1"]


def test_prerelease_of_a_higher_version_is_latest() -> None:
    info = churn(ev("churn@v1.0.0", C1, 100), ev("churn@v2.0.0-rc.1", C2, 50))
    assert info.latest is not None and info.latest.version == "v2.0.0-rc.1"


def test_deregistered_version_is_not_latest() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 100),
        ev("churn@v2.0.0", C2, 200),
        ev("churn@v2.0.0!#1", C2, 300),
    )
    assert info.latest is not None and info.latest.version == "v1.0.0"
    v2 = info.version("v2.0.0")
    assert v2 is not None and v2.active is False
    assert [e.tag for e in v2.events] == ["churn@v2.0.0", "churn@v2.0.0!#1"]
    # Still the highest ever registered, so `register` bumps past it.
    assert info.highest_ever is v2


def test_no_latest_when_every_version_is_deregistered() -> None:
    info = churn(ev("churn@v1.0.0", C1, 100), ev("churn@v1.0.0!", C1, 200))
    assert info.latest is None
    assert [(v.version, v.active) for v in info.versions] == [("v1.0.0", False)]


def test_reregistration_reactivates_a_version() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 100),
        ev("churn@v2.0.0", C2, 150),
        ev("churn@v2.0.0!#1", C2, 200),
        ev("churn@v2.0.0#2", C2, 300),
    )
    assert info.latest is not None and info.latest.version == "v2.0.0"
    v2 = info.version("v2.0.0")
    assert v2 is not None and v2.active is True
    assert v2.registration.tag == "churn@v2.0.0"
    assert [e.tag for e in v2.events] == ["churn@v2.0.0", "churn@v2.0.0!#1", "churn@v2.0.0#2"]


# -- stages (SPEC 3.2) --------------------------------------------------------------------

V1_V2 = (ev("churn@v1.0.0", C1, 100), ev("churn@v2.0.0", C2, 110))


def test_stage_holder_is_the_newest_assignment_not_the_highest_version() -> None:
    info = churn(*V1_V2, ev("churn#prod#1", C2, 200), ev("churn#prod#2", C1, 300))
    hold = info.holder("prod")
    assert hold is not None
    assert (hold.stage, hold.version, hold.assignment.tag) == ("prod", "v1.0.0", "churn#prod#2")
    assert holders(info, "prod") == [("v1.0.0", "churn#prod#2"), ("v2.0.0", "churn#prod#1")]
    v1, v2 = info.version("v1.0.0"), info.version("v2.0.0")
    assert v1 is not None and v1.stages == ("prod",)
    assert v2 is not None and v2.stages == ()


def test_unassigning_the_holder_falls_back_to_the_previous_holder() -> None:
    info = churn(
        *V1_V2,
        ev("churn#prod#1", C2, 200),
        ev("churn#prod#2", C1, 300),
        ev("churn#prod!#3", C1, 400),
    )
    assert holders(info, "prod") == [("v2.0.0", "churn#prod#1")]
    v2 = info.version("v2.0.0")
    assert v2 is not None and v2.stages == ("prod",)


def test_unassigning_a_non_holder_does_not_change_the_holder() -> None:
    refs = [*V1_V2, ev("churn#prod#1", C2, 200), ev("churn#prod#2", C1, 300)]
    info = churn(*refs, ev("churn#prod!#3", C2, 400))
    assert holders(info, "prod") == [("v1.0.0", "churn#prod#2")]
    # With v2 unassigned too, there is nothing to fall back to.
    info = churn(*refs, ev("churn#prod!#3", C2, 400), ev("churn#prod!#4", C1, 500))
    assert info.holder("prod") is None
    assert "prod" not in info.stages


def test_reassigning_after_an_unassignment_holds_again() -> None:
    info = churn(
        *V1_V2,
        ev("churn#prod#1", C2, 200),
        ev("churn#prod!#2", C2, 300),
        ev("churn#prod#3", C2, 400),
    )
    assert holders(info, "prod") == [("v2.0.0", "churn#prod#3")]


def test_a_deregistered_version_does_not_hold_a_stage() -> None:
    info = churn(
        *V1_V2,
        ev("churn#prod#1", C1, 200),
        ev("churn#prod#2", C2, 300),
        ev("churn@v2.0.0!#3", C2, 400),
    )
    assert holders(info, "prod") == [("v1.0.0", "churn#prod#1")]
    v2 = info.version("v2.0.0")
    assert v2 is not None and v2.stages == ()
    info = churn(
        ev("churn@v1.0.0", C1, 100), ev("churn#dev", C1, 200), ev("churn@v1.0.0!", C1, 300)
    )
    assert info.holder("dev") is None


def test_stage_lists_every_holder_newest_first() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 100),
        ev("churn@v2.0.0", C2, 100),
        ev("churn@v3.0.0", C3, 100),
        ev("churn#prod#1", C2, 200),
        ev("churn#prod#2", C3, 300),
        ev("churn#prod#3", C1, 400),
        ev("churn#dev#4", C3, 500),
    )
    assert holders(info, "prod") == [
        ("v1.0.0", "churn#prod#3"),
        ("v3.0.0", "churn#prod#2"),
        ("v2.0.0", "churn#prod#1"),
    ]
    assert holders(info, "dev") == [("v3.0.0", "churn#dev#4")]
    v3 = info.version("v3.0.0")
    assert v3 is not None and v3.stages == ("dev",)


def test_assignment_belongs_to_the_version_registered_at_its_commit_even_if_later() -> None:
    registry = build_registry(
        [ev("churn#prod#1", C1, 100), ev("churn@v1.0.0#2", C1, 200), ev("churn@v2.0.0", C2, 50)]
    )
    # As in GTO, the assignment is v1.0.0's; dated before that registration, it is
    # also a problem (the backdated rule: check reports it, hooks refuse it).
    assert [(p.rule, p.tag) for p in registry.problems] == [(Rule.BACKDATED, "churn#prod#1")]
    info = registry.artifacts["churn"]
    assert holders(info, "prod") == [("v1.0.0", "churn#prod#1")]
    event = registry.event("churn#prod#1")
    assert event is not None and event.version == "v1.0.0"


def test_stage_events_carry_the_resolved_version() -> None:
    info = churn(
        *V1_V2,
        ev("churn#prod#1", C2, 200),
        ev("churn#prod!#2", C2, 300),
        ev("churn#dev", C1, 400),
    )
    stage_events = [(e.tag, e.kind, e.stage, e.version) for e in info.events if e.stage]
    assert stage_events == [
        ("churn#prod#1", EventKind.ASSIGNMENT, "prod", "v2.0.0"),
        ("churn#prod!#2", EventKind.UNASSIGNMENT, "prod", "v2.0.0"),
        ("churn#dev", EventKind.ASSIGNMENT, "dev", "v1.0.0"),
    ]
    v2 = info.version("v2.0.0")
    assert v2 is not None
    assert [e.tag for e in v2.events] == ["churn@v2.0.0", "churn#prod#1", "churn#prod!#2"]


# -- deprecation (SPEC 3.1) ---------------------------------------------------------------


def test_artifact_is_deprecated_when_its_newest_event_is_a_deprecation() -> None:
    info = churn(ev("churn@v1.0.0", C1, 100), ev("churn@deprecated#1", C1, 200))
    assert info.deprecated is True
    assert [e.kind for e in info.events] == [EventKind.REGISTRATION, EventKind.DEPRECATION]


def test_deprecation_only() -> None:
    info = churn(ev("churn@deprecated", C1, 100))
    assert info.deprecated is True
    assert info.versions == ()
    assert info.latest is None


def test_a_later_registration_reactivates_a_deprecated_artifact() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 100), ev("churn@deprecated#1", C1, 200), ev("churn@v1.1.0", C2, 300)
    )
    assert info.deprecated is False
    assert info.latest is not None and info.latest.version == "v1.1.0"


def test_a_later_assignment_reactivates_a_deprecated_artifact() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 100), ev("churn@deprecated#1", C1, 200), ev("churn#prod#2", C1, 300)
    )
    assert info.deprecated is False


def test_an_older_deprecation_does_not_deprecate() -> None:
    info = churn(ev("churn@deprecated", C1, 100), ev("churn@v1.0.0", C1, 200))
    assert info.deprecated is False


# -- ordering of events of the same second (SPEC 3.2) ------------------------------------


def test_counter_ties_compare_as_numbers() -> None:
    # GTO sorts same-second ties by name, so "#10" would come before "#9".
    info = churn(*V1_V2, ev("churn#prod#10", C2, 200), ev("churn#prod#9", C1, 200))
    assert holders(info, "prod") == [("v2.0.0", "churn#prod#10"), ("v1.0.0", "churn#prod#9")]
    assert [e.tag for e in info.events][-2:] == ["churn#prod#9", "churn#prod#10"]


def test_counter_ties_come_before_priority() -> None:
    # Deprecation has the lowest priority, but its counter puts it after the registration.
    info = churn(ev("churn@deprecated#2", C1, 100), ev("churn@v1.0.0#1", C1, 100))
    assert info.deprecated is True
    assert [e.tag for e in info.events] == ["churn@v1.0.0#1", "churn@deprecated#2"]


def test_priority_orders_events_of_the_same_second_and_counter() -> None:
    names = ["churn#prod!", "churn#prod", "churn@v1.0.0!", "churn@v1.0.0", "churn@deprecated"]
    info = churn(*(ev(name, C1, 100) for name in names))
    assert [(e.tag, e.kind.priority) for e in info.events] == [
        ("churn@deprecated", 2),
        ("churn@v1.0.0", 3),
        ("churn@v1.0.0!", 4),
        ("churn#prod", 5),
        ("churn#prod!", 6),
    ]
    assert info.deprecated is False
    assert info.latest is None
    assert info.holder("prod") is None


def test_assignment_after_unassignment_of_the_same_second_needs_a_higher_counter() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 100), ev("churn#prod!#1", C1, 200), ev("churn#prod#2", C1, 200)
    )
    assert holders(info, "prod") == [("v1.0.0", "churn#prod#2")]


def test_name_breaks_the_remaining_ties() -> None:
    info = churn(
        ev("churn@v2.0.0", C2, 100),
        ev("churn@v1.0.0", C1, 100),
        ev("churn#prod", C1, 200),
        ev("churn#dev", C2, 200),
    )
    assert [e.tag for e in info.events] == [
        "churn@v1.0.0",
        "churn@v2.0.0",
        "churn#dev",
        "churn#prod",
    ]


TIED = [
    ev("churn@v1.0.0", C1, 100),
    ev("churn@v2.0.0", C2, 100),
    ev("churn@deprecated", C2, 100),
    ev("churn#prod#9", C1, 200),
    ev("churn#prod#10", C2, 200),
    ev("churn#prod!#10", C1, 200),
    ev("churn#dev#9", C2, 200),
    ev("churn#dev", C1, 200),
    ev("churn@v2.0.0!#11", C2, 200),
    ev("churn@v3.0.0#11", C3, 200),
    ev("churn#dev#12", C3, 200),
    ev("seg@v0.1.0", C4, 200),
    ev("seg#dev", C4, 150),
]
TIED_ORDER = [
    "churn@deprecated",
    "churn@v1.0.0",
    "churn@v2.0.0",
    "churn#dev",
    "churn#dev#9",
    "churn#prod#9",
    "churn#prod#10",
    "churn#prod!#10",
    "churn@v3.0.0#11",
    "churn@v2.0.0!#11",
    "churn#dev#12",
]


def test_ties_are_broken_by_counter_then_priority_then_name() -> None:
    registry = build_registry(TIED)
    # Hand-made ties break rules (check reports them, hooks refuse them), but the
    # events are still read, in a well-defined order.
    assert [(p.rule, p.tag) for p in registry.problems] == [
        (Rule.COUNTER_REUSED, "churn#prod#9"),
        (Rule.COUNTER_REUSED, "churn#prod!#10"),
        (Rule.COUNTER_REUSED, "churn@v2.0.0!#11"),
        (Rule.BACKDATED, "seg#dev"),
    ]
    info = registry.artifacts["churn"]
    assert [e.tag for e in info.events] == TIED_ORDER
    assert holders(info, "dev") == [("v3.0.0", "churn#dev#12"), ("v1.0.0", "churn#dev")]
    assert info.holder("prod") is None  # v2 was deregistered, v1 unassigned
    assert info.latest is not None and info.latest.version == "v3.0.0"
    assert registry.stages == ("dev", "prod")


def test_result_does_not_depend_on_the_order_of_the_refs() -> None:
    expected = build_registry(TIED)
    rng = random.Random(1234)
    for _ in range(30):
        refs = list(TIED)
        rng.shuffle(refs)
        shuffled = build_registry(refs)
        assert shuffled == expected
        assert [e.tag for e in shuffled.artifacts["churn"].events] == TIED_ORDER


# -- counters (SPEC 2) --------------------------------------------------------------------


def test_next_counter_follows_the_largest_counter_on_any_tag() -> None:
    registry = build_registry(
        [
            ev("churn@v1.0.0#3", C1, 100),
            ev("churn@deprecated", C1, 150),  # a simple tag: no counter
            ev("churn#prod", C1, 160),
            lightweight("churn#prod#12"),
            missing("churn#prod!#15"),
            ev("churn@v2.0.0#4", C2, 200),
            ev("other@v1.0.0", C3, 100),
            ev("dir/sub=name#prod#4", C4, 100),
            ev("dir/sub=name@v1.0.0#2", C4, 50),
        ]
    )
    assert registry.next_counter("churn") == 16
    assert registry.next_counter("other") == 1
    assert registry.next_counter("dir/sub:name") == 5
    assert registry.next_counter("unknown") == 1
    assert dict(registry.counters) == {"churn": 15, "dir/sub:name": 4}


def test_next_counter_counts_tags_on_non_commits_and_duplicates() -> None:
    registry = build_registry(
        [
            ev("churn@v1.0.0", C1, 100),
            ev("churn@v1.0.0#20", C2, 200),  # same version elsewhere: ignored, still counted
            ev("churn@v2.0.0#31", C3, 300, target_type="tree"),
            ev("churn#prod#25", C9, 400),  # no version there: ignored, still counted
        ]
    )
    assert len(registry.problems) == 3
    assert registry.next_counter("churn") == 32


def test_counter_is_one_sequence_for_every_event_kind() -> None:
    registry = build_registry(
        [
            ev("churn@v1.0.0#1", C1, 100),
            ev("churn#prod#2", C1, 200),
            ev("churn@deprecated#7", C1, 300),
        ]
    )
    assert registry.next_counter("churn") == 8


# -- isolation (SPEC 3.3) -----------------------------------------------------------------

GOOD = [
    ev("churn@v1.0.0", C1, 100),
    ev("churn#prod#1", C1, 110),
    ev("churn@v2.0.0#2", C2, 200),
    ev("churn#staging#3", C2, 210),
    ev("seg@v0.1.0", C3, 300),
]


def test_good_refs_make_the_expected_registry() -> None:
    registry = build_registry(GOOD)
    assert registry.problems == ()
    assert sorted(registry.artifacts) == ["churn", "seg"]
    info = registry.artifacts["churn"]
    assert info.latest is not None and info.latest.version == "v2.0.0"
    assert holders(info, "prod") == [("v1.0.0", "churn#prod#1")]
    assert holders(info, "staging") == [("v2.0.0", "churn#staging#3")]
    assert registry.stages == ("prod", "staging")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param(
            lightweight("churn@v3.0.0"),
            "lightweight tag ignored: registry events are annotated tags",
            id="lightweight",
        ),
        pytest.param(
            missing("churn#prod#4"),
            f"object {oid_of('churn#prod#4')} is missing from the repository",
            id="missing-object",
        ),
        pytest.param(
            ev("churn@v3.0.0", C3, 400, target_type="tree"),
            "points at a tree, not a commit: ignored",
            id="tree",
        ),
        pytest.param(
            ev("churn@v1.0.0#4", C3, 400),
            "v1.0.0 of churn is already registered at commit 1111111 (tag churn@v1.0.0); "
            "this tag points at 3333333: ignored",
            id="version-on-second-commit",
        ),
        pytest.param(
            ev("churn#prod#4", C9, 400),
            "points at commit 9999999, where churn has no registered version: ignored",
            id="assignment-without-version",
        ),
        pytest.param(
            ev("churn#prod!#4", C9, 400),
            "points at commit 9999999, where churn has no registered version: ignored",
            id="unassignment-without-version",
        ),
        pytest.param(
            ev("churn@v7.0.0!#4", C1, 400),
            "deregisters v7.0.0, which is not registered at that time: ignored",
            id="deregistration-never-registered",
        ),
    ],
)
def test_one_bad_tag_is_one_problem_and_the_rest_is_served(bad: TagRef, message: str) -> None:
    expected = build_registry(GOOD)
    for refs in ([*GOOD, bad], [bad, *GOOD]):
        registry = build_registry(refs)
        assert [(p.message, p.tag, p.artifact) for p in registry.problems] == [
            (message, bad.name, "churn")
        ]
        assert registry.problems[0].rule is not None
        assert registry.problems_of(bad.name) == registry.problems
        assert str(registry.problems[0]) == f"{bad.name}: {message}"
        assert registry.artifacts == expected.artifacts
        assert registry.stages == expected.stages
        assert registry.event(bad.name) is None
        v1 = registry.artifacts["churn"].version("v1.0.0")
        assert v1 is not None and v1.commit == C1


def test_two_active_versions_on_one_commit() -> None:
    registry = build_registry(
        [
            ev("churn@v1.0.0", C1, 100),
            ev("churn#dev#1", C1, 150),
            ev("churn@v1.1.0#2", C1, 200),
            ev("churn#prod#3", C1, 300),
        ]
    )
    # The problem is the registration's that made the commit shared.
    assert [(p.rule, p.tag, p.message) for p in registry.problems] == [
        (
            Rule.SHARED_COMMIT,
            "churn@v1.1.0#2",
            "commit 1111111 holds 2 active versions of churn (v1.0.0, v1.1.0); "
            "stage tags on it go to the newest registration",
        )
    ]
    assert str(registry.problems[0]).startswith("churn@v1.1.0#2: commit 1111111 holds 2")
    info = registry.artifacts["churn"]
    # Each stage tag goes to the newest registration before it.
    assert holders(info, "dev") == [("v1.0.0", "churn#dev#1")]
    assert holders(info, "prod") == [("v1.1.0", "churn#prod#3")]
    assert info.latest is not None and info.latest.version == "v1.1.0"
    assert [v.version for v in info.versions_at(C1)] == ["v1.0.0", "v1.1.0"]


def test_two_versions_on_one_commit_are_fine_once_one_is_deregistered() -> None:
    registry = build_registry(
        [
            ev("churn@v1.0.0", C1, 100),
            ev("churn@v1.0.0!#1", C1, 150),
            ev("churn@v1.1.0#2", C1, 200),
        ]
    )
    assert registry.problems == ()
    assert [(v.version, v.active) for v in registry.artifacts["churn"].versions] == [
        ("v1.1.0", True),
        ("v1.0.0", False),
    ]


def test_non_registry_tags_are_skipped_silently() -> None:
    others = [
        ev("release-1.0", C1, 100),
        ev("v1.0.0", C1, 100),
        ev("churn@1.0.0", C1, 100),
        ev("churn@created#99", C1, 100),
        lightweight("nightly"),
        missing("broken"),
        ev("churn@V2.0.0#50", C2, 100, target_type="tree"),
    ]
    expected = build_registry(GOOD)
    registry = build_registry([*others, *GOOD])
    assert registry == expected
    assert registry.problems == ()
    assert registry.next_counter("churn") == 4
    assert registry.event("release-1.0") is None


def test_known_artifacts_include_those_not_read() -> None:
    registry = build_registry(GOOD, known=["zeta", "churn"])
    assert registry.known == ("churn", "seg", "zeta")
    assert "zeta" not in registry.artifacts


# -- registry-wide views -----------------------------------------------------------------


def test_stages_are_listed_in_order_of_first_use() -> None:
    registry = build_registry(
        [
            ev("churn@v1.0.0", C1, 100),
            ev("seg@v1.0.0", C2, 100),
            ev("churn#staging#1", C1, 200),
            ev("seg#prod", C2, 300),
            ev("churn#prod#2", C1, 400),  # prod is reused: it keeps its place
            ev("churn#dev!#3", C1, 500),  # an unassignment is a use too
            ev("seg#archive", C2, 600),
        ]
    )
    assert registry.stages == ("staging", "prod", "dev", "archive")


def test_event_lookup() -> None:
    registry = build_registry(
        [
            ev("churn@v1.0.0", C1, 100, message="Registering artifact churn version v1.0.0\n\n"),
            ev("churn#prod#1", C1, 200, message="Assigning stage prod\n"),
            ev("dir/sub=name@v0.1.0#1", C2, 300, tagger=False),
            lightweight("churn@v2.0.0"),
        ]
    )
    event = registry.event("churn#prod#1")
    assert event is not None
    assert (event.kind, event.artifact, event.version, event.stage, event.counter) == (
        EventKind.ASSIGNMENT,
        "churn",
        "v1.0.0",
        "prod",
        1,
    )
    assert (event.commit, event.oid, event.message) == (
        C1,
        oid_of("churn#prod#1"),
        "Assigning stage prod",
    )
    assert event.tagger == Signature("Ada", "ada@example.com", T0 + 200, 0)

    registration = registry.event("churn@v1.0.0")
    assert registration is not None
    assert registration.message == "Registering artifact churn version v1.0.0"
    assert registration.kind is EventKind.REGISTRATION and registration.stage is None

    # A tag object without a tagger line is malformed: a registry event needs its time.
    assert registry.event("dir/sub=name@v0.1.0#1") is None
    assert [(p.rule, p.artifact) for p in registry.problems_of("dir/sub=name@v0.1.0#1")] == [
        (Rule.TAG_OBJECT, "dir/sub:name")
    ]

    assert registry.event("churn@v2.0.0") is None  # lightweight: ignored
    assert registry.event("churn@v9.0.0") is None  # no such tag
    assert registry.event("nobody@v1.0.0") is None  # no such artifact
    assert registry.event("release-1.0") is None  # not a registry tag


def test_problems_of_selects_one_tag() -> None:
    registry = build_registry([*GOOD, lightweight("churn@v3.0.0"), ev("seg#prod", C9, 400)])
    assert [p.tag for p in registry.problems_of("seg#prod")] == ["seg#prod"]
    assert registry.problems_of("seg#prod")[0].artifact == "seg"
    assert [p.tag for p in registry.problems_of("churn@v3.0.0")] == ["churn@v3.0.0"]
    assert registry.problems_of("churn@v1.0.0") == ()
    assert len(registry.problems) == 2


def test_empty_registry() -> None:
    registry = build_registry([])
    assert registry == Registry({}, (), (), {}, ())
    assert registry.next_counter("churn") == 1
    assert registry.event("churn@v1.0.0") is None


def test_event_lookup_accepts_the_refs_tags_prefix() -> None:
    registry = build_registry([ev("churn@v1.0.0", C1, 100)])
    assert registry.event("refs/tags/churn@v1.0.0") == registry.event("churn@v1.0.0")
    assert registry.event("refs/tags/churn@v1.0.0") is not None
