"""Read commands on real repositories: show, history, which, latest, check-ref, stages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, make_registry


@pytest.fixture
def churn_staged_seg_deprecated(repo: Repo) -> Repo:
    """churn: v1.0.0 (prod), v1.1.0 (staging), v2.0.0-rc.1 (dev); seg: v0.1.0, deprecated."""
    return make_registry(
        repo,
        """
        churn@v1.0.0  churn#prod#1  commit
        churn@v1.1.0  churn#staging#2  commit
        churn@v2.0.0-rc.1  churn#dev#3  seg@v0.1.0  seg@deprecated
        """,
    )


def test_show_registry_table(churn_staged_seg_deprecated: Repo) -> None:
    out = churn_staged_seg_deprecated.ok("show")
    lines = out.splitlines()
    assert lines[0].split() == ["name", "latest", "#prod", "#staging", "#dev"]
    # latest is the highest SemVer: v2.0.0-rc.1 is a prerelease of 2.0.0, above v1.1.0.
    assert lines[1].split() == ["churn", "v2.0.0-rc.1", "v1.0.0", "v1.1.0", "v2.0.0-rc.1"]
    assert len(lines) == 2  # seg is deprecated
    lines = churn_staged_seg_deprecated.ok("show", "--all").splitlines()
    assert lines[0].split() == ["name", "status", "latest", "#prod", "#staging", "#dev"]
    assert lines[1].split()[:2] == ["churn", "active"]
    assert lines[2].split() == [
        "seg",
        "deprecated",
        "v0.1.0",
        "-",
        "-",
        "-",
    ]


def test_show_never_truncates_versions(repo: Repo) -> None:
    long = "v10.20.30-alpha.beta.gamma.delta.epsilon+build.20240101.abcdef"
    repo.ok("register", "a-very-long-artifact-name-indeed", "--version", long)
    out = repo.ok("show")
    assert long in out
    assert "a-very-long-artifact-name-indeed" in out


def test_show_json_schema(churn_staged_seg_deprecated: Repo) -> None:
    doc = json.loads(churn_staged_seg_deprecated.ok("show", "--json"))
    assert set(doc) == {"artifacts", "stages", "warnings"}
    assert [a["name"] for a in doc["artifacts"]] == ["churn"]
    churn = doc["artifacts"][0]
    assert churn["latest"] == "v2.0.0-rc.1"
    assert churn["deprecated"] is False
    assert len(churn["latest_commit"]) == 40
    assert churn["stages"]["prod"]["version"] == "v1.0.0"
    assert churn["stages"]["prod"]["tag"] == "churn#prod#1"
    assert churn["stages"]["prod"]["assigned_by"] == {
        "name": "Cy Committer",
        "email": "cy@example.com",
    }
    assert set(churn["stages"]) == {"prod", "staging", "dev"}
    assert doc["stages"] == ["prod", "staging", "dev"]
    assert doc["warnings"] == []
    all_doc = json.loads(churn_staged_seg_deprecated.ok("show", "--json", "--all"))
    assert [a["name"] for a in all_doc["artifacts"]] == ["churn", "seg"]
    assert all_doc["artifacts"][1]["deprecated"] is True


def test_show_artifact_versions(churn_staged_seg_deprecated: Repo) -> None:
    lines = churn_staged_seg_deprecated.ok("show", "churn").splitlines()
    assert lines[0].split() == ["version", "stages", "commit", "registered", "by", "tag"]
    assert [line.split()[0] for line in lines[1:]] == ["v2.0.0-rc.1", "v1.1.0", "v1.0.0"]
    assert lines[3].split()[1] == "prod"
    doc = json.loads(churn_staged_seg_deprecated.ok("show", "churn", "--json"))
    assert [v["version"] for v in doc["versions"]] == ["v2.0.0-rc.1", "v1.1.0", "v1.0.0"]
    assert doc["versions"][2]["stages"] == ["prod"]
    assert doc["versions"][2]["tag"] == "churn@v1.0.0"
    assert doc["versions"][2]["message"] == "Registering artifact churn version v1.0.0"
    assert churn_staged_seg_deprecated.ok("show", "churn", "--version").split() == [
        "v2.0.0-rc.1",
        "v1.1.0",
        "v1.0.0",
    ]


def test_show_selectors_and_values(churn_staged_seg_deprecated: Repo) -> None:
    tags = churn_staged_seg_deprecated.tags()
    assert churn_staged_seg_deprecated.ok("show", "churn@latest", "--version") == "v2.0.0-rc.1\n"
    assert churn_staged_seg_deprecated.ok("show", "churn#prod", "--version") == "v1.0.0\n"
    assert churn_staged_seg_deprecated.ok("show", "churn#prod", "--ref") == "churn#prod#1\n"
    assert churn_staged_seg_deprecated.ok("show", "churn@v1.1.0", "--ref") == "churn@v1.1.0\n"
    assert (
        churn_staged_seg_deprecated.ok("show", "churn@v1.1.0", "--commit")
        == tags["churn@v1.1.0"] + "\n"
    )
    doc = json.loads(churn_staged_seg_deprecated.ok("show", "churn#staging", "--json"))
    assert doc["version"] == "v1.1.0"
    assert doc["assignment"]["tag"] == "churn#staging#2"


def test_show_all_versions_in_stage(repo: Repo) -> None:
    repo.ok("register", "m")
    repo.ok("promote", "m", "prod")
    repo.commit()
    repo.ok("register", "m")
    repo.ok("promote", "m", "prod")
    assert repo.ok("show", "m#prod", "--version", "--all-versions") == "v0.0.2\nv0.0.1\n"
    assert repo.ok("which", "m", "prod", "--all-versions") == "v0.0.2\nv0.0.1\n"
    assert "v0.0.2, v0.0.1" in repo.ok("show", "--all-versions")
    doc = json.loads(repo.ok("show", "--json", "--all-versions"))
    assert [h["version"] for h in doc["artifacts"][0]["all_versions"]["prod"]] == [
        "v0.0.2",
        "v0.0.1",
    ]


def test_show_deregistered_with_all(churn_staged_seg_deprecated: Repo) -> None:
    churn_staged_seg_deprecated.ok("deregister", "churn@v1.1.0")
    assert "v1.1.0" not in churn_staged_seg_deprecated.ok("show", "churn")
    out = churn_staged_seg_deprecated.ok("show", "churn", "--all")
    assert "deregistered" in out and "v1.1.0" in out
    result = churn_staged_seg_deprecated.run("show", "churn@v1.1.0")
    assert result.code == 1 and "no active version v1.1.0" in result.err


def test_lookups_that_find_nothing_exit_1(churn_staged_seg_deprecated: Repo) -> None:
    for args, message in [
        (["show", "nosuch"], "unknown artifact 'nosuch'"),
        (["show", "churn#qa"], "no version of churn is in stage 'qa'"),
        (["show", "churn@v9.0.0"], "no active version v9.0.0"),
        (["which", "nosuch", "prod"], "unknown artifact 'nosuch'"),
        (["which", "churn", "qa"], "no version of churn is in stage 'qa'"),
        (["latest", "nosuch"], "unknown artifact 'nosuch'"),
        (["history", "nosuch"], "unknown artifact 'nosuch'"),
        (["check-ref", "release-1.0"], "'release-1.0' is not a registry tag"),
        (["check-ref", "churn@v7.0.0"], "there is no tag 'churn@v7.0.0'"),
    ]:
        result = churn_staged_seg_deprecated.run(*args)
        assert result.code == 1, (args, result)
        assert message in result.err, (args, result.err)
        assert result.out == ""


def test_show_deprecated_artifact_by_name_warns(churn_staged_seg_deprecated: Repo) -> None:
    result = churn_staged_seg_deprecated.run("show", "seg")
    assert result.code == 0
    assert "v0.1.0" in result.out
    assert (
        "warning: artifact 'seg' is deprecated (seg@deprecated, 2023-11-14): "
        "its stages and latest version are not served\n"
    ) in result.err


def test_which_and_latest(churn_staged_seg_deprecated: Repo) -> None:
    assert churn_staged_seg_deprecated.ok("which", "churn", "prod") == "v1.0.0\n"
    assert churn_staged_seg_deprecated.ok("which", "churn", "prod", "--ref") == "churn#prod#1\n"
    assert churn_staged_seg_deprecated.ok("latest", "churn") == "v2.0.0-rc.1\n"
    assert churn_staged_seg_deprecated.ok("latest", "churn", "--ref") == "churn@v2.0.0-rc.1\n"
    doc = json.loads(churn_staged_seg_deprecated.ok("which", "churn", "staging", "--json"))
    assert doc["artifact"] == "churn" and doc["stage"] == "staging"
    assert doc["version"] == "v1.1.0" and doc["tag"] == "churn#staging#2"
    latest = json.loads(churn_staged_seg_deprecated.ok("latest", "churn", "--json"))
    assert latest["version"] == "v2.0.0-rc.1" and latest["active"] is True


def test_history(churn_staged_seg_deprecated: Repo) -> None:
    lines = churn_staged_seg_deprecated.ok("history", "churn").splitlines()
    assert lines[0].split() == [
        "time",
        "artifact",
        "event",
        "version",
        "stage",
        "commit",
        "by",
        "tag",
    ]
    # The time column is "YYYY-MM-DD HH:MM:SS +ZZZZ" (three words).
    assert lines[1].split()[3:6] == ["churn", "assignment", "v2.0.0-rc.1"]
    assert lines[-1].split()[3:6] == ["churn", "registration", "v1.0.0"]
    assert len(lines) == 7
    doc = json.loads(churn_staged_seg_deprecated.ok("history", "--json"))
    events = doc["events"]
    assert len(events) == 8
    times = [e["unix_time"] for e in events]
    assert times == sorted(times, reverse=True)
    seg = [e["tag"] for e in events if e["artifact"] == "seg"]
    assert seg == ["seg@deprecated", "seg@v0.1.0"]
    first = events[-1]
    assert first == {
        "tag": "churn@v1.0.0",
        "event": "registration",
        "artifact": "churn",
        "version": "v1.0.0",
        "stage": None,
        "counter": None,
        "commit": churn_staged_seg_deprecated.tags()["churn@v1.0.0"],
        "tag_object": churn_staged_seg_deprecated.git("rev-parse", "churn@v1.0.0").strip(),
        "timestamp": "2023-11-14T22:13:20+00:00",
        "unix_time": 1700000000,
        "tagger": {"name": "Cy Committer", "email": "cy@example.com"},
        "message": "Registering artifact churn version v1.0.0",
    }
    ascending = json.loads(churn_staged_seg_deprecated.ok("history", "--json", "--ascending"))[
        "events"
    ]
    assert ascending == list(reversed(events))


def test_check_ref(churn_staged_seg_deprecated: Repo) -> None:
    out = churn_staged_seg_deprecated.ok("check-ref", "refs/tags/churn#prod#1")
    commit = churn_staged_seg_deprecated.tags()["churn@v1.0.0"]
    assert out == f"churn#prod#1: assigns stage prod to churn v1.0.0 at commit {commit[:7]}\n"
    doc = json.loads(churn_staged_seg_deprecated.ok("check-ref", "churn@v1.1.0", "--json"))
    assert doc["event"] == "registration" and doc["version"] == "v1.1.0"
    result = churn_staged_seg_deprecated.run("check-ref", "refs/heads/main")
    assert result.code == 1 and "is not a tag" in result.err


def test_check_ref_lightweight_tag(repo: Repo) -> None:
    repo.tag("churn@v1.0.0", lightweight=True)
    result = repo.run("check-ref", "churn@v1.0.0")
    assert result.code == 1
    assert "lightweight tag ignored" in result.err


def test_stages_lists_every_stage_ever_used(churn_staged_seg_deprecated: Repo) -> None:
    churn_staged_seg_deprecated.ok("unassign", "churn", "dev")
    assert churn_staged_seg_deprecated.ok("stages") == "prod\nstaging\ndev\n"
    assert json.loads(churn_staged_seg_deprecated.ok("stages", "--json")) == {
        "stages": ["prod", "staging", "dev"]
    }


def test_stages_used_lists_them_in_the_policys_order(repo: Repo) -> None:
    """--used: the stages in use that the policy lists, in its order, then the others
    in order of first use; not the order of first use alone."""
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "qa")  # before the policy: a stage it does not list
    repo.ok("promote", "churn", "beta")
    repo.commit(files={".registry.yaml": "stages: [dev, staging, prod]\n"})
    repo.ok("promote", "churn", "prod")
    repo.ok("promote", "churn", "staging")
    assert repo.ok("stages") == "dev\nstaging\nprod\n"
    assert repo.ok("stages", "--used") == "staging\nprod\nqa\nbeta\n"
    assert json.loads(repo.ok("stages", "--used", "--json")) == {
        "stages": ["staging", "prod", "qa", "beta"]
    }


def test_empty_registry(repo: Repo) -> None:
    result = repo.run("show")
    assert result.code == 0 and result.out == ""
    assert "the registry is empty" in result.err
    assert json.loads(repo.ok("show", "--json")) == {"artifacts": [], "stages": [], "warnings": []}
    assert json.loads(repo.ok("history", "--json")) == {
        "events": [],
        "annotations": {},
        "warnings": [],
    }


def test_bad_tags_are_isolated(churn_staged_seg_deprecated: Repo) -> None:
    """One bad tag never breaks the rest: a warning on stderr, JSON on stdout stays clean."""
    tree = churn_staged_seg_deprecated.git("rev-parse", "HEAD^{tree}").strip()
    churn_staged_seg_deprecated.git("tag", "-a", "-m", "on a tree", "churn@v5.0.0", tree)
    churn_staged_seg_deprecated.tag("churn@v6.0.0", lightweight=True)
    churn_staged_seg_deprecated.tag(
        "churn@v1.0.0#9", "HEAD", "second commit for v1.0.0"
    )  # v1.0.0 is elsewhere
    churn_staged_seg_deprecated.tag(
        "churn#prod#20", churn_staged_seg_deprecated.commit(), "assignment without a version"
    )
    churn_staged_seg_deprecated.tag("release-1.0")  # not a registry tag at all: silently ignored
    result = churn_staged_seg_deprecated.run("show", "--json")
    assert result.code == 0
    doc = json.loads(result.out)
    churn = doc["artifacts"][0]
    assert churn["latest"] == "v2.0.0-rc.1"
    assert churn["stages"]["prod"]["version"] == "v1.0.0"
    warnings = result.err.strip().splitlines()
    assert len(warnings) == 4, warnings
    assert all(line.startswith("warning: ") for line in warnings)
    assert any("churn@v5.0.0: points at a tree" in w for w in warnings)
    assert any("churn@v6.0.0: lightweight tag ignored" in w for w in warnings)
    assert any("churn@v1.0.0#9: v1.0.0 of churn is already registered" in w for w in warnings)
    assert any("churn#prod#20: points at commit" in w for w in warnings)
    assert len(doc["warnings"]) == 4
    # Other artifacts are not bothered by churn's problems.
    churn_staged_seg_deprecated.ok("register", "other")
    other = churn_staged_seg_deprecated.run("show", "other")
    assert other.code == 0 and other.err == ""
    # The counter still sees every tag, bad ones included.
    churn_staged_seg_deprecated.ok("promote", "churn", "qa")
    assert "churn#qa#21" in churn_staged_seg_deprecated.tags()


def test_missing_tag_object_is_isolated(churn_staged_seg_deprecated: Repo) -> None:
    ref = churn_staged_seg_deprecated.path / ".git" / "refs" / "tags" / "churn@v3.0.0"
    ref.write_text("1234567890123456789012345678901234567890\n")
    result = churn_staged_seg_deprecated.run("show")
    assert result.code == 0
    assert "churn" in result.out
    assert "churn@v3.0.0: object 1234567890123456789012345678901234567890 is missing" in result.err


def test_packed_refs_and_nested_tags(churn_staged_seg_deprecated: Repo) -> None:
    churn_staged_seg_deprecated.git("pack-refs", "--all")
    churn_staged_seg_deprecated.git(
        "tag",
        "-a",
        "-m",
        "tag of a tag",
        "churn#prod#30",
        "churn@v1.1.0",
        env={"GIT_COMMITTER_DATE": "1750000000 +0000"},
    )
    assert churn_staged_seg_deprecated.ok("which", "churn", "prod") == "v1.1.0\n"
    assert churn_staged_seg_deprecated.ok("show", "--json") == churn_staged_seg_deprecated.ok(
        "show", "--json"
    )  # stable


def test_works_from_subdirectory_and_bare_clone(
    churn_staged_seg_deprecated: Repo, tmp_path: Path
) -> None:
    sub = churn_staged_seg_deprecated.path / "deep" / "er"
    sub.mkdir(parents=True)
    assert churn_staged_seg_deprecated.run("latest", "churn", cwd=sub).out == "v2.0.0-rc.1\n"
    bare = tmp_path / "bare.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(churn_staged_seg_deprecated.path), str(bare)],
        check=True,
    )
    result = churn_staged_seg_deprecated.run("show", "--json", cwd=bare)
    assert result.code == 0
    assert json.loads(result.out)["artifacts"][0]["latest"] == "v2.0.0-rc.1"


# -- output conventions ---------------------------------------------------------------


def test_color_follows_option_env_and_config(churn_staged_seg_deprecated: Repo) -> None:
    assert "\x1b[" not in churn_staged_seg_deprecated.ok("show")
    assert "\x1b[" in churn_staged_seg_deprecated.ok("--color", "show")
    assert "\x1b[" in churn_staged_seg_deprecated.ok("--color=always", "show")
    assert "\x1b[" not in churn_staged_seg_deprecated.ok("--no-color", "show")
    assert "\x1b[" in churn_staged_seg_deprecated.ok("show", "--color")
    assert "\x1b[" not in churn_staged_seg_deprecated.ok("--color", "show", "--color=never")
    churn_staged_seg_deprecated.git("config", "color.ui", "always")
    assert "\x1b[" in churn_staged_seg_deprecated.ok("show")
    assert "\x1b[" not in churn_staged_seg_deprecated.ok("show", "--json")
    churn_staged_seg_deprecated.git("config", "color.registry", "never")
    assert "\x1b[" not in churn_staged_seg_deprecated.ok("show")


def test_no_color_env(churn_staged_seg_deprecated: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    churn_staged_seg_deprecated.git("config", "color.ui", "always")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in churn_staged_seg_deprecated.ok("show")
    assert "\x1b[" in churn_staged_seg_deprecated.ok("--color=always", "show")


def test_help_and_usage_errors(repo: Repo) -> None:
    result = repo.run("-h")
    assert result.code == 0 and "usage: git registry" in result.out and result.err == ""
    result = repo.run("show", "-h")
    assert result.code == 0 and "--all-versions" in result.out
    result = repo.run()
    assert result.code == 129 and "usage:" in result.err
    result = repo.run("frobnicate")
    assert result.code == 129 and "'frobnicate' is not a git registry command" in result.err
    result = repo.run("show", "--ref")
    assert result.code == 129 and "--ref needs an artifact" in result.err


def test_python_m_entry_point(churn_staged_seg_deprecated: Repo) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "git_registry", "latest", "churn"],
        cwd=churn_staged_seg_deprecated.path,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0 and proc.stdout == "v2.0.0-rc.1\n"


def test_piped_output_closed_early(churn_staged_seg_deprecated: Repo) -> None:
    for i in range(40):
        churn_staged_seg_deprecated.ok("register", f"model-{i:02d}")
    proc = subprocess.run(
        "git registry show | head -n 1",
        shell=True,
        cwd=churn_staged_seg_deprecated.path,
        capture_output=True,
        text=True,
    )
    assert proc.stdout.startswith("name")
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_an_artifact_without_active_versions_is_not_found_in_text_and_json(repo: Repo) -> None:
    """One decision for "not found": ``show NAME`` and ``show NAME --json`` both exit 1
    with ``error:`` and print nothing on stdout."""
    repo.ok("register", "churn")
    repo.ok("deregister", "churn@v0.0.1")
    for args in (["show", "churn"], ["show", "churn", "--json"]):
        result = repo.run(*args)
        assert result.code == 1, (args, result)
        assert result.out == ""
        assert result.err.startswith("error: churn has no active versions\n"), result.err
    assert "v0.0.1" in repo.ok("show", "churn", "--all")
