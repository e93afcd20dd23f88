"""Output helpers: their fast paths must give what the general code gives."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from git_registry.gitvalues import Signature
from git_registry.render import Painter, count, table, when

pytestmark = pytest.mark.core

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def reference_time(seconds: int, offset: int) -> str:
    zone = timezone(timedelta(minutes=offset))
    return datetime.fromtimestamp(seconds, zone).strftime("%Y-%m-%d %H:%M:%S %z")


@given(
    seconds=st.integers(min_value=0, max_value=253_402_000_000),
    offset=st.integers(min_value=-1439, max_value=1439),
)
def test_when_matches_datetime(seconds: int, offset: int) -> None:
    assert when(Signature("A", "a@b", seconds, offset)) == reference_time(seconds, offset)


def test_when_edges() -> None:
    edges = [(0, 0), (0, -60), (1_700_000_000, 330), (1_700_000_000, -570), (-86_400 * 400, 90)]
    for seconds, offset in edges:  # the last one, before 1970, takes the general path
        assert when(Signature("A", "a@b", seconds, offset)) == reference_time(seconds, offset)


cells = st.text(
    alphabet=st.sampled_from(["a", "Z", "0", "-", "@", "é", "界", "\u0301"]), max_size=6
)


@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda n: st.tuples(
            st.lists(cells, min_size=n, max_size=n),
            st.lists(st.lists(cells, min_size=n, max_size=n), max_size=6),
        )
    )
)
def test_colour_never_changes_the_layout(case: tuple[list[str], list[list[str]]]) -> None:
    """The plain path (one format per row) and the coloured path lay out alike."""
    headers, rows = case
    styles = ["name"] * len(headers)
    plain = table(headers, rows, Painter(False), styles)
    coloured = table(headers, rows, Painter(True), styles)
    assert ANSI.sub("", coloured) == plain


def test_wide_characters_take_two_columns() -> None:
    out = table(["a", "b"], [["界界", "x"], ["ab", "y"]], Painter(False))
    assert out.splitlines() == ["a     b", "界界  x", "ab    y"]


def test_count_says_one_in_the_singular_and_the_others_in_the_plural() -> None:
    assert [count(n, "tag") for n in (0, 1, 2)] == ["0 tags", "1 tag", "2 tags"]
    assert count(1, "other tag") == "1 other tag"
    assert count(3, "entry", "entries") == "3 entries"
