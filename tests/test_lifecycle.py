"""The everyday lifecycle as a team meets it (issue 15): promoting the version a stage fell
back to pins it (item 1); a deprecated artifact's stages are not served, and writes that
leave a stage holder behind say so (item 2). Real repositories, real pushes, real hooks."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from git_registry.policy import CONFIG_FILE

from conftest import Repo, SshSigner, allowed_signers, sign_with_ssh


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
    "churn v1.0.0 holds prod only by fallback (v1.1.0 was unassigned from it by churn#prod!#3)"
)


def test_promoting_the_version_a_stage_fell_back_to_pins_it(repo: Repo) -> None:
    first, _ = rolled_back(repo)
    result = repo.run("promote", "churn@v1.0.0", "prod")
    assert result.code == 0, result.err
    assert result.out.splitlines()[:2] == [
        f"{FALLBACK}: pinning it",
        f"Created tag churn#prod#4: assigns stage prod to churn v1.0.0 at commit {first[:7]}",
    ]
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
    assert out.startswith(
        "churn v1.0.0 holds prod only by fallback (v1.1.0 was deregistered by "
        "churn@v1.1.0!): pinning it\nCreated tag churn#prod#5: "
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
    assert result.out == f"{FALLBACK}: pinning it\n"
    assert (
        "fatal: refusing to create the tag(s): churn#prod#4: churn@v1.0.0 has not been in "
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
    assert repo.ok("promote", "churn@v1.0.0", "prod").startswith(f"{FALLBACK}: pinning it\n")
    assert tag_row(repo, "churn#prod#5").startswith(f"tag {first} ")


def test_a_pin_pushed_with_push_is_accepted_by_both_hooks(repo: Repo, remote: Repo) -> None:
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    first, _ = rolled_back(repo, push_too=True)
    out = repo.ok("promote", "churn@v1.0.0", "prod", "--push")
    assert out.splitlines()[0] == f"{FALLBACK}: pinning it"
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
