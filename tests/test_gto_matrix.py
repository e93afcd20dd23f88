"""Both tools on one repository (issue 19): every write of each, then every read of the
other, on the same repository.

Part A: our write commands (``--force``, ``--simple``, ``--delete``, monorepo names,
pre-release versions), then GTO 1.10.1's ``show``, ``show --json``, ``history`` and
``check-ref`` of every tag. Part B: GTO's writes (``register --bump-*``, ``assign --sr``,
``deprecate`` in its three forms, ``--simple false``), then ours.

Both must agree on latest versions, stage holders and active artifacts, or the difference
is one the README's "Relation to GTO" lists, and ``check`` reports it (``gto-compat``,
or for GTO's "ghost" versions, ``no-version``). Each scenario says which artifacts differ
and whether GTO can read the repository at all, so that a new difference fails a test.

GTO starts in about half a second: each scenario reads with GTO once per command (one
``show --json``, one ``history --json``), plus one ``check-ref`` per tag.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_gto_interop import (
    Clock,
    Gto,
    assert_same_check_ref,
    gto_held,
    gto_problem,
    held,
    our_show,
    require_gto,
)
from test_policy import GTO_CONFIGS

from git_registry.policy import parse_policy

from conftest import Repo

__all__ = ["gto_problem", "require_gto"]  # the fixtures, used here too

pytestmark = [pytest.mark.gto, pytest.mark.slow]

GTO_PYTHON = os.path.join(os.path.dirname(sys.executable), "python")
"""The interpreter GTO is installed in (the test interpreter's environment)."""
MANY_VERSIONS = "Multiple versions are not allowed on the same Git commit"

Step = tuple[str, ...]
"""Our command's arguments; or ``("commit",)``: a new commit; ``("yaml", TEXT)``: commit
the root artifacts.yaml; ``("file", PATH, TEXT)``: commit a file; ``("refused", *args)``:
a write refused without --force."""


@dataclass(frozen=True)
class Scenario:
    steps: list[Step]
    differ: set[str] = field(default_factory=set)
    """Artifacts the two tools show otherwise, or only one of them lists (check warns about
    each)."""
    breaks_gto: str = ""
    """What GTO says when it cannot read the repository (only reachable with --force)."""
    warned: bool = False
    """check has gto-compat warnings even where the tables agree (a latent state)."""


SCENARIOS: dict[str, Scenario] = {
    "every-write": Scenario(
        [
            ("register", "m"),
            ("promote", "m", "prod"),
            ("promote", "m", "staging", "--simple"),
            ("register", "dir/sub:name", "--version", "v1.0.0"),
            ("promote", "dir/sub:name@v1.0.0", "dev"),
            ("commit",),
            ("register", "m", "--bump-minor"),
            ("promote", "m", "prod"),
            ("unassign", "m", "prod"),  # falls back to v0.0.1
            ("promote", "m@v0.1.0", "dev", "--simple"),
            ("commit",),
            ("register", "m", "--version", "v2.0.0-rc.1"),
            ("promote", "m@v2.0.0-rc.1", "dev"),
            ("deregister", "m@v2.0.0-rc.1"),  # dev falls back to v0.1.0
            ("commit",),
            ("register", "m", "--bump-major"),
            ("register", "dir/sub:name", "--version", "v1.0.1+build.5"),
            ("register", "old"),
            ("deprecate", "old"),
            ("deprecate", "ghost", "--force"),  # no tags yet: on HEAD
        ]
    ),
    "force": Scenario(
        [
            ("register", "m"),
            ("promote", "m", "prod"),
            ("promote", "m", "prod", "--force"),  # a second assignment of the holder
            ("commit",),
            ("register", "m"),
            ("promote", "m", "prod"),
            ("unassign", "m", "prod"),  # back to v0.0.1
            ("unassign", "m@v0.0.2", "dev", "--force"),  # not in dev
            ("deregister", "m@v0.0.2"),
            ("deregister", "m@v0.0.2", "--force"),  # again
            ("deprecate", "m"),
            ("deprecate", "m", "--force"),  # again
        ]
    ),
    "delete": Scenario(
        [
            ("register", "m"),
            ("promote", "m", "prod"),
            ("commit",),
            ("register", "m"),
            ("promote", "m", "prod"),
            ("promote", "m", "dev"),
            ("unassign", "m", "prod", "--delete"),  # back to v0.0.1
            ("commit",),
            ("register", "m"),
            ("deregister", "m@v0.0.3", "--delete"),
            ("register", "x"),
            ("promote", "x", "prod"),
            ("deprecate", "x", "--delete"),  # x is gone
        ]
    ),
    "simple": Scenario(
        [
            ("register", "m"),
            ("promote", "m", "prod", "--simple"),
            ("unassign", "m", "prod", "--simple"),
            ("promote", "m", "prod"),  # m#prod exists: with a counter
            ("deregister", "m@v0.0.1"),
            ("register", "m", "--version", "v0.0.1"),  # again, on its own commit
            ("promote", "m", "staging"),
        ]
    ),
    "monorepo-prerelease": Scenario(
        [
            ("register", "models/cv:seg", "--version", "v1.0.0-alpha.1"),
            ("promote", "models/cv:seg", "dev"),
            ("commit",),
            ("register", "models/cv:seg", "--version", "v1.0.0-alpha.2"),
            ("commit",),
            ("register", "models/cv:seg", "--version", "v1.0.0"),
            ("promote", "models/cv:seg@v1.0.0-alpha.2", "prod"),
            ("register", "nlp.v2/bert:base"),
        ]
    ),
    "reactivation": Scenario(
        [
            ("register", "m"),
            ("promote", "m", "prod"),
            ("deprecate", "m"),
            ("commit",),
            ("register", "m"),  # active again, in both
            ("deprecate", "m"),
            ("promote", "m", "dev"),
        ]
    ),
    "second-version-forced": Scenario(
        [
            ("register", "m"),
            ("deregister", "m@v0.0.1"),
            ("refused", "register", "m"),
            ("register", "m", "--force"),
            ("refused", "promote", "m", "prod"),
            ("promote", "m", "prod", "--force"),
        ],
        breaks_gto=MANY_VERSIONS,
        warned=True,
    ),
    "promote-ref-forced": Scenario(
        [
            ("register", "m"),
            ("deregister", "m@v0.0.1"),
            ("refused", "promote", "m", "prod", "--ref", "HEAD"),
            ("promote", "m", "prod", "--ref", "HEAD", "--force"),
        ],
        breaks_gto=MANY_VERSIONS,
        warned=True,
    ),
    "second-version-at-head": Scenario(
        [
            ("yaml", "m:\n  path: model.bin\n"),
            ("register", "m"),
            ("deregister", "m@v0.0.1"),
            ("register", "m", "--force"),
        ],
        breaks_gto=MANY_VERSIONS,
        warned=True,
    ),
    "yaml-1.2-date": Scenario(
        [
            ("yaml", "m:\n  path: model.bin\n  description: 2024-01-01\n"),
            ("refused", "register", "m"),
            ("register", "m", "--force"),
            ("yaml", "m:\n  path: model.bin\n  description: '2024-01-01'\n"),
        ],
        breaks_gto="artifacts.yaml file doesn't conform to GTO format",  # v0.0.1's commit
    ),
    "second-version-latent": Scenario(
        [
            ("yaml", "m:\n  path: model.bin\n"),
            ("register", "m"),
            ("deregister", "m@v0.0.1"),
            ("register", "m", "--force"),
            ("commit",),  # HEAD moves on: GTO reads the repository again
        ],
        warned=True,
    ),
    "folder-declared": Scenario(
        [
            ("file", "models/cv/artifacts.yaml", "seg:\n  path: w.bin\nunet:\n  path: u.bin\n"),
            ("register", "models/cv:seg"),  # listed by both from now on
            ("promote", "models/cv:seg", "prod"),
        ],
        differ={"models/cv:unet"},  # declared there, no tags: GTO does not read that file
    ),
    "deprecated-then-commit": Scenario(
        [
            ("yaml", "m:\n  path: model.bin\n"),
            ("register", "m"),
            ("promote", "m", "prod"),
            ("deprecate", "m"),
            ("yaml", "m:\n  path: model.bin\nn:\n  path: other.bin\n"),
        ],
        differ={"m"},
    ),
}


def _apply(repo: Repo, clock: Clock, step: Step) -> None:
    if step[0] == "commit":
        clock.tick()
        repo.commit()
    elif step[0] == "yaml":
        clock.tick()
        repo.commit(files={"artifacts.yaml": step[1]})
    elif step[0] == "file":
        clock.tick()
        repo.commit(files={step[1]: step[2]})
    elif step[0] == "refused":
        clock.tick()
        before = repo.tags()
        result = repo.run(*step[1:])
        assert result.code == 128, (step, result.out, result.err)
        assert "GTO 1.10.1" in result.err and "--force" in result.err, result.err
        assert repo.tags() == before
    else:
        clock.tick()
        result = repo.run(*step)
        assert result.code == 0, (step, result.out, result.err)


def gto_warnings(repo: Repo) -> tuple[int, list[dict[str, Any]]]:
    """``check --json``'s exit status and its gto-compat warnings."""
    result = repo.run("check", "--json")
    problems = json.loads(result.out)["problems"]
    return result.code, [p for p in problems if p["rule"] == "gto-compat"]


def assert_both_read_alike(repo: Repo, gto: Gto, differ: set[str]) -> None:
    """GTO's ``show --json`` (with and without ``-d``) and ours agree on every artifact
    but ``differ``; ``history`` lists the same tags; ``check-ref`` of every tag says the
    same."""
    mine = our_show(repo)
    every = gto.json("show", "--json", "-d")
    active = gto.json("show", "--json")
    found_differ = set(every).symmetric_difference(mine)  # listed by one tool only
    for name, g in every.items():
        if name not in mine:
            continue
        a = mine[name]
        ours = (a["latest"], held(a), not a["deprecated"])
        theirs = (g["version"], gto_held(g), g["active"])
        if ours != theirs:
            found_differ.add(name)
    assert found_differ == differ, {
        n: (mine.get(n), every.get(n)) for n in found_differ.symmetric_difference(differ)
    }
    assert {n for n, g in every.items() if g["active"]} == set(active)
    events = json.loads(repo.ok("history", "--json"))["events"]
    assert sorted(e["ref"] for e in gto.json("history", "--json")) == sorted(
        e["tag"] for e in events
    )
    for tag in repo.tags():
        assert_same_check_ref(gto, repo, tag)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_gto_reads_what_we_write(name: str, repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = SCENARIOS[name]
    clock = Clock(monkeypatch)
    for step in scenario.steps:
        _apply(repo, clock, step)
    repo.fsck()
    gto = Gto(repo)
    code, warnings = gto_warnings(repo)
    assert code == 0  # warnings alone do not fail check
    warned_about = {w["artifact"] for w in warnings}
    if scenario.breaks_gto:
        for args in (("show",), ("history",), ("check-ref", next(iter(repo.tags())))):
            proc = gto.run(*args)
            assert proc.returncode != 0, args
            assert scenario.breaks_gto in proc.stdout + proc.stderr
        assert "m" in warned_about
        assert repo.run("check", "--gto").code == 1
        return
    assert_both_read_alike(repo, gto, scenario.differ)
    assert warned_about == scenario.differ | ({"m"} if scenario.warned else set())
    assert repo.run("check", "--gto").code == (1 if warned_about else 0)


# --------------------------------------------------------------------------------------
# Part B: GTO writes, we read
# --------------------------------------------------------------------------------------


def test_we_read_every_gto_write(repo: Repo) -> None:
    """register with each bump, --version and --simple false; assign with --version,
    --simple true and false, --force and --sr (a "ghost" version: GTO shows the commit as
    the stage's holder, we register nothing and check reports it); deprecate an
    assignment, a version and an artifact, in simple and counted forms."""
    gto = Gto(repo)
    gto.write("register", "m")  # m@v0.0.1
    gto.write("assign", "m", "--version", "v0.0.1", "--stage", "dev")
    gto.write("register", "n", "--simple", "false", new_second=False)  # n@v0.0.1#1
    repo.commit()
    gto.write("register", "m", "--bump-major")  # v1.0.0
    gto.write("assign", "m", "--version", "v1.0.0", "--stage", "prod", "--simple", "true")
    gto.write("register", "n", "--bump-minor", "--simple", "false", new_second=False)
    repo.commit()
    gto.write("register", "m", "--bump-minor")  # v1.1.0
    gto.write("assign", "m", "--version", "v1.1.0", "--stage", "prod", "--simple", "false")
    gto.write("assign", "m", "--version", "v1.1.0", "--stage", "prod", "--force")
    gto.write("register", "n", "--bump-patch", new_second=False)  # v0.1.1
    repo.commit()
    gto.write("register", "m", "--version", "v2.0.0-rc.1")
    gto.write("assign", "m", "--version", "v2.0.0-rc.1", "--stage", "dev")
    gto.write("deprecate", "m", "v2.0.0-rc.1", "dev")  # dev back to v0.0.1
    gto.write("deprecate", "m", "v1.1.0", "prod", "--simple", "false")
    gto.write("deprecate", "n", "v0.1.1")  # deregistered
    gto.write("deprecate", "n", "v0.1.0", "--simple", "false")
    gto.write("register", "old", new_second=False)
    gto.write("deprecate", "old")  # a later second: a tie would leave it active
    repo.commit()
    gto.write("assign", "ghost", "HEAD", "--stage", "prod", "--sr")
    repo.fsck()

    mine = our_show(repo)
    expected = {
        "m": ("v2.0.0-rc.1", {"dev": "v0.0.1", "prod": "v1.0.0"}, True),
        "n": ("v0.0.1", {}, True),
        "old": ("v0.0.1", {}, False),
    }
    assert {
        n: (a["latest"], held(a), not a["deprecated"]) for n, a in mine.items() if n != "ghost"
    } == expected
    every = gto.json("show", "--json", "-d")
    assert {
        n: (g["version"], gto_held(g), g["active"]) for n, g in every.items() if n != "ghost"
    } == expected
    # The difference: GTO's ghost version, the commit itself holding prod.
    head = repo.git("rev-parse", "HEAD").strip()
    assert gto_held(every["ghost"]) == {"prod": head}
    assert "ghost" not in mine or held(mine["ghost"]) == {}
    result = repo.run("check", "--json")
    assert result.code == 1
    rules = {(p["tag"], p["rule"]) for p in json.loads(result.out)["problems"]}
    assert rules == {("ghost#prod#1", "no-version")}

    events = json.loads(repo.ok("history", "--json"))["events"]
    ours = sorted(e["tag"] for e in events)
    assert sorted(e["ref"] for e in gto.json("history", "--json")) == sorted(
        [*ours, "ghost#prod#1"]
    )
    for tag in repo.tags():
        if tag != "ghost#prod#1":
            assert_same_check_ref(gto, repo, tag)
    for name in ("m", "n"):
        assert repo.ok("latest", name).strip() == expected[name][0]
    assert repo.ok("which", "m", "prod").strip() == "v1.0.0"
    assert repo.ok("which", "m", "dev").strip() == "v0.0.1"


# --------------------------------------------------------------------------------------
# .gto as GTO reads it
# --------------------------------------------------------------------------------------

_READ_CONFIGS = """
import json, sys
from gto.config import read_registry_config
out = []
for path in sys.argv[1:]:
    try:
        stages = read_registry_config(path).stages
        out.append(stages)
    except Exception:
        out.append("refused")
print(json.dumps(out))
"""


def test_gto_reads_each_gto_config_as_we_do(tmp_path: Path) -> None:
    """Every .gto of test_policy's table, read by GTO's own config reader (in one Python
    process, GTO's installation): the same stages, and refused where we report a problem."""
    paths = []
    for i, (text, _) in enumerate(GTO_CONFIGS):
        path = tmp_path / f"config-{i}" / ".gto"
        path.parent.mkdir()
        path.write_text(text)
        paths.append(str(path))
    proc = subprocess.run(
        [GTO_PYTHON, "-c", _READ_CONFIGS, *paths], capture_output=True, text=True, check=True
    )
    read = json.loads(proc.stdout)
    for (text, expected), theirs in zip(GTO_CONFIGS, read, strict=True):
        mine = (
            "refused"
            if parse_policy(text.encode(), ".gto")[1]
            else parse_policy(text.encode(), ".gto")[0].stages
        )
        # GTO keeps a name listed twice; it allows the same stages.
        allowed = theirs if theirs in ("refused", None) else tuple(dict.fromkeys(theirs))
        assert (text, allowed) == (text, mine)
        assert (text, mine) == (text, expected)


def test_gto_and_we_refuse_a_stage_gto_config_leaves_out(repo: Repo) -> None:
    """``STAGES: [dev, prod]``: ``gto assign --stage qa`` and our promote refuse qa; both
    accept prod."""
    repo.commit(files={".gto": "STAGES: [dev, prod]\n"})
    gto = Gto(repo)
    repo.ok("register", "m")  # (at the fixture's date: before GTO's, which is now)
    proc = gto.write("assign", "m", "--version", "v0.0.1", "--stage", "qa", check=False)
    assert proc.returncode != 0
    assert "Allowed stages are: '['dev', 'prod']'" in proc.stdout + proc.stderr
    result = repo.run("promote", "m", "qa")
    assert result.code == 128
    assert "stage 'qa' is not allowed by .gto (allowed: dev, prod)" in result.err
    gto.write("assign", "m", "--version", "v0.0.1", "--stage", "prod")
    assert repo.ok("which", "m", "prod").strip() == "v0.0.1"
    assert repo.run("check").code == 0


_YAML12_TYPES = """
import json, sys
from ruamel.yaml import YAML
yaml = YAML(typ="safe", pure=True)
print(json.dumps([type(yaml.load("v: " + text)["v"]).__name__ for text in sys.argv[1:]]))
"""

PLAIN_TEXTS = [
    "2024-01-01",
    "2024-1-2",
    "2001-12-14t21:59:43.10-05:00",
    "0o17",
    "0x1F",
    "017",
    "1_000",
    "1.5",
    ".5",
    "1e3",
    "1.0e+3",
    ".inf",
    "-.Inf",
    ".nan",
    "true",
    "False",
    "null",
    "~",
    "yes",
    "no",
    "on",
    "Off",
    "y",
    "n",
    "1:20",
    "v1.0.0",
    "model",
    "s3://b/k",
    "2024-01",
    "12:30:00",
    "0b101",
    "+12",
    "-0",
    "1.2.3",
    "0o8",
    "0xZ",
    "6.8523015e+5",
    "685_230.15",
]


def test_we_know_which_plain_scalars_gto_reads_as_strings() -> None:
    """gtocompat's list of what YAML 1.2 (GTO's ruamel reader) reads as something else
    than a string, where PyYAML reads a string: checked against ruamel itself."""
    from git_registry.gtocompat import yaml12_problem
    from git_registry.yamlsafe import load

    proc = subprocess.run(
        [GTO_PYTHON, "-c", _YAML12_TYPES, *PLAIN_TEXTS], capture_output=True, text=True, check=True
    )
    for text, theirs in zip(PLAIN_TEXTS, json.loads(proc.stdout), strict=True):
        root, _ = load(f"v: {text}".encode())
        assert root is not None
        if not isinstance(root.value[0][1].value, str):
            continue  # we do not read a string either: our validator refuses it
        data = f"m:\n  description: {text}\n".encode()
        assert (text, yaml12_problem(data) is not None) == (text, theirs != "str")


def test_gto_reads_gto_settings_where_we_read_registry_yaml(repo: Repo) -> None:
    """With both files, GTO applies .gto and we .registry.yaml: where they differ,
    check warns; where GTO refuses .gto, every gto command fails, and check says so."""
    repo.commit(files={".registry.yaml": "stages: [dev, prod]\n", ".gto": "stages: [dev, qa]\n"})
    gto = Gto(repo)
    repo.ok("register", "m")
    gto.write("assign", "m", "--version", "v0.0.1", "--stage", "qa")  # GTO allows qa
    assert repo.run("promote", "m", "qa").code == 128  # we do not
    result = repo.run("check")
    assert "GTO 1.10.1 allows the stages of .gto (dev, qa)" in result.out
    repo.commit(files={".gto": "stages: [dev, prod]\nfoo: 1\n"})
    proc = gto.run("show")
    assert proc.returncode != 0
    assert "Wrong config file" in proc.stdout + proc.stderr
    result = repo.run("check")
    assert result.code == 1  # m#qa#1 breaks our policy's stage rule: an error
    assert "GTO 1.10.1 refuses .gto (.gto:2:1: unknown key 'foo'" in result.out


def test_a_created_tag_breaks_gto_and_check_says_so(repo: Repo) -> None:
    """GTO's grammar has NAME@created, which GTO never writes and cannot read: a tag
    of that name, made by hand, stops every gto command. We ignore it; check warns."""
    repo.ok("register", "m")
    repo.tag("x@created", message="by hand")
    proc = Gto(repo).run("show")
    assert proc.returncode != 0
    result = repo.run("check", "--json")
    assert result.code == 0
    found = [(p["tag"], p["rule"]) for p in json.loads(result.out)["problems"]]
    assert found == [("x@created", "gto-compat")]
    assert repo.ok("latest", "m").strip() == "v0.0.1"


def test_gto_reads_what_annotate_writes_for_yaml_12_lookalikes(repo: Repo) -> None:
    """annotate quotes the values a YAML 1.2 reader would take for numbers or dates, so
    GTO reads them as the strings they are; a version of that commit is readable."""
    repo.ok("annotate", "m", "--path", "0o17", "--description", ".inf", "--label", "2024-01-01")
    text = (repo.path / "artifacts.yaml").read_text()
    assert "path: '0o17'" in text and "description: '.inf'" in text
    assert "'2024-01-01'" in text
    repo.git("add", "artifacts.yaml")
    repo.git("commit", "-q", "-m", "annotate")
    repo.ok("register", "m")
    assert repo.run("check").out == ""
    gto = Gto(repo)
    assert gto.json("show", "--json")["m"]["version"] == "v0.0.1"
    proc = subprocess.run(
        [GTO_PYTHON, "-c", _DESCRIBE, str(repo.path), "m"],
        capture_output=True,
        text=True,
        check=True,
    )
    described = json.loads(proc.stdout)
    assert (described["path"], described["description"]) == ("0o17", ".inf")
    assert described["labels"] == ["2024-01-01"]


_DESCRIBE = """
import sys
from gto.api import describe
print(describe(sys.argv[1], sys.argv[2]).model_dump_json())
"""
