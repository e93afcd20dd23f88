"""Typos explain themselves (issue 15, item 8): a mistyped artifact or stage gets the
closest existing words, a new artifact one edit away from an existing one needs
--new, and an artifact that is annotated but not registered says so."""

from __future__ import annotations

import pytest

from git_registry.suggest import closest, did_you_mean, likely_typo, one_edit_apart

from conftest import Repo, make_registry


@pytest.mark.core
@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("chrun", "churn", True),  # two neighbours swapped
        ("churn", "churns", True),  # one inserted
        ("churn", "chur", True),  # one deleted
        ("churn", "chirn", True),  # one replaced
        ("prd", "prod", True),
        ("churn", "churn", False),  # not an edit
        ("churn", "nruhc", False),
        ("churn", "cuhrn2", False),  # two edits
        ("ab", "ba", True),
        ("abc", "cba", False),  # a swap of non-neighbours is two edits
        ("a", "", True),
        ("", "", False),
        ("segment", "fraud", False),
    ],
)
def test_one_edit_apart(a: str, b: str, near: bool) -> None:
    assert one_edit_apart(a, b) is near
    assert one_edit_apart(b, a) is near


@pytest.mark.core
@pytest.mark.parametrize(
    ("new", "old", "typo"),
    [
        ("chrun", "churn", True),
        ("fruad", "fraud", True),
        ("churn_", "churn-", True),
        ("model-01", "model-00", False),  # a series
        ("churn2", "churn", False),
        ("cv", "nv", False),  # too short to tell
        ("churn", "churn", False),
    ],
)
def test_likely_typo(new: str, old: str, typo: bool) -> None:
    assert likely_typo(new, old) is typo


@pytest.mark.core
def test_closest_puts_one_edit_first_and_leaves_out_the_word_itself() -> None:
    assert closest("prd", ["dev", "prod", "staging", "prd"]) == ["prod"]
    assert closest("stagin", ["prod", "staging"]) == ["staging"]
    assert did_you_mean("xyz", ["prod", "staging"]) is None
    assert did_you_mean("chrun", ["churn", "chrn"]) == "did you mean 'churn' or 'chrn'?"


@pytest.fixture
def team(repo: Repo) -> Repo:
    repo.commit(files={"artifacts.yaml": "churn: {type: model}\nfraud: {type: model}\n"})
    return make_registry(repo, "churn@v1.0.0 churn#prod#1 commit churn@v1.1.0 churn#staging#2")


def test_register_of_a_name_one_edit_from_an_artifact_needs_new(team: Repo) -> None:
    before = team.git("for-each-ref", "refs/tags")
    result = team.run("register", "chrun")
    assert result.code == 128
    assert "fatal: 'chrun' would be a new artifact, one edit away from 'churn'" in result.err
    assert "hint: did you mean 'churn'? To start a new artifact named 'chrun', pass --new" in (
        result.err
    )
    assert team.git("for-each-ref", "refs/tags") == before  # nothing was created
    # --dry-run says the same, and --new starts the artifact.
    assert team.run("register", "chrun", "--dry-run").code == 128
    assert "Created tag chrun@v0.0.1" in team.ok("register", "chrun", "--new")
    # Once it exists it is no longer new: no question the second time.
    team.commit()
    assert "Created tag chrun@v0.0.2" in team.ok("register", "chrun")


def test_register_of_a_name_close_to_an_annotated_one_needs_new(team: Repo) -> None:
    result = team.run("register", "fruad")
    assert result.code == 128
    assert "one edit away from 'fraud'" in result.err
    # The annotated name itself is not a typo, though no tag names it yet.
    assert "Created tag fraud@v0.0.1" in team.ok("register", "fraud")


def test_register_of_a_name_not_close_to_anything_is_not_questioned(team: Repo) -> None:
    assert "Created tag segment@v0.0.1" in team.ok("register", "segment")
    assert "Created tag churn-v2@v0.0.1" in team.ok("register", "churn-v2")  # 3 edits
    team.commit()
    assert "Created tag churn2@v0.0.1" in team.ok("register", "churn2")  # a digit: a series


def test_a_mistyped_artifact_gets_the_closest_names(team: Repo) -> None:
    for args in (
        ["which", "chrun", "prod"],
        ["latest", "chrun"],
        ["show", "chrun"],
        ["history", "chrun"],
        ["describe", "chrun@latest"],
        ["promote", "chrun", "prod"],
        ["unassign", "chrun", "prod"],
    ):
        result = team.run(*args)
        assert result.code == 1, args
        assert "unknown artifact 'chrun'" in result.err, args
        assert "hint: did you mean 'churn'?" in result.err, args


def test_a_name_close_to_nothing_lists_the_known_artifacts(team: Repo) -> None:
    result = team.run("which", "segment", "prod")
    assert result.code == 1
    assert "hint: known artifacts: churn" in result.err


@pytest.mark.parametrize(
    "args",
    [
        ["which", "churn", "prd"],
        ["show", "churn#prd"],
        ["describe", "churn#prd"],
        ["unassign", "churn", "prd"],
    ],
)
def test_a_mistyped_stage_gets_the_closest_stage(team: Repo, args: list[str]) -> None:
    result = team.run(*args)
    assert result.code == 1
    assert "no version of churn is in stage 'prd'" in result.err
    assert "hint: did you mean 'prod'?" in result.err


def test_a_declared_stage_nobody_holds_gets_no_suggestion(team: Repo) -> None:
    team.commit(files={".registry.yaml": "stages: [dev, staging, prod]\n"})
    result = team.run("which", "churn", "dev")
    assert result.code == 1
    assert "no version of churn is in stage 'dev'" in result.err
    assert "hint" not in result.err
    # A stage that is neither declared nor used lists the declared ones first.
    result = team.run("which", "churn", "qa")
    assert "hint: stages: dev, staging, prod" in result.err


def test_describe_of_an_annotated_artifact_with_no_version_says_so(team: Repo) -> None:
    result = team.run("describe", "fraud@v1.0.0")
    assert result.code == 1
    assert "fraud is annotated in artifacts.yaml but has no registered version" in result.err
    assert "git registry register fraud" in result.err
    assert "unknown artifact" not in result.err
    assert "type: model" in team.ok("describe", "fraud")  # at HEAD it is there


def test_describe_of_an_unannotated_unregistered_artifact_is_unknown(team: Repo) -> None:
    team.commit(files={"artifacts.yaml": "churn: {type: model}\nfraud: [broken\n"})
    result = team.run("describe", "fraud@v1.0.0")
    assert result.code == 1
    assert "unknown artifact 'fraud'" in result.err


def test_promote_to_a_new_stage_one_edit_from_a_used_one_needs_new(team: Repo) -> None:
    before = team.tags()
    result = team.run("promote", "churn", "prdo")
    assert result.code == 128
    assert result.err == (
        "fatal: 'prdo' would be a new stage, one edit away from 'prod'\n"
        "hint: did you mean 'prod'? To start a new stage named 'prdo', pass --new\n"
    )
    assert team.tags() == before
    assert "Created tag churn#prdo#3" in team.ok("promote", "churn", "prdo", "--new")
    assert "Created tag churn#dev#4" in team.ok("promote", "churn", "dev")  # not close


def test_a_policy_that_lists_its_stages_decides_alone(team: Repo) -> None:
    team.commit(files={".registry.yaml": "stages: [dev, staging, prod, prdo]\n"})
    team.ok("register", "churn")
    assert "Created tag churn#prdo#" in team.ok("promote", "churn", "prdo")  # declared


def test_promote_ref_of_a_new_artifact_one_edit_from_one_needs_new(team: Repo) -> None:
    team.commit()
    result = team.run("promote", "chrun", "prod", "--ref", "HEAD")
    assert result.code == 128
    assert "'chrun' would be a new artifact, one edit away from 'churn'" in result.err
    out = team.ok("promote", "chrun", "prod", "--ref", "HEAD", "--new")
    assert "Created tag chrun@v0.0.1" in out and "Created tag chrun#prod#1" in out
