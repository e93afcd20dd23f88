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


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    items=st.lists(_JSON_VALUES, max_size=6),
    rest=st.dictionaries(st.text(), _JSON_VALUES, max_size=3),
    per=st.integers(1, 4),
)
def test_json_written_in_pieces_is_the_same_text(
    items: list[object], rest: dict[str, object], per: int
) -> None:
    """history --json writes its events as they are encoded (issue 20: memory); the
    text is dump_json's, escapes included, whatever the pieces."""
    from git_registry.render import dump_json, dump_json_chunks

    rest.pop("events", None)
    expected = dump_json({"events": items, **rest})
    assert "".join(dump_json_chunks("events", items, rest, per)) == expected


@pytest.mark.parametrize("color", [False, True])
def test_a_table_written_in_pieces_is_the_same_text(color: bool) -> None:
    from git_registry.render import column_chunks, column_table

    columns = [[f"r{i}" * (i % 3 + 1) for i in range(10)], [f"\u00e9{i}" for i in range(10)]]
    paint = Painter(color)
    whole = column_table(["a", "b"], columns, paint, ["name", None])
    pieces = list(column_chunks(["a", "b"], columns, paint, ["name", None], rows_per_chunk=3))
    assert len(pieces) == 5  # the header, then 3 + 3 + 3 + 1 rows
    assert "".join(pieces) == whole
