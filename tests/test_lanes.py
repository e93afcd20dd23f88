"""The lifecycle lane model (issue 18): per stage, which version held it when; the marks
for promotions, rollbacks, deregistrations and deprecation. Pure: no git."""

from __future__ import annotations

import random

import pytest
from test_state import C1, C2, C3, churn, ev

from git_registry.gitvalues import ObjectId
from git_registry.lifecycle import Lifecycle, Mark, Span, lifecycle
from git_registry.state import ArtifactInfo, build_registry

pytestmark = pytest.mark.core


def lanes(info: ArtifactInfo, stages: tuple[str, ...] = ()) -> Lifecycle:
    return lifecycle(info.name, info.events, stages)


def test_a_promotion_then_a_newer_one_hands_the_stage_over() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 1),
        ev("churn#prod#1", C1, 2),
        ev("churn@v1.1.0", C2, 3),
        ev("churn#prod#2", C2, 4),
    )
    model = lanes(info)
    assert model.stages == ("prod",)
    assert [s.mark for s in model.steps] == [
        Mark.REGISTRATION,
        Mark.PROMOTION,
        Mark.REGISTRATION,
        Mark.PROMOTION,
    ]
    assert model.spans(0) == [Span("prod", "v1.0.0", 1, 3), Span("prod", "v1.1.0", 3, None)]
    assert [s.changed for s in model.steps] == [(), (0,), (), (0,)]


def test_a_rollback_hands_the_stage_back_and_an_unassignment_empties_it() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 1),
        ev("churn#prod#1", C1, 2),
        ev("churn@v1.1.0", C2, 3),
        ev("churn#prod#2", C2, 4),
        ev("churn#prod!#3", C2, 5),
        ev("churn#prod!#4", C1, 6),
    )
    model = lanes(info)
    assert [s.mark for s in model.steps][4:] == [Mark.ROLLBACK, Mark.UNASSIGNMENT]
    assert [s.holders for s in model.steps][3:] == [("v1.1.0",), ("v1.0.0",), (None,)]
    assert model.spans(0) == [
        Span("prod", "v1.0.0", 1, 3),
        Span("prod", "v1.1.0", 3, 4),
        Span("prod", "v1.0.0", 4, 5),
    ]


def test_unassigning_a_version_that_does_not_hold_the_stage_changes_no_lane() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 1),
        ev("churn#prod#1", C1, 2),
        ev("churn@v1.1.0", C2, 3),
        ev("churn#prod#2", C2, 4),
        ev("churn#prod!#3", C1, 5),
    )
    step = lanes(info).steps[-1]
    assert (step.mark, step.changed, step.holders) == (Mark.UNASSIGNMENT, (), ("v1.1.0",))


def test_deregistering_the_holder_ends_its_spans_in_every_stage() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 1),
        ev("churn#dev#1", C1, 2),
        ev("churn#prod#2", C1, 3),
        ev("churn@v1.1.0", C2, 4),
        ev("churn#dev#3", C2, 5),
        ev("churn@v1.1.0!", C2, 6),
    )
    model = lanes(info, ("dev", "prod"))
    last = model.steps[-1]
    assert last.mark is Mark.DEREGISTRATION
    assert last.holders == ("v1.0.0", "v1.0.0")
    assert last.changed == (0,)
    assert model.spans(0)[-2:] == [Span("dev", "v1.1.0", 4, 5), Span("dev", "v1.0.0", 5, None)]


def test_deprecation_shades_until_a_later_event_revives_the_artifact() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 1),
        ev("churn@deprecated", C1, 2),
        ev("churn@v1.1.0", C2, 3),
        ev("churn@deprecated#2", C2, 4),
    )
    model = lanes(info)
    assert [s.mark for s in model.steps][1] is Mark.DEPRECATION
    assert model.deprecated_ranges() == [(1, 2), (3, None)]
    assert model.stages == ()


def test_lanes_follow_the_policys_order_then_first_use() -> None:
    info = churn(
        ev("churn@v1.0.0", C1, 1),
        ev("churn#qa#1", C1, 2),
        ev("churn#prod#2", C1, 3),
        ev("churn#dev#3", C1, 4),
    )
    assert lanes(info, ("dev", "staging", "prod")).stages == ("dev", "prod", "qa")


@pytest.mark.parametrize("seed", range(40))
def test_the_last_step_has_the_holders_the_registry_has(seed: int) -> None:
    """Random histories: after the last event, each lane holds what state.py says."""
    rnd = random.Random(seed)
    refs = []
    registered: list[tuple[str, ObjectId]] = []
    commits = [C1, C2, C3]
    counter = 0
    for t in range(1, 30):
        counter += 1
        choice = rnd.random()
        if not registered or (choice < 0.2 and len(registered) < 3):
            version = f"v1.{len(registered)}.0"
            commit = commits[len(registered)]
            registered.append((version, commit))
            refs.append(ev(f"churn@{version}", commit, t))
            continue
        version, commit = rnd.choice(registered)
        stage = rnd.choice(["dev", "prod"])
        if choice < 0.3:
            refs.append(ev(f"churn@{version}!", commit, t))
        elif choice < 0.35:
            refs.append(ev(f"churn@deprecated#{counter}", commit, t))
        elif choice < 0.5:
            refs.append(ev(f"churn#{stage}!#{counter}", commit, t))
        elif choice < 0.6:
            refs.append(ev(f"churn@{version}", commit, t))  # registered again
        else:
            refs.append(ev(f"churn#{stage}#{counter}", commit, t))
    registry = build_registry(refs)
    info = registry.artifacts["churn"]
    model = lanes(info)
    final = model.steps[-1].holders
    for lane, stage in enumerate(model.stages):
        holder = info.holder(stage)
        assert final[lane] == (holder.version if holder else None)
    assert model.steps[-1].deprecated == info.deprecated
