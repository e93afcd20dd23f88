"""The bounded YAML loader: plain data only, with places, and limits a hostile file cannot pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_registry import yamlsafe
from git_registry.yamlsafe import MAX_BYTES, MAX_DEPTH, MAX_NODES, Node, YamlError, load

from conftest import UnreadBytes, count_calls

pytestmark = pytest.mark.core


def problem_of(data: bytes) -> tuple[int, int, str]:
    """The (line, column, message) of the error ``load`` raises for ``data``."""
    with pytest.raises(YamlError) as info:
        load(data)
    p = info.value.problem
    assert str(info.value) == p.message
    assert "\n" not in p.message, "one problem, one line"
    return p.line, p.column, p.message


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with PyYAML's C loader and with its pure-Python loader (used when PyYAML
    is installed without libyaml)."""
    if request.param == "libyaml":
        if not hasattr(yaml, "CSafeLoader"):
            pytest.skip("PyYAML is built without libyaml here")
    else:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    return str(request.param)


# -- values and places ---------------------------------------------------------------------


def test_values_and_their_places() -> None:
    data = b"churn:\n  path: s3://b/m.pt\n  labels: [a, b]\n  virtual: false\n  custom: {n: 1}\n"
    root, problems = load(data)
    assert problems == []
    assert root is not None and root.kind == "map"
    ((key, entry),) = root.value
    assert (key.value, key.line, key.column) == ("churn", 1, 1)
    assert entry.kind == "map" and not entry.flow
    fields = {k.value: (v.line, v.column, v.kind) for k, v in entry.value}
    assert fields == {
        "path": (2, 9, "scalar"),
        "labels": (3, 11, "seq"),
        "virtual": (4, 12, "scalar"),
        "custom": (5, 11, "map"),
    }
    labels = dict((k.value, v) for k, v in entry.value)["labels"]
    assert labels.flow
    assert [(i.value, i.line, i.column) for i in labels.value] == [("a", 3, 12), ("b", 3, 15)]
    assert root.plain() == {
        "churn": {
            "path": "s3://b/m.pt",
            "labels": ["a", "b"],
            "virtual": False,
            "custom": {"n": 1},
        }
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("-0x1f", -31),
        ("1.5", 1.5),
        ("true", True),
        ("no", False),  # YAML 1.1, as yaml.safe_load
        ("~", None),
        ("null", None),
        ("'1'", "1"),
        ("!!str 10", "10"),
        ("2024-01-02", "2024-01-02"),  # dates stay as written
        ("2024-01-02 10:11:12", "2024-01-02 10:11:12"),
        ("2001-13-45", "2001-13-45"),  # not a real date: still plain text, no crash
        (".inf", ".inf"),  # not JSON numbers: kept as written
        ("-.inf", "-.inf"),
        (".nan", ".nan"),
    ],
)
def test_scalars_are_plain_json_friendly_values(text: str, expected: object) -> None:
    root, problems = load(f"v: {text}\n".encode())
    assert problems == []
    assert root is not None
    value = root.plain()["v"]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("node", "name"),
    [
        ("[1]", "a list"),
        ("{a: 1}", "a mapping"),
        ("x", "a string"),
        ("3", "a number"),
        ("3.5", "a number"),
        ("true", "true/false"),
        ("null", "nothing (null)"),
    ],
)
def test_type_names_for_messages(node: str, name: str) -> None:
    root, _ = load(f"v: {node}\n".encode())
    assert root is not None
    assert root.value[0][1].type_name() == name


@pytest.mark.parametrize(
    "data", [b"", b"\n\n", b"   \n", b"# only a comment\n", b"---\n", b"\xef\xbb\xbf"]
)
def test_empty_document_is_none(data: bytes) -> None:
    assert load(data) == (None, [])


def test_byte_order_mark_is_ignored() -> None:
    root, problems = load(b"\xef\xbb\xbfa: 1\n")
    assert problems == [] and root is not None
    assert root.plain() == {"a": 1}
    assert (root.value[0][0].line, root.value[0][0].column) == (1, 1)


def test_aliases_within_limits_are_expanded() -> None:
    root, problems = load(b"base: &b [x, y]\ncopy: *b\n")
    assert problems == [] and root is not None
    assert root.plain() == {"base": ["x", "y"], "copy": ["x", "y"]}


# -- syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line", "column", "words"),
    [
        # An unclosed flow list: the parser notices at the end, on line 2.
        (b"a: [\n", 2, 1, "while parsing a flow node"),
        (b"[a, b\n", 2, 1, "while parsing a flow sequence"),
        # A second 'key: value' on one line: at the second ':'.
        (b"a: 1\nb: c: d\n", 2, 5, "mapping values are not allowed"),
        # A tab used for indentation, at line 3 (the two loaders word it differently).
        (b"a:\n  b: 1\n\tc: 2\n", 3, 1, "while scanning"),
        # An unterminated quoted string runs to the end of the file.
        (b"a: 'open\n", 2, 1, "found unexpected end of stream"),
        (b"a: 1\n---\nb: 2\n", 2, 1, "expected a single document"),
        (b"a: &x 1\nb: *nowhere\n", 2, 4, "found undefined alias"),
        (b"a: 1\n@b\n", 2, 1, "that cannot start any token"),
    ],
)
def test_syntax_errors_have_line_and_column(
    loader: str, data: bytes, line: int, column: int, words: str
) -> None:
    got = problem_of(data)
    assert got[:2] == (line, column)
    assert got[2].startswith("invalid YAML: ")
    assert words in got[2]


def test_control_character_is_refused_with_its_place(loader: str) -> None:
    # Reported by PyYAML's reader, which counts in bytes (libyaml) or characters.
    line, column, message = problem_of("é: 1\nbb: \x07\n".encode())
    assert (line, column) == (2, 5)
    assert message.startswith("invalid YAML: character U+0007: ")


# -- encoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line", "column", "byte"),
    [
        (b"\xff\xfea\x00:\x00", 1, 1, "0xff"),  # UTF-16
        (b"a: 1\nb: caf\xe9\n", 2, 7, "0xe9"),  # Latin-1
        (b"a: \xc3(\n", 1, 4, "0xc3"),  # a truncated sequence
        (b"a: \xed\xa0\x80\n", 1, 4, "0xed"),  # an encoded surrogate is not UTF-8
    ],
)
def test_non_utf8_is_refused_with_the_place_of_the_first_bad_byte(
    data: bytes, line: int, column: int, byte: str
) -> None:
    assert problem_of(data) == (line, column, f"not UTF-8 text (byte {byte})")


def test_utf8_text_is_read() -> None:
    root, _ = load("ß: 'naïve – ☃'\n".encode())
    assert root is not None and root.plain() == {"ß": "naïve – ☃"}


# -- plain data only -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line", "column", "tag"),
    [
        (b"m: !!python/object:os.system {}\n", 1, 4, "!!python/object:os.system"),
        (b"m:\n  custom: !!python/name:os.system\n", 2, 11, "!!python/name:os.system"),
        (
            b"m: !!python/object/apply:os.system [echo hi]\n",
            1,
            4,
            "!!python/object/apply:os.system",
        ),
        (b"m: !!python/tuple [1, 2]\n", 1, 4, "!!python/tuple"),
        (b"- !custom thing\n", 1, 3, "!custom"),
        (b"m: !!binary aGk=\n", 1, 4, "!!binary"),
        (b"m: !!set {a, b}\n", 1, 4, "!!set"),
        (b"m: !!omap [a: 1]\n", 1, 4, "!!omap"),
        (b"!!python/object:object {}\n", 1, 1, "!!python/object:object"),
        (b"m: !<tag:example.com,2024:x> 1\n", 1, 4, "tag:example.com,2024:x"),
    ],
)
def test_custom_tags_are_refused(data: bytes, line: int, column: int, tag: str) -> None:
    assert problem_of(data) == (
        line,
        column,
        f"YAML tag '{tag}' is not allowed: plain data only",
    )


def test_python_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = f"m: !!python/object/apply:os.system ['touch {marker}']\n".encode()
    with pytest.raises(YamlError):
        load(data)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b"base: &b {path: x}\nm:\n  <<: *b\n", 3, 3),
        (b"base: &b {path: x}\nm: {<<: *b, type: model}\n", 2, 5),
        (b"<<: {a: 1}\n", 1, 1),
    ],
)
def test_merge_keys_are_refused(data: bytes, line: int, column: int) -> None:
    assert problem_of(data) == (line, column, "merge keys ('<<') are not supported")


def test_quoted_merge_key_is_a_plain_string() -> None:
    # Only the unquoted '<<' is YAML's merge key.
    root, _ = load(b"'<<': 1\n")
    assert root is not None and root.plain() == {"<<": 1}


@pytest.mark.parametrize("data", [b"? [a, b]\n: 1\n", b"? {a: 1}\n: 1\n", b"{[a]: 1}\n"])
def test_non_scalar_keys_are_refused(data: bytes) -> None:
    line, _column, message = problem_of(data)
    assert message == "a mapping key must be a plain value"
    assert line == 1


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("!!int x", "'x' cannot be read as an integer"),
        ("!!float x", "'x' cannot be read as a number"),
        ("!!bool maybe", "'maybe' cannot be read as true/false"),
        ("-0x_", "'-0x_' cannot be read as an integer"),
        ("0b_", "'0b_' cannot be read as an integer"),
    ],
)
def test_unreadable_scalars_are_errors_not_crashes(value: str, what: str) -> None:
    assert problem_of(f"a: 1\nb: {value}\n".encode()) == (2, 4, what)


def test_integer_too_long_for_python_is_an_error() -> None:
    # Python refuses to convert more than 4,300 digits (sys.get_int_max_str_digits).
    line, column, message = problem_of(b"n: " + b"7" * 5000 + b"\n")
    assert (line, column) == (1, 4)
    assert message == "'" + "7" * 40 + "...' cannot be read as an integer"


# -- duplicate keys --------------------------------------------------------------------------


def test_duplicate_keys_are_reported_and_the_first_is_kept() -> None:
    data = b"a:\n  path: one\n  path: two\nb: 1\na: 3\n"
    root, problems = load(data)
    assert root is not None
    assert root.plain() == {"a": {"path": "one"}, "b": 1}
    assert [(p.line, p.column, p.message, p.path) for p in problems] == [
        (3, 3, "duplicate key 'path' (first at line 2)", ("a", "path")),
        (5, 1, "duplicate key 'a' (first at line 1)", ("a",)),
    ]


@pytest.mark.parametrize(
    "text", [b"1: int\n'1': str\n", b"1: a\ntrue: b\n", b"1: a\n1.0: b\n", b"~: a\nnull: b\n"]
)
def test_keys_that_read_as_one_key_are_duplicates(text: bytes) -> None:
    """Keys equal in Python (1, 1.0, true: one dict key) or written alike in JSON (1 and
    '1' are both "1") would lose a value once read: they are reported, the first kept."""
    root, problems = load(text)
    assert [p.message.split(" (")[0].startswith("duplicate key") for p in problems] == [True]
    assert root is not None and len(root.plain()) == 1


def test_keys_that_stay_distinct_are_kept() -> None:
    root, problems = load(b"1: a\n2: b\n'x': c\nfalse: d\n")
    assert problems == []
    assert root is not None and len(root.plain()) == 4


def test_duplicate_key_in_flow_mapping_deep_in_custom() -> None:
    _root, problems = load(b"m:\n  custom:\n    x: {k: 1, k: 2}\n")
    assert [(p.line, p.column, p.path) for p in problems] == [(3, 15, ("m", "custom", "x", "k"))]


# -- limits ----------------------------------------------------------------------------------


def test_ten_megabytes_are_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    data = UnreadBytes(b"churn:\n  description: " + b"x" * (10 * 1024 * 1024) + b"\n")
    composed = count_calls(monkeypatch, yaml, "compose")
    line, column, message = problem_of(data)
    assert composed == []  # refused for its size alone: never decoded, never parsed
    assert (line, column) == (1, 1)
    assert message == f"file is {len(data):,} bytes; the limit is {MAX_BYTES:,} bytes"
    assert "10,485,7" in message  # the size, readable


def test_size_limit_is_exact() -> None:
    fits = b"a: " + b"x" * (MAX_BYTES - 4) + b"\n"
    assert len(fits) == MAX_BYTES
    root, _ = load(fits)
    assert root is not None and len(root.plain()["a"]) == MAX_BYTES - 4
    _line, _column, message = problem_of(fits + b"\n")
    assert message.startswith(f"file is {MAX_BYTES + 1:,} bytes")


BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_is_refused_after_bounded_work(
    loader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(BILLION_LAUGHS) < 1000  # a few hundred bytes standing for 9**9 strings
    converted = count_calls(monkeypatch, yamlsafe._Converter, "convert")
    _line, _column, message = problem_of(BILLION_LAUGHS)
    assert len(converted) == MAX_NODES + 1  # one value past the limit, not 9**9
    assert message == (
        f"more than {MAX_NODES:,} values once aliases are expanded (an alias bomb?); "
        "refusing to read further"
    )


def test_alias_bomb_in_mapping_values_is_refused() -> None:
    lines = [b"l0: &l0 {a: x, b: x, c: x, d: x, e: x, f: x, g: x, h: x, i: x, j: x}"]
    for i in range(1, 8):
        refs = ", ".join(f"k{j}: *l{i - 1}" for j in range(10)).encode()
        lines.append(f"l{i}: &l{i} {{".encode() + refs + b"}")
    _line, _column, message = problem_of(b"\n".join(lines) + b"\n")
    assert "alias bomb" in message


def test_node_limit_counts_every_value() -> None:
    # A plain list with more values than the limit is refused as well (no aliases).
    data = b"[" + b"1," * MAX_NODES + b"1]\n"
    assert len(data) < MAX_BYTES
    assert "more than 100,000 values" in problem_of(data)[2]
    root, _ = load(b"[" + b"1," * (MAX_NODES - 2) + b"1]\n")  # the list itself is a value
    assert root is not None and len(root.value) == MAX_NODES - 1


def nested_lists(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels + b"\n"


def test_depth_limit_is_exact() -> None:
    # The root is level 0; MAX_DEPTH levels of nesting below it are fine.
    root, _ = load(nested_lists(MAX_DEPTH + 1))
    assert root is not None
    assert problem_of(nested_lists(MAX_DEPTH + 2)) == (
        1,
        MAX_DEPTH + 2,
        f"nested more than {MAX_DEPTH} levels deep",
    )


def test_deep_block_nesting_is_refused() -> None:
    data = b"".join(b"  " * i + b"k:\n" for i in range(200))
    line, column, message = problem_of(data)
    assert message == f"nested more than {MAX_DEPTH} levels deep"
    # The key on line N is N levels below the root: line 65 is one level too deep.
    assert (line, column) == (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)


@pytest.mark.parametrize("levels", [500, 5_000, 200_000])
def test_very_deep_nesting_never_overflows_the_stack(
    loader: str, levels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    converted = count_calls(monkeypatch, yamlsafe._Converter, "convert")
    _line, _column, message = problem_of(nested_lists(levels))
    assert len(converted) <= MAX_DEPTH + 2  # stopped at the depth limit (or before)
    # libyaml stops at its own limit (1,000 levels) first; PyYAML at ours, or by recursion.
    assert "nest" in message


# -- never crash -----------------------------------------------------------------------------

YAMLISH = st.lists(
    st.sampled_from(
        [
            "a",
            "b",
            ":",
            ": ",
            "- ",
            "\n",
            "  ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&x ",
            "*x",
            "!!str ",
            "!!int ",
            "!!python/object ",
            "<<",
            "? ",
            "'",
            '"',
            "#",
            "|",
            ">",
            "---",
            "...",
            "1",
            "0x",
            "2001-13-45",
            "~",
            ".inf",
            "\t",
            "\\",
            "é",
            "\x85",
            "%YAML 1.1\n",
            "!x ",
            "!!bool ",
            "!!float ",
            "!!timestamp ",
            "!!null ",
            "!!map ",
            "!!seq ",
            "0b_",
            "_",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300), st.text(max_size=200).map(str.encode), YAMLISH.map(str.encode)
    )
)
def test_any_input_gives_a_value_or_a_yaml_error(data: bytes) -> None:
    try:
        root, problems = load(data)
    except YamlError as exc:
        assert exc.problem.line >= 1 and exc.problem.column >= 1
        assert exc.problem.message and "\n" not in exc.problem.message
        return
    assert root is None or isinstance(root, Node)
    if root is not None:
        root.plain()
        root.type_name()
    for p in problems:
        assert p.line >= 1 and p.column >= 1


def test_a_number_too_large_to_print_is_a_problem() -> None:
    with pytest.raises(YamlError) as info:
        load(b"custom: 0x" + b"f" * 4000 + b"\n")
    assert "bits is too large" in info.value.problem.message
    root, problems = load(b"custom: " + b"9" * 300 + b"\n")  # 997 bits: a number still
    assert problems == [] and root is not None


def test_the_same_bytes_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write reads the root artifacts.yaml for its annotations and for GTO's reading
    of it: one parse (issue 20); each caller gets its own list of problems."""
    calls: list[str] = []
    compose = yaml.compose

    def counted(text: str, Loader: type) -> object:
        calls.append(text)
        return compose(text, Loader=Loader)

    monkeypatch.setattr(yaml, "compose", counted)
    monkeypatch.setattr(yamlsafe, "_RECENT", {})
    data = b"a: 1\na: 2\nb: [x]\n"
    first = yamlsafe.load(data)
    first[1].append(yamlsafe.YamlProblem(9, 9, "added by a caller"))
    second = yamlsafe.load(data)
    assert len(calls) == 1
    assert second[0] is first[0]
    assert [p.message for p in second[1]] == [p.message for p in first[1][:-1]]
    for i in range(yamlsafe._RECENT_MAX):
        yamlsafe.load(b"k%d: v\n" % i)
    yamlsafe.load(data)  # pushed out by newer documents: parsed again
    assert len(calls) == 2 + yamlsafe._RECENT_MAX
