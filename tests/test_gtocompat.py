"""The gto-compat rule (issue 19), without GTO: what writes refuse without --force, what
``check`` warns about, and that hooks never refuse it. tests/test_gto_matrix.py shows,
with GTO 1.10.1 itself, that each of these states is what GTO fails on or reads otherwise.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from git_registry.gitvalues import ObjectId, Signature, TagObject, TagRef
from git_registry.gtocompat import GtoView, findings
from git_registry.rules import Rule
from git_registry.state import build_registry

from conftest import Repo

MANY = "'Multiple versions are not allowed on the same Git commit'"


def _tag(name: str, commit: str, time: int) -> TagRef:
    """An annotated tag ``name`` on the commit ``commit * 40``, tagged at ``time``."""
    oid = ObjectId(hashlib.sha1(name.encode()).hexdigest())
    tagger = Signature("T", "t@e", time, 0)
    return TagRef(name, oid, TagObject(oid, ObjectId(commit * 40), "commit", tagger, name))


@pytest.mark.core
def test_findings_of_a_commit_with_two_versions_and_a_stage_tag() -> None:
    events = [_tag("m@v0.0.1", "a", 10), _tag("m@v0.0.1!", "a", 20), _tag("m@v0.0.2", "a", 30)]
    registry = build_registry(events)
    found = findings(registry, GtoView())
    assert [(p.tag, p.rule) for p in found] == [("m@v0.0.2", Rule.GTO_COMPAT)]
    assert "as soon as a stage tag points at aaaaaaa" in found[0].message
    # A stage tag on that commit: GTO fails now, and the tag is named.
    events.append(_tag("m#prod#1", "a", 40))
    found = findings(build_registry(events), GtoView())
    assert [p.tag for p in found] == ["m@v0.0.2", "m#prod#1"]
    assert found[0].message.endswith(f"fail on the whole repository ({MANY}) now")
    assert "holds m v0.0.1 (deregistered) and v0.0.2" in found[1].message
    # One version per commit (a re-registration of the same version): nothing.
    again = [*events[:2], _tag("m@v0.0.1#1", "a", 30)]
    assert findings(build_registry(again), GtoView()) == []


@pytest.mark.core
def test_a_deprecation_gto_undoes_by_a_later_commit() -> None:
    events = [_tag("m@v0.0.1", "a", 10), _tag("m@deprecated", "a", 20)]
    registry = build_registry(events)
    times = {"a" * 40: 5, "b" * 40: 25}
    head_b = GtoView(ObjectId("b" * 40), frozenset({"m"}), times.get)
    found = findings(registry, head_b)
    assert [(p.artifact, p.tag) for p in found] == [("m", None)]
    assert found[0].message.startswith(
        "GTO 1.10.1 shows m as active, git registry as deprecated (m@deprecated): HEAD (bbbbbbb)"
    )
    # HEAD does not declare m, or was committed before the deprecation: the same reading.
    assert findings(registry, GtoView(ObjectId("b" * 40), frozenset(), times.get)) == []
    early = GtoView(ObjectId("b" * 40), frozenset({"m"}), {"b" * 40: 15}.get)
    assert findings(registry, early) == []


def test_a_second_version_on_a_commit_takes_force(repo: Repo) -> None:
    repo.ok("register", "m")
    repo.ok("deregister", "m@v0.0.1")
    before = repo.tags()
    result = repo.run("register", "m")
    assert result.code == 128
    assert result.err.startswith("fatal: refusing to create the tag: m@v0.0.2: GTO 1.10.1: commit ")
    assert (
        "and GTO 1.10.1 allows one version per commit: gto show, history and check-ref "
        f"fail on the whole repository ({MANY}) as soon as a stage tag points at" in result.err
    )
    assert "hint: re-register v0.0.1 there instead (git registry register m " in result.err
    assert repo.tags() == before
    # --dry-run says which rule refuses it, and what --force would do.
    result = repo.run("register", "m", "--dry-run")
    assert result.code == 1
    assert "  refused  m@v0.0.2: gto: GTO 1.10.1: commit" in result.out
    result = repo.run("register", "m", "--dry-run", "--force")
    assert result.code == 0
    assert "  forced   m@v0.0.2: gto: GTO 1.10.1: commit" in result.out
    # Re-registering the deregistered version is what GTO does itself: no finding.
    result = repo.run("register", "m", "--version", "v0.0.1", "--dry-run")
    assert "  ok       m@v0.0.1#1: gto: GTO 1.10.1 reads it" in result.out
    repo.ok("register", "m", "--force")
    assert "m@v0.0.2" in repo.tags()


def test_a_stage_tag_on_a_shared_commit_takes_force(repo: Repo) -> None:
    repo.ok("register", "m")
    repo.ok("deregister", "m@v0.0.1")
    repo.ok("register", "m", "--force")
    for args in (("promote", "m", "prod"), ("promote", "m", "prod", "--ref", "HEAD")):
        result = repo.run(*args)
        assert result.code == 128, args
        assert "m#prod#1: GTO 1.10.1 cannot tell which version this tag is about" in result.err
    result = repo.run("promote", "m", "prod", "--force")
    assert result.code == 0
    assert "warning: m#prod#1: GTO 1.10.1 cannot tell which version" in result.err
    assert result.err.rstrip().endswith("(--force: created anyway)")
    # Taking it back is a stage tag on that commit too.
    result = repo.run("unassign", "m", "prod")
    assert result.code == 128
    assert "--force creates such a tag anyway" in result.err
    repo.ok("unassign", "m", "prod", "--force")


def test_check_warns_and_fails_only_with_gto(repo: Repo) -> None:
    repo.ok("register", "m")
    repo.ok("deregister", "m@v0.0.1")
    repo.ok("register", "m", "--force")
    result = repo.run("check")
    assert result.code == 0
    assert result.out.startswith("m@v0.0.2: GTO 1.10.1: commit ")
    assert result.err.endswith(
        "no problems, 1 GTO compatibility warning (check --gto fails on them)\n"
    )
    result = repo.run("check", "--gto")
    assert result.code == 1
    assert result.err.endswith("no problems, 1 GTO compatibility warning\n")
    doc = json.loads(repo.run("check", "--json").out)
    assert [(p["tag"], p["rule"], p["severity"]) for p in doc["problems"]] == [
        ("m@v0.0.2", "gto-compat", "warning")
    ]
    assert repo.run("check", "--json", "--gto").code == 1


def test_check_says_gto_fails_now_while_head_declares_the_artifact(repo: Repo) -> None:
    repo.commit(files={"artifacts.yaml": "m:\n  path: model.bin\n"})
    repo.ok("register", "m")
    repo.ok("deregister", "m@v0.0.1")
    repo.ok("register", "m", "--force")
    out = repo.run("check").out.splitlines()
    assert out[0].endswith(f"({MANY}) now")
    assert out[1].startswith("m: GTO 1.10.1: HEAD (")
    assert "declares m in artifacts.yaml and holds m v0.0.1 (deregistered) and v0.0.2" in out[1]
    repo.commit()
    out = repo.run("check").out.splitlines()
    assert len(out) == 1 and "as soon as a stage tag points at" in out[0]


def test_deprecate_warns_that_gto_reactivates_and_check_reports_it(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit(files={"artifacts.yaml": "m:\n  path: model.bin\n"})
    repo.ok("register", "m")
    result = repo.run("deprecate", "m")
    assert result.code == 0
    assert (
        "warning: GTO 1.10.1 shows m as active again after the next commit, as long as "
        "artifacts.yaml declares it (git registry keeps it deprecated; 'git registry remove "
        "m --commit' retires it in both tools)"
    ) in result.err
    assert repo.run("check").code == 0
    assert repo.run("check").out == ""
    monkeypatch.setenv("GIT_COMMITTER_DATE", "1800000000 +0000")
    repo.commit(files={"artifacts.yaml": "m:\n  path: model.bin\nn:\n  path: b\n"})
    result = repo.run("check")
    assert result.code == 0
    assert result.out.startswith(
        "m: GTO 1.10.1 shows m as active, git registry as deprecated (m@deprecated): HEAD ("
    )
    repo.ok("remove", "m", "--commit")
    assert repo.run("check").out == ""


def test_deprecate_says_nothing_of_gto_for_an_undeclared_artifact(repo: Repo) -> None:
    repo.ok("register", "m")
    assert "GTO" not in repo.run("deprecate", "m").err


def test_hooks_accept_a_forced_tag(repo: Repo, remote: Repo) -> None:
    """The warning never refuses a push: a --force write must be publishable."""
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    repo.ok("register", "m")
    repo.ok("deregister", "m@v0.0.1")
    repo.ok("register", "m", "--force")
    repo.ok("promote", "m", "prod", "--force")
    repo.git("push", "-q", "origin", "--tags")
    assert set(remote.tags()) == set(repo.tags())


def test_check_warns_where_gto_settings_differ_from_our_policy(repo: Repo) -> None:
    """GTO never reads .registry.yaml: where .gto allows other stages or types, or sets
    another index file, the tools differ, and check says so; GTO refuses a broken .gto
    (which our policy, .registry.yaml, does not need): check says that too."""
    repo.commit(
        files={
            ".registry.yaml": "stages: [dev, prod]\ntypes: [model]\n",
            ".gto": "STAGES: [dev, qa]\ntypes: [model]\nIndex: models.yaml\n",
        }
    )
    result = repo.run("check")
    assert result.code == 0
    assert result.out.splitlines() == [
        "GTO 1.10.1 reads the annotations from models.yaml (.gto: index), git registry from "
        "artifacts.yaml files: the two tools list other artifacts",
        "GTO 1.10.1 allows the stages of .gto (dev, qa), git registry those of .registry.yaml "
        "(dev, prod): gto assign accepts or refuses others",
    ]
    repo.commit(files={".gto": "stages: [dev, prod]\ntypes: [model]\n"})
    assert repo.run("check").out == ""
    repo.commit(files={".gto": "stages: [dev, prod]\nfoo: 1\n"})
    assert repo.run("check").out == (
        "GTO 1.10.1 refuses .gto (.gto:2:1: unknown key 'foo': GTO 1.10.1 refuses the file "
        "('Wrong config file') (its keys, in any case: index, config_file_name, log_level, "
        "debug, emojis, types, stages, enrichments, autoload_enrichments)), so every gto "
        "command fails ('Wrong config file'); git registry reads .registry.yaml\n"
    )
