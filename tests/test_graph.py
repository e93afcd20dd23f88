"""``git registry history NAME --graph`` (issue 18): the lifecycle timeline in the
terminal, one lane per stage, box characters or ASCII, coloured as Git says."""

from __future__ import annotations

import pytest

from conftest import Repo, make_registry

ROLLBACK = (
    "churn@v1.0.0 churn#dev#1 churn#prod#2 commit churn@v1.1.0 churn#prod#3 "
    "churn#prod!#4->v1.1.0 commit churn@v1.2.0 churn#dev#5 churn@v1.2.0! churn@deprecated#6"
)


@pytest.fixture
def history(repo: Repo) -> Repo:
    repo.commit()
    return make_registry(repo, ROLLBACK)


def rows(out: str) -> list[list[str]]:
    """Each line's cells (split on two spaces or more)."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]


def test_the_graph_draws_one_lane_per_stage_with_the_holders_changes(
    history: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    out = history.ok("history", "churn", "--graph", "--ascending")
    lines = out.splitlines()
    assert rows(out)[0] == ["time", "dev", "prod", "event"]
    assert len(lines) == 1 + 10
    assert "+ registered v1.0.0" in lines[1]
    assert "● v1.0.0" in lines[2] and "promoted v1.0.0 to dev" in lines[2]
    # churn#prod#3 then its rollback: prod goes to v1.1.0 and back to v1.0.0
    assert "● v1.1.0" in lines[5] and lines[5].count("│") == 1
    assert "↶ v1.0.0" in lines[6] and "rolled back prod: v1.1.0 unassigned" in lines[6]
    # v1.2.0 took dev, its deregistration hands dev back to v1.0.0
    assert "✕ v1.0.0" in lines[9] and "deregistered v1.2.0" in lines[9]
    # deprecated: both lanes still held, drawn dotted
    assert lines[10].count("┊") == 2 and "⊘ deprecated churn" in lines[10]


def test_newest_first_by_default_as_history_is(history: Repo) -> None:
    ascending = history.ok("history", "churn", "--graph", "--ascii", "--asc").splitlines()
    descending = history.ok("history", "churn", "--graph", "--ascii").splitlines()
    assert descending[0] == ascending[0]
    assert descending[1:] == ascending[:0:-1]
    assert descending[1].endswith("churn@deprecated#6")


@pytest.mark.parametrize("how", [["--ascii"], []])
def test_ascii_with_the_option_or_a_locale_that_is_not_utf8(
    history: Repo, monkeypatch: pytest.MonkeyPatch, how: list[str]
) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8" if how else "C")
    monkeypatch.setenv("LC_ALL", "en_US.ISO-8859-1" if not how else "")
    out = history.ok("history", "churn", "--graph", *how)
    assert out.isascii()
    assert "< v1.0.0" in out and "x v1.0.0" in out and "! deprecated churn" in out


def test_the_graph_is_coloured_by_gits_colour_rules(history: Repo) -> None:
    assert "\x1b[" not in history.ok("history", "churn", "--graph")
    history.git("config", "color.registry", "always")
    out = history.ok("history", "churn", "--graph", "--ascii")
    assert "\x1b[33m< v1.0.0\x1b[0m" in out  # a rollback, as a warning
    assert "\x1b[31mx v1.0.0\x1b[0m" in out  # a deregistration, as an error
    assert "\x1b[" not in history.ok("history", "churn", "--graph", "--color=never")


def test_an_artifact_with_no_stages_has_no_lanes(repo: Repo) -> None:
    repo.commit()
    make_registry(repo, "seg@v0.1.0")
    assert rows(repo.ok("history", "seg", "--graph", "--ascii")) == [
        ["time", "event"],
        [*rows(repo.ok("history", "seg", "--graph", "--ascii"))[1]],
    ]
    assert "+ registered v0.1.0" in repo.ok("history", "seg", "--graph", "--ascii")


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["history", "churn", "--ascii"], 129, "--ascii draws the graph: add --graph"),
        (["history", "--graph"], 129, "--graph draws one artifact's lifecycle"),
        (["history", "churn", "--graph", "--json"], 129, "not allowed with argument"),
        (["history", "churn", "--graph", "--plain"], 129, "not allowed with argument"),
        (["history", "chrun", "--graph"], 1, "churn"),
        (["history", "--upload-pack=x", "--graph"], 129, ""),
    ],
)
def test_graph_errors(history: Repo, argv: list[str], code: int, says: str) -> None:
    result = history.run(*argv)
    assert result.code == code, result.err
    assert says in result.err
    assert result.out == ""


def test_several_remotes_graph_label_name(history: Repo, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    other = Repo(tmp_path / "other")
    other.commit()
    make_registry(other, "churn@v9.0.0 churn#prod#1")
    out = history.ok(
        "history",
        "other:churn",
        "--graph",
        "--ascii",
        "--remote",
        str(history.path),
        "--remote",
        str(other.path),
    )
    assert "* v9.0.0" in out and "v1.0.0" not in out


def test_graph_refuses_the_event_filters(repo: Repo) -> None:
    make_registry(repo, "churn@v1.0.0 churn#prod#1")
    for extra in (("--since", "2020-01-01"), ("--until", "2020-01-01"), ("--by", "someone")):
        result = repo.run("history", "churn", "--graph", *extra)
        assert result.code == 129, (extra, result.err)
        assert "--graph draws the whole lifecycle" in result.err
        assert result.out == ""
