"""``git registry diff A B``: what changes if version B replaces version A."""

from __future__ import annotations

import json

import pytest

from conftest import Repo


def test_diff_of_the_demo_promotion(demo: Repo) -> None:
    out = demo.ok("diff", "churn#prod", "churn@latest")
    lines = out.splitlines()
    assert lines[0].startswith("A  churn#prod: v3.0.0 [prod]  commit ")
    assert lines[1].startswith("B  churn@latest: v3.1.0 [staging]  commit ")
    assert "Commits in B, not in A (" in out and "): 3" in out
    assert "  Retrain churn with new features" in out
    assert "      models/churn.txt | 2 +-" in lines
    assert "      1 file changed, 1 insertion(+), 1 deletion(-)" in lines
    assert "Annotation (artifacts.yaml): unchanged" in lines
    assert lines[-5:] == [
        "Metrics:",
        "  auc  0.91 -> 0.93  (+0.02)",
        "  f1   0.84 -> 0.86  (+0.02)",
        "Metadata:",
        "  dataset  2022-03 -> 2022-04",
    ]
    doc = json.loads(demo.ok("diff", "churn#prod", "churn@latest", "--json"))
    assert doc["artifact"] == "churn"
    assert (doc["old"]["version"], doc["new"]["version"]) == ("v3.0.0", "v3.1.0")
    assert (doc["old"]["selector"], doc["new"]["selector"]) == ("churn#prod", "churn@latest")
    assert doc["relation"] == "newer" and doc["same_version"] is False
    assert [c["subject"] for c in doc["commits_added"]] == [
        "Retrain churn with new features",
        "Train car part classifier",
        "Train car segmentation model",
    ]
    assert doc["commits_added"][0]["files"] == [
        {"path": "models/churn.txt", "added": 1, "deleted": 1}
    ]
    assert doc["commits_removed"] == [] and doc["more_commits_added"] == 0
    assert doc["metrics"] == [
        {"key": "auc", "old": 0.91, "new": 0.93, "delta": 0.02},
        {"key": "f1", "old": 0.84, "new": 0.86, "delta": 0.02},
    ]
    assert doc["meta"] == [{"key": "dataset", "old": "2022-03", "new": "2022-04"}]
    assert doc["annotation"] == []


def test_diff_backwards_and_the_same_version(demo: Repo) -> None:
    out = demo.ok("diff", "churn@latest", "churn#prod")
    assert "B is older than A: B replacing A takes these commits back." in out
    assert "Commits in A, not in B (" in out
    assert "  auc  0.93 -> 0.91  (-0.02)" in out.splitlines()
    doc = json.loads(demo.ok("diff", "churn@latest", "churn#prod", "--json"))
    assert doc["relation"] == "older" and len(doc["commits_removed"]) == 3
    same = demo.ok("diff", "churn#prod", "churn@v3.0.0")
    assert same.splitlines()[-1] == "Both are churn v3.0.0: nothing changes."
    doc = json.loads(demo.ok("diff", "churn#prod", "churn@v3.0.0", "--json"))
    assert doc["same_version"] is True and doc["relation"] == "same"
    assert doc["commits_added"] == doc["commits_removed"] == []


def test_max_count_bounds_the_log(demo: Repo) -> None:
    out = demo.ok("diff", "churn#prod", "churn@latest", "--max-count", "1")
    assert "  ... and 2 more (--max-count N lists more)" in out.splitlines()
    doc = json.loads(demo.ok("diff", "churn#prod", "churn@latest", "--json", "--max-count=2"))
    assert len(doc["commits_added"]) == 2 and doc["more_commits_added"] == 1


def test_annotation_changes_and_diverged_versions(repo: Repo) -> None:
    repo.commit(files={"artifacts.yaml": "m:\n  type: model\n  description: first\n"})
    repo.ok("register", "m", "--metric", "acc=0.5", "--meta", "data=a")
    repo.git("checkout", "-q", "-b", "exp")
    repo.commit(
        "Try a new head",
        files={
            "artifacts.yaml": "m:\n  type: model\n  description: second\n  labels: [x]\n",
            "w.bin": "\0\1\2",
        },
    )
    repo.ok("register", "m", "--metric", "loss=2", "--meta", "data=b")
    repo.git("checkout", "-q", "main")
    repo.commit("Main moves on")
    repo.ok("register", "m", "--version", "v0.1.0", "--metric", "acc=0.75")
    doc = json.loads(repo.ok("diff", "m@v0.1.0", "m@v0.0.2", "--json"))
    assert doc["relation"] == "diverged"
    assert [c["subject"] for c in doc["commits_added"]] == ["Try a new head"]
    assert [c["subject"] for c in doc["commits_removed"]] == ["Main moves on"]
    files = {f["path"]: f for f in doc["commits_added"][0]["files"]}
    assert files["w.bin"] == {"path": "w.bin", "added": None, "deleted": None}
    assert doc["annotation"] == [
        {"key": "description", "old": "first", "new": "second"},
        {"key": "labels", "old": [], "new": ["x"]},
    ]
    assert doc["metrics"] == [
        {"key": "acc", "old": 0.75, "new": None, "delta": None},
        {"key": "loss", "old": None, "new": 2.0, "delta": None},
    ]
    assert doc["meta"] == [{"key": "data", "old": None, "new": "b"}]
    out = repo.ok("diff", "m@v0.1.0", "m@v0.0.2")
    assert "A and B diverged: each has commits the other lacks." in out
    assert '  description: "first" -> "second"' in out.splitlines()
    assert '  labels: [] -> ["x"]' in out.splitlines()
    assert "      w.bin          | Bin" in out.splitlines()
    assert "  acc   0.75 -> -" in out.splitlines()
    assert "  data  - -> b" in out.splitlines()


def test_untrusted_commit_data_is_escaped(repo: Repo) -> None:
    repo.ok("register", "m")
    repo.commit("\x1b[2J::warning::owned", files={"a\x1bb.txt": "x\n"})
    repo.ok("register", "m")
    result = repo.run("diff", "m@v0.0.1", "m@v0.0.2")
    assert result.code == 0, result.err
    assert "\x1b" not in result.out
    assert "\\x1b[2J::warning::owned" in result.out
    doc = json.loads(repo.ok("diff", "m@v0.0.1", "m@v0.0.2", "--json"))
    assert doc["commits_added"][0]["subject"] == "\x1b[2J::warning::owned"
    assert doc["commits_added"][0]["files"][0]["path"] == "a\x1bb.txt"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["churn", "churn@latest"], 129, "'churn' names an artifact, not a version"),
        (["churn#prod", "segment@latest"], 129, "two versions of one artifact"),
        (["chrun@latest", "chrun#prod"], 1, "did you mean 'churn'?"),
        (["churn@v9.9.9", "churn@latest"], 1, "churn has no version v9.9.9"),
        (["churn#dev", "churn@latest"], 1, "no version of churn is in stage 'dev'"),
        (["churn@1.0", "churn@latest"], 128, "1.0"),
        (["churn@latest"], 129, "the following arguments are required: B"),
        (["churn@latest", "churn#prod", "--upload-pack=x"], 129, "unrecognized arguments"),
        (["churn@latest", "churn#prod", "--max-count", "0"], 129, "not a count"),
        (["churn@latest", "churn#prod", "--max-count", "-1"], 129, "not a count"),
        (["churn@latest", "\x1b[31mchurn#prod"], 128, "\\x1b[31m"),
    ],
)
def test_diff_errors(demo: Repo, args: list[str], code: int, says: str) -> None:
    result = demo.run("diff", *args)
    assert result.code == code, result.err
    assert says in result.err
    assert "\x1b" not in result.err
    assert result.out == ""


def test_a_deprecated_artifacts_stages_are_not_served(demo: Repo) -> None:
    demo.ok("deprecate", "segment")
    result = demo.run("diff", "segment#dev", "segment@v0.4.0")
    assert result.code == 1
    assert "deprecated" in result.err
    doc = json.loads(demo.ok("diff", "segment@v0.4.0", "segment@v0.4.1", "--json"))
    assert doc["metrics"] == [{"key": "iou", "old": 0.71, "new": 0.74, "delta": 0.03}]
