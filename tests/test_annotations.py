"""artifacts.yaml (SPEC 4): reading it, every problem with its place, editing, JSON Schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_registry import annotations as ann
from git_registry import artifact_schema, yamledit, yamlsafe
from git_registry.annotations import FileProblem, parse
from git_registry.controls import CONTROL_RE
from git_registry.grammar import NAME_RULE
from git_registry.yamlsafe import MAX_BYTES, MAX_DEPTH, MAX_NODES

from conftest import UnreadBytes, count_calls

pytestmark = pytest.mark.core

ALLOWED = "allowed: path, type, description, labels, custom, virtual, sha256, requires"
ROOT = "artifacts.yaml"
SUB = "models/cv/artifacts.yaml"


def problems(data: str | bytes, file: str = ROOT, **kwargs: Any) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [str(p) for p in parse(raw, file, **kwargs).problems]


def only_problem(data: str | bytes, file: str = ROOT, **kwargs: Any) -> FileProblem:
    raw = data.encode() if isinstance(data, str) else data
    found = parse(raw, file, **kwargs).problems
    assert len(found) == 1, found
    return found[0]


# -- a good file ---------------------------------------------------------------------------

GOOD = """\
# the registry's artifacts
churn:
  path: s3://mycorp/churn.pt
  type: model
  description: Customer churn classifier
  labels: [customer, xgboost]
  custom:
    epochs: 40
    metrics: {auc: 0.91}
segment:
  description: "no path"

data/raw:
  path: data/raw.csv
  virtual: false
empty:
"""


def test_a_good_file_is_read_in_order() -> None:
    parsed = parse(GOOD.encode(), ROOT)
    assert parsed.problems == ()
    assert parsed.editable
    assert list(parsed.annotations) == ["churn", "segment", "data/raw", "empty"]
    churn = parsed.annotations["churn"]
    assert churn.to_json() == {
        "path": "s3://mycorp/churn.pt",
        "type": "model",
        "description": "Customer churn classifier",
        "labels": ["customer", "xgboost"],
        "custom": {"epochs": 40, "metrics": {"auc": 0.91}},
        "virtual": True,
        "sha256": None,
        "requires": [],
    }
    assert (churn.artifact, churn.file, churn.line) == ("churn", ROOT, 2)
    assert churn.keys == ("path", "type", "description", "labels", "custom")
    assert churn.path_at == (3, 9)
    assert churn.repo_path() is None  # a URL
    raw = parsed.annotations["data/raw"]
    assert raw.virtual is False
    assert raw.repo_path() == "data/raw.csv"
    assert parsed.annotations["empty"].to_json() == {
        "path": None,
        "type": None,
        "description": None,
        "labels": [],
        "custom": None,
        "virtual": True,
        "sha256": None,
        "requires": [],
    }
    # Each entry's lines: from its key to the blank/comment lines before the next one.
    assert [(e.name, e.start, e.end, e.indent) for e in parsed.entries] == [
        ("churn", 2, 10, 0),
        ("segment", 10, 12, 0),
        ("data/raw", 13, 16, 0),
        ("empty", 16, 17, 0),
    ]


def test_sub_folder_file_declares_prefixed_names() -> None:
    parsed = parse(b"seg:\n  path: ../../weights/seg.pt\n", SUB)
    assert parsed.problems == ()
    (seg,) = parsed.annotations.values()
    assert seg.artifact == "models/cv:seg"
    # Relative to the yaml's folder, then to the repository root.
    assert seg.repo_path() == "weights/seg.pt"


@pytest.mark.parametrize(
    ("artifact", "file", "key"),
    [
        ("churn", "artifacts.yaml", "churn"),
        ("models/cv:seg", "models/cv/artifacts.yaml", "seg"),
        ("a:b/c", "a/artifacts.yaml", "b/c"),
    ],
)
def test_file_for_and_artifact_in(artifact: str, file: str, key: str) -> None:
    assert ann.file_for(artifact) == (file, key)
    assert ann.artifact_in(file, key) == artifact


# -- every problem, with file, line, column, artifact and key --------------------------------

CASES = [
    # (id, file text, expected str(problem), artifact, key)
    (
        "unknown-key",
        "churn:\n  path: x\n  pth: y\n",
        f"artifacts.yaml:3:3: artifact 'churn', key 'pth': unknown key ({ALLOWED})",
        "churn",
        "pth",
    ),
    (
        "unknown-key-hint",
        "churn:\n  tags: [a]\n",
        f"artifacts.yaml:2:3: artifact 'churn', key 'tags': unknown key ({ALLOWED}); "
        "did you mean 'labels'?",
        "churn",
        "tags",
    ),
    (
        "path-not-string",
        "churn:\n  path: 12\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': expected a string, found a number",
        "churn",
        "path",
    ),
    (
        "path-list",
        "churn:\n  path:\n    - a\n",
        "artifacts.yaml:3:5: artifact 'churn', key 'path': expected a string, found a list",
        "churn",
        "path",
    ),
    (
        "path-empty",
        "churn:\n  path: ''\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': the path is empty",
        "churn",
        "path",
    ),
    (
        "type-not-string",
        "churn:\n  type: [model]\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'type': expected a string, found a list",
        "churn",
        "type",
    ),
    (
        "description-mapping",
        "churn:\n  description: {text: hi}\n",
        "artifacts.yaml:2:16: artifact 'churn', key 'description': expected a string, "
        "found a mapping",
        "churn",
        "description",
    ),
    (
        "description-bool",
        "churn:\n  description: yes\n",
        "artifacts.yaml:2:16: artifact 'churn', key 'description': expected a string, "
        "found true/false",
        "churn",
        "description",
    ),
    (
        "labels-string",
        "churn:\n  labels: customer\n",
        "artifacts.yaml:2:11: artifact 'churn', key 'labels': expected a list of labels, "
        "found a string",
        "churn",
        "labels",
    ),
    (
        "labels-mapping",
        "churn:\n  labels: {a: 1}\n",
        "artifacts.yaml:2:11: artifact 'churn', key 'labels': expected a list of labels, "
        "found a mapping",
        "churn",
        "labels",
    ),
    (
        "label-not-string",
        "churn:\n  labels: [ok, 3]\n",
        "artifacts.yaml:2:16: artifact 'churn', key 'labels': a label must be a string, "
        "found a number",
        "churn",
        "labels",
    ),
    (
        "label-invalid",
        "churn:\n  labels:\n    - ok\n    - Needs Review\n",
        f"artifacts.yaml:4:7: artifact 'churn', key 'labels': invalid label 'Needs Review': "
        f"use {NAME_RULE}",
        "churn",
        "labels",
    ),
    (
        "label-duplicate",
        "churn:\n  labels: [cv, car, cv]\n",
        "artifacts.yaml:2:21: artifact 'churn', key 'labels': duplicate label 'cv'",
        "churn",
        "labels",
    ),
    (
        "virtual-string",
        "churn:\n  virtual: 'false'\n",
        "artifacts.yaml:2:12: artifact 'churn', key 'virtual': expected true or false, "
        "found a string",
        "churn",
        "virtual",
    ),
    (
        "virtual-number",
        "churn:\n  virtual: 0\n",
        "artifacts.yaml:2:12: artifact 'churn', key 'virtual': expected true or false, "
        "found a number",
        "churn",
        "virtual",
    ),
    (
        "type-invalid",
        "churn:\n  type: ML model\n",
        f"artifacts.yaml:2:9: artifact 'churn', key 'type': invalid type 'ML model': "
        f"use {NAME_RULE}",
        "churn",
        "type",
    ),
    (
        "entry-not-mapping",
        "churn: s3://b/churn.pt\n",
        "artifacts.yaml:1:8: artifact 'churn': expected a mapping of path, type, description, "
        "labels, custom, virtual, sha256, requires, found a string",
        "churn",
        None,
    ),
    (
        "entry-list",
        "churn:\n  - path: x\n",
        "artifacts.yaml:2:3: artifact 'churn': expected a mapping of path, type, description, "
        "labels, custom, virtual, sha256, requires, found a list",
        "churn",
        None,
    ),
    (
        "absolute-path",
        "churn:\n  path: /etc/passwd\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': '/etc/passwd' is not a relative "
        "path with '/' (or a URL)",
        "churn",
        "path",
    ),
    (
        "windows-path",
        "churn:\n  path: C:\\models\\churn.pt\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': 'C:\\models\\churn.pt' is not a "
        "relative path with '/' (or a URL)",
        "churn",
        "path",
    ),
    (
        "dotdot-path",
        "churn:\n  path: ../elsewhere/churn.pt\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': '../elsewhere/churn.pt' leaves "
        "the repository",
        "churn",
        "path",
    ),
    (
        "sneaky-dotdot-path",
        "churn:\n  path: models/../../churn.pt\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': 'models/../../churn.pt' leaves "
        "the repository",
        "churn",
        "path",
    ),
    (
        "dotdot-alone",
        "churn:\n  path: ..\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': '..' leaves the repository",
        "churn",
        "path",
    ),
    (
        "url-not-virtual",
        "churn:\n  path: s3://b/churn.pt\n  virtual: false\n",
        "artifacts.yaml:2:9: artifact 'churn', key 'path': 's3://b/churn.pt' is a URL: it "
        "cannot be checked, so it must be virtual",
        "churn",
        "path",
    ),
    (
        "not-virtual-without-path",
        "churn:\n  virtual: false\n",
        "artifacts.yaml:2:12: artifact 'churn', key 'virtual': 'virtual: false' needs a 'path' "
        "that must exist",
        "churn",
        "virtual",
    ),
    (
        "duplicate-key-in-entry",
        "churn:\n  path: a\n  type: model\n  path: b\n",
        "artifacts.yaml:4:3: artifact 'churn', key 'path': duplicate key 'path' (first at line 2)",
        "churn",
        "path",
    ),
    (
        "duplicate-key-in-custom",
        "churn:\n  custom:\n    lr: 1\n    lr: 2\n",
        "artifacts.yaml:4:5: artifact 'churn', key 'custom': duplicate key 'lr' (first at line 3)",
        "churn",
        "custom",
    ),
    (
        "duplicate-artifact",
        "churn:\n  path: a\nsegment: {}\nchurn:\n  path: b\n",
        "artifacts.yaml:4:1: artifact 'churn': duplicate key 'churn' (first at line 1)",
        "churn",
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "artifact", "key"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_problem_names_file_line_column_artifact_and_key(
    text: str, expected: str, artifact: str, key: str | None
) -> None:
    problem = only_problem(text)
    assert str(problem) == expected
    assert (problem.file, problem.artifact, problem.key) == (ROOT, artifact, key)
    # A problem of one entry is that artifact's: it does not spoil the others.
    parsed = parse(text.encode() + b"other:\n  path: fine\n", ROOT)
    assert parsed.problems_of("other") == ()
    assert parsed.annotations["other"].path == "fine"
    assert [str(p) for p in parsed.problems_of(artifact)] == [expected]


def test_the_same_problems_in_a_sub_folder_name_the_full_artifact() -> None:
    assert problems("seg:\n  labels: x\n  colour: red\n", SUB) == [
        "models/cv/artifacts.yaml:2:11: artifact 'models/cv:seg', key 'labels': expected a "
        "list of labels, found a string",
        f"models/cv/artifacts.yaml:3:3: artifact 'models/cv:seg', key 'colour': unknown key "
        f"({ALLOWED})",
    ]


def test_duplicate_artifact_keeps_the_first_entry() -> None:
    parsed = parse(b"churn:\n  path: a\nchurn:\n  path: b\n", ROOT)
    assert parsed.annotations["churn"].path == "a"
    assert [p.line for p in parsed.problems] == [3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Churn!:\n  path: x\n",
            f"artifacts.yaml:1:1: invalid artifact name 'Churn!': {NAME_RULE}",
        ),
        ("-churn: {}\n", f"artifacts.yaml:1:1: invalid artifact name '-churn': {NAME_RULE}"),
        ("'': {}\n", f"artifacts.yaml:1:1: invalid artifact name '': {NAME_RULE}"),
        ("a b: {}\n", f"artifacts.yaml:1:1: invalid artifact name 'a b': {NAME_RULE}"),
        ("12: {}\n", f"artifacts.yaml:1:1: invalid artifact name '12': {NAME_RULE}"),
        ("null: {}\n", f"artifacts.yaml:1:1: invalid artifact name 'null': {NAME_RULE}"),
        (
            "models/cv:seg: {}\n",
            "artifacts.yaml:1:1: invalid artifact name 'models/cv:seg': ':' is not allowed in a "
            "key (put the entry in that folder's artifacts.yaml)",
        ),
        ("ok: {}\nnaïve: {}\n", f"artifacts.yaml:2:1: invalid artifact name 'naïve': {NAME_RULE}"),
    ],
)
def test_invalid_artifact_names(text: str, expected: str) -> None:
    parsed = parse(text.encode(), ROOT)
    assert [str(p) for p in parsed.problems] == [expected]
    assert all(NAME_RULE not in name for name in parsed.annotations)
    # An invalid entry does not block valid ones in the same file.
    assert parsed.problems_of("ok") == ()


def test_types_allow_list() -> None:
    text = "a:\n  type: model\nb:\n  type: notebook\n"
    assert problems(text) == []
    assert problems(text, types=["model", "dataset"]) == [
        "artifacts.yaml:4:9: artifact 'b', key 'type': type 'notebook' is not allowed "
        "(allowed: model, dataset)"
    ]
    assert problems("a:\n  type: model\n", types=[]) == [
        "artifacts.yaml:2:9: artifact 'a', key 'type': type 'model' is not allowed (allowed: none)"
    ]


@pytest.mark.parametrize(
    ("file", "path", "target"),
    [
        (ROOT, "models/churn.pt", "models/churn.pt"),
        (ROOT, "./models/../models/churn.pt", "models/churn.pt"),
        (ROOT, "models/", "models"),
        (ROOT, ".", "."),
        (SUB, "../../data.csv", "data.csv"),
        (SUB, "../weights", "models/weights"),
    ],
)
def test_paths_that_stay_inside(file: str, path: str, target: str) -> None:
    parsed = parse(f"m:\n  path: {path}\n".encode(), file)
    assert parsed.problems == ()
    (m,) = parsed.annotations.values()
    assert m.repo_path() == target


def test_path_leaving_the_repository_from_a_sub_folder() -> None:
    assert problems("m:\n  path: ../../../x\n", SUB) == [
        "models/cv/artifacts.yaml:2:9: artifact 'models/cv:m', key 'path': '../../../x' "
        "leaves the repository"
    ]


@pytest.mark.parametrize("url", ["s3://b/k", "gs://b/k", "https://x.org/m.pt", "hf+git://x/y"])
def test_urls_are_paths_that_need_not_exist(url: str) -> None:
    parsed = parse(f"m:\n  path: {url}\n".encode(), ROOT, exists=lambda _p: False)
    assert parsed.problems == ()
    assert parsed.annotations["m"].repo_path() is None


def test_not_virtual_path_must_exist() -> None:
    text = (
        "here:\n  path: models/here.pt\n  virtual: false\n"
        "gone:\n  virtual: false\n  path: models/gone.pt\n"
        "virtual-gone:\n  path: models/gone.pt\n"
    )
    asked: list[str] = []

    def exists(path: str) -> bool:
        asked.append(path)
        return path == "models/here.pt"

    assert problems(text, exists=exists) == [
        "artifacts.yaml:6:9: artifact 'gone', key 'path': 'models/gone.pt' does not exist "
        "(virtual: false says it must)"
    ]
    assert sorted(asked) == ["models/gone.pt", "models/here.pt"]  # virtual paths are not asked
    # Without a way to look (exists=None), nothing is claimed.
    assert problems(text) == []


def test_not_virtual_path_in_sub_folder_is_looked_up_from_the_root() -> None:
    asked: list[str] = []

    def exists(path: str) -> bool:
        asked.append(path)
        return True

    parse(b"m:\n  path: w.pt\n  virtual: false\n", SUB, exists=exists)
    assert asked == ["models/cv/w.pt"]


# -- whole-file problems ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n", "# nothing yet\n", "---\n", "null\n", "~\n"])
def test_empty_file_declares_nothing_and_is_valid(text: str) -> None:
    # An empty artifacts.yaml is an empty mapping: no annotations, no problems, and it
    # can be edited (the JSON Schema allows null for the same reason).
    parsed = parse(text.encode(), ROOT)
    assert parsed.annotations == {} and parsed.problems == () and parsed.editable
    jsonschema.validate(None, artifact_schema.json_schema())


@pytest.mark.parametrize(
    ("text", "line", "column", "found"),
    [
        ("- churn\n- segment\n", 1, 1, "a list"),
        ("# a comment first\n\n- churn: {path: x}\n", 3, 1, "a list"),
        ("churn\n", 1, 1, "a string"),
        ("42\n", 1, 1, "a number"),
        ("true\n", 1, 1, "true/false"),
    ],
)
def test_document_that_is_not_a_mapping(text: str, line: int, column: int, found: str) -> None:
    parsed = parse(text.encode(), ROOT)
    assert [str(p) for p in parsed.problems] == [
        f"artifacts.yaml:{line}:{column}: artifacts.yaml must be a mapping from artifact name "
        f"to its annotation, found {found}"
    ]
    assert parsed.annotations == {} and not parsed.editable
    # A file-wide problem stops every artifact declared there.
    assert parsed.problems_of("churn") == parsed.problems


def test_syntax_error_is_file_wide() -> None:
    parsed = parse(b"churn:\n  path: x\nsegment:\n  labels: [a, b\n", ROOT)
    (problem,) = parsed.problems
    assert (problem.file, problem.line, problem.artifact, problem.key) == (ROOT, 5, None, None)
    assert str(problem).startswith("artifacts.yaml:5:1: invalid YAML: ")
    assert parsed.annotations == {} and not parsed.editable
    assert parsed.problems_of("churn") == (problem,)


def test_ten_megabyte_file_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    data = UnreadBytes(b"churn:\n  description: '" + b"a" * (10 * 1024 * 1024) + b"'\n")
    composed = count_calls(monkeypatch, yaml, "compose")
    parsed = parse(data, ROOT)
    assert composed == []  # refused for its size alone: never decoded, never parsed
    assert [str(p) for p in parsed.problems] == [
        f"artifacts.yaml:1:1: file is {len(data):,} bytes; the limit is {MAX_BYTES:,} bytes"
    ]
    assert not parsed.editable


def test_billion_laughs_is_refused_after_bounded_work(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ['lol: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    lines += ["churn:", "  custom: *l9"]
    data = ("\n".join(lines) + "\n").encode()
    converted = count_calls(monkeypatch, yamlsafe._Converter, "convert")
    parsed = parse(data, ROOT)
    assert len(converted) == MAX_NODES + 1  # one value past the limit, not 10**10
    (problem,) = parsed.problems
    assert "more than 100,000 values once aliases are expanded (an alias bomb?)" in str(problem)
    assert problem.file == ROOT and problem.artifact is None


def test_non_utf8_file() -> None:
    data = "churn:\n  description: Modèle\n".encode("latin-1")
    assert problems(data) == ["artifacts.yaml:2:19: not UTF-8 text (byte 0xe8)"]
    assert not parse(data, ROOT).editable


def test_utf8_with_bom_is_fine() -> None:
    assert problems("\ufeffchurn:\n  description: Modèle\n".encode()) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "churn:\n  custom: !!python/object/apply:os.system [ls]\n",
            "artifacts.yaml:2:11: YAML tag '!!python/object/apply:os.system' is not allowed: "
            "plain data only",
        ),
        (
            "churn: !!python/object:collections.OrderedDict {}\n",
            "artifacts.yaml:1:8: YAML tag '!!python/object:collections.OrderedDict' is not "
            "allowed: plain data only",
        ),
        (
            "churn:\n  path: !env MODEL\n",
            "artifacts.yaml:2:9: YAML tag '!env' is not allowed: plain data only",
        ),
        (
            "defaults: &d {type: model}\nchurn:\n  <<: *d\n  path: x\n",
            "artifacts.yaml:3:3: merge keys ('<<') are not supported",
        ),
        (
            "churn:\n  custom: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
            # The value starts at column 11 two levels down: the 64th '[' is level 65.
            f"artifacts.yaml:2:{10 + MAX_DEPTH}: nested more than {MAX_DEPTH} levels deep",
        ),
    ],
)
def test_yaml_that_is_not_plain_data(text: str, expected: str) -> None:
    parsed = parse(text.encode(), ROOT)
    assert [str(p) for p in parsed.problems] == [expected]
    assert parsed.annotations == {} and not parsed.editable


def test_flow_style_file_is_read_but_not_editable() -> None:
    parsed = parse(b"{churn: {path: x}, segment: {type: model}}\n", ROOT)
    assert parsed.problems == ()
    assert list(parsed.annotations) == ["churn", "segment"]
    assert not parsed.editable


# -- never crash -----------------------------------------------------------------------------

TOKENS = st.sampled_from(
    [
        "churn",
        "m",
        ":",
        ": ",
        "\n",
        "  ",
        "    ",
        "- ",
        "path",
        "type",
        "labels",
        "custom",
        "virtual",
        "description",
        "true",
        "false",
        "1",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "'",
        "s3://x",
        "../",
        "/",
        "a:b",
        "&a ",
        "*a",
        "<<",
        "!!str ",
        "!x ",
        "#",
        "~",
        "é",
        "\t",
        "\x85",
    ]
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(TOKENS, max_size=50).map(lambda ts: "".join(ts).encode()),
    ),
    st.sampled_from([ROOT, SUB]),
)
def test_any_bytes_give_annotations_or_problems_never_an_exception(data: bytes, file: str) -> None:
    parsed = parse(data, file, types=["model"], exists=lambda _p: False)
    for p in parsed.problems:
        assert p.file == file and p.line >= 1 and p.column >= 1
        assert "\n" not in str(p)
    for name, a in parsed.annotations.items():
        assert a.artifact == name and a.file == file
        a.to_json()
        a.repo_path()
        parsed.problems_of(name)


# -- editing ---------------------------------------------------------------------------------

EDITABLE = """\
# Our artifacts.
zeta:   # the first one
  path:  s3://b/zeta.pt   # odd spacing is kept
  labels: [a,   b]

alpha:
  description: 'quoted'
  custom:
    k: 1
# About mid.
mid:
  type: model
"""


def edit(text: str, key: str, new: str | None) -> str:
    return yamledit.replace_entry(text, parse(text.encode(), ROOT), key, new)


def test_replacing_one_entry_keeps_every_other_line() -> None:
    new = yamledit.entry_text("alpha", {"description": "changed"})
    result = edit(EDITABLE, "alpha", new)
    lines = EDITABLE.splitlines(keepends=True)
    assert result == "".join(lines[:5]) + new + "".join(lines[9:])
    assert parse(result.encode(), ROOT).annotations["alpha"].description == "changed"


def test_removing_an_entry_keeps_the_others_and_their_comments() -> None:
    result = edit(EDITABLE, "alpha", None)
    lines = EDITABLE.splitlines(keepends=True)
    # The comment above 'mid' belongs to 'mid'; the blank line before 'alpha' still
    # separates 'zeta' from it.
    assert result == "".join(lines[:5]) + "".join(lines[9:])
    assert list(parse(result.encode(), ROOT).annotations) == ["zeta", "mid"]
    assert edit(EDITABLE, "nosuch", None) == EDITABLE


def test_removing_the_first_and_last_entries() -> None:
    lines = EDITABLE.splitlines(keepends=True)
    first = edit(EDITABLE, "zeta", None)
    assert first == lines[0] + "".join(lines[4:])  # the header comment and the blank line stay
    assert list(parse(first.encode(), ROOT).annotations) == ["alpha", "mid"]
    last = edit(EDITABLE, "mid", None)
    assert last == EDITABLE[: EDITABLE.index("mid:")]


def test_removing_leaves_no_double_blank_line() -> None:
    assert edit("a: {}\n\nb: {}\n\nc: {}\n", "b", None) == "a: {}\n\nc: {}\n"


def test_appending_an_entry() -> None:
    new = yamledit.entry_text("new", {"path": "p"})
    assert edit(EDITABLE, "new", new) == EDITABLE + "new:\n  path: p\n"
    assert edit(EDITABLE.rstrip("\n"), "new", new) == EDITABLE + "new:\n  path: p\n"
    assert edit("", "new", new) == "new:\n  path: p\n"


def test_windows_line_endings_of_other_entries_are_kept() -> None:
    text = "a:\r\n  path: x\r\nb:\r\n  path: y\r\n"
    result = edit(text, "a", yamledit.entry_text("a", {"path": "z"}))
    assert result == "a:\n  path: z\nb:\r\n  path: y\r\n"


def test_indented_file_keeps_its_indentation() -> None:
    text = "  a:\n    path: x\n  b:\n    path: y\n"
    parsed = parse(text.encode(), ROOT)
    assert [e.indent for e in parsed.entries] == [2, 2]
    new = yamledit.entry_text("a", {"path": "z", "labels": ["l"]}, indent=2)
    result = yamledit.replace_entry(text, parsed, "a", new)
    assert result == "  a:\n    path: z\n    labels: [l]\n  b:\n    path: y\n"
    assert parse(result.encode(), ROOT).problems == ()


def test_entry_text_orders_keys_and_leaves_out_defaults() -> None:
    fields = {
        "virtual": False,
        "labels": ["b", "a"],
        "custom": {"z": 1, "a": [1, 2]},
        "path": "m.pt",
        "type": "model",
        "description": "yes",
    }
    assert yamledit.entry_text("m", fields) == (
        "m:\n"
        "  path: m.pt\n"
        "  type: model\n"
        "  description: 'yes'\n"  # quoted: a bare yes would read as true
        "  labels: [b, a]\n"
        "  custom:\n"
        "    z: 1\n"
        "    a:\n"
        "    - 1\n"
        "    - 2\n"
        "  virtual: false\n"
    )
    # An existing entry's key order comes first.
    assert yamledit.entry_text("m", {"path": "p", "type": "t"}, order=("type", "path")) == (
        "m:\n  type: t\n  path: p\n"
    )
    assert yamledit.entry_text("m", {"virtual": True, "labels": []}) == "m: {}\n"


NAME = st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9_/-]{0,8}[a-zA-Z0-9])?\Z")
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
# A description may hold newlines and tabs, no other control character.
DESCRIPTION = st.text(
    st.characters(exclude_categories=["Cs"]).filter(
        lambda c: c in ann.FREE_TEXT or not CONTROL_RE.match(c)
    ),
    max_size=30,
)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSONISH = st.recursive(
    LEAF,
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(TEXT, c, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=NAME,
    path=st.one_of(
        st.none(),
        st.from_regex(r"\A[a-z0-9_-]{1,8}(?:/[a-z0-9_.-]{1,8}){0,2}\Z"),
        st.just("s3://b/k"),
    ),
    type_=st.one_of(st.none(), NAME),
    description=st.one_of(st.none(), DESCRIPTION),
    labels=st.lists(NAME, unique=True, max_size=3),
    custom=JSONISH,
    virtual=st.booleans(),
    sha256=st.one_of(st.none(), st.from_regex(r"\A[0-9a-f]{64}\Z"), st.just("1" * 64)),
    indent=st.sampled_from([0, 2]),
    requires=st.lists(
        st.one_of(NAME, st.builds("models/cv:{}".format, NAME)), unique=True, max_size=3
    ),
)
def test_entry_text_reads_back_as_the_same_annotation(
    key: str,
    path: str | None,
    type_: str | None,
    description: str | None,
    labels: list[str],
    custom: Any,
    virtual: bool,
    sha256: str | None,
    indent: int,
    requires: list[str],
) -> None:
    if path is None or ann.is_url(path):
        virtual = True  # the only valid choice
    requires = [r for r in requires if r != key]  # an artifact cannot require itself
    fields = {
        "path": path,
        "type": type_,
        "description": description,
        "labels": labels,
        "custom": custom,
        "virtual": virtual,
        "sha256": sha256,
        "requires": requires,
    }
    pad = " " * indent
    text = f"{pad}first: {{}}\n" + yamledit.entry_text(key, fields, indent)
    parsed = parse(text.encode(), ROOT)
    assert parsed.problems == (), text
    assert parsed.annotations[key].to_json() == fields, text


def test_line_breaks_unicode_knows_are_written_escaped() -> None:
    # PyYAML writes U+0085 and U+2028 raw inside quotes, where a reader folds them.
    for value in ["a\x85b", "a\u2028b", "tab\there", "naïve ☃"]:
        text = yamledit.entry_text("m", {"custom": {"note": value}})
        assert parse(text.encode(), ROOT).annotations["m"].custom == {"note": value}


# -- JSON Schema -----------------------------------------------------------------------------


def test_json_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = artifact_schema.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    import json

    assert json.loads(artifact_schema.json_schema_text()) == schema


def test_json_schema_accepts_a_good_file() -> None:
    root = parse(GOOD.encode(), ROOT)
    import yaml

    jsonschema.validate(yaml.safe_load(GOOD), artifact_schema.json_schema())
    assert root.problems == ()


@pytest.mark.parametrize(
    "document",
    [
        {"churn": {"pth": "x"}},
        {"churn": {"path": 1}},
        {"churn": {"path": ""}},
        {"churn": {"labels": "a"}},
        {"churn": {"labels": ["a", "a"]}},
        {"churn": {"labels": ["Needs Review"]}},
        {"churn": {"type": "ML model"}},
        {"churn": {"virtual": "false"}},
        {"churn": {"description": 3}},
        {"churn": {"description": "bell\x07"}},
        {"churn": {"path": "a\nb"}},
        {"churn": {"path": "a\u202eb"}},
        {"churn": {"sha256": "abc"}},
        {"churn": {"sha256": "g" * 64}},
        {"churn": {"sha256": 1}},
        {"churn": "s3://x"},
        {"Churn!": {}},
        {"a:b": {}},
        ["churn"],
        "churn",
    ],
)
def test_json_schema_rejects_what_the_validator_rejects(document: Any) -> None:
    import yaml

    text = yaml.safe_dump(document)
    assert parse(text.encode(), ROOT).problems != ()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, artifact_schema.json_schema())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.one_of(NAME, st.text(max_size=5)),
        st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from([*ann.KEYS, "tags"]),
                st.one_of(
                    NAME,
                    TEXT,
                    st.booleans(),
                    st.integers(),
                    st.lists(st.one_of(NAME, TEXT), max_size=3),
                ),
                max_size=4,
            ),
        ),
        max_size=4,
    )
)
def test_what_the_validator_accepts_the_json_schema_accepts(document: dict[str, Any]) -> None:
    import yaml

    parsed = parse(yaml.safe_dump(document, allow_unicode=True).encode(), ROOT)
    if parsed.problems == ():
        jsonschema.validate(document, artifact_schema.json_schema())
