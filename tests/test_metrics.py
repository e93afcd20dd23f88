"""Metrics and metadata per version: ``register --metric / --meta`` (Registry-* trailers
in the tag message), ``show NAME`` columns, ``--json`` objects and ``--metric`` sorting,
``check-ref`` outputs, and tags written by others holding bad trailers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Repo

ROOT = Path(__file__).resolve().parent.parent


def tag_body(repo: Repo, name: str) -> str:
    return repo.git("cat-file", "tag", name).split("\n\n", 1)[1]


def snapshot(repo: Repo) -> str:
    return repo.git("for-each-ref", "--format=%(refname) %(objectname)")


def hand_tag(repo: Repo, name: str, message: str, target: str = "HEAD") -> None:
    """A tag made by someone else with ``git tag`` (its message verbatim)."""
    path = repo.path.parent / "msg.txt"
    path.write_text(message)
    repo.git("tag", "-a", "--cleanup=verbatim", "-F", str(path), name, target)


# -- register ---------------------------------------------------------------------------


def test_register_writes_trailers_git_reads(repo: Repo) -> None:
    repo.ok("register", "churn", "--metric", "auc=0.91", "--metric", "f1=.8", "--meta", "data=v2")
    assert tag_body(repo, "churn@v0.0.1") == (
        "Registering artifact churn version v0.0.1\n\n"
        "Registry-Metric: auc=0.91\nRegistry-Metric: f1=.8\nRegistry-Meta: data=v2"
    )
    path = repo.path.parent / "body.txt"
    path.write_text(tag_body(repo, "churn@v0.0.1"))
    parsed = repo.git("interpret-trailers", "--parse", str(path))
    assert parsed == "Registry-Metric: auc=0.91\nRegistry-Metric: f1=.8\nRegistry-Meta: data=v2\n"
    repo.fsck()


def test_register_message_with_trailers_and_empty_message(repo: Repo) -> None:
    repo.ok("register", "churn", "-m", "Nightly\n\nSigned-off-by: A <a@x>", "--metric", "auc=1")
    assert tag_body(repo, "churn@v0.0.1") == (
        "Nightly\n\nSigned-off-by: A <a@x>\nRegistry-Metric: auc=1"
    )
    repo.commit()
    repo.ok("register", "churn", "-m", "", "--meta", "run=42")
    assert tag_body(repo, "churn@v0.0.2") == (
        "Registering artifact churn version v0.0.2\n\nRegistry-Meta: run=42"
    )
    repo.commit()
    repo.ok("register", "churn", "-m", "one line", "--metric", "auc=2")
    assert tag_body(repo, "churn@v0.0.3") == "one line\n\nRegistry-Metric: auc=2"
    out = json.loads(repo.ok("show", "churn", "--json"))
    assert [v["metrics"] for v in out["versions"]] == [{"auc": 2.0}, {}, {"auc": 1.0}]
    assert [v["meta"] for v in out["versions"]] == [{}, {"run": "42"}, {}]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--metric", "auc"], "'auc'"),
        (["--metric", "auc="], "'auc='"),
        (["--metric", "=1"], "'=1'"),
        (["--metric", "auc=abc"], "'auc=abc'"),
        (["--metric", "auc=nan"], "'auc=nan'"),
        (["--metric", "auc=inf"], "'auc=inf'"),
        (["--metric", "auc=1e999"], "'auc=1e999'"),
        (["--metric", "auc=0x10"], "'auc=0x10'"),
        (["--metric", "auc=1_000"], "'auc=1_000'"),
        (["--metric", "1auc=1"], "'1auc=1'"),
        (["--metric", "a b=1"], "'a b=1'"),
        (["--metric", "--upload-pack=x"], "'--upload-pack=x'"),
        (["--metric", "k" * 65 + "=1"], "bad key"),
        (["--meta", "data"], "'data'"),
        (["--meta", "data="], "empty"),
        (["--meta", "data=a\nb"], "control character"),
        (["--meta", "data=\x1b[31mred"], "control character"),
        (["--meta", "data=" + "x" * 201], "longer than 200"),
        (["--meta", "data= v2"], "blank"),
        (["--metric", "auc=1", "--metric", "auc=2"], "'auc' is given twice"),
        (["--metric", "auc=1", "--meta", "auc=x"], "'auc' is given twice"),
        (["-m", "x\n\nRegistry-Metric: auc=bad", "--metric", "f1=1"], "bad trailer"),
        (["-m", "x\n\nRegistry-Metric: auc=1", "--metric", "auc=2"], "given twice"),
    ],
)
def test_malformed_metric_or_meta_is_a_usage_error(repo: Repo, args: list[str], named: str) -> None:
    before = snapshot(repo)
    result = repo.run("register", "churn", *args)
    assert result.code == 129, result.err
    assert result.out == ""
    assert named in result.err
    assert "\x1b" not in result.err
    assert snapshot(repo) == before


# -- show -------------------------------------------------------------------------------


@pytest.fixture
def scored(repo: Repo) -> Repo:
    repo.ok("register", "churn", "--metric", "auc=0.91", "--meta", "dataset=2022-03")
    repo.commit()
    repo.ok("register", "churn")  # no metrics
    repo.commit()
    repo.ok("register", "churn", "--metric", "auc=0.95", "--metric", "loss=1.5e-3")
    repo.commit()
    repo.ok("register", "churn", "--metric", "auc=0.93", "--meta", "k=v")
    return repo


def test_show_name_has_metric_and_meta_columns(scored: Repo) -> None:
    lines = scored.ok("show", "churn").splitlines()
    assert lines[0].split() == [
        "version", "stages", "commit", "registered", "by", "tag", "auc", "loss", "dataset", "k",
    ]  # fmt: skip
    cells = [line.split() for line in lines[1:]]
    assert [c[0] for c in cells] == ["v0.0.4", "v0.0.3", "v0.0.2", "v0.0.1"]
    assert [c[-4:] for c in cells] == [
        ["0.93", "-", "-", "v"],
        ["0.95", "1.5e-3", "-", "-"],
        ["-", "-", "-", "-"],
        ["0.91", "-", "2022-03", "-"],
    ]


def test_show_without_metrics_keeps_its_columns(repo: Repo) -> None:
    repo.ok("register", "churn")
    assert repo.ok("show", "churn").splitlines()[0].split() == [
        "version", "stages", "commit", "registered", "by", "tag",
    ]  # fmt: skip
    doc = json.loads(repo.ok("show", "churn@v0.0.1", "--json"))
    assert (doc["metrics"], doc["meta"]) == ({}, {})


def test_show_metric_sorts_highest_first_versions_without_it_last(scored: Repo) -> None:
    lines = scored.ok("show", "churn", "--metric", "auc").splitlines()[1:]
    assert [line.split()[0] for line in lines] == ["v0.0.3", "v0.0.4", "v0.0.1", "v0.0.2"]
    doc = json.loads(scored.ok("show", "churn", "--metric", "loss", "--json"))
    assert [v["version"] for v in doc["versions"]][:1] == ["v0.0.3"]
    assert doc["versions"][0]["metrics"] == {"auc": 0.95, "loss": 0.0015}
    assert scored.ok("show", "churn", "--metric", "auc", "--version").split() == [
        "v0.0.3", "v0.0.4", "v0.0.1", "v0.0.2",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["show", "churn", "--metric", "acu"], 1, "did you mean 'auc'?"),
        (["show", "churn", "--metric", "a b"], 129, "a key is a letter"),
        (["show", "churn", "--metric", "--upload-pack=x"], 129, "a key is a letter"),
        (["show", "--metric", "auc"], 129, "show NAME --metric KEY"),
        (["show", "churn@v0.0.1", "--metric", "auc"], 129, "show churn --metric KEY"),
        (["show", "churn#prod", "--metric", "auc"], 129, "show churn --metric KEY"),
        (["show", "churn", "--metric", "auc", "--plain"], 129, "not GTO's --plain"),
        (["show", "nosuch", "--metric", "auc"], 1, "nosuch"),
    ],
)
def test_show_metric_errors(scored: Repo, args: list[str], code: int, says: str) -> None:
    scored.ok("promote", "churn", "prod")
    result = scored.run(*args)
    assert result.code == code, result.err
    assert says in result.err
    assert result.out == ""


def test_show_one_version_json_has_metrics(scored: Repo) -> None:
    doc = json.loads(scored.ok("show", "churn@v0.0.1", "--json"))
    assert doc["metrics"] == {"auc": 0.91}
    assert doc["meta"] == {"dataset": "2022-03"}
    latest = json.loads(scored.ok("latest", "churn", "--json"))
    assert latest["metrics"] == {"auc": 0.93}
    # GTO's shapes are GTO's: no new keys.
    gto = json.loads(scored.ok("show", "--json=gto"))
    assert "metrics" not in json.dumps(gto)


# -- tags written by others ---------------------------------------------------------------


def test_bad_trailers_in_a_pushed_tag_are_ignored_with_escaped_warnings(repo: Repo) -> None:
    hand_tag(
        repo,
        "churn@v1.0.0",
        "Registering artifact churn version v1.0.0\n\n"
        "Registry-Metric: auc=abc\n"
        "Registry-Metric: f1=0.5\n"
        "Registry-Meta: note=\x1b[31mred\n"
        "Registry-Metric: ::set-output name=x::1=2\n"
        "Registry-Meta: ok=::warning::hi\n"
        "Registry-Metric: f1=0.7\n"
        "registry-metric: rec=0.25\n",
    )
    result = repo.run("show", "churn")
    assert result.code == 0
    header = result.out.splitlines()[0].split()
    assert header[-3:] == ["f1", "rec", "ok"]
    assert result.out.splitlines()[1].split()[-3:] == ["0.5", "0.25", "\\x3a:warning::hi"]
    warnings = result.err.splitlines()
    assert len(warnings) == 4, result.err
    assert all(w.startswith("warning: churn@v1.0.0: ignored trailer") for w in warnings)
    assert "'abc' is not a finite number" in result.err
    assert "'f1' is given twice" in result.err
    assert "\x1b" not in result.err + result.out
    assert "\\x1b[31mred" in result.err
    doc = json.loads(repo.run("show", "churn", "--json").out)
    assert doc["versions"][0]["metrics"] == {"f1": 0.5, "rec": 0.25}
    assert doc["versions"][0]["meta"] == {"ok": "::warning::hi"}


@pytest.mark.parametrize(
    "message",
    [
        "Registry-Metric: auc=0.9",  # a subject, not a trailer block
        "Subject\n\nRegistry-Metric: auc=0.9\nnot a trailer line",  # not a trailer block
        "Subject\n\nRegistry-Metric: auc=0.9\n\nThe end.",  # not the last paragraph
    ],
)
def test_registry_lines_outside_a_trailer_block_are_not_trailers(repo: Repo, message: str) -> None:
    hand_tag(repo, "churn@v1.0.0", message)
    result = repo.run("show", "churn@v1.0.0", "--json")
    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out)["metrics"] == {}


def test_a_trailer_with_a_continuation_line_is_ignored(repo: Repo) -> None:
    hand_tag(repo, "churn@v1.0.0", "S\n\nRegistry-Meta: a=b\n  more\nRegistry-Metric: x=1\n")
    result = repo.run("show", "churn@v1.0.0", "--json")
    assert result.code == 0
    assert "a value is one line" in result.err
    assert json.loads(result.out)["metrics"] == {"x": 1.0}
    assert json.loads(result.out)["meta"] == {}


# -- check-ref --------------------------------------------------------------------------


def test_check_ref_passes_metrics_to_ci(
    scored: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scored.ok("promote", "churn@v0.0.1", "prod")
    for ref in ("churn@v0.0.1", "churn#prod#1"):
        env = scored.ok("check-ref", ref, "--format", "env").splitlines()
        assert env[-2:] == ["REGISTRY_METRIC_AUC=0.91", "REGISTRY_META_DATASET=2022-03"]
        doc = json.loads(scored.ok("check-ref", ref, "--json"))
        assert (doc["metrics"], doc["meta"]) == ({"auc": 0.91}, {"dataset": "2022-03"})
        text = scored.ok("check-ref", ref).splitlines()
        assert text[1:] == ["  metric auc = 0.91", "  meta dataset = 2022-03"]
        dotenv = scored.ok("check-ref", ref, "--format", "dotenv").splitlines()
        assert "REGISTRY_METRIC_AUC=0.91" in dotenv
    output = tmp_path / "gh_output"
    output.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    scored.ok("check-ref", "churn@v0.0.3", "--format", "github")
    written = output.read_text()
    assert "\nmetric_auc<<ghadelimiter_" in written and "\n0.95\n" in written
    assert "\nmetric_loss<<ghadelimiter_" in written and "\n1.5e-3\n" in written


def test_check_ref_output_names_that_clash_keep_the_first(repo: Repo) -> None:
    hand_tag(
        repo,
        "churn@v1.0.0",
        "S\n\nRegistry-Metric: val.loss=1\nRegistry-Metric: val_loss=2\nRegistry-Metric: A-b=3\n",
    )
    result = repo.run("check-ref", "churn@v1.0.0", "--format", "env")
    assert result.code == 0
    assert "REGISTRY_METRIC_A_B=3" in result.out.splitlines()
    assert "REGISTRY_METRIC_VAL_LOSS=1" in result.out.splitlines()
    assert "REGISTRY_METRIC_VAL_LOSS=2" not in result.out
    assert "'val_loss' is left out of the outputs" in result.err


def test_check_ref_deregistration_and_deprecation_have_no_metrics(scored: Repo) -> None:
    scored.ok("deregister", "churn@v0.0.1")
    doc = json.loads(scored.ok("check-ref", "churn@v0.0.1!", "--json"))
    assert (doc["metrics"], doc["meta"]) == ({}, {})


# -- README -----------------------------------------------------------------------------


def test_the_readmes_metric_examples_run(repo: Repo) -> None:
    """The Writing block's ``register --metric`` line runs as written."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Writing\n\n```sh\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if "--metric" in line]
    assert lines
    for line in lines:
        command = line.partition("  # ")[0].split()
        assert command[:2] == ["git", "registry"]
        repo.ok(*command[2:])
        repo.commit()
    doc = json.loads(repo.ok("show", "churn@latest", "--json"))
    assert doc["metrics"] == {"auc": 0.93, "f1": 0.86}
    assert doc["meta"] == {"dataset": "2022-04"}


# -- GTO ----------------------------------------------------------------------------------


@pytest.mark.gto
def test_gto_reads_a_version_with_trailers(repo: Repo) -> None:
    """The trailers are only text in the message: GTO 1.10.1 reads the tags as any other."""
    import os
    import subprocess

    from gtotools import GTO, gto_problem_now, need_gto

    need_gto(gto_problem_now())
    repo.ok("register", "churn", "--metric", "auc=0.91", "--meta", "dataset=v2")
    repo.ok("promote", "churn", "prod")
    env = {**os.environ, "NO_COLOR": "1"}
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        env.pop(var, None)

    def gto(*args: str) -> str:
        proc = subprocess.run(
            [GTO, *args], cwd=repo.path, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert gto("show", "churn#prod", "--version").strip() == "v0.0.1"
    doc = json.loads(gto("show", "--json"))
    assert doc["churn"]["version"] == "v0.0.1"
    assert doc["churn"]["stage"]["prod"] == "v0.0.1"
    history = json.loads(gto("history", "churn", "--json"))
    assert {e["event"] for e in history} == {"registration", "assignment"}
