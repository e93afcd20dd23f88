"""The tag grammar (SPEC 2): parsing, formatting, validation messages, ref names, SemVer order."""

from __future__ import annotations

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from git_registry.errors import EXIT_FATAL, RegistryError
from git_registry.grammar import (
    BAD_COUNTER,
    MAX_COUNTER_DIGITS,
    EventKind,
    GrammarError,
    TagName,
    artifact_to_tag,
    check_artifact_name,
    check_stage,
    check_version,
    format_tag,
    parse_tag,
    refname_problem,
    semver_key,
    strip_tag_prefix,
    tag_artifact_prefix,
    tag_to_artifact,
)

pytestmark = pytest.mark.core

REG = EventKind.REGISTRATION
DEREG = EventKind.DEREGISTRATION
ASSIGN = EventKind.ASSIGNMENT
UNASSIGN = EventKind.UNASSIGNMENT
DEPRECATE = EventKind.DEPRECATION

# -- parse and format --------------------------------------------------------------------

EVERY_FORM = [
    ("churn@v1.2.3", TagName("churn", REG, version="v1.2.3")),
    ("churn@v1.2.3#4", TagName("churn", REG, version="v1.2.3", counter=4)),
    ("churn@v1.2.3!", TagName("churn", DEREG, version="v1.2.3")),
    ("churn@v1.2.3!#5", TagName("churn", DEREG, version="v1.2.3", counter=5)),
    ("churn#prod", TagName("churn", ASSIGN, stage="prod")),
    ("churn#prod#7", TagName("churn", ASSIGN, stage="prod", counter=7)),
    ("churn#prod!", TagName("churn", UNASSIGN, stage="prod")),
    ("churn#prod!#8", TagName("churn", UNASSIGN, stage="prod", counter=8)),
    ("churn@deprecated", TagName("churn", DEPRECATE)),
    ("churn@deprecated#9", TagName("churn", DEPRECATE, counter=9)),
    ("dir/sub=name@v1.0.0", TagName("dir/sub:name", REG, version="v1.0.0")),
    ("dir/sub=name#prod!#3", TagName("dir/sub:name", UNASSIGN, stage="prod", counter=3)),
    ("a.b/c_d=m-1@deprecated", TagName("a.b/c_d:m-1", DEPRECATE)),
    ("churn@v2.0.0-rc.1+build.5", TagName("churn", REG, version="v2.0.0-rc.1+build.5")),
    ("churn@v2.0.0-rc.1+build.5!#12", TagName("churn", DEREG, "v2.0.0-rc.1+build.5", None, 12)),
    ("Team/Model_2#eu/prod#10", TagName("Team/Model_2", ASSIGN, stage="eu/prod", counter=10)),
    ("x#7", TagName("x", ASSIGN, stage="7")),
    ("x#7#8", TagName("x", ASSIGN, stage="7", counter=8)),
]


@pytest.mark.parametrize(("text", "expected"), EVERY_FORM)
def test_parse_every_form(text: str, expected: TagName) -> None:
    assert parse_tag(text) == expected


@pytest.mark.parametrize(("text", "expected"), EVERY_FORM)
def test_format_every_form(text: str, expected: TagName) -> None:
    assert format_tag(expected) == text
    assert str(expected) == text


@pytest.mark.parametrize(("text", "expected"), EVERY_FORM)
def test_refs_tags_prefix_is_accepted(text: str, expected: TagName) -> None:
    assert parse_tag(f"refs/tags/{text}") == expected


def test_counter_is_a_number() -> None:
    parsed = parse_tag("churn#prod#0012")
    assert parsed == TagName("churn", ASSIGN, stage="prod", counter=12)
    assert format_tag(parsed) == "churn#prod#12"


@pytest.mark.parametrize(
    "text",
    [
        "churn@1.0.0",  # no 'v'
        "churn@V1.0.0",  # upper-case V
        "churn@v01.0.0",  # leading zero
        "churn@v1.00.0",
        "churn@v1.0.0-01",  # leading zero in a numeric prerelease identifier
        "churn@v1.0",  # two numbers
        "churn@v1",
        "churn@v1.0.0-",  # empty prerelease
        "churn@v1.0.0+",  # empty build
        "churn#",  # empty stage
        "churn#-prod",
        "churn#prod-",
        "churn#pro.d",
        "churn#prod#",  # empty counter
        "churn#prod#x",
        "churn#prod#-1",
        "churn#prod!!",
        "churn@deprecated!",  # a deprecation cannot be cancelled
        "churn@deprecated#prod",
        "-churn@v1.0.0",  # name starts with '-'
        "churn-@v1.0.0",
        "_churn@v1.0.0",
        "churn@created",  # GTO's old creation event is not a registry event
        "churn@latest",
        "churn@",
        "churn",
        "release-1.0",
        "v1.0.0",
        "a:b@v1.0.0",  # ':' is written '=' in tags
        "a=b=c@v1.0.0",
        "=b@v1.0.0",
        "churn@v1.0.0@v2.0.0",
        "ch urn@v1.0.0",
        "",
        "refs/tags/",
    ],
)
def test_not_registry_tags(text: str) -> None:
    assert parse_tag(text) is None


def test_artifact_separator_conversion() -> None:
    assert artifact_to_tag("dir/sub:name") == "dir/sub=name"
    assert tag_to_artifact("dir/sub=name") == "dir/sub:name"
    assert artifact_to_tag("churn") == "churn"


def test_strip_tag_prefix() -> None:
    assert strip_tag_prefix("refs/tags/churn@v1.0.0") == "churn@v1.0.0"
    assert strip_tag_prefix("churn@v1.0.0") == "churn@v1.0.0"
    assert strip_tag_prefix("refs/heads/main") == "refs/heads/main"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("churn@1.0.0", "churn"),
        ("churn@v1.0.0", "churn"),
        ("churn#prod#3", "churn"),
        ("churn#prod@x", "churn"),
        ("churn@x#prod", "churn"),
        ("dir=name@v1.0.0", "dir:name"),
        ("dir/sub=name#prod", "dir/sub:name"),
        ("refs/tags/churn@v1.0.0", "refs/tags/churn"),  # a ref's name, exactly
        ("churn", "churn"),
    ],
)
def test_tag_artifact_prefix(name: str, expected: str) -> None:
    assert tag_artifact_prefix(name) == expected


def test_event_kind_priority_and_cancels() -> None:
    assert [(k.value, k.priority, k.cancels) for k in EventKind] == [
        ("deprecation", 2, True),
        ("registration", 3, False),
        ("deregistration", 4, True),
        ("assignment", 5, False),
        ("unassignment", 6, True),
    ]


# -- validation of names we write --------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["churn", "Model_2", "a", "7", "a/b", "dir/sub:name", "team.a/sub-dir_1:model"]
)
def test_valid_artifact_names_are_returned(name: str) -> None:
    assert check_artifact_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("", ["empty"]),
        ("my model", ["'my model'", "' '", "letters, digits"]),
        ("model.v2", ["'model.v2'", "'.'", "letters, digits"]),
        ("dir/sub:na@me", ["'dir/sub:na@me'", "'@'", "letters, digits"]),
        ("-model", ["'-model'", "start and end with a letter or digit"]),
        ("model/", ["'model/'", "start and end with a letter or digit"]),
        ("a:b:c", ["'a:b:c'", "only one ':'"]),
        (":model", ["':model'", "folder before ':' is empty"]),
        ("../up:model", ["'../up:model'", "relative path", "'..'"]),
        ("a/./b:model", ["'a/./b:model'", "relative path"]),
        ("a//b:model", ["'a//b:model'", "relative path"]),
        ("/abs:model", ["'/abs:model'", "relative path"]),
        ("dir=x:model", ["'dir=x:model'", "relative path"]),
        # Names the grammar allows but Git would refuse as a ref name.
        ("a/.hidden:x", ["'a/.hidden:x'", "Git would refuse", "begins with '.'"]),
        ("x.lock/y:z", ["'x.lock/y:z'", "Git would refuse", "ends with '.lock'"]),
        ("a..b:x", ["'a..b:x'", "Git would refuse", "'..'"]),
        ("a//b", ["'a//b'", "Git would refuse", "'//'"]),
    ],
)
def test_invalid_artifact_names(name: str, fragments: list[str]) -> None:
    with pytest.raises(GrammarError) as info:
        check_artifact_name(name)
    message = str(info.value)
    assert "artifact name" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("stage", ["prod", "Prod-EU", "eu/prod_1", "7", "a"])
def test_valid_stages_are_returned(stage: str) -> None:
    assert check_stage(stage) == stage


@pytest.mark.parametrize(
    ("stage", "fragments"),
    [
        ("", ["empty"]),
        ("pr od", ["'pr od'", "' '", "letters, digits"]),
        ("prod!", ["'prod!'", "'!'", "letters, digits"]),
        ("pr#od", ["'pr#od'", "'#'"]),
        ("x.lock", ["'x.lock'", "'.'"]),
        ("a@{b", ["'a@{b'", "'@'", "'{'"]),
        ("-prod", ["'-prod'", "start and end with a letter or digit"]),
        ("prod/", ["'prod/'", "start and end with a letter or digit"]),
        ("a//b", ["'a//b'", "Git would refuse", "'//'"]),
    ],
)
def test_invalid_stages(stage: str, fragments: list[str]) -> None:
    with pytest.raises(GrammarError) as info:
        check_stage(stage)
    message = str(info.value)
    assert "stage" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    "version",
    ["v1.2.3", "v0.0.0", "v10.20.30", "v2.0.0-rc.1+build.5", "v1.0.0-alpha-1.x.7", "v1.0.0+0.a"],
)
def test_valid_versions_are_returned(version: str) -> None:
    assert check_version(version) == version


@pytest.mark.parametrize(
    ("version", "fragments"),
    [
        ("1.0.0", ["'1.0.0'", "did you mean v1.0.0?"]),
        ("2.1.0-rc.1", ["did you mean v2.1.0-rc.1?"]),
        ("V1.0.0", ["'V1.0.0'", "lower-case", "did you mean v1.0.0?"]),
        ("v1.0", ["'v1.0'", "three numbers", "did you mean v1.0.0?"]),
        ("v2", ["did you mean v2.0.0?"]),
        ("1.5", ["did you mean v1.5.0?"]),
        ("v01.0.0", ["'v01.0.0'", "no leading zeros"]),
        ("v1.02.0", ["no leading zeros"]),
        ("v1.0.03", ["no leading zeros"]),
        ("v1.0.0-rc.01", ["no leading zeros"]),
        ("v1.0.0-01", ["no leading zeros"]),
        ("latest", ["'latest'", "SemVer 2.0"]),
        ("v1.0.0-", ["'v1.0.0-'", "SemVer 2.0"]),
        ("", ["''", "SemVer 2.0"]),
    ],
)
def test_invalid_versions(version: str, fragments: list[str]) -> None:
    with pytest.raises(GrammarError) as info:
        check_version(version)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_version_digits_are_ascii() -> None:
    # SemVer 2.0 numbers are ASCII digits; Python's \d also matches e.g. ARABIC-INDIC DIGIT ONE.
    with pytest.raises(GrammarError):
        check_version("v1\u0661.0.0")


def test_grammar_error_is_a_fatal_registry_error_and_a_value_error() -> None:
    with pytest.raises(GrammarError) as info:
        check_stage("no good")
    assert isinstance(info.value, RegistryError)
    assert isinstance(info.value, ValueError)
    assert info.value.exit_code == EXIT_FATAL
    assert info.value.message == str(info.value)


# -- Git ref names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("refname", "fragment"),
    [
        ("@", "'@'"),
        ("churn", "'/'"),
        ("/refs/tags/a", "begins or ends with '/'"),
        ("refs/tags/a/", "begins or ends with '/'"),
        ("refs//tags", "'//'"),
        ("refs/tags/a.", "ends with '.'"),
        ("refs/tags/a..b", "'..'"),
        ("refs/tags/a@{1}", "'@{'"),
        ("refs/tags/a b", "' '"),
        ("refs/tags/a~1", "'~'"),
        ("refs/tags/a^", "'^'"),
        ("refs/tags/a:b", "':'"),
        ("refs/tags/a?", "'?'"),
        ("refs/tags/a*", "'*'"),
        ("refs/tags/a[", "'['"),
        ("refs/tags/a\\b", "'\\\\'"),
        ("refs/tags/a\tb", "'\\t'"),
        ("refs/tags/a\x7fb", "'\\x7f'"),
        ("refs/tags/.a", "begins with '.'"),
        ("refs/tags/a.lock", "ends with '.lock'"),
        ("refs/tags/a.lock/b", "ends with '.lock'"),
    ],
)
def test_refname_problem_reasons(refname: str, fragment: str) -> None:
    reason = refname_problem(refname)
    assert reason is not None
    assert fragment in reason


@pytest.mark.parametrize(
    "refname",
    ["refs/tags/churn@v1.0.0", "refs/tags/a=b#prod!#3", "refs/tags/@", "refs/tags/a@b{c}", "a/b"],
)
def test_refname_problem_accepts_valid_names(refname: str) -> None:
    assert refname_problem(refname) is None


# -- SemVer precedence --------------------------------------------------------------------


def test_semver_key_follows_the_semver_spec_example() -> None:
    # The precedence example of semver.org, item 11, shuffled.
    ordered = [
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-alpha.beta",
        "v1.0.0-beta",
        "v1.0.0-beta.2",
        "v1.0.0-beta.11",
        "v1.0.0-rc.1",
        "v1.0.0",
        "v1.0.1",
        "v1.2.0",
        "v1.10.0",
        "v2.0.0",
    ]
    shuffled = [ordered[i] for i in (7, 3, 11, 0, 9, 5, 1, 10, 6, 2, 8, 4)]
    assert sorted(shuffled, key=semver_key) == ordered


def test_semver_key_ignores_build_metadata() -> None:
    assert semver_key("v1.0.0+build.1") == semver_key("v1.0.0+zzz") == semver_key("v1.0.0")
    assert semver_key("v1.0.0-rc.1+b") < semver_key("v1.0.0")


@pytest.mark.parametrize("version", ["1.0.0", "v1.0", "latest", "v1.0.0-01"])
def test_semver_key_rejects_invalid_versions(version: str) -> None:
    with pytest.raises(GrammarError, match="invalid version"):
        semver_key(version)


# -- properties ---------------------------------------------------------------------------

NAMES = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9_/-]*[a-zA-Z0-9])?\Z", fullmatch=True)
DIRNAMES = st.from_regex(r"\A[a-zA-Z0-9_./-]+\Z", fullmatch=True)
ARTIFACTS = st.builds(
    lambda dirname, name: f"{dirname}:{name}" if dirname else name,
    st.none() | DIRNAMES,
    NAMES,
)
NUMBERS = st.integers(min_value=0, max_value=10**12)
PRERELEASE_IDS = st.integers(min_value=0, max_value=10**6).map(str) | st.from_regex(
    r"\A[0-9a-zA-Z-]*[a-zA-Z-][0-9a-zA-Z-]*\Z", fullmatch=True
)
BUILD_IDS = st.from_regex(r"\A[0-9a-zA-Z-]+\Z", fullmatch=True)


def _version(
    major: int, minor: int, patch: int, pre: list[str] | None, build: list[str] | None
) -> str:
    text = f"v{major}.{minor}.{patch}"
    if pre:
        text += "-" + ".".join(pre)
    if build:
        text += "+" + ".".join(build)
    return text


VERSIONS = st.builds(
    _version,
    NUMBERS,
    NUMBERS,
    NUMBERS,
    st.none() | st.lists(PRERELEASE_IDS, min_size=1, max_size=4),
    st.none() | st.lists(BUILD_IDS, min_size=1, max_size=3),
)
# Counters up to MAX_COUNTER_DIGITS digits round-trip; a longer one is BAD_COUNTER.
COUNTERS = st.none() | st.integers(min_value=0, max_value=10**MAX_COUNTER_DIGITS - 1)

TAG_NAMES = st.one_of(
    st.builds(
        TagName, ARTIFACTS, st.sampled_from([REG, DEREG]), version=VERSIONS, counter=COUNTERS
    ),
    st.builds(
        TagName, ARTIFACTS, st.sampled_from([ASSIGN, UNASSIGN]), stage=NAMES, counter=COUNTERS
    ),
    st.builds(TagName, ARTIFACTS, st.just(DEPRECATE), counter=COUNTERS),
)


@given(TAG_NAMES)
def test_format_then_parse_round_trips(tag: TagName) -> None:
    text = format_tag(tag)
    assert parse_tag(text) == tag
    assert parse_tag(f"refs/tags/{text}") == tag
    assert tag_artifact_prefix(text) == tag.artifact


@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    parsed = parse_tag(text)
    assert parsed is None or isinstance(parsed, TagName)


@given(st.text(alphabet="ab0123456789v.-+@#!=/:_ V", max_size=30))
def test_parse_is_stable_on_grammar_like_text(text: str) -> None:
    # Text made of the grammar's own characters reaches the deep paths of the regex.
    parsed = parse_tag(text)
    if parsed is not None:
        assert parse_tag(format_tag(parsed)) == parsed


SMALL_VERSIONS = st.builds(
    _version,
    st.integers(0, 2),
    st.integers(0, 2),
    st.integers(0, 2),
    st.none()
    | st.lists(
        st.sampled_from(["0", "1", "2", "10", "alpha", "beta", "rc", "Rc", "a-b", "1a", "-"]),
        min_size=1,
        max_size=3,
    ),
    st.none() | st.lists(st.sampled_from(["b1", "001", "x-y"]), min_size=1, max_size=2),
)


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


@given(SMALL_VERSIONS, SMALL_VERSIONS)
def test_semver_key_agrees_with_the_semver_library(a: str, b: str) -> None:
    ours = (semver_key(a) > semver_key(b)) - (semver_key(a) < semver_key(b))
    assert ours == _sign(semver.Version.parse(a[1:]).compare(b[1:]))


@given(VERSIONS, VERSIONS)
def test_semver_key_agrees_with_the_semver_library_on_any_versions(a: str, b: str) -> None:
    ours = (semver_key(a) > semver_key(b)) - (semver_key(a) < semver_key(b))
    assert ours == _sign(semver.Version.parse(a[1:]).compare(b[1:]))


@given(VERSIONS)
def test_generated_versions_are_valid(version: str) -> None:
    assert check_version(version) == version


def test_trailing_newline_is_not_a_registry_tag() -> None:
    # '$' would match before a final newline; Git ref names never contain one.
    assert parse_tag("churn@v1.0.0\n") is None
    assert parse_tag("churn#prod#1\n") is None


def test_a_counter_longer_than_the_limit_is_bad_not_a_crash() -> None:
    """5,000 digits would make int() raise (Python's limit); 10 digits is already more
    than any registry needs: the tag parses, with the BAD_COUNTER marker."""
    for digits in (MAX_COUNTER_DIGITS + 1, 5000):
        parsed = parse_tag("churn#prod#" + "9" * digits)
        assert parsed is not None and parsed.counter == BAD_COUNTER
    longest = parse_tag("churn#prod#" + "9" * MAX_COUNTER_DIGITS)
    assert longest is not None and longest.counter == 10**MAX_COUNTER_DIGITS - 1
