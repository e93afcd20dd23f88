"""The everyday lifecycle as a team meets it (issue 15): promoting the version a stage fell
back to pins it (item 1); a deprecated artifact's stages are not served, and writes that
leave a stage holder behind say so (item 2). Real repositories, real pushes, real hooks."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest

from git_registry.policy import CONFIG_FILE

from conftest import Repo, SshSigner, allowed_signers, make_registry, sign_with_ssh


def push(repo: Repo, *refs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "origin", *refs], cwd=repo.path, capture_output=True, text=True, check=False
    )


def tag_row(repo: Repo, name: str) -> str:
    """What ``git for-each-ref`` says of one tag: type, peeled commit, tagger, subject."""
    return repo.git(
        "for-each-ref",
        "--format=%(objecttype) %(*objectname) %(taggername) %(contents:subject)",
        f"refs/tags/{name}",
    ).strip()


def rolled_back(repo: Repo, *, push_too: bool = False) -> tuple[str, str]:
    """churn v1.0.0 (first commit) promoted to prod, then v1.1.0 (a second commit), then
    prod rolled back: it falls back to v1.0.0 through churn#prod#1. Returns the commits."""
    more = ("--push",) if push_too else ()
    first = repo.git("rev-parse", "HEAD").strip()
    repo.ok("register", "churn", "--version", "v1.0.0", *more)
    repo.ok("promote", "churn@v1.0.0", "prod", *more)
    second = repo.commit()
    repo.ok("register", "churn", "--version", "v1.1.0", *more)
    repo.ok("promote", "churn@v1.1.0", "prod", *more)
    out = repo.ok("rollback", "churn", "prod", *more)
    assert "Now prod of churn is v1.0.0 (through churn#prod#1)" in out
    return first, second


# -- item 1: promoting the fallback version pins it --------------------------------------------


FALLBACK = (
    "churn v1.0.0 held prod only by fallback (v1.1.0 was unassigned from it by churn#prod!#3)"
)
PINNED = f"{FALLBACK}: the new assignment pins it"


def test_promoting_the_version_a_stage_fell_back_to_pins_it(repo: Repo) -> None:
    first, _ = rolled_back(repo)
    result = repo.run("promote", "churn@v1.0.0", "prod")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        f"Created tag churn#prod#4: assigns stage prod to churn v1.0.0 at commit {first[:7]}"
    )
    assert lines[-1] == PINNED  # said once it is done
    assert result.err == ""
    assert tag_row(repo, "churn#prod#4") == (
        f"tag {first} Cy Committer Assigning stage prod to artifact churn version v1.0.0"
    )
    assert repo.ok("which", "churn", "prod", "--ref") == "churn#prod#4\n"
    repo.fsck()
    assert repo.run("check").code == 0
    # Now it holds prod through prod's newest assignment: promoting it again is refused,
    # saying so and what to do.
    before = repo.tags()
    result = repo.run("promote", "churn@v1.0.0", "prod")
    assert result.code == 128 and result.out == ""
    assert result.err == (
        "fatal: churn v1.0.0 already holds stage 'prod' through prod's newest assignment "
        "(churn#prod#4): nothing to pin\n"
        "hint: it keeps prod until another version is promoted to it; "
        "use --force to create another assignment tag anyway\n"
    )
    assert repo.tags() == before
    repo.ok("promote", "churn@v1.0.0", "prod", "--force")
    assert "churn#prod#5" in repo.tags()


def test_the_fallback_after_a_deregistration_is_pinned_too(repo: Repo) -> None:
    rolled_back(repo)
    repo.ok("promote", "churn@v1.1.0", "prod")  # churn#prod#4
    repo.ok("deregister", "churn@v1.1.0")
    out = repo.ok("promote", "churn", "prod", "--version", "v1.0.0")
    assert out.startswith("Created tag churn#prod#5: ")
    assert out.splitlines()[-1] == (
        "churn v1.0.0 held prod only by fallback (v1.1.0 was deregistered by "
        "churn@v1.1.0!): the new assignment pins it"
    )


def test_dry_run_says_it_would_pin_and_creates_nothing(repo: Repo) -> None:
    rolled_back(repo)
    before = repo.tags()
    result = repo.run("promote", "churn@v1.0.0", "prod", "--dry-run")
    assert result.code == 0 and repo.tags() == before
    lines = result.out.splitlines()
    assert lines[0] == f"{FALLBACK}: a new assignment would pin it"
    assert lines[1].startswith("Would create churn#prod#4: assigns stage prod to churn v1.0.0")
    assert "nothing was created (--dry-run)" in result.err


GOVERNED = """\
stages: [staging, prod]
promotion:
  prod:
    after: [staging]
    branches: [main]
"""


def test_a_pin_is_judged_by_the_promotion_rules(repo: Repo) -> None:
    """The pin is a new assignment: the rules of today's policy judge it, as any other."""
    repo.git("checkout", "-q", "-b", "feature")
    first = repo.commit("off main")
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn@v1.0.0", "prod")  # before the policy: no rule then
    repo.git("checkout", "-q", "main")
    repo.commit("next")
    repo.ok("register", "churn", "--version", "v1.1.0")
    repo.ok("promote", "churn@v1.1.0", "prod")
    repo.ok("rollback", "churn", "prod")
    repo.commit("policy", {CONFIG_FILE: GOVERNED})
    before = repo.tags()
    result = repo.run("promote", "churn@v1.0.0", "prod")
    assert result.code == 128 and repo.tags() == before
    assert result.out == ""  # nothing pinned: no word of pinning
    assert (
        "fatal: refusing to create the tag: churn#prod#4: churn@v1.0.0 has not been in "
        "staging before prod (.registry.yaml:3 promotion: prod: after)"
    ) in result.err
    result = repo.run("promote", "churn@v1.0.0", "prod", "--dry-run")
    assert result.code == 1 and repo.tags() == before
    assert result.out.splitlines()[0] == f"{FALLBACK}: a new assignment would pin it"
    assert "  refused  churn#prod#4: after: churn@v1.0.0 has not been in staging" in result.out
    assert (
        f"  refused  churn#prod#4: branches: commit {first[:7]} of churn@v1.0.0 is not on main"
    ) in result.out
    repo.ok("promote", "churn@v1.0.0", "staging")  # churn#staging#4
    repo.git("merge", "-q", "--no-edit", "-s", "ours", "feature")  # now on main
    out = repo.ok("promote", "churn@v1.0.0", "prod", "--dry-run")
    assert "  ok       churn#prod#5: after: v1.0.0 held staging first (churn#staging#4)" in out
    assert f"  ok       churn#prod#5: branches: commit {first[:7]} is on main" in out
    assert repo.ok("promote", "churn@v1.0.0", "prod").splitlines()[-1] == PINNED
    assert tag_row(repo, "churn#prod#5").startswith(f"tag {first} ")


def test_a_pin_pushed_with_push_is_accepted_by_both_hooks(repo: Repo, remote: Repo) -> None:
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    first, _ = rolled_back(repo, push_too=True)
    out = repo.ok("promote", "churn@v1.0.0", "prod", "--push")
    assert out.splitlines()[-1] == PINNED
    assert "Pushed churn#prod#4" in out
    assert tag_row(remote, "churn#prod#4") == tag_row(repo, "churn#prod#4")
    assert tag_row(remote, "churn#prod#4").startswith(f"tag {first} ")
    assert remote.ok("which", "churn", "prod", "--ref") == "churn#prod#4\n"
    # The pre-push hook alone, by a plain git push, accepts a pin as well.
    repo.ok("promote", "churn@v1.1.0", "prod")
    repo.ok("rollback", "churn", "prod")
    repo.ok("promote", "churn@v1.0.0", "prod")
    result = push(repo, "churn#prod#5", "churn#prod!#6", "churn#prod#7")
    assert result.returncode == 0, result.stderr
    assert remote.ok("which", "churn", "prod", "--ref") == "churn#prod#7\n"


def test_a_pin_of_a_signed_stage_is_signed_and_its_signer_judged(
    repo: Repo, remote: Repo, make_ssh_signer: Callable[[str], SshSigner]
) -> None:
    alice = make_ssh_signer("alice@acme.example")
    bob = make_ssh_signer("bob@acme.example")
    remote.ok("hooks", "install", "--server")
    rolled_back(repo, push_too=True)
    keys = ".registry/allowed_signers"
    policy = "promotion:\n  prod:\n    signed: true\n    signers: [alice@acme.example]\n"
    policy += f"allowed_signers: {keys}\n"
    repo.commit("policy", {CONFIG_FILE: policy, keys: allowed_signers(alice, bob).decode()})
    repo.git("push", "-q", "origin", "main")
    sign_with_ssh(repo, bob)
    before = repo.tags()
    result = repo.run("promote", "churn@v1.0.0", "prod", "--push")
    assert result.code == 128 and repo.tags() == before
    assert "signed by bob@acme.example" in result.err
    assert "who is not one of prod's signers" in result.err
    sign_with_ssh(repo, alice)
    result = repo.run("promote", "churn@v1.0.0", "prod", "--push")
    assert result.code == 0, result.err
    assert "Created tag churn#prod#4 (signed): assigns stage prod" in result.out
    assert "churn#prod#4" in remote.tags()


# -- item 2: a deprecated artifact's stages are not served -----------------------------------

DATE = "2023-11-14"  # FIXED_TIME, as the hermetic fixture dates every tag
NOTE = f"artifact 'fraud' is deprecated (fraud@deprecated, {DATE})"


@pytest.fixture
def deprecated(repo: Repo) -> Repo:
    """fraud: v1.0.0 in prod, v1.1.0 deregistered, then deprecated; churn v0.0.1 in prod."""
    out = make_registry(
        repo,
        "fraud@v1.0.0 fraud#prod#1 commit fraud@v1.1.0 churn@v0.0.1 churn#prod#1",
    )
    repo.ok("deregister", "fraud@v1.1.0")
    result = repo.run("deprecate", "fraud")
    assert result.code == 0, result.err
    assert result.out.startswith("Created tag fraud@deprecated: deprecates fraud at commit ")
    assert result.err == (
        "warning: fraud v1.0.0 held prod (fraud#prod#1): it is no longer served "
        "('which fraud prod' exits 1; --all prints it)\n"
    )
    return out


def refused_read(repo: Repo, *args: str) -> str:
    """A read of a deprecated artifact: exit 1, nothing on stdout; returns stderr."""
    result = repo.run(*args)
    assert (result.code, result.out) == (1, ""), result
    return result.err


def test_which_and_latest_do_not_serve_a_deprecated_artifact(deprecated: Repo) -> None:
    assert refused_read(deprecated, "which", "fraud", "prod") == (
        f"error: {NOTE}: its stages are not served\n"
        "hint: print it anyway with: git registry which fraud prod --all\n"
    )
    assert refused_read(deprecated, "which", "fraud", "prod", "--ref", "--all-versions") == (
        f"error: {NOTE}: its stages are not served\n"
        "hint: print it anyway with: git registry which fraud prod --all\n"
    )
    # A stage it never held: no hint, --all would find nothing either.
    assert refused_read(deprecated, "which", "fraud", "dev") == (
        f"error: {NOTE}: its stages are not served\n"
    )
    assert refused_read(deprecated, "latest", "fraud") == (
        f"error: {NOTE}: its latest version is not served\n"
        "hint: print it anyway with: git registry latest fraud --all\n"
    )
    # --all prints the old value, and warns.
    result = deprecated.run("which", "fraud", "prod", "--all")
    assert (result.code, result.out) == (0, "v1.0.0\n")
    assert result.err == f"warning: {NOTE}: the version holding prod is printed anyway (--all)\n"
    result = deprecated.run("latest", "fraud", "--all", "--ref")
    assert (result.code, result.out) == (0, "fraud@v1.0.0\n")
    assert result.err == f"warning: {NOTE}: its latest version is printed anyway (--all)\n"
    assert refused_read(deprecated, "which", "fraud", "dev", "--all") == (
        f"warning: {NOTE}: the version holding dev is printed anyway (--all)\n"
        "error: no version of fraud is in stage 'dev'\n"
        "hint: stages: prod\n"
    )
    # Other artifacts are served as before, with nothing on stderr.
    assert deprecated.ok("which", "churn", "prod") == "v0.0.1\n"
    assert deprecated.run("latest", "churn").err == ""


def test_the_json_forms_say_deprecated(deprecated: Repo) -> None:
    result = deprecated.run("which", "fraud", "prod", "--json")
    assert result.code == 1 and "error: " in result.err
    doc = json.loads(result.out)
    assert set(doc) == {"artifact", "stage", "deprecated", "deprecation"}
    assert (doc["artifact"], doc["stage"], doc["deprecated"]) == ("fraud", "prod", True)
    assert doc["deprecation"]["tag"] == "fraud@deprecated"
    assert doc["deprecation"]["event"] == "deprecation"
    result = deprecated.run("which", "fraud", "prod", "--json", "--all")
    assert result.code == 0 and result.err.startswith("warning: ")
    doc = json.loads(result.out)
    assert (doc["version"], doc["tag"], doc["deprecated"]) == ("v1.0.0", "fraud#prod#1", True)
    result = deprecated.run("latest", "fraud", "--json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert set(doc) == {"artifact", "deprecated", "deprecation"}
    assert (doc["artifact"], doc["deprecated"]) == ("fraud", True)
    assert doc["deprecation"]["tag"] == "fraud@deprecated"
    doc = json.loads(deprecated.run("latest", "fraud", "--json", "--all").out)
    assert (doc["version"], doc["deprecated"]) == ("v1.0.0", True)
    # An active artifact's documents carry the keys too.
    for args in (("which", "churn", "prod"), ("latest", "churn"), ("show", "churn#prod")):
        doc = json.loads(deprecated.ok(*args, "--json"))
        assert (doc["deprecated"], doc["deprecation"]) == (False, None), args


def test_show_and_describe_selectors_do_not_serve_it_either(deprecated: Repo) -> None:
    for selector, what in (("fraud#prod", "its stages"), ("fraud@latest", "its latest version")):
        quoted = f"'{selector}'" if "#" in selector else selector
        for command in ("show", "describe"):
            assert refused_read(deprecated, command, selector) == (
                f"error: {NOTE}: {what} {'are' if 'stages' in what else 'is'} not served\n"
                f"hint: print it anyway with: git registry {command} {quoted} --all\n"
            )
        result = deprecated.run("show", selector, "--version", "--all")
        assert (result.code, result.out) == (0, "v1.0.0\n")
        assert result.err.startswith(f"warning: {NOTE}: ")
    result = deprecated.run("show", "fraud#prod", "--json")
    assert result.code == 1
    assert json.loads(result.out)["deprecated"] is True
    doc = json.loads(deprecated.ok("show", "fraud#prod", "--json", "--all"))
    assert (doc["version"], doc["deprecated"]) == ("v1.0.0", True)
    result = deprecated.run("describe", "fraud#prod", "--json")
    assert result.code == 1
    assert json.loads(result.out) == {
        "artifact": "fraud",
        "stage": "prod",
        "deprecated": True,
        "deprecation": json.loads(result.out)["deprecation"],
    }
    # A version named by its number is served, with a warning (it is a listing).
    result = deprecated.run("show", "fraud@v1.0.0", "--version")
    assert (result.code, result.out) == (0, "v1.0.0\n")
    assert result.err == (f"warning: {NOTE}: its stages and latest version are not served\n")


def test_show_all_marks_deprecated_artifacts_and_deregistered_versions(
    deprecated: Repo,
) -> None:
    assert [line.split() for line in deprecated.ok("show").splitlines()] == [
        ["name", "latest", "#prod"],
        ["churn", "v0.0.1", "v0.0.1"],
    ]
    assert [line.split() for line in deprecated.ok("show", "--all").splitlines()] == [
        ["name", "status", "latest", "#prod"],
        ["churn", "active", "v0.0.1", "v0.0.1"],
        ["fraud", "deprecated", "v1.0.0", "v1.0.0"],
    ]
    doc = json.loads(deprecated.ok("show", "--all", "--json"))
    assert [(a["name"], a["deprecated"]) for a in doc["artifacts"]] == [
        ("churn", False),
        ("fraud", True),
    ]
    rows = [line.split()[:3] for line in deprecated.run("show", "fraud", "--all").out.splitlines()]
    assert rows == [
        ["version", "status", "stages"],
        ["v1.1.0", "deregistered", "-"],
        ["v1.0.0", "active", "prod"],
    ]
    doc = json.loads(deprecated.run("show", "fraud", "--all", "--json").out)
    assert [(v["version"], v["active"]) for v in doc["versions"]] == [
        ("v1.1.0", False),
        ("v1.0.0", True),
    ]
    # An artifact whose versions are all deregistered, and one only declared.
    deprecated.commit("declared", {"artifacts.yaml": "seg: {}\n"})
    deprecated.ok("register", "old")
    deprecated.ok("deregister", "old@v0.0.1")
    statuses = {
        line.split()[0]: line.split()[1] for line in deprecated.ok("show", "--all").splitlines()
    }
    assert statuses == {
        "name": "status",
        "churn": "active",
        "fraud": "deprecated",
        "old": "deregistered",
        "seg": "unregistered",
    }


def test_check_ref_and_history_still_report_the_events(deprecated: Repo) -> None:
    out = deprecated.ok("check-ref", "fraud#prod#1")
    assert "fraud" in out and "v1.0.0" in out
    assert "fraud@deprecated" in deprecated.ok("history", "fraud")


def test_deregistering_a_stage_holder_warns_where_the_stage_goes(repo: Repo) -> None:
    rolled_back(repo)  # prod: v1.0.0 (churn#prod#1); v1.1.0 unassigned
    repo.ok("promote", "churn@v1.1.0", "prod")  # churn#prod#4
    result = repo.run("deregister", "churn@v1.1.0")
    assert result.code == 0
    assert result.out.splitlines()[-1] == "Now prod of churn is v1.0.0 (through churn#prod#1)"
    assert result.err == (
        "warning: the deregistered churn v1.1.0 held prod: prod falls back to v1.0.0 "
        "(churn#prod#1)\n"
    )
    result = repo.run("deregister", "churn@v1.0.0", "--dry-run")
    assert "warning" not in result.err  # nothing is written, nothing moves
    result = repo.run("deregister", "churn@v1.0.0")
    assert result.err == "warning: the deregistered churn v1.0.0 held prod: prod is now empty\n"
    # A version that held nothing: no warning.
    repo.commit()
    repo.ok("register", "churn", "--version", "v1.2.0")
    result = repo.run("deregister", "churn@v1.2.0")
    assert (result.code, result.err) == (0, "")
    assert "Now " not in result.out


def test_a_new_event_of_a_deprecated_artifact_says_it_reactivates_it(deprecated: Repo) -> None:
    result = deprecated.run("promote", "fraud@v1.0.0", "staging", "--dry-run")
    assert result.code == 0
    assert (
        f"warning: {NOTE}: this event would make it active again: its stages and latest "
        "version would be served again\n"
    ) in result.err
    result = deprecated.run("promote", "fraud@v1.0.0", "staging")
    assert result.code == 0
    assert result.err == (
        f"warning: {NOTE}: this event makes it active again: its stages and latest "
        "version are served again\n"
    )
    assert deprecated.ok("which", "fraud", "prod") == "v1.0.0\n"
    assert deprecated.run("deprecate", "fraud").err.startswith(
        "warning: fraud v1.0.0 held prod (fraud#prod#1): it is no longer served"
    )


def test_hooks_accept_the_deprecation_and_reads_of_a_remote_refuse(
    repo: Repo, remote: Repo
) -> None:
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    repo.ok("register", "fraud", "--push")
    repo.ok("promote", "fraud", "prod", "--push")
    result = repo.run("deprecate", "fraud", "--push")
    assert result.code == 0 and "Pushed fraud@deprecated" in result.out
    assert "warning: fraud v0.0.1 held prod (fraud#prod#1)" in result.err
    assert "fraud@deprecated" in remote.tags()
    assert refused_read(repo, "which", "fraud", "prod", "--remote", "origin").startswith(
        "error: artifact 'fraud' is deprecated (fraud@deprecated, "
    )
    assert refused_read(remote, "which", "fraud", "prod").startswith("error: artifact 'fraud'")
    # Re-activated by a pushed event: served again.
    repo.ok("promote", "fraud", "staging", "--push")
    assert remote.ok("which", "fraud", "prod") == "v0.0.1\n"
