"""Untrusted data stays data: nothing read from a tag, a commit or an ``artifacts.yaml``
reaches a terminal or a CI log raw (no control characters, no line breaks, no line a
GitHub Actions runner reads as a workflow command), and ``check`` refuses control
characters in annotations.

The reproductions run through the real CLI, in-process (``Repo.run``) and as
``git registry`` through Git.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_registry.commands.check_ref import _env_file
from git_registry.render import Painter, dump_json, escape, safe_line, table
from git_registry.session import Session
from git_registry.yamledit import entry_text

from conftest import Repo, Result

# What human output must never hold: C0 controls but the line feed, DEL, C1 (U+0085
# included), the line and paragraph separators and the bidirectional controls.
RAW = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
FORGED_PATH = "x\n::stop-commands::tok\n::error file=app.js::forged\n"
OSC_TITLE = "\x1b]0;title\x07"


def assert_safe(text: str) -> None:
    """No raw control or separator character, and no line a CI runner reads as a
    command (``::`` after leading white space; ``##[`` anywhere)."""
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} in {text!r}"
    for line in text.split("\n"):
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line


def assert_result_safe(result: Result) -> None:
    assert_safe(result.out)
    assert_safe(result.err)


def both(repo: Repo, *args: str) -> list[Result]:
    """``git registry ARGS`` in-process and through Git: the same output."""
    inside = repo.run(*args)
    through_git = repo.git_registry(*args)
    assert (through_git.code, through_git.out, through_git.err) == (
        inside.code,
        inside.out,
        inside.err,
    )
    return [inside, through_git]


def yaml_string(value: str) -> str:
    """``value`` as a double-quoted YAML scalar (for writing hostile test files)."""
    return json.dumps(value)  # JSON strings are YAML double-quoted strings


def unescape(text: str) -> str:
    """The text :func:`escape` was given: its escapes are Python's, so Python reads
    them (a raw double quote is the only character to protect)."""
    value = ast.literal_eval('"' + text.replace('"', '\\"') + '"')
    assert isinstance(value, str)
    return value


# -- the escaping function --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("churn", "churn"),
        ("s3://bucket/model.pt", "s3://bucket/model.pt"),
        ("é 日本 ✓", "é 日本 ✓"),
        ("a::b", "a::b"),
        ("x\n::stop", "x\\n::stop"),
        ("a\tb\r\n", "a\\tb\\r\\n"),
        (OSC_TITLE, "\\x1b]0;title\\x07"),
        ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("admin\u202e\u2066txt.exe", "admin\\u202e\\u2066txt.exe"),
        ("\udcff", "\\udcff"),
        ("C:\\models\\n", "C:\\\\models\\\\n"),
        ("::error::forged", "\\x3a:error::forged"),
        (" \t::error::forged", " \\t::error::forged"),  # \t escaped: no longer white space
        ("  ::error::forged", "  \\x3a:error::forged"),
        ("\u00a0::warning::x", "\u00a0\\x3a:warning::x"),
        ("see ##[error]forged", "see #\\x23[error]forged"),
        ("##vso[task.setvariable]x", "#\\x23vso[task.setvariable]x"),
        ("a #[b] ## c", "a #[b] ## c"),
    ],
)
def test_escape(raw: str, shown: str) -> None:
    assert escape(raw) == shown
    assert unescape(shown) == raw
    assert_safe(shown)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec=None)))
def test_escape_property(text: str) -> None:
    """Any text: one safe line, and nothing lost (different texts stay different)."""
    shown = escape(text)
    assert "\n" not in shown
    assert_safe(shown)
    assert unescape(shown) == text
    # Plain text is shown as it is; anything else only gains escapes.
    assert (shown == text) == (
        RAW.search(text) is None
        and "\\" not in text
        and "\n" not in text
        and not text.lstrip().startswith("::")
        and re.search(r"##[A-Za-z]*\[", text) is None
        and re.search("[\ud800-\udfff]", text) is None
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=5), st.text())
def test_a_line_of_parts_is_escaped_as_a_whole(texts: list[str], tail: str) -> None:
    parts: list[str | tuple[str, str]] = [*texts[:-1], (texts[-1], "name"), tail]
    for paint in (None, Painter(False), Painter(True)):
        shown = safe_line(parts, paint)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
        assert plain == escape("".join([*texts, tail]))
        assert_safe(plain)


def test_colour_of_a_line_whose_part_would_start_a_command() -> None:
    paint = Painter(True)
    assert safe_line(["Created tag ", ("churn@v1", "name")], paint) == (
        "Created tag \x1b[1mchurn@v1\x1b[0m"
    )
    assert safe_line([("::x", "name")], paint) == "\x1b[1m\\x3a:x\x1b[0m"
    # A part that escapes differently alone than in its line: the line is shown plain.
    assert safe_line(["a", ("::x", "name")], paint) == "a::x"
    assert safe_line(["#", ("#[x", "name")], paint) == "#\\x23[x"


def test_table_cells_are_escaped_and_aligned() -> None:
    text = table(
        ["name", "by"],
        [["::error::a", "Eve" + OSC_TITLE], ["b\nc", "Bob"]],
        Painter(False),
    )
    assert text.splitlines() == [
        "name           by",
        "\\x3a:error::a  Eve\\x1b]0;title\\x07",
        "b\\nc           Bob",
    ]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.text(), lambda inner: st.dictionaries(st.text(), inner, max_size=3)))
def test_json_escapes_what_json_allows_raw(value: object) -> None:
    text = dump_json({"value": value})
    assert json.loads(text) == {"value": value}
    assert_safe(text)
    assert re.search("[\ud800-\udfff]", text) is None  # a UTF-8 stream can write it


def test_json_escapes_line_separators() -> None:
    text = dump_json({"path": "a\u2028b\u2029c\x85d\u202ee ##[error]x"})
    assert text == ('{\n  "path": "a\\u2028b\\u2029c\\u0085d\\u202ee #\\u0023[error]x"\n}\n')


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(),
    st.dictionaries(st.text(min_size=1), st.text() | st.lists(st.text(), max_size=3), max_size=3),
)
def test_yaml_entry_is_safe_to_print_and_reads_back(path: str, custom: dict[str, object]) -> None:
    fields = {"path": path or None, "custom": custom or None}
    text = entry_text("churn", fields)
    assert_safe(text)
    read = yaml.safe_load(text)["churn"] or {}
    assert read.get("path") == fields["path"]
    assert read.get("custom") == fields["custom"]


def test_yaml_double_quotes_a_forged_block() -> None:
    # A literal or single-quoted scalar would put '::stop-commands' at a line start.
    assert entry_text("churn", {"path": FORGED_PATH, "custom": {"k": "::x", "t": "a\u202eb"}}) == (
        "churn:\n"
        '  path: "x\\n::stop-commands::tok\\n::error file=app.js::forged\\n"\n'
        "  custom:\n"
        '    k: "::x"\n'
        '    t: "a\\u202eb"\n'
    )


# -- through the CLI ----------------------------------------------------------------------


@pytest.fixture
def churn_in_prod_annotated(repo: Repo) -> Repo:
    """churn v0.0.1 in prod, with a valid annotation."""
    repo.commit(files={"artifacts.yaml": "churn:\n  path: s3://models/churn.pt\n  type: model\n"})
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    return repo


def annotate_by_hand(repo: Repo, text: str) -> None:
    repo.commit(files={"artifacts.yaml": text})


def register_annotated(repo: Repo, text: str) -> str:
    """Commit ``text`` as artifacts.yaml and register churn there (check-ref reads the
    annotation at the tag's commit); return the new tag."""
    annotate_by_hand(repo, text)
    repo.ok("register", "churn")
    return "churn@v0.0.2"


def test_check_reports_a_forged_path_and_prints_no_command(churn_in_prod_annotated: Repo) -> None:
    """Reproduction 1: a path of lines starting with '::' (GitHub workflow commands)."""
    annotate_by_hand(
        churn_in_prod_annotated, f"churn:\n  type: model\n  path: {yaml_string(FORGED_PATH)}\n"
    )
    for result in both(churn_in_prod_annotated, "check"):
        assert result.code == 1
        assert result.out == (
            "artifacts.yaml:3:9: artifact 'churn', key 'path': the path holds control "
            "characters (U+000A)\n"
        )
        assert_result_safe(result)
    # Every other command reads the annotation as invalid, and says so safely.
    churn_in_prod_annotated.tag("churn@v0.0.2")
    for args in (["describe", "churn"], ["show"], ["check-ref", "churn@v0.0.2", "--format=env"]):
        for result in both(churn_in_prod_annotated, *args):
            assert "the path holds control characters (U+000A)" in result.err, args
            assert_result_safe(result)


def test_check_reports_each_control_character_with_file_line_and_key(
    churn_in_prod_annotated: Repo,
) -> None:
    fine = "ok\ttab\nnew line"
    hostile = "nul\x00 vt\x0b ff\x0c nel\x85 ls\u2028 bidi\u202e" + OSC_TITLE
    annotate_by_hand(
        churn_in_prod_annotated,
        "churn:\n"
        f"  description: {yaml_string(fine)}\n"
        "other:\n"
        f"  description: {yaml_string(hostile)}\n"
        f"  path: {yaml_string(chr(9).join('ab'))}\n"
        f"  labels: [{yaml_string('x' + OSC_TITLE)}]\n"
        f"  type: {yaml_string('m' + chr(0x2028))}\n",
    )
    result = churn_in_prod_annotated.run("check", "--json")
    assert result.code == 1
    found = [
        (p["file"], p["line"], p["artifact"], p["key"], p["message"])
        for p in json.loads(result.out)["problems"]
    ]
    assert found == [
        (
            "artifacts.yaml",
            4,
            "other",
            "description",
            "artifact 'other', key 'description': the description holds control characters "
            "(U+0000, U+000B, U+000C, U+0085, U+2028, U+202E, U+001B, U+0007): only newlines "
            "and tabs are allowed",
        ),
        (
            "artifacts.yaml",
            5,
            "other",
            "path",
            "artifact 'other', key 'path': the path holds control characters (U+0009)",
        ),
        (
            "artifacts.yaml",
            6,
            "other",
            "labels",
            f"artifact 'other', key 'labels': invalid label 'x{OSC_TITLE}': use letters, "
            "digits, '_', '-' and '/', starting and ending with a letter or digit",
        ),
        (
            "artifacts.yaml",
            7,
            "other",
            "type",
            "artifact 'other', key 'type': invalid type 'm\u2028': use letters, digits, '_', "
            "'-' and '/', starting and ending with a letter or digit",
        ),
    ]
    assert_result_safe(result)  # the JSON text escapes them
    for result in both(churn_in_prod_annotated, "check"):
        assert result.code == 1
        assert "artifacts.yaml:6:12: artifact 'other', key 'labels': invalid label " in result.out
        assert "'x\\x1b]0;title\\x07'" in result.out
        assert len(result.out.splitlines()) == 4  # one line per problem
        assert_result_safe(result)


def test_writes_and_the_commit_hook_refuse_control_characters(
    churn_in_prod_annotated: Repo,
) -> None:
    result = churn_in_prod_annotated.run("annotate", "churn", "--path", FORGED_PATH)
    assert result.code == 128
    assert result.err == (
        "fatal: artifacts.yaml:2:9: artifact 'churn', key 'path': the path holds control "
        "characters (U+000A)\nhint: artifacts.yaml was not changed\n"
    )
    assert_result_safe(result)
    assert churn_in_prod_annotated.git("status", "--porcelain") == ""  # the file was not changed
    churn_in_prod_annotated.ok("hooks", "install")
    (churn_in_prod_annotated.path / "artifacts.yaml").write_text(
        f"churn:\n  description: {yaml_string('bell' + OSC_TITLE)}\n"
    )
    churn_in_prod_annotated.git("add", "artifacts.yaml")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "hostile"],
        cwd=churn_in_prod_annotated.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert (
        "artifacts.yaml:2:16: artifact 'churn', key 'description': the description holds "
        "control characters (U+001B, U+0007)" in proc.stderr
    )
    assert_safe(proc.stderr)


def test_a_hostile_label_is_never_echoed_raw(churn_in_prod_annotated: Repo) -> None:
    """Reproduction 2: an OSC sequence (sets the terminal title) in a label."""
    annotate_by_hand(
        churn_in_prod_annotated,
        f"churn:\n  path: s3://m.pt\n  labels: [ok, {yaml_string('a' + OSC_TITLE)}]\n",
    )
    for args in (["show"], ["describe", "churn"], ["show", "--json"], ["check"]):
        for result in both(churn_in_prod_annotated, *args):
            assert "invalid label 'a\\x1b]0;title\\x07'" in result.out + result.err, args
            assert_result_safe(result)


def test_valid_data_holding_controls_is_escaped_everywhere(churn_in_prod_annotated: Repo) -> None:
    """A newline is valid in a description and anything is in custom: they are shown
    escaped, never raw."""
    description = "first line\n::stop-commands::tok\n::error file=app.js::forged\n\ttabbed"
    custom = {"note": f"{OSC_TITLE} a\u2028b \u202eevil ##[error]x", "::k": ["::v"]}
    annotate_by_hand(
        churn_in_prod_annotated,
        "churn:\n  path: s3://m.pt\n"
        f"  description: {yaml_string(description)}\n"
        f"  custom: {json.dumps(custom)}\n",
    )
    [result, _] = both(churn_in_prod_annotated, "describe", "churn")
    assert result.code == 0
    assert_result_safe(result)
    shown = yaml.safe_load(result.out)["churn"]
    assert shown["description"] == description and shown["custom"] == custom
    [result, _] = both(churn_in_prod_annotated, "describe", "churn", "--description")
    assert result.out == (
        "first line\\n::stop-commands::tok\\n::error file=app.js::forged\\n\\ttabbed\n"
    )
    for args in (["describe", "churn", "--json"], ["show", "churn", "--json"]):
        [result, _] = both(churn_in_prod_annotated, *args)
        assert result.code == 0
        assert_result_safe(result)
        doc = json.loads(result.out)
        annotation = doc.get("annotation", doc)
        assert annotation["description"] == description and annotation["custom"] == custom
    [result, _] = both(churn_in_prod_annotated, "check-ref", "churn#prod#1")
    assert result.out == "churn#prod#1: assigns stage prod to churn v0.0.1 at commit " + (
        churn_in_prod_annotated.git("rev-parse", "--short=7", "churn#prod#1^{commit}").strip()
        + "\n"
    )


def test_tagger_names_are_escaped_in_tables(churn_in_prod_annotated: Repo) -> None:
    churn_in_prod_annotated.commit()
    env = {"GIT_COMMITTER_NAME": f"Eve{OSC_TITLE}\u202eX"}
    churn_in_prod_annotated.git("tag", "-a", "-m", "by hand", "churn@v0.0.2", env=env)
    for args in (["history"], ["show", "churn"]):
        for result in both(churn_in_prod_annotated, *args):
            assert result.code == 0
            assert "Eve\\x1b]0;title\\x07\\u202eX" in result.out
            assert_result_safe(result)


# -- CI formats ---------------------------------------------------------------------------


def read_env(tmp_path: Path, text: str, key: str) -> str:
    """``key`` as a POSIX shell reads it after ``. ./out.env``."""
    env_file = tmp_path / "out.env"
    env_file.write_text(text)
    proc = subprocess.run(
        ["sh", "-c", f'. ./out.env; printf %s "${key}"'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert proc.stderr == ""
    return proc.stdout


PRINTABLE_HOSTILE = 'it\'s "$HOME" $(id) `id` \\n back\\slash ::x ${PATH} !x *'


def test_env_format_reads_back_exactly_in_a_shell(
    churn_in_prod_annotated: Repo, tmp_path: Path
) -> None:
    tag = register_annotated(
        churn_in_prod_annotated,
        f"churn:\n  path: s3://m.pt\n  description: {yaml_string(PRINTABLE_HOSTILE)}\n",
    )
    for result in both(churn_in_prod_annotated, "check-ref", tag, "--format", "env"):
        assert result.code == 0 and result.err == ""
        assert_result_safe(result)
        assert len(result.out.splitlines()) == 9
        assert read_env(tmp_path, result.out, "REGISTRY_DESCRIPTION") == PRINTABLE_HOSTILE
        assert read_env(tmp_path, result.out, "REGISTRY_PATH") == "s3://m.pt"
        assert read_env(tmp_path, result.out, "REGISTRY_TAG") == tag


def test_env_format_escapes_line_breaks_with_a_warning(
    churn_in_prod_annotated: Repo, tmp_path: Path
) -> None:
    description = "x\n::stop-commands::tok\n\tand ##[error]forged"
    tag = register_annotated(
        churn_in_prod_annotated,
        f"churn:\n  path: s3://m.pt\n  description: {yaml_string(description)}\n",
    )
    for result in both(churn_in_prod_annotated, "check-ref", tag, "--format", "env"):
        assert result.code == 0
        assert result.err == (
            "warning: REGISTRY_DESCRIPTION is written escaped, as git registry shows it: it "
            "holds line breaks, control characters or a CI command (--json and --format "
            "github carry it exactly)\n"
        )
        assert_result_safe(result)
        assert len(result.out.splitlines()) == 9
        assert read_env(tmp_path, result.out, "REGISTRY_DESCRIPTION") == escape(description)


def test_env_file_never_carries_a_raw_control_character(tmp_path: Path) -> None:
    """Reproduction 3: values that no annotation can hold any more (``check`` refuses
    them), still written escaped if they ever get there."""
    values = {
        "name": "churn",
        "version": "v1.0.0",
        "stage": "",
        "event": "registration",
        "tag": "churn@v1.0.0",
        "commit": "0" * 40,
        "path": "nul\x00 vt\x0b ff\x0c nel\x85 ls\u2028 ps\u2029 \x1b]0;t\x07",
        "type": "",
        "description": "line\r\nnext\u202e",
    }
    out, err = io.StringIO(), io.StringIO()
    _env_file(Session(io.StringIO(), out, err, {}, str(tmp_path), None), values)
    assert_safe(out.getvalue())
    assert_safe(err.getvalue())
    assert len(out.getvalue().splitlines()) == 9
    for key in ("path", "description"):
        shell = read_env(tmp_path, out.getvalue(), f"REGISTRY_{key.upper()}")
        assert shell == escape(values[key])
        assert unescape(shell) == values[key]
    assert err.getvalue().count("warning: ") == 2


def test_github_output_carries_values_exactly(
    churn_in_prod_annotated: Repo, tmp_path: Path
) -> None:
    """GITHUB_OUTPUT takes multi-line values in ``key<<DELIMITER`` blocks: exact, and
    nothing is printed to the log but a note."""
    description = "x\n::stop-commands::tok\n\ttabbed ##[error]y"
    tag = register_annotated(
        churn_in_prod_annotated,
        f"churn:\n  path: s3://m.pt\n  description: {yaml_string(description)}\n",
    )
    output = tmp_path / "github_output"
    result = churn_in_prod_annotated.git_registry(
        "check-ref", tag, "--format", "github", env={"GITHUB_OUTPUT": str(output)}
    )
    assert result.code == 0 and result.out == ""
    assert_result_safe(result)
    text = output.read_text()
    start = text.index("description<<")
    delimiter = text[start:].split("\n", 1)[0].removeprefix("description<<")
    block = text[start:].split("\n", 1)[1]
    assert block.split(f"\n{delimiter}\n", 1)[0] == description


def test_a_hostile_name_on_the_command_line_is_echoed_escaped(
    churn_in_prod_annotated: Repo,
) -> None:
    for result in both(churn_in_prod_annotated, "register", f"a{OSC_TITLE}"):
        assert result.code == 128
        assert result.err.startswith(
            "fatal: invalid artifact name 'a\\x1b]0;title\\x07': U+0007, U+001B, ';', ']' "
            "not allowed; use letters"
        )
        assert_result_safe(result)
