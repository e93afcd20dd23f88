"""Filters: ``show --type/--label/--stage`` over the registry table and ``history
--since/--until/--by`` over events, in every output shape, and their usage errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from conftest import Repo


def names(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[1:]]


# -- show filters -------------------------------------------------------------------------


def test_show_filters_the_registry_in_every_shape(demo: Repo) -> None:
    assert names(demo.ok("show", "--label", "car", "--stage", "staging")) == ["cv-class"]
    doc = json.loads(demo.ok("show", "--label", "car", "--stage", "staging", "--json"))
    assert [a["name"] for a in doc["artifacts"]] == ["cv-class"]
    gto = json.loads(demo.ok("show", "--label", "car", "--stage", "staging", "--json=gto"))
    assert list(gto) == ["cv-class"]
    plain = demo.ok("show", "--stage", "prod", "--plain")
    assert "churn" in plain and "cv-class" not in plain and "segment" not in plain
    assert demo.ok("show", "--label", "cv", "--name").split() == ["cv-class", "segment"]


def test_repeated_filters_all_hold(demo: Repo) -> None:
    assert names(demo.ok("show", "--label", "cv", "--label", "car")) == ["cv-class", "segment"]
    assert names(demo.ok("show", "--label", "cv", "--label", "doors")) == ["cv-class"]
    assert names(demo.ok("show", "--stage", "staging", "--stage", "prod")) == ["churn"]
    assert names(demo.ok("show", "--type", "model", "--type", "model")) == [
        "churn", "cv-class", "segment",
    ]  # fmt: skip
    assert names(demo.ok("show", "--type", "model", "--stage", "dev")) == ["segment"]


def test_no_match_is_a_hint_and_exit_0(demo: Repo) -> None:
    result = demo.run("show", "--type", "dataset")
    assert (result.code, result.out) == (0, "")
    assert result.err == "hint: no artifact matches --type dataset\n"
    result = demo.run("show", "--stage", "prdo", "--json")
    assert result.code == 0
    assert json.loads(result.out)["artifacts"] == []
    assert "stage 'prdo': did you mean 'prod'?" in result.err
    result = demo.run("show", "--label", "\x1b[31mcar")
    assert result.code == 0 and "\x1b" not in result.err and "\\x1b[31mcar" in result.err


def test_stage_alone_is_still_gtos_flag(demo: Repo) -> None:
    assert demo.ok("show", "churn", "--stage").splitlines() == ["staging", "prod"]
    assert demo.ok("show", "--stage", "churn").splitlines() == ["staging", "prod"]
    assert demo.ok("show", "--stage", "churn@v3.0.0").splitlines() == ["prod"]
    assert demo.ok("show", "churn#prod", "--stage").splitlines() == ["prod"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--type", "model", "--type", "dataset"], "an artifact has one type"),
        (["churn", "--type", "model"], "without NAME"),
        (["churn", "--label", "cv"], "without NAME"),
        (["--stage=prod", "churn"], "without NAME"),
        (["--label", ""], "--label needs a value"),
        (["--type", "model", "--remote", "origin"], "not read from remotes"),
        (["--stage", "--upload-pack=x"], "unrecognized arguments"),
        (["--label"], "expected one argument"),
    ],
)
def test_show_filter_usage_errors(demo: Repo, args: list[str], says: str) -> None:
    result = demo.run("show", *args)
    assert result.code == 129, result.err
    assert says in result.err
    assert result.out == ""


# -- history filters ------------------------------------------------------------------------

DAY = 86400
T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


@pytest.fixture
def team(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """Events by three taggers, one a day."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    for i, (name, email) in enumerate(
        [("Alice A", "alice@acme.example"), ("Bob B", "bob@acme.example"), ("Eve", "ev@x.org")]
    ):
        if i:
            repo.commit()
        env = {
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": f"{T0 + i * DAY} +0000",
        }
        repo.git("tag", "-a", "-m", f"m{i}", f"churn@v1.0.{i}", env=env)
    yield repo
    monkeypatch.delenv("TZ")
    time.tzset()


def tags(out: str) -> list[str]:
    return [line.split()[-1] for line in out.splitlines()[1:]]


def test_history_by_matches_name_or_email_case_insensitively(team: Repo) -> None:
    assert tags(team.ok("history", "--by", "ALICE")) == ["churn@v1.0.0"]
    assert tags(team.ok("history", "--by", "acme.example")) == ["churn@v1.0.1", "churn@v1.0.0"]
    assert tags(team.ok("history", "--by", "bob", "--by", "x.org")) == [
        "churn@v1.0.2", "churn@v1.0.1",
    ]  # fmt: skip
    result = team.run("history", "--by", "mallory")
    assert (result.code, result.out) == (0, "")
    assert result.err == "hint: no event matches --since, --until and --by\n"


def test_history_dates_a_day_is_inclusive(team: Repo) -> None:
    # T0 is 2023-11-14 22:13 UTC; the next events are on the 15th and the 16th.
    assert tags(team.ok("history", "--since", "2023-11-15")) == ["churn@v1.0.2", "churn@v1.0.1"]
    assert tags(team.ok("history", "--until", "2023-11-15")) == ["churn@v1.0.1", "churn@v1.0.0"]
    assert tags(team.ok("history", "--since", "2023-11-15", "--until", "2023-11-15")) == [
        "churn@v1.0.1"
    ]
    assert tags(team.ok("history", "--since", "2023-11-15T22:13:21Z")) == ["churn@v1.0.2"]
    assert tags(team.ok("history", "--since", "2023-11-16 00:13:20+02:00")) == [
        "churn@v1.0.2",
        "churn@v1.0.1",
    ]
    assert tags(team.ok("history", "--until", f"@{T0}")) == ["churn@v1.0.0"]
    assert tags(team.ok("history", "--since", "100000.days.ago", "--by", "eve")) == ["churn@v1.0.2"]


def test_history_filters_every_shape(team: Repo) -> None:
    args = ("history", "churn", "--since", "2023-11-15", "--by", "bob")
    doc = json.loads(team.ok(*args, "--json"))
    assert [e["tag"] for e in doc["events"]] == ["churn@v1.0.1"]
    gto = json.loads(team.ok(*args, "--json=gto"))
    assert len(gto) == 1 and gto[0]["version"] == "v1.0.1"
    plain = team.ok(*args, "--plain")
    assert "v1.0.1" in plain and "v1.0.0" not in plain and "v1.0.2" not in plain


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "2023-13-01"], "--since '2023-13-01': not a date"),
        (["--since", "last tuesday"], "not a date"),
        (["--until", "3.fortnights.ago"], "not a date"),
        (["--until", ""], "not a date"),
        (["--since", "--upload-pack=x"], "not a date"),
        (["--since", "\x1b[2Jnow"], "\\x1b[2Jnow"),
        (["--since", "2023-11-16", "--until", "2023-11-15"], "is after --until"),
        (["--by", " "], "--by needs a name"),
        (["--since"], "expected one argument"),
    ],
)
def test_history_filter_usage_errors(team: Repo, args: list[str], says: str) -> None:
    result = team.run("history", *args)
    assert result.code == 129, result.err
    assert says in result.err
    assert "\x1b" not in result.err
    assert result.out == ""
