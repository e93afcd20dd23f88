"""The CI files we ship (examples/, templates/): every kind of registry tag fires the
workflows (GitHub's documented filter rules, :mod:`cisim`); the files are valid for
their hosts (check-jsonschema's bundled schemas); third-party actions are pinned; the
GitLab component's jobs run as a runner runs them and their dotenv report reads back
exactly by GitLab's documented rules."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from test_ci_action import check_jsonschema

from git_registry.commands.check_ref import DOTENV_MAX_BYTES, OUTPUTS, dotenv_report
from git_registry.grammar import EventKind, parse_tag

from cisim import (
    DotenvRefused,
    github_filter,
    github_match,
    gitlab_dotenv,
)
from conftest import Repo, git

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / "examples").glob("github-*.yml"))
GITLAB_TEMPLATE = ROOT / "templates" / "git-registry.yml"

# Every kind of registry tag name: each event, with and without a counter, plain and
# folder artifacts, a stage holding '/', SemVer pre-release and build parts.
REGISTRY_TAGS = [
    "churn@v1.0.0",
    "churn@v1.0.0#3",
    "churn@v1.0.0!",
    "churn@v1.0.0!#4",
    "churn#prod#1",
    "churn#prod",
    "fraud#prod!#4",
    "fraud#prod!",
    "churn@deprecated",
    "churn@deprecated#9",
    "nlp/sentiment#prod#1",
    "nlp/sentiment@v2.0.0-rc.1+build.7",
    "nlp/sentiment#prod!#2",
    "models/cv=seg@v0.0.1",
    "models/cv=seg#team/prod#2",
    "models/cv=seg@v0.0.1!",
    "a/b.c/d=e/f@deprecated",
    "x#team/eu/prod!#12",
]
OTHER_TAGS = ["release-1.0", "v1.2.3", "nightly/2024-01-01"]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _tag_patterns(workflow: Path) -> list[str]:
    doc = _yaml(workflow)
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare 'on' key as true
    patterns = on["push"]["tags"]
    assert isinstance(patterns, list)
    return [str(p) for p in patterns]


# -- the matcher, against the examples of GitHub's cheat sheet ----------------------------


@pytest.mark.core
@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("feature/*", ["feature/my-branch", "feature/your-branch"], ["feature/a/b"]),
        ("feature/**", ["feature/beta-a/my-branch", "feature/your-branch"], ["features/x"]),
        ("*", ["main", "releases"], ["releases/10"]),
        ("**", ["all/the/branches", "every/tag"], []),
        ("*feature", ["mona-feature", "feature", "ver-10-feature"], ["feature-x"]),
        ("v2*", ["v2", "v2.0", "v2.9"], ["v3", "v2/x"]),
        ("v[12].[0-9]+.[0-9]+", ["v1.10.1", "v2.0.0"], ["v3.0.0", "v1.x.0", "v1..0"]),
        # The cheat sheet also says 'Octoc?t' matches 'Octocat', which its own rule for
        # '?' (zero or one of the preceding character) does not give: the rule is kept.
        ("Octoc?t", ["Octoct", "Octot"], ["Octocat", "Octocct"]),
        ("v1+", ["v1", "v11"], ["v", "v12"]),
        ("[CB]at", ["Cat", "Bat"], ["Hat"]),
        ("v1\\*", ["v1*"], ["v1.0"]),
    ],
)
def test_github_matcher_follows_the_cheat_sheet(
    pattern: str, matches: list[str], misses: list[str]
) -> None:
    for name in matches:
        assert github_match(pattern, name), (pattern, name)
    for name in misses:
        assert not github_match(pattern, name), (pattern, name)


@pytest.mark.core
def test_github_filter_negation_and_order() -> None:
    patterns = ["releases/**", "!releases/**-alpha"]
    assert github_filter(patterns, "releases/10")
    assert not github_filter(patterns, "releases/beta/3-alpha")
    assert github_filter(["!x", "x"], "x")  # a later positive pattern includes again


@pytest.mark.core
def test_the_old_patterns_missed_rollbacks_and_folders() -> None:
    """Issue 16's reproduction, by the same matcher: the old example's patterns."""
    old = ["*#prod#*", "*@v*"]
    assert not github_filter(old, "fraud#prod!#4")
    assert not github_filter(old, "nlp/sentiment#prod#1")
    assert github_filter(old, "churn#prod#1")


# -- our workflows ------------------------------------------------------------------------


@pytest.mark.core
def test_the_tag_list_covers_every_event() -> None:
    kinds = set()
    for tag in REGISTRY_TAGS:
        parsed = parse_tag(tag)
        assert parsed is not None, tag
        kinds.add(parsed.kind)
    assert kinds == set(EventKind)
    assert all(parse_tag(t) is None for t in OTHER_TAGS)


@pytest.mark.core
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_fire_on_every_registry_tag(workflow: Path) -> None:
    patterns = _tag_patterns(workflow)
    missed = [t for t in REGISTRY_TAGS if not github_filter(patterns, t)]
    assert not missed, f"{workflow.name} does not fire for {missed}"


@pytest.mark.core
def test_the_deploy_workflow_ignores_other_tags() -> None:
    patterns = _tag_patterns(ROOT / "examples" / "github-deploy.yml")
    assert not any(github_filter(patterns, t) for t in OTHER_TAGS)


@pytest.mark.core
def test_the_guard_fires_on_every_tag() -> None:
    patterns = _tag_patterns(ROOT / "examples" / "github-guard.yml")
    assert all(github_filter(patterns, t) for t in [*REGISTRY_TAGS, *OTHER_TAGS, "churn@1.0.0"])


@pytest.mark.core
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_pin_actions_and_ask_for_little(workflow: Path) -> None:
    doc = _yaml(workflow)
    assert doc["permissions"] == {"contents": "read"}
    text = workflow.read_text()
    uses = re.findall(r"^\s*(?:- )?uses: (\S+)(.*)$", text, re.M)
    assert uses
    for action, comment in uses:
        if action == "./":
            continue  # this repository's action, from the checkout
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r"\s+# v\d+(\.\d+)*", comment), f"{action}: no version comment"
    assert not re.search(r"pip install git-registry\b", text)


@pytest.mark.core
def test_no_example_installs_from_an_index() -> None:
    """git-registry is not published on a package index: nothing may install it so."""
    for path in [*sorted((ROOT / "examples").iterdir()), GITLAB_TEMPLATE, ROOT / "action.yml"]:
        for line in path.read_text().splitlines():
            if re.search(r"\bpip install\s", line) and not line.lstrip().startswith("#"):
                assert re.search(
                    r'pip install .*"\$(GITHUB_ACTION_PATH|GIT_REGISTRY_SOURCE)"', line
                ), f"{path.name}: {line.strip()}"


def test_workflows_are_valid_for_github() -> None:
    check_jsonschema("vendor.github-workflows", *WORKFLOWS)


def test_gitlab_files_are_valid_for_gitlab(tmp_path: Path) -> None:
    """The example, and the component's two YAML documents (its spec: header, then its
    jobs; check-jsonschema reads one document a file)."""
    head, jobs = re.split(r"^---\n", GITLAB_TEMPLATE.read_text(), flags=re.M)
    (tmp_path / "spec.yml").write_text(head)
    (tmp_path / "jobs.yml").write_text(jobs)
    check_jsonschema(
        "vendor.gitlab-ci",
        ROOT / "examples" / "gitlab-ci.yml",
        ROOT / "examples" / "gitlab-pages.yml",
        tmp_path / "spec.yml",
        tmp_path / "jobs.yml",
    )


def test_check_jsonschema_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: nope\n")
    with pytest.raises(AssertionError):
        check_jsonschema("vendor.github-workflows", bad)


# -- GitLab's dotenv report ----------------------------------------------------------------


@pytest.mark.core
@pytest.mark.parametrize(
    "text",
    [
        "A=1\n\nB=2\n",  # an empty line
        "# comment\nA=1\n",
        "A B=1\n",
        "A=two words\n",
        'A="quoted words"\n',
        "NOEQUALS\n",
        "A=" + "x" * DOTENV_MAX_BYTES + "\n",
    ],
)
def test_the_dotenv_reader_refuses_what_gitlab_refuses(text: str) -> None:
    with pytest.raises(DotenvRefused):
        gitlab_dotenv(text.encode())


@pytest.mark.core
def test_the_dotenv_reader_keeps_quotes_and_strips_blanks() -> None:
    assert gitlab_dotenv(b"A='x'\nB = \"y\"\nC=a=b\nD=\n") == {
        "A": "'x'",
        "B": '"y"',
        "C": "a=b",
        "D": "",
    }


_VALUES = st.text(
    st.characters(blacklist_categories=["Cs"]) | st.sampled_from(" \t\n\"'$`\\=#"), max_size=40
)


@pytest.mark.core
@given(st.fixed_dictionaries({k: _VALUES for k in OUTPUTS}))
def test_dotenv_report_reads_back_exactly(values: dict[str, str]) -> None:
    text, warnings = dotenv_report(values)
    read = gitlab_dotenv(text.encode("utf-8"))
    for key, value in values.items():
        name = f"REGISTRY_{key.upper()}"
        if name in read:
            assert read[name] == value
        else:
            assert any(w.startswith(f"{name} is left out") for w in warnings), name
    assert len(warnings) == len(values) - len(read)


@pytest.mark.core
def test_dotenv_report_leaves_out_free_text_over_the_size_limit() -> None:
    values = {k: "" for k in OUTPUTS} | {"name": "churn", "description": "d" * 6000}
    text, warnings = dotenv_report(values)
    assert gitlab_dotenv(text.encode())["REGISTRY_NAME"] == "churn"
    assert "REGISTRY_DESCRIPTION" not in text
    assert warnings == [
        "REGISTRY_DESCRIPTION is left out of the dotenv report: GitLab refuses reports over "
        "5120 bytes; --json carries it"
    ]


@pytest.mark.core
def test_dotenv_report_refuses_names_too_long_for_gitlab() -> None:
    from git_registry.errors import RegistryError

    values = {k: "n" * 1000 for k in OUTPUTS}
    with pytest.raises(RegistryError, match="the dotenv report would be"):
        dotenv_report(values)


def test_check_ref_dotenv_round_trip(repo: Repo) -> None:
    description = "Churn model\nline two"
    repo.commit(
        files={
            "artifacts.yaml": (
                f"churn:\n  path: s3://b/m.pt?x=1&y='2'&z=\"3\"$HOME\n  type: model\n"
                f"  description: {json.dumps(description)}\n"
            )
        }
    )
    repo.ok("register", "churn")
    result = repo.run("check-ref", "churn@v0.0.1", "--format", "dotenv")
    assert result.code == 0
    read = gitlab_dotenv(result.out.encode())
    doc = json.loads(repo.ok("check-ref", "churn@v0.0.1", "--json"))
    assert read == {f"REGISTRY_{k.upper()}": doc[k] or "" for k in OUTPUTS if k != "description"}
    assert read["REGISTRY_PATH"] == "s3://b/m.pt?x=1&y='2'&z=\"3\"$HOME"
    assert result.err == (
        "warning: REGISTRY_DESCRIPTION is left out of the dotenv report: GitLab's dotenv "
        "reports cannot carry its spaces, line breaks or control characters "
        "(Churn model\\nline two); --json carries it\n"
    )


# -- the GitLab component's jobs, run as a runner runs them ------------------------------


def _component(inputs: dict[str, str]) -> dict[str, Any]:
    """The component's jobs with ``inputs`` (and the spec's defaults) interpolated."""
    head, jobs = re.split(r"^---\n", GITLAB_TEMPLATE.read_text(), flags=re.M)
    spec = yaml.safe_load(head)["spec"]["inputs"]
    values = {
        k: str(v.get("default", "")).lower()
        if isinstance(v.get("default"), bool)
        else str(v.get("default", ""))
        for k, v in spec.items()
    } | inputs
    assert set(values) == set(spec)
    text = re.sub(r"\$\[\[ inputs\.([\w-]+) \]\]", lambda m: values[m.group(1)], jobs)
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


def _run_job(
    job: dict[str, Any], cwd: Path, ci: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The job's script after its pip install (git-registry is installed here), in one
    bash with -eo pipefail, its variables (expanded) and the CI variables set."""
    script = list(job["script"])
    assert script[0].startswith("python3 -m pip install") and '"$GIT_REGISTRY_SOURCE"' in script[0]
    env = {**os.environ, **ci}
    for key, value in job.get("variables", {}).items():
        env[key] = os.path.expandvars(str(value)) if "$" in str(value) else str(value)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", "\n".join(script[1:])],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def gitlab_clone(repo: Repo, remote: Repo, tmp_path: Path) -> Path:
    repo.commit(files={"artifacts.yaml": "churn:\n  path: m.pt\n  type: model\n"})
    repo.ok("register", "churn", "--push")
    repo.ok("promote", "churn", "prod", "--push")
    repo.ok("unassign", "churn", "prod", "--push")
    repo.tag("churn@1.0.0")
    repo.git("push", "-q", "origin", "main", "refs/tags/churn@1.0.0")
    clone = tmp_path / "gitlab"
    # GitLab's fetch for a tag pipeline: the tag's commit, detached (GIT_DEPTH: 1 for the
    # event job; the guard's full clone is made the same way, unshallowed by its fetch).
    git(tmp_path, "clone", "-q", "--no-checkout", str(remote.path), str(clone))
    return clone


def test_gitlab_event_job_writes_a_dotenv_report(gitlab_clone: Path, repo: Repo) -> None:
    job = _component({"source": "unused"})["git-registry-event"]
    assert job["artifacts"]["reports"]["dotenv"] == "registry.env"
    (tag,) = [t for t in repo.tags() if t.startswith("churn#prod!#")]
    git(gitlab_clone, "checkout", "-q", "--detach", f"refs/tags/{tag}")
    proc = _run_job(job, gitlab_clone, {"CI_COMMIT_TAG": tag})
    assert proc.returncode == 0, proc.stderr
    read = gitlab_dotenv((gitlab_clone / "registry.env").read_bytes())
    assert read["REGISTRY_EVENT"] == "unassignment" and read["REGISTRY_STAGE"] == "prod"
    assert read["REGISTRY_PATH"] == "m.pt" and read["REGISTRY_TAG"] == tag


def test_gitlab_example_acts_on_the_event_job_report(gitlab_clone: Path, repo: Repo) -> None:
    """examples/gitlab-ci.yml's job, given the variables of the component's dotenv report,
    as GitLab passes them on (the same tags: an assignment, its rollback, a registration)."""
    event_job = _component({"source": "unused"})["git-registry-event"]
    example = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())["registry"]
    assert example["needs"] == ["git-registry-event"]
    tags = repo.tags()
    (prod,) = [t for t in tags if t.startswith("churn#prod#")]
    (rollback,) = [t for t in tags if t.startswith("churn#prod!#")]
    for tag, said in [
        (prod, f"deploying churn v0.0.1 (m.pt) from {tags[prod]}"),
        (rollback, "rolling churn back: run git registry which churn prod"),
        ("churn@v0.0.1", "publishing churn v0.0.1"),
    ]:
        git(gitlab_clone, "checkout", "-q", "--detach", f"refs/tags/{tag}")
        proc = _run_job(event_job, gitlab_clone, {"CI_COMMIT_TAG": tag})
        assert proc.returncode == 0, proc.stderr
        report = gitlab_dotenv((gitlab_clone / "registry.env").read_bytes())
        acted = subprocess.run(
            [
                "bash",
                "--noprofile",
                "--norc",
                "-eo",
                "pipefail",
                "-c",
                "\n".join(example["script"]),
            ],
            cwd=gitlab_clone,
            env={**os.environ, "CI_COMMIT_TAG": tag, **report},
            capture_output=True,
            text=True,
            check=False,
        )
        assert (acted.returncode, acted.stdout) == (0, said + "\n"), acted.stderr


@pytest.mark.parametrize(("tag", "code"), [("churn@v0.0.1", 0), ("churn@1.0.0", 1)])
def test_gitlab_guard_job(gitlab_clone: Path, tag: str, code: int) -> None:
    job = _component({"source": "unused"})["git-registry-guard"]
    git(gitlab_clone, "checkout", "-q", "--detach", f"refs/tags/{tag}")
    proc = _run_job(job, gitlab_clone, {"CI_COMMIT_TAG": tag, "CI_DEFAULT_BRANCH": "main"})
    assert proc.returncode == code, proc.stderr
    if code:
        assert "error: churn@1.0.0: '1.0.0' is not a version" in proc.stderr
    else:
        assert f"note: {tag}: the server's pre-receive hook would accept it" in proc.stderr


def test_gitlab_guard_input_decides_whether_it_runs() -> None:
    """The guard's rule reads the guard input through a job variable (GitLab compares a
    variable with a string in rules:if)."""
    for inputs, expected in [({}, "true"), ({"guard": "false"}, "false")]:
        job = _component({"source": "unused", **inputs})["git-registry-guard"]
        assert job["rules"] == [{"if": '$CI_COMMIT_TAG && $GIT_REGISTRY_GUARD == "true"'}]
        assert job["variables"]["GIT_REGISTRY_GUARD"] == expected
