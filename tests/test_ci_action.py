"""The GitHub Action (action.yml at the root): its shell steps run as a runner runs them
(``GITHUB_REF``, ``GITHUB_OUTPUT``, ``GITHUB_PATH`` files; :mod:`cisim`), in a checkout
made as ``actions/checkout`` makes it, from a real remote with real tags; the guard
(``verify``) judges and deletes a refused tag on a real bare remote."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from git_registry.commands.check_ref import OUTPUTS
from git_registry.grammar import EventKind, parse_tag

from cisim import ActionRun, load_action, parse_output_file, run_action
from conftest import BIN_DIR, Repo, git

ROOT = Path(__file__).resolve().parent.parent
GTO_ACTION_INPUTS = {"show", "history", "print-outputs"}  # its pull (dvc pull) is not ours
GTO_ACTION_OUTPUTS = {"event", "name", "version", "stage", "type", "path", "description"}

ANNOTATIONS = {
    "artifacts.yaml": (
        "churn:\n  path: s3://models/churn.pt\n  type: model\n"
        "  description: Customer churn\n"
        "nlp/sentiment:\n  path: nlp/model.bin\n  type: model\n"
    ),
    "models/cv/artifacts.yaml": "seg:\n  path: seg.onnx\n  type: model\n",
}


@pytest.fixture
def events(repo: Repo, remote: Repo) -> Repo:
    """A remote holding every kind of registry event, for plain and folder artifacts."""
    repo.commit(files=ANNOTATIONS)
    repo.ok("register", "churn")
    repo.ok("register", "nlp/sentiment")
    repo.ok("register", "models/cv:seg")
    repo.commit()
    repo.ok("register", "churn", "--bump-minor")
    repo.ok("promote", "churn", "prod")
    repo.ok("promote", "nlp/sentiment", "prod")
    repo.ok("promote", "models/cv:seg", "dev")
    repo.ok("unassign", "churn", "prod")
    repo.ok("deregister", "churn@v0.0.1")
    repo.ok("deprecate", "models/cv:seg")
    repo.tag("release-1.0")
    repo.git("push", "-q", "origin", "main", "--tags")
    return repo


def checkout_tag(tmp_path: Path, remote: Repo, tag: str) -> Path:
    """A checkout as actions/checkout makes one for a tag push: depth 1, the tagged
    commit fetched by its id into a lightweight refs/tags/TAG, HEAD detached."""
    work = tmp_path / "checkout"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    git(work, "init", "-q")
    git(work, "remote", "add", "origin", str(remote.path))
    commit = remote.git("rev-parse", f"refs/tags/{tag}^{{commit}}").strip()
    git(work, "fetch", "-q", "--depth=1", "--no-tags", "origin", f"+{commit}:refs/tags/{tag}")
    git(work, "checkout", "-q", "--detach", f"refs/tags/{tag}")
    assert git(work, "cat-file", "-t", f"refs/tags/{tag}").strip() == "commit"
    return work


def checkout_default_branch(tmp_path: Path, remote: Repo) -> Path:
    """A checkout of the default branch with its history and every tag (the guard's:
    actions/checkout with ref: the default branch and fetch-depth: 0)."""
    work = tmp_path / "full"
    if work.exists():
        shutil.rmtree(work)
    git(tmp_path, "clone", "-q", str(remote.path), str(work))
    return work


def act(work: Path, tmp_path: Path, tag: str, **inputs: str) -> ActionRun:
    github = {"ref": f"refs/tags/{tag}", "action_path": str(ROOT)}
    runner = tmp_path / "runner"
    if runner.exists():
        shutil.rmtree(runner)
    return run_action(ROOT, work, {"install": "false", **inputs}, github, runner)


def test_action_yml_structure() -> None:
    action = load_action(ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"  # no Docker: every runner OS
    assert set(action["outputs"]) == set(OUTPUTS) >= GTO_ACTION_OUTPUTS
    assert set(action["inputs"]) >= GTO_ACTION_INPUTS
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.check.outputs.{name} }}}}"
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash"
        # Expressions reach scripts through env: only (no injection into the script).
        assert "${{" not in step["run"], step["name"]
    install = action["runs"]["steps"][0]["run"]
    assert '"$GITHUB_ACTION_PATH"' in install and "pip install" in install


def test_action_yml_is_valid_for_github() -> None:
    check_jsonschema("vendor.github-actions", ROOT / "action.yml")


def check_jsonschema(schema: str, *files: Path) -> None:
    """Validate ``files`` with check-jsonschema's bundled (offline) schema ``schema``."""
    exe = shutil.which("check-jsonschema", path=BIN_DIR) or shutil.which("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install '.[test]')")
    proc = subprocess.run(
        [exe, "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_outputs_for_every_event(events: Repo, remote: Repo, tmp_path: Path) -> None:
    kinds = set()
    for tag in sorted(t for t in remote.tags() if parse_tag(t) is not None):
        work = checkout_tag(tmp_path, remote, tag)
        run = act(work, tmp_path, tag, show="false", history="false", **{"print-outputs": "false"})
        assert run.code == 0, run.stderr
        expected = json.loads(events.ok("check-ref", "--json", tag))
        assert run.outputs == {k: expected[k] or "" for k in OUTPUTS}, tag
        parsed = parse_tag(tag)
        assert parsed is not None and run.outputs["event"] == parsed.kind.value
        kinds.add(parsed.kind)
        # --fetch replaced the checkout's lightweight copy with the real tag.
        assert git(work, "cat-file", "-t", f"refs/tags/{tag}").strip() == "tag"
    assert kinds == set(EventKind)
    assert "nlp/sentiment#prod#1" in remote.tags() and "models/cv=seg@v0.0.1" in remote.tags()


def test_action_folder_artifact_and_its_annotation(
    events: Repo, remote: Repo, tmp_path: Path
) -> None:
    work = checkout_tag(tmp_path, remote, "models/cv=seg@v0.0.1")
    run = act(work, tmp_path, "models/cv=seg@v0.0.1")
    assert run.code == 0, run.stderr
    assert run.outputs["name"] == "models/cv:seg"
    assert (run.outputs["event"], run.outputs["path"]) == ("registration", "seg.onnx")
    # show and history (gto-action's inputs) ran for the artifact, then the outputs.
    assert run.ran == ["What did this tag do?", "The registry", "Outputs"]  # install: false
    assert "models/cv=seg@v0.0.1" in run.stdout and "name=models/cv:seg\n" in run.stdout


def test_action_rollback(events: Repo, remote: Repo, tmp_path: Path) -> None:
    (tag,) = [t for t in remote.tags() if t.startswith("churn#prod!#")]
    work = checkout_tag(tmp_path, remote, tag)
    run = act(work, tmp_path, tag)
    assert run.code == 0, run.stderr
    assert (run.outputs["event"], run.outputs["stage"]) == ("unassignment", "prod")


def test_action_other_tags(events: Repo, remote: Repo, tmp_path: Path) -> None:
    work = checkout_tag(tmp_path, remote, "release-1.0")
    run = act(work, tmp_path, "release-1.0")
    assert run.code == 0, run.stderr
    assert run.outputs == {k: "release-1.0" if k == "tag" else "" for k in OUTPUTS}
    assert "The registry" not in run.ran  # no artifact to show
    run = act(work, tmp_path, "release-1.0", **{"allow-other": "false"})
    assert run.code == 1
    assert "error: 'release-1.0' is not a registry tag" in run.stderr


def test_action_prints_outputs_as_data(repo: Repo, remote: Repo, tmp_path: Path) -> None:
    forged = "Churn\n::error::forged\n::add-mask::x"
    repo.commit(files={"artifacts.yaml": f"churn:\n  description: {json.dumps(forged)}\n"})
    repo.ok("register", "churn", "--push")
    work = checkout_tag(tmp_path, remote, "churn@v0.0.1")
    run = act(work, tmp_path, "churn@v0.0.1", show="false", history="false")
    assert run.code == 0, run.stderr
    assert run.outputs["description"] == forged  # exactly, through the output file
    match = re.search(r"^::stop-commands::(\w{32})\n(.*)^::\1::$", run.stdout, re.M | re.S)
    assert match is not None, run.stdout
    assert f"description={forged}\n" in match.group(2)


def test_guard_accepts_a_good_tag(events: Repo, remote: Repo, tmp_path: Path) -> None:
    work = checkout_default_branch(tmp_path, remote)
    run = act(work, tmp_path, "nlp/sentiment#prod#1", verify="true", **{"delete-refused": "true"})
    assert run.code == 0, run.stderr
    assert "note: nlp/sentiment#prod#1: the server's pre-receive hook would accept it" in run.stderr
    assert run.outputs["event"] == "assignment"
    assert "nlp/sentiment#prod#1" in remote.tags()


@pytest.mark.parametrize("delete", [False, True])
def test_guard_refuses_a_bad_tag(events: Repo, remote: Repo, tmp_path: Path, delete: bool) -> None:
    """A typo of a known artifact's version, pushed to a host without hooks."""
    events.tag("churn@1.0.0")
    events.git("push", "-q", "origin", "refs/tags/churn@1.0.0")
    work = checkout_default_branch(tmp_path, remote)
    inputs = {"verify": "true", "delete-refused": str(delete).lower()}
    run = act(work, tmp_path, "churn@1.0.0", **inputs)
    assert run.code == 1
    assert "error: churn@1.0.0: '1.0.0' is not a version" in run.stderr
    assert "hint: versions are v + SemVer: did you mean churn@v1.0.0?" in run.stderr
    assert "error: churn@1.0.0 breaks the registry's rules (1 problem)" in run.stderr
    assert (
        "::error title=git-registry guard::the pushed tag breaks the registry's rules" in run.stdout
    )
    assert run.outputs == {k: "" for k in OUTPUTS}
    assert ("churn@1.0.0" in remote.tags()) is not delete
    if delete:
        assert (
            "::error title=git-registry guard::the refused tag was deleted from origin"
            in run.stdout
        )


def test_guard_cannot_delete_a_protected_tag(events: Repo, remote: Repo, tmp_path: Path) -> None:
    events.tag("churn@1.0.0")
    events.git("push", "-q", "origin", "refs/tags/churn@1.0.0")
    hook = remote.path / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tag deletion is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    work = checkout_default_branch(tmp_path, remote)
    run = act(work, tmp_path, "churn@1.0.0", verify="true", **{"delete-refused": "true"})
    assert run.code == 1
    assert "could not delete the refused tag from origin" in run.stdout
    assert "churn@1.0.0" in remote.tags()


def test_guard_refuses_to_judge_on_a_detached_head(
    events: Repo, remote: Repo, tmp_path: Path
) -> None:
    """The policy is the default branch's: a detached checkout is not judged (exit 128),
    and nothing is deleted."""
    events.tag("churn@1.0.0")
    events.git("push", "-q", "origin", "refs/tags/churn@1.0.0")
    work = checkout_tag(tmp_path, remote, "churn@1.0.0")
    run = act(work, tmp_path, "churn@1.0.0", verify="true", **{"delete-refused": "true"})
    assert run.code == 128
    assert (
        "fatal: HEAD is detached: --verify reads the policy from the branch HEAD names"
        in run.stderr
    )
    assert "churn@1.0.0" in remote.tags()


def test_output_file_reader() -> None:
    """The reader of GITHUB_OUTPUT files that the tests above rely on."""
    text = "a=1\nb<<EOF\nx\ny=2\nEOF\nc=\n"
    assert parse_output_file(text) == {"a": "1", "b": "x\ny=2", "c": ""}


@pytest.mark.slow
def test_action_installs_git_registry_from_its_checkout(
    events: Repo, remote: Repo, tmp_path: Path
) -> None:
    """The install step, for real: a venv under RUNNER_TEMP, pip install of the action's
    own folder (no package index for git-registry), its bin folder added to GITHUB_PATH;
    the next steps use that git-registry (none is on PATH before)."""
    work = checkout_tag(tmp_path, remote, "churn@v0.0.1")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != BIN_DIR)
    assert shutil.which("git-registry", path=path) is None
    github = {"ref": "refs/tags/churn@v0.0.1", "action_path": str(ROOT)}
    runner = tmp_path / "runner"
    run = run_action(ROOT, work, {}, github, runner, env={"PATH": path})
    assert run.code == 0, run.stdout + run.stderr
    assert run.ran[0] == "Install git-registry"
    venv_bin = (runner / "github_path").read_text().strip()
    assert venv_bin.startswith(str(runner / "runner_temp"))
    assert os.access(os.path.join(venv_bin, "git-registry"), os.X_OK)
    assert run.outputs["event"] == "registration"


# -- the deploy example: the action, then the steps it decides on -------------------------


def test_the_deploy_example_acts_on_every_kind_of_event(
    events: Repo, remote: Repo, tmp_path: Path
) -> None:
    """examples/github-deploy.yml as a runner runs it: the action, then each step whose
    ``if:`` holds, in a checkout of the pushed tag."""
    import yaml

    from cisim import run_workflow_steps

    steps = yaml.safe_load((ROOT / "examples" / "github-deploy.yml").read_text())["jobs"]["act"][
        "steps"
    ]
    tags = events.tags()
    (prod,) = [t for t in tags if t.startswith("churn#prod#")]
    (rollback,) = [t for t in tags if t.startswith("churn#prod!#")]
    (nlp,) = [t for t in tags if t.startswith("nlp/sentiment#prod#")]
    expected = {
        "churn@v0.1.0": [("Publish a new version", "publishing churn v0.1.0\n")],
        prod: [
            (
                "Deploy a promotion to prod",
                f"deploying churn v0.1.0 (s3://models/churn.pt) from {tags[prod]}\n",
            )
        ],
        rollback: [("Roll prod back", "churn has no version in prod any more\n")],
        nlp: [
            (
                "Deploy a promotion to prod",
                f"deploying nlp/sentiment v0.0.1 (nlp/model.bin) from {tags[nlp]}\n",
            )
        ],
        "churn@v0.0.1!": [
            ("Withdraw a version or an artifact", "deregistration of churn v0.0.1\n")
        ],
        "models/cv=seg@deprecated": [
            ("Withdraw a version or an artifact", "deprecation of models/cv:seg \n")
        ],
        "release-1.0": [],
    }
    for n, (tag, ran) in enumerate(expected.items()):
        work = checkout_tag(tmp_path, remote, tag)
        run = act(work, tmp_path, tag)
        assert run.code == 0, run.stderr
        steps_dir = tmp_path / f"workflow{n}"
        steps_dir.mkdir()
        assert run_workflow_steps(steps, "registry", run.outputs, work, steps_dir) == ran, tag
