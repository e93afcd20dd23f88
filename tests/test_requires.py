"""Dependencies between artifacts (issue 17 part 6, GTO #260 and #250): ``requires:`` in
``artifacts.yaml``, validated with its place; one rule for ``promote`` (refused, or
``--force`` recorded in the tag), ``check``, the pre-push hook and the server hook, with
real repositories and real pushes."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import jsonschema
import pytest

from git_registry import artifact_schema
from git_registry.annotations import parse
from git_registry.parsedform import annotations_of, plain_annotations
from git_registry.requirements import OVERRIDE, overridden, with_override

from conftest import Repo, make_registry

DECLARED = """\
churn:
  type: model
  requires: [features, customers]
features:
  type: dataset
customers:
  type: dataset
"""


def push(repo: Repo, *refs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "origin", *refs], cwd=repo.path, capture_output=True, text=True, check=False
    )


@pytest.fixture
def team(repo: Repo) -> Repo:
    """churn requires features and customers; each has a version v0.0.1 at HEAD."""
    repo.commit("declare", {"artifacts.yaml": DECLARED})
    for name in ("churn", "features", "customers"):
        repo.ok("register", name)
    return repo


def refused(repo: Repo, *args: str) -> str:
    """A write that must be refused: exit 128, nothing created; its stderr."""
    before = repo.tags()
    result = repo.run(*args)
    assert result.code == 128, (result.out, result.err)
    assert repo.tags() == before
    return result.err


# -- the key in artifacts.yaml ----------------------------------------------------------------


def test_requires_is_read_as_full_registry_names() -> None:
    text = b"churn:\n  requires: [features, models/cv:seg]\n"
    parsed = parse(text, "artifacts.yaml")
    assert parsed.problems == ()
    assert parsed.annotations["churn"].requires == ("features", "models/cv:seg")
    assert parsed.annotations["churn"].to_json()["requires"] == ["features", "models/cv:seg"]
    # In a folder's file, names stay full names: a plain name is a root artifact.
    sub = parse(b"seg:\n  requires: [features, models/cv:prep]\n", "models/cv/artifacts.yaml")
    assert sub.problems == ()
    assert sub.annotations["models/cv:seg"].requires == ("features", "models/cv:prep")


@pytest.mark.parametrize(
    ("text", "where", "said"),
    [
        (
            "churn:\n  requires: features\n",
            "2:13",
            "expected a list of artifact names, found a string",
        ),
        ("churn:\n  requires: [1]\n", "2:14", "an artifact name must be a string, found a number"),
        ("churn:\n  requires: [Bad Name]\n", "2:14", "invalid artifact name 'Bad Name'"),
        ("churn:\n  requires: [a:b:c]\n", "2:14", "only one ':' is allowed"),
        ("churn:\n  requires: [../x:y]\n", "2:14", "must be a relative path"),
        ("churn:\n  requires: [--upload-pack=x]\n", "2:14", "invalid artifact name"),
        ("churn:\n  requires: [a, b, a]\n", "2:20", "duplicate artifact 'a'"),
        ("churn:\n  requires: [churn]\n", "2:14", "'churn' is this artifact: it cannot require"),
        ("churn:\n  requires:\n  - {a: 1}\n", "3:5", "must be a string, found a mapping"),
    ],
)
def test_a_bad_requires_is_a_problem_with_its_place(text: str, where: str, said: str) -> None:
    problems = parse(text.encode(), "artifacts.yaml").problems
    assert len(problems) == 1, problems
    problem = problems[0]
    assert f"{problem.line}:{problem.column}" == where
    assert (problem.artifact, problem.key) == ("churn", "requires")
    assert said in problem.message
    assert str(problem).startswith(f"artifacts.yaml:{where}: artifact 'churn', key 'requires': ")


def test_the_same_name_in_a_folder_file_is_itself() -> None:
    # models/cv:seg requiring 'seg' means the root artifact seg, not itself.
    sub = parse(b"seg:\n  requires: [seg, models/cv:seg]\n", "models/cv/artifacts.yaml")
    assert len(sub.problems) == 1
    assert "'models/cv:seg' is this artifact: it cannot require itself" in sub.problems[0].message
    assert sub.annotations["models/cv:seg"].requires == ("seg",)


def test_the_json_schema_knows_requires() -> None:
    schema = artifact_schema.json_schema()
    jsonschema.validate({"churn": {"requires": ["features", "models/cv:seg"]}}, schema)
    for bad in (["a", "a"], "features", ["Bad Name"], [1], ["a:b:c"]):
        document = {"churn": {"requires": bad}}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)
    committed = (artifact_schema.__file__.rpartition("/git_registry/")[0]) + "/schema"
    with open(f"{committed}/artifacts.schema.json") as f:
        assert json.load(f) == schema


def test_requires_survives_the_parse_cache() -> None:
    parsed = parse(b"churn:\n  requires: [features]\n", "artifacts.yaml")
    back = annotations_of(plain_annotations(parsed), "artifacts.yaml")
    assert back == parsed
    # An old (or hand-edited) cache entry without a valid requires is refused.
    plain: list[Any] = list(plain_annotations(parsed))
    entry = list(plain[1][0])
    entry[-1] = ("features", 3)
    plain[1] = (tuple(entry),)
    assert annotations_of(tuple(plain), "artifacts.yaml") is None


def test_the_override_line() -> None:
    assert not overridden("Assigning stage prod")
    assert not overridden(f"says {OVERRIDE} inline")
    message = with_override("Assigning stage prod")
    assert message == f"Assigning stage prod\n\n{OVERRIDE}"
    assert overridden(message)
    assert with_override(message) == message
    assert with_override("") == OVERRIDE


def test_annotate_keeps_requires(team: Repo) -> None:
    team.ok("annotate", "churn", "--description", "Churn model")
    text = (team.path / "artifacts.yaml").read_text()
    assert "requires: [features, customers]" in text
    assert parse(text.encode(), "artifacts.yaml").annotations["churn"].requires == (
        "features",
        "customers",
    )


# -- promote -----------------------------------------------------------------------------------


def test_promote_is_refused_naming_what_is_missing(team: Repo) -> None:
    err = refused(team, "promote", "churn", "prod")
    assert err.startswith(
        "fatal: refusing to create the tag: churn#prod#1: churn@v0.0.1 requires features, "
        "customers in prod: features has no version in prod; customers has no version in prod "
        "(artifacts.yaml at commit "
    )
    assert "hint: promote features, customers to prod first" in err
    assert "--force" in err
    team.ok("promote", "features", "prod")
    err = refused(team, "promote", "churn", "prod")
    assert "customers has no version in prod" in err and "features has" not in err
    team.ok("promote", "customers", "prod")
    out = team.ok("promote", "churn", "prod")
    assert "Created tag churn#prod#1" in out
    assert team.run("check").code == 0


def test_each_stage_is_judged_on_its_own(team: Repo) -> None:
    team.ok("promote", "features", "staging")
    team.ok("promote", "customers", "prod")
    err = refused(team, "promote", "churn", "staging")
    assert "customers has no version in staging" in err


def test_a_deprecated_or_unknown_required_artifact_does_not_count(repo: Repo) -> None:
    repo.commit("declare", {"artifacts.yaml": "churn:\n  requires: [features, ghost]\n"})
    repo.ok("register", "churn")
    repo.ok("register", "features")
    repo.ok("promote", "features", "prod")
    repo.ok("deprecate", "features")
    err = refused(repo, "promote", "churn", "prod")
    assert "features is deprecated; ghost has no version in the registry" in err


def test_dry_run_lists_the_rule(team: Repo) -> None:
    result = team.run("promote", "churn", "prod", "--dry-run")
    assert result.code == 1
    assert "  refused  churn#prod#1: requires: churn@v0.0.1 requires features, customers" in (
        result.out
    )
    team.ok("promote", "features", "prod")
    team.ok("promote", "customers", "prod")
    out = team.ok("promote", "churn", "prod", "--dry-run")
    assert "  ok       churn#prod#1: requires: prod holds features@v0.0.1, customers@v0.0.1" in out


def test_the_versions_own_commit_decides(team: Repo) -> None:
    # Dropping requires at HEAD does not change what the old version requires...
    team.commit(
        "drop", {"artifacts.yaml": DECLARED.replace("  requires: [features, customers]\n", "")}
    )
    err = refused(team, "promote", "churn@v0.0.1", "prod")
    assert "churn@v0.0.1 requires features, customers" in err
    # ...a new version at that commit requires nothing.
    team.ok("promote", "churn", "prod", "--ref", "HEAD")
    assert {"churn@v0.0.2", "churn#prod#1"} <= set(team.tags())


def test_force_overrides_and_records_it_in_the_tag(team: Repo, remote: Repo) -> None:
    remote.ok("hooks", "install", "--server")
    result = team.run("promote", "churn", "prod", "--force")
    assert result.code == 0, result.err
    assert (
        "warning: churn#prod#1: requires not met (features has no version in prod; customers "
        "has no version in prod), overridden by the tag's message" in result.err
    )
    message = team.git("tag", "-l", "--format=%(contents)", "churn#prod#1")
    assert message.rstrip("\n").endswith(f"\n\n{OVERRIDE}")
    assert team.run("check").code == 0  # recorded: not a problem
    assert push(team, "churn@v0.0.1", "churn#prod#1").returncode == 0


def test_a_dry_run_with_force_says_it_is_forced(team: Repo) -> None:
    out = team.ok("promote", "churn", "prod", "--force", "--dry-run")
    assert "  forced   churn#prod#1: requires: not met (features has no version in prod" in out
    assert "churn#prod#1" not in team.tags()


# -- check ------------------------------------------------------------------------------------


def test_a_rollback_of_a_required_artifact_is_allowed_and_check_reports_it(team: Repo) -> None:
    for name in ("features", "customers", "churn"):
        team.ok("promote", name, "prod")
    out = team.ok("unassign", "features", "prod")  # taking a stage back is never refused
    assert "features#prod!#" in out
    result = team.run("check")
    assert result.code == 1
    assert (
        "churn#prod#1: churn@v0.0.1 requires features, customers in prod: features has no "
        "version in prod" in result.out
    )
    doc = json.loads(team.run("check", "--json").out)
    rules = [p["rule"] for p in doc["problems"]]
    assert rules == ["requires"]
    # A deprecated dependent is retired: its requirements no longer matter.
    team.ok("deprecate", "churn")
    assert team.run("check").code == 0


def test_check_escapes_hostile_names(repo: Repo) -> None:
    repo.commit("declare", {"artifacts.yaml": 'churn:\n  requires: ["\\e[31mred"]\n'})
    result = repo.run("check")
    assert result.code == 1
    assert "\x1b" not in result.out + result.err
    assert "key 'requires': invalid artifact name '\\x1b[31mred'" in result.out


# -- hooks ------------------------------------------------------------------------------------


def test_the_server_refuses_a_promotion_whose_requirements_are_not_pushed(
    team: Repo, remote: Repo
) -> None:
    remote.ok("hooks", "install", "--server")
    team.git("push", "-q", "origin", "main")
    team.git("tag", "-a", "-m", "by hand", "churn#prod#9", "HEAD")  # past our own write
    result = push(team, "churn@v0.0.1", "churn#prod#9")
    assert result.returncode != 0
    assert "churn#prod#9: churn@v0.0.1 requires features, customers in prod" in result.stderr
    assert set(remote.tags()) == set()
    # The same tag, pushed with the tags that meet its requirements, passes.
    team.ok("promote", "features", "prod")
    team.ok("promote", "customers", "prod")
    tags = [t for t in team.tags() if t.startswith(("churn", "features", "customers"))]
    result = push(team, *tags)
    assert result.returncode == 0, result.stderr
    assert set(remote.tags()) == set(tags)


def test_the_server_judges_the_state_after_the_push(team: Repo, remote: Repo) -> None:
    remote.ok("hooks", "install", "--server")
    team.ok("promote", "features", "prod")
    team.ok("promote", "customers", "prod")
    assert push(team, "--tags").returncode == 0
    # Someone unassigns features on the server; a clone that still has it promotes churn.
    team.git("tag", "-a", "-m", "by hand", "churn#prod#9", "HEAD")
    team.git("push", "-q", "origin", "main")
    team.git("clone", "-q", str(remote.path), str(team.path.parent / "other"))
    other = Repo(team.path.parent / "other")
    other.ok("unassign", "features", "prod")
    assert push(other, "--tags").returncode == 0
    result = push(team, "churn#prod#9")
    assert result.returncode != 0
    assert "features has no version in prod" in result.stderr


def test_the_pre_push_hook_applies_the_same_rule(team: Repo, remote: Repo) -> None:
    team.ok("hooks", "install")
    team.git("tag", "-a", "-m", "by hand", "churn#prod#9", "HEAD")
    result = push(team, "churn@v0.0.1", "churn#prod#9")
    assert result.returncode != 0
    assert "churn#prod#9: churn@v0.0.1 requires features, customers in prod" in result.stderr
    assert set(remote.tags()) == set()
    # A tag message that records the override passes, as promote --force writes it.
    team.git("tag", "-d", "churn#prod#9")
    team.git("tag", "-a", "-m", f"by hand\n\n{OVERRIDE}", "churn#prod#9", "HEAD")
    assert push(team, "churn@v0.0.1", "churn#prod#9").returncode == 0


def test_only_what_serves_the_stage_after_the_push_is_judged(repo: Repo, remote: Repo) -> None:
    """As check judges the holders: an assignment superseded within the same push (by a
    version whose commit requires nothing) passes; so does check on the result."""
    remote.ok("hooks", "install", "--server")
    repo.commit("needs", {"artifacts.yaml": "churn:\n  requires: [features]\n"})
    make_registry(repo, "churn@v0.0.1 churn#prod#1")
    repo.commit("needs nothing", {"artifacts.yaml": "churn:\n  type: model\n"})
    make_registry(repo, "churn@v0.0.2 churn#prod#2")
    assert repo.run("check").code == 0
    tags = ["churn@v0.0.1", "churn#prod#1", "churn@v0.0.2", "churn#prod#2"]
    result = push(repo, "main", *tags)
    assert result.returncode == 0, result.stderr
    # Pushed alone, the first assignment holds prod after the push: refused.
    remote2 = Repo(repo.path.parent / "remote2.git", bare=True)
    remote2.ok("hooks", "install", "--server")
    repo.git("remote", "add", "two", str(remote2.path))
    result = subprocess.run(
        ["git", "push", "two", "main", "churn@v0.0.1", "churn#prod#1"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "churn#prod#1: churn@v0.0.1 requires features in prod" in result.stderr


def test_a_rollback_warns_about_the_dependents_it_leaves_unmet(team: Repo) -> None:
    for name in ("features", "customers", "churn"):
        team.ok("promote", name, "prod")
    short = team.git("rev-parse", "--short", "HEAD").strip()
    result = team.run("unassign", "features", "prod")
    assert result.code == 0
    assert "Now prod of features is empty" in result.out
    assert result.err == (
        "warning: churn#prod#1: churn@v0.0.1 requires features, customers in prod: features "
        f"has no version in prod (artifacts.yaml at commit {short}: "
        "requires) ('git registry check' reports it from now on)\n"
    )
    # A deregistration of the other required holder says it too; a stage nobody
    # requires says nothing.
    result = team.run("deregister", "customers@v0.0.1")
    assert "warning: churn#prod#1: churn@v0.0.1 requires" in result.err
    assert "customers has no version in prod" in result.err
    team.ok("promote", "features", "dev")
    result = team.run("unassign", "features", "dev")
    assert result.code == 0 and result.err == ""


def test_the_readmes_example_is_what_promote_says(repo: Repo) -> None:
    """README's `requires` example, committed as it is written, refuses `promote churn
    prod` with the message README quotes (its commit id and counter aside)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("**Dependencies between artifacts.**", 1)[1]
    yaml_text = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    quoted = re.search(r"naming the missing ones: `(fatal: [^`]+)`", section.replace("\n", " "))
    assert quoted is not None
    repo.commit("declare", {"artifacts.yaml": yaml_text})
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("register", "features")
    repo.ok("register", "customers")
    repo.ok("promote", "features", "prod")
    err = refused(repo, "promote", "churn", "prod")

    def plain(text: str) -> str:
        text = re.sub(r"churn#prod#\d+", "churn#prod#N", text)
        return re.sub(r"commit [0-9a-f]{7}", "commit C", text)

    assert plain(err.splitlines()[0]) == plain(quoted[1])
