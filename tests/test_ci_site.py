"""Publishing the static site (issue 18): the GitHub Action's ``site`` input and the Pages
workflow (examples/github-pages.yml), the GitLab Pages job (examples/gitlab-pages.yml),
run as a runner runs them (:mod:`cisim`) against a real remote with every kind of event."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_ci_action import act, events  # noqa: F401  (a fixture)
from test_ci_files import _run_job

from conftest import Repo, git

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "examples" / "github-pages.yml"
GITLAB_PAGES = ROOT / "examples" / "gitlab-pages.yml"


def _doc(path: Path) -> dict[Any, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.mark.core
def test_the_pages_workflow_builds_with_the_action_and_deploys_with_pages() -> None:
    doc = _doc(PAGES)
    assert doc["permissions"] == {"contents": "read"}
    build, deploy = doc["jobs"]["build"], doc["jobs"]["deploy"]
    uses = [step.get("uses", "").split("@")[0] for step in build["steps"]]
    assert uses == [
        "actions/checkout",
        "actions/setup-python",
        "./",
        "actions/upload-pages-artifact",
    ]
    site = build["steps"][2]["with"]["site"]
    assert build["steps"][3]["with"]["path"] == site
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    # workflow_dispatch: a branch run, which the action takes as "not a registry event"
    on = doc["on"] if "on" in doc else yaml.safe_load(PAGES.read_text())[True]
    assert "workflow_dispatch" in on


def test_the_pages_workflow_writes_the_site_on_a_registry_event(
    events: Repo,  # noqa: F811
    remote: Repo,
    tmp_path: Path,
) -> None:
    """The workflow's build job as a runner runs it: a shallow checkout of the default
    branch, then the action with the workflow's inputs for the pushed tag."""
    step = _doc(PAGES)["jobs"]["build"]["steps"][2]
    work = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth=1", "--no-tags", remote.path.as_uri(), str(work))
    (tag,) = [t for t in remote.tags() if t.startswith("churn#prod!#")]
    run = act(work, tmp_path, tag, **{k: str(v) for k, v in step["with"].items()})
    assert run.code == 0, run.stderr
    assert "The registry's site" in run.ran
    index = (work / step["with"]["site"] / "index.html").read_text()
    names = re.findall(r'<tr class="artifact" data-name="([^"]+)"', index)
    assert names == ["churn", "models/cv:seg", "nlp/sentiment"]
    assert run.outputs["event"] == "unassignment"


def test_the_action_writes_no_site_unless_asked(
    events: Repo,  # noqa: F811
    remote: Repo,
    tmp_path: Path,
) -> None:
    work = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth=1", remote.path.as_uri(), str(work))
    run = act(work, tmp_path, "churn@v0.1.0")
    assert run.code == 0, run.stderr
    assert "The registry's site" not in run.ran


def test_the_action_refuses_a_site_folder_holding_other_files(
    events: Repo,  # noqa: F811
    remote: Repo,
    tmp_path: Path,
) -> None:
    work = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth=1", remote.path.as_uri(), str(work))
    (work / "docs").mkdir()
    (work / "docs" / "guide.md").write_text("mine\n")
    run = act(work, tmp_path, "churn@v0.1.0", site="docs")
    assert run.code == 128
    assert "is not a site written by 'git registry site'" in run.stderr
    assert (work / "docs" / "guide.md").read_text() == "mine\n"


def test_the_gitlab_pages_job_writes_the_site_into_public(
    repo: Repo, remote: Repo, tmp_path: Path
) -> None:
    job = _doc(GITLAB_PAGES)["pages"]
    assert job["artifacts"]["paths"] == ["public"]
    repo.commit(files={"artifacts.yaml": "churn:\n  path: m.pt\n  type: model\n"})
    repo.ok("register", "churn", "--push")
    repo.ok("promote", "churn", "prod", "--push")
    repo.git("push", "-q", "origin", "main")
    repo.ok("unassign", "churn", "prod", "--push")
    clone = tmp_path / "gitlab"
    git(tmp_path, "clone", "-q", "--no-checkout", "--depth=1", remote.path.as_uri(), str(clone))
    (tag,) = [t for t in repo.tags() if t.startswith("churn#prod!#")]
    git(clone, "fetch", "-q", "--depth=1", "origin", f"+refs/tags/{tag}:refs/tags/{tag}")
    git(clone, "checkout", "-q", "--detach", f"refs/tags/{tag}")
    proc = _run_job(job, clone, {"CI_COMMIT_TAG": tag, "CI_DEFAULT_BRANCH": "main"})
    assert proc.returncode == 0, proc.stderr
    churn = (clone / "public" / "a" / "churn.html").read_text()
    assert '<g class="lane" data-stage="prod">' in churn
    assert "unassigned" in churn
