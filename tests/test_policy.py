"""Team policy (SPEC 5): .registry.yaml, or GTO's .gto; its problems with file, line and key."""

from __future__ import annotations

import json

import pytest

from git_registry.gitvalues import ObjectId, Signature
from git_registry.grammar import NAME_RULE, EventKind
from git_registry.policy import (
    CONFIG_FILE,
    GTO_CONFIG_FILE,
    Policy,
    ordered_stages,
    parse_policy,
)
from git_registry.rules import Facts, Problem, Rule, stage_not_allowed
from git_registry.state import Event

from conftest import Repo

# -- parsing ---------------------------------------------------------------------------------


def refusal(policy: Policy, stage: str) -> Problem | None:
    """The rulebook's stage rule for an assignment of ``stage`` under ``policy``."""
    event = Event(
        f"churn#{stage}#1",
        EventKind.ASSIGNMENT,
        "churn",
        "v1.0.0",
        stage,
        1,
        ObjectId("1" * 40),
        Signature("A", "a@b", 1700000000, 0),
        "",
        ObjectId("2" * 40),
    )
    return stage_not_allowed(event, Facts(policy, lambda commit, artifact: ()))


@pytest.mark.core
def test_stages_and_types_in_order() -> None:
    policy, problems = parse_policy(
        b"# team policy\nstages: [dev, staging, prod]\ntypes:\n  - model\n  - dataset\n",
        CONFIG_FILE,
    )
    assert problems == ()
    assert policy == Policy(("dev", "staging", "prod"), ("model", "dataset"), CONFIG_FILE)


@pytest.mark.core
@pytest.mark.parametrize("text", ["", "# nothing\n", "stages:\ntypes:\n", "---\n"])
def test_empty_policy_allows_anything(text: str) -> None:
    policy, problems = parse_policy(text.encode(), CONFIG_FILE)
    assert problems == ()
    assert (policy.stages, policy.types, policy.file) == (None, None, CONFIG_FILE)
    assert refusal(policy, "anything") is None


@pytest.mark.core
def test_empty_list_allows_nothing() -> None:
    policy, problems = parse_policy(b"stages: []\n", CONFIG_FILE)
    assert problems == () and policy.stages == ()
    found = refusal(policy, "prod")
    assert found is not None and found.rule is Rule.STAGE_NOT_ALLOWED
    assert found.message == "stage 'prod' is not allowed by .registry.yaml (allowed: none)"


@pytest.mark.core
def test_unknown_key_names_file_line_and_key() -> None:
    policy, problems = parse_policy(
        b"stages: [dev, prod]\n\nprmotion_rules:\n  prod: [dev]\n", CONFIG_FILE
    )
    assert [str(p) for p in problems] == [
        ".registry.yaml:3:1: unknown key 'prmotion_rules' "
        "(allowed: stages, types, promotion, allowed_signers)"
    ]
    assert (problems[0].file, problems[0].line, problems[0].key) == (
        CONFIG_FILE,
        3,
        "prmotion_rules",
    )
    assert policy.stages == ("dev", "prod")  # the rest is still read


@pytest.mark.core
def test_gto_config_keeps_its_other_settings_quietly() -> None:
    # .gto also holds GTO's own settings (emojis, index, …): read, not used.
    policy, problems = parse_policy(
        b"emojis: false\ntypes: [model]\nstages: [dev, prod]\n", GTO_CONFIG_FILE
    )
    assert problems == ()
    assert policy == Policy(("dev", "prod"), ("model",), GTO_CONFIG_FILE)


# .gto as GTO 1.10.1 reads it (issue 19): (text, stages or "refused" where GTO refuses
# the file). tests/test_gto_interop.py runs GTO itself on each of these.
GTO_CONFIGS: list[tuple[str, tuple[str, ...] | str | None]] = [
    ("STAGES: [dev, prod]\n", ("dev", "prod")),
    ("Stages: [dev]\nstages: [prod]\n", ("dev",)),  # the first, in any case
    ("sTaGeS: [a]\nSTAGES: [b]\n", ("a",)),
    ("stages: [dev, dev]\n", ("dev",)),
    ("stages: []\n", ()),
    ("stages:\n", None),
    ("stages: [yes, on]\n", ("yes", "on")),  # YAML 1.2: strings
    ("EMOJIS: false\nIndex: artifacts.yaml\nlog_level: INFO\nstages: [dev]\n", ("dev",)),
    ("emojis: yes\ndebug: 0\nenrichments: []\nstages: [dev]\n", ("dev",)),
    ("stages: [true]\n", "refused"),
    ("stages: dev\n", "refused"),
    ("stages: [1]\n", "refused"),
    ("stages: [dev]\nfoo: 1\n", "refused"),
    ("stages: [dev]\ntype_allowed: [a]\n", "refused"),
    ("stages: [dev]\nemojis: maybe\n", "refused"),
    ("stages: [dev]\nindex: 3\n", "refused"),
    ("stages: [dev]\nstages: [prod]\n", "refused"),
    ("stages: [a b]\n", "refused"),
]


@pytest.mark.core
@pytest.mark.parametrize(("text", "expected"), GTO_CONFIGS)
def test_gto_config_is_read_as_gto_reads_it(
    text: str, expected: tuple[str, ...] | str | None
) -> None:
    """Keys in any case (the first wins), GTO's settings and types, YAML 1.2 strings;
    what makes GTO refuse the file is a problem (so promotions stop, as GTO's do)."""
    policy, problems = parse_policy(text.encode(), GTO_CONFIG_FILE)
    if expected == "refused":
        assert problems, text
    else:
        assert problems == (), [str(p) for p in problems]
        assert policy.stages == expected


@pytest.mark.core
def test_an_unknown_gto_key_says_gto_refuses_the_file() -> None:
    _, problems = parse_policy(b"stages: [dev]\nfoo: 1\n", GTO_CONFIG_FILE)
    assert [str(p) for p in problems] == [
        ".gto:2:1: unknown key 'foo': GTO 1.10.1 refuses the file ('Wrong config file') "
        "(its keys, in any case: index, config_file_name, log_level, debug, emojis, types, "
        "stages, enrichments, autoload_enrichments)"
    ]
    _, problems = parse_policy(b"emojis: maybe\n", GTO_CONFIG_FILE)
    assert [str(p) for p in problems] == [
        ".gto:1:9: 'emojis' must be true or false, found a string: GTO 1.10.1 refuses the "
        "file ('Wrong config file')"
    ]


def test_gto_config_keys_in_any_case_are_enforced(repo: Repo) -> None:
    """Issue 19: ``STAGES: [dev, prod]`` allows dev and prod only, as in GTO: a promotion
    to qa is refused, and check reports one made by hand."""
    repo.commit(files={".gto": "STAGES: [dev, prod]\n"})
    repo.ok("register", "churn")
    result = repo.run("promote", "churn", "qa")
    assert result.code == 128
    assert "stage 'qa' is not allowed by .gto (allowed: dev, prod)" in result.err
    head = repo.git("rev-parse", "HEAD").strip()
    repo.tag("churn#qa#1", head, "Assigning stage qa to artifact churn version v0.0.1")
    result = repo.run("check")
    assert result.code == 1
    assert "churn#qa#1: stage 'qa' is not allowed by .gto" in result.out


@pytest.mark.core
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stages: prod\n", ".registry.yaml:1:9: 'stages' must be a list of names, found a string"),
        (
            "types:\n  model: 1\n",
            ".registry.yaml:2:3: 'types' must be a list of names, found a mapping",
        ),
        ("stages: 3\n", ".registry.yaml:1:9: 'stages' must be a list of names, found a number"),
        (
            "stages: [dev, [prod]]\n",
            ".registry.yaml:1:15: 'stages': expected a name, found a list",
        ),
        (
            "stages:\n  - dev\n  - true\n",
            ".registry.yaml:3:5: 'stages': expected a name, found true/false",
        ),
        (
            "types: [model, 7]\n",
            ".registry.yaml:1:16: 'types': expected a name, found a number",
        ),
    ],
)
def test_wrong_types(text: str, expected: str) -> None:
    _policy, problems = parse_policy(text.encode(), CONFIG_FILE)
    assert [str(p) for p in problems] == [expected]
    assert problems[0].key in ("stages", "types") and problems[0].key in expected


@pytest.mark.core
def test_duplicate_stages_and_types() -> None:
    policy, problems = parse_policy(
        b"stages: [dev, prod, dev]\ntypes:\n  - model\n  - model\n", CONFIG_FILE
    )
    assert [str(p) for p in problems] == [
        ".registry.yaml:1:21: 'stages': 'dev' is listed twice",
        ".registry.yaml:4:5: 'types': 'model' is listed twice",
    ]
    assert policy.stages == ("dev", "prod") and policy.types == ("model",)


@pytest.mark.core
@pytest.mark.parametrize(
    ("stage", "column"),
    [("Prod!", 15), ("pre prod", 15), ("-dev", 15), ("dev-", 15), ("a#b", 15), ("", 15)],
)
def test_invalid_stage_names(stage: str, column: int) -> None:
    policy, problems = parse_policy(f"stages: [dev, '{stage}']\n".encode(), CONFIG_FILE)
    assert [str(p) for p in problems] == [
        f".registry.yaml:1:{column}: 'stages': invalid name '{stage}': use {NAME_RULE}"
    ]
    assert policy.stages == ("dev",)


@pytest.mark.core
def test_duplicate_key_names_the_key() -> None:
    policy, problems = parse_policy(b"stages: [a]\nstages: [b]\n", CONFIG_FILE)
    assert [(str(p), p.key) for p in problems] == [
        (".registry.yaml:2:1: duplicate key 'stages' (first at line 1)", "stages")
    ]
    assert policy.stages == ("a",)


@pytest.mark.core
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"- dev\n- prod\n", ".registry.yaml:1:1: expected a mapping, found a list"),
        (b"prod\n", ".registry.yaml:1:1: expected a mapping, found a string"),
        (b"stages: [dev\n", ".registry.yaml:2:1: invalid YAML: "),
        (b"stages: [d\xe9v]\n", ".registry.yaml:1:11: not UTF-8 text (byte 0xe9)"),
        (
            b"stages: !!python/object/apply:os.system [ls]\n",
            ".registry.yaml:1:9: YAML tag '!!python/object/apply:os.system' is not allowed",
        ),
        (b"base: &b [dev]\n<<: {stages: *b}\n", ".registry.yaml:2:1: merge keys ('<<')"),
    ],
)
def test_unreadable_policy_allows_nothing_more_and_says_why(data: bytes, expected: str) -> None:
    policy, problems = parse_policy(data, CONFIG_FILE)
    assert len(problems) == 1 and str(problems[0]).startswith(expected)
    assert policy == Policy(file=CONFIG_FILE)


@pytest.mark.core
def test_billion_laughs_policy_is_refused() -> None:
    lines = ["l0: &l0 [a, a, a, a, a, a, a, a, a, a]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines += ["stages: *l8"]
    _policy, problems = parse_policy("\n".join(lines).encode(), CONFIG_FILE)
    assert len(problems) == 1 and "alias bomb" in problems[0].message


# -- using it ------------------------------------------------------------------------------


@pytest.mark.core
def test_stage_not_allowed_message() -> None:
    policy = Policy(("dev", "prod"), None, CONFIG_FILE)
    assert refusal(policy, "prod") is None
    found = refusal(policy, "Prod")  # case matters, as in tag names
    assert found is not None
    assert found.message == "stage 'Prod' is not allowed by .registry.yaml (allowed: dev, prod)"
    assert found.hint == "add it to 'stages' in .registry.yaml, or promote to an allowed stage"


@pytest.mark.core
def test_ordered_stages_puts_the_allow_list_first() -> None:
    policy = Policy(("dev", "staging", "prod"), None, CONFIG_FILE)
    assert ordered_stages(policy, ["prod", "legacy", "dev"]) == ["dev", "staging", "prod", "legacy"]
    assert ordered_stages(Policy(), ["prod", "dev"]) == ["prod", "dev"]


# -- where it is read from: real repositories ------------------------------------------------


def stages(repo: Repo) -> list[str]:
    result = repo.run("stages", "--json")
    assert result.code == 0, result.err
    return list(json.loads(result.out)["stages"])


def test_without_a_policy_stages_come_from_the_tags(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "qa")
    assert stages(repo) == ["qa"]


def test_gto_config_is_read_when_there_is_no_registry_yaml(repo: Repo) -> None:
    repo.commit(files={".gto": "stages: [dev, prod]\ntypes: [model]\nemojis: true\n"})
    assert stages(repo) == ["dev", "prod"]
    repo.ok("register", "churn")
    result = repo.run("promote", "churn", "qa")
    assert result.code == 128
    assert (
        "fatal: refusing to create the tag: churn#qa#1: stage 'qa' is not allowed by .gto"
        in result.err
    )
    assert "hint: add it to 'stages' in .gto" in result.err
    assert repo.tags() == {"churn@v0.0.1": repo.git("rev-parse", "HEAD").strip()}


def test_registry_yaml_wins_over_gto(repo: Repo) -> None:
    repo.commit(files={".gto": "stages: [dev, prod]\n", ".registry.yaml": "stages: [qa, live]\n"})
    assert stages(repo) == ["qa", "live"]
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "live")
    result = repo.run("promote", "churn", "prod")
    assert result.code == 128 and "not allowed by .registry.yaml" in result.err
    assert sorted(repo.tags()) == ["churn#live#1", "churn@v0.0.1"]


def test_policy_is_read_from_head_not_the_work_tree(repo: Repo) -> None:
    repo.commit(files={".registry.yaml": "stages: [dev, prod]\n"})
    (repo.path / ".registry.yaml").write_text("stages: [qa]\n")  # not committed
    assert stages(repo) == ["dev", "prod"]
    repo.git("add", ".registry.yaml")  # staged is not committed either
    assert stages(repo) == ["dev", "prod"]


def test_broken_registry_yaml_does_not_fall_back_to_gto(repo: Repo) -> None:
    # A broken team policy must be fixed, not silently replaced by another file.
    repo.commit(files={".gto": "stages: [dev]\n", ".registry.yaml": "stages: [dev\n"})
    result = repo.run("stages", "--json")
    assert result.code == 0
    assert result.err.startswith("warning: .registry.yaml:2:1: invalid YAML: ")
    repo.ok("register", "churn")  # the write needs no stage check...
    before = repo.tags()
    result = repo.run("promote", "churn", "dev")  # ...this one does
    assert result.code == 128
    assert (
        "fatal: .registry.yaml at HEAD is invalid: .registry.yaml:2:1: invalid YAML" in result.err
    )
    assert repo.tags() == before


def test_unknown_key_in_registry_yaml_is_reported_by_check(repo: Repo) -> None:
    repo.commit(files={".registry.yaml": "stages: [dev]\nstage_order: [dev]\n"})
    result = repo.run("check")
    assert result.code == 1
    assert result.out == (
        ".registry.yaml:2:1: unknown key 'stage_order' "
        "(allowed: stages, types, promotion, allowed_signers)\n"
    )
    assert result.err.endswith(": no tags, no artifacts.yaml files and .registry.yaml: 1 problem\n")
