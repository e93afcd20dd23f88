"""Governance (issue 14): promotion rules in .registry.yaml (``after``, ``branches``;
the signature rules are in test_signed_promotions.py), enforced by writes, ``check``,
``--dry-run`` and the hooks, with real repositories, real pushes and the server hook."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from git_registry.gitvalues import ObjectId, Signature, TagObject, TagRef
from git_registry.parsedform import plain_policy, policy_of
from git_registry.policy import CONFIG_FILE, Promotion, parse_policy, signer_window
from git_registry.rulebook import evaluate, problems_of_new_tags
from git_registry.rules import NOT_SIGNED, Facts, KnownVerdict, Rule
from git_registry.state import Registry, build_registry

from conftest import Repo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.rules import EventLike

POLICY = """\
stages: [dev, staging, prod]
promotion:
  staging:
    after: [dev]
  prod:
    after: [staging]
    branches: [main, release/*]
"""


def push(repo: Repo, *refs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "origin", *refs], cwd=repo.path, capture_output=True, text=True, check=False
    )


@pytest.fixture
def governed(repo: Repo) -> Repo:
    """``repo`` with POLICY and churn declared, committed on main."""
    repo.commit("policy", {CONFIG_FILE: POLICY, "artifacts.yaml": "churn:\n  type: model\n"})
    return repo


def refused(repo: Repo, *args: str) -> str:
    """Run a write that must be refused: exit 128 (fatal), nothing created; return stderr."""
    before = repo.tags()
    result = repo.run(*args)
    assert result.code == 128, (result.out, result.err)
    assert repo.tags() == before
    return result.err


# -- the policy file ------------------------------------------------------------------------


@pytest.mark.core
def test_promotion_rules_are_read_with_their_lines() -> None:
    text = POLICY + "    signed: true\n    signers: [alice@acme.example]\nallowed_signers: s\n"
    policy, problems = parse_policy(text.encode(), CONFIG_FILE)
    assert problems == ()
    assert policy.promotion == (
        Promotion("staging", after=("dev",), line=3),
        Promotion(
            "prod",
            after=("staging",),
            branches=("main", "release/*"),
            signed=True,
            signers=("alice@acme.example",),
            line=5,
        ),
    )
    assert policy.allowed_signers == "s" and policy.allowed_signers_line == 10
    assert policy.signed_stages == ("prod",)
    # The parse cache's plain form reads back the same policy, and refuses a bent one.
    plain = plain_policy(policy, problems)
    assert policy_of(plain, CONFIG_FILE) == (policy, problems)
    bent = list(plain)
    bent[4] = (("prod", ("staging",), (), "yes", (), 5),)
    assert policy_of(tuple(bent), CONFIG_FILE) is None


@pytest.mark.core
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("promotion:\n  prod:\n    befor: [dev]\n", "3:5: 'promotion: prod': unknown key 'befor'"),
        (
            "stages: [dev, prod]\npromotion:\n  prod:\n    after: [staging]\n",
            "4:12: 'promotion: prod': 'after' names 'staging', which is not in 'stages'",
        ),
        (
            "stages: [dev]\npromotion:\n  prod: {}\n",
            "3:3: 'promotion': stage 'prod' is not in 'stages' (dev)",
        ),
        ("promotion:\n  prod:\n    after: [prod]\n", "'after' names the stage itself"),
        ("promotion:\n  prod:\n    signed: 'yes'\n", "'signed' must be true or false"),
        (
            "promotion:\n  prod:\n    signed: false\n    signers: [a@b]\n",
            "'signers' needs 'signed: true'",
        ),
        ("promotion:\n  prod:\n    branches: [--all]\n", "not an option or a ref"),
        ("promotion:\n  prod:\n    branches: [main..x]\n", "'main..x' is not a branch name"),
        ("promotion:\n  prod:\n    signers: ['a b']\n", "'a b' is not a principal"),
        ("promotion: [prod]\n", "'promotion' must map stages to rules"),
        ("allowed_signers: ../keys\n", "1:18: 'allowed_signers': '../keys': give a plain path"),
        ("allowed_signers: /etc/keys\n", "'/etc/keys' is not a path in the repository"),
    ],
)
def test_a_bad_promotion_rule_is_a_problem_with_its_place(text: str, said: str) -> None:
    _policy, problems = parse_policy(text.encode(), CONFIG_FILE)
    assert any(said in f"{p.line}:{p.column}: {p.message}" for p in problems), problems


def test_check_reports_a_missing_or_malformed_signers_file(repo: Repo) -> None:
    repo.commit("p", {CONFIG_FILE: "allowed_signers: .registry/allowed_signers\n"})
    out = repo.run("check").out
    assert (
        ".registry.yaml:1:1: allowed_signers: .registry/allowed_signers is not in the commit" in out
    )
    repo.commit("k", {".registry/allowed_signers": "# team keys\n\nalice@x ssh-ed25519\n"})
    out = repo.run("check").out
    assert ".registry/allowed_signers:3:1: not an allowed-signers line" in out
    repo.commit("big", {".registry/allowed_signers": "#" * (1024 * 1024 + 1)})
    out = repo.run("check").out
    assert ".registry.yaml:1:1: allowed_signers: .registry/allowed_signers is too large" in out


# -- after ---------------------------------------------------------------------------------


def test_promotion_without_the_prior_stage_is_refused_with_the_way_out(governed: Repo) -> None:
    governed.ok("register", "churn")
    err = refused(governed, "promote", "churn", "prod")
    assert (
        "refusing to create the tag: churn#prod#1: churn@v0.0.1 has not been in staging "
        "before prod (.registry.yaml:5 promotion: prod: after)"
    ) in err
    assert (
        "hint: promote churn@v0.0.1 to staging first: git registry promote churn@v0.0.1 staging"
        in err
    )
    err = refused(governed, "promote", "churn", "staging")
    assert "has not been in dev before staging" in err
    governed.ok("promote", "churn", "dev")
    governed.ok("promote", "churn", "staging")
    governed.ok("promote", "churn", "prod")
    assert governed.ok("which", "churn", "prod").strip() == "v0.0.1"


def test_having_held_the_prior_stage_once_is_enough(governed: Repo) -> None:
    governed.ok("register", "churn")
    governed.ok("promote", "churn", "dev")
    governed.ok("unassign", "churn", "dev")  # it held dev, then left it
    governed.ok("promote", "churn", "staging")


def test_a_registration_and_assignment_in_one_write_are_judged_together(governed: Repo) -> None:
    governed.commit()
    err = refused(governed, "promote", "churn", "staging", "--ref", "HEAD", "--version", "v1.0.0")
    assert "churn#staging#1: churn@v1.0.0 has not been in dev before staging" in err


# -- branches ------------------------------------------------------------------------------


def test_a_version_off_the_branches_is_refused_until_merged(governed: Repo) -> None:
    governed.git("checkout", "-q", "-b", "feature")
    commit = governed.commit("on a branch")
    governed.ok("register", "churn")
    governed.ok("promote", "churn", "dev")
    governed.ok("promote", "churn", "staging")  # staging has no branch rule
    err = refused(governed, "promote", "churn", "prod")
    assert (
        f"churn#prod#3: commit {commit[:7]} of churn@v0.0.1 is not on main, release/* "
        "(.registry.yaml:5 promotion: prod: branches)"
    ) in err
    assert "hint: merge it into main and push that branch first" in err
    governed.git("branch", "release/2.0", commit)  # a glob matches a branch
    governed.ok("promote", "churn", "prod")


def test_a_remote_tracking_branch_counts_on_a_client(governed: Repo, remote: Repo) -> None:
    governed.git("checkout", "-q", "-b", "feature")
    governed.commit("merged on the server")
    governed.ok("register", "churn")
    governed.ok("promote", "churn", "dev")
    governed.ok("promote", "churn", "staging")
    # Merged on the server (it fetches the branch itself: our origin/main stays behind).
    remote.git("fetch", "-q", str(governed.path), "feature:main")
    governed.git("checkout", "-q", "main")
    refused(governed, "promote", "churn", "prod")  # origin/main not fetched yet
    governed.git("fetch", "-q", "origin")
    governed.ok("promote", "churn", "prod")


def test_only_the_registry_remotes_tracking_branches_count(
    governed: Repo, remote: Repo, tmp_path: Path
) -> None:
    governed.git("checkout", "-q", "-b", "feature")
    governed.commit("unreviewed")
    for args in (
        ("register", "churn"),
        ("promote", "churn", "dev"),
        ("promote", "churn", "staging"),
    ):
        governed.ok(*args)
    fork = Repo(tmp_path / "fork.git", bare=True)
    governed.git("remote", "add", "fork", str(fork.path))
    governed.git("push", "-q", "fork", "feature:main")  # fork/main has it; origin/main not
    governed.git("checkout", "-q", "main")
    assert "is not on main, release/*" in refused(governed, "promote", "churn", "prod")
    governed.git("config", "registry.remote", "fork")  # the registry's remote is the fork
    governed.ok("promote", "churn", "prod")


# -- what the rules never block ------------------------------------------------------------


def test_a_rollback_and_a_deregistration_are_never_blocked(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("declared", {"artifacts.yaml": "churn: {}\n"})
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")  # before the policy existed
    repo.git("checkout", "-q", "main")
    repo.commit("policy", {CONFIG_FILE: POLICY})
    # The holder breaks after and branches now: check says so ...
    out = repo.run("check").out
    assert "churn#prod#1: churn@v0.0.1 has not been in staging before prod" in out
    assert "is not on main, release/*" in out
    # ... and taking it back is always possible.
    repo.ok("unassign", "churn", "prod")
    repo.ok("deregister", "churn@v0.0.1")
    assert repo.run("check").code == 0


def test_check_reports_what_decides_the_holder_not_superseded_history(governed: Repo) -> None:
    governed.ok("register", "churn")
    governed.git("tag", "-a", "-m", "by hand", "churn#prod#1", "HEAD")  # skips staging
    result = governed.run("check")
    assert result.code == 1
    assert "churn#prod#1: churn@v0.0.1 has not been in staging before prod" in result.out
    # Rolled back: the bad promotion is history, not a problem.
    governed.ok("unassign", "churn", "prod")
    assert governed.run("check").code == 0


# -- --dry-run -----------------------------------------------------------------------------


def test_dry_run_prints_the_tags_and_every_rule_and_creates_nothing(governed: Repo) -> None:
    governed.ok("register", "churn")
    governed.ok("promote", "churn", "dev")
    before = governed.tags()
    result = governed.run("promote", "churn", "prod", "--dry-run")
    assert result.code == 1 and governed.tags() == before
    lines = result.out.splitlines()
    assert lines[0].startswith("Would create churn#prod#2: assigns stage prod to churn v0.0.1")
    assert "  ok       churn#prod#2: stages: prod: allowed by .registry.yaml" in lines
    assert any(
        line.startswith("  refused  churn#prod#2: after: churn@v0.0.1 has not") for line in lines
    )
    assert "  ok       churn#prod#2: branches: commit" in result.out
    assert "nothing was created" in result.err
    result = governed.run("promote", "churn", "staging", "-n")
    assert result.code == 0 and governed.tags() == before
    assert "  ok       churn#staging#2: after: v0.0.1 held dev first (churn#dev#1)" in result.out


def test_dry_run_of_a_deletion_deletes_nothing(governed: Repo) -> None:
    governed.ok("register", "churn")
    governed.ok("promote", "churn", "dev")
    before = governed.tags()
    for args in (
        ("unassign", "churn", "dev", "--delete"),
        ("deregister", "churn@v0.0.1", "--delete"),
    ):
        result = governed.run(*args, "--dry-run")
        assert result.code == 0 and governed.tags() == before, result
        assert result.out.startswith("Would delete tag ")
        assert "nothing was deleted (--dry-run)" in result.err
        result = governed.run(*args, "--sign")
        assert result.code == 129 and "--sign does not apply to --delete" in result.err
        assert governed.tags() == before


# -- the server hook -----------------------------------------------------------------------


def test_the_server_refuses_what_the_rules_refuse(governed: Repo, remote: Repo) -> None:
    remote.ok("hooks", "install", "--server")
    governed.git("push", "-q", "origin", "main")
    governed.ok("register", "churn")
    governed.git("tag", "-a", "-m", "by hand", "churn#prod#1", "HEAD")  # past our own write
    result = push(governed, "churn@v0.0.1", "churn#prod#1")
    assert result.returncode != 0
    assert "churn#prod#1: churn@v0.0.1 has not been in staging before prod" in result.stderr
    assert set(remote.tags()) == set()


def test_a_branch_and_the_tag_that_needs_it_may_be_pushed_together(
    governed: Repo, remote: Repo
) -> None:
    remote.ok("hooks", "install", "--server")
    governed.git("push", "-q", "origin", "main")
    governed.git("checkout", "-q", "-b", "feature")
    governed.commit("fix")
    for args in (
        ("register", "churn"),
        ("promote", "churn", "dev"),
        ("promote", "churn", "staging"),
    ):
        governed.ok(*args)
    governed.git("checkout", "-q", "main")
    governed.git("merge", "-q", "--ff-only", "feature")
    governed.ok("promote", "churn", "prod")  # local main has it
    tags = ["churn@v0.0.1", "churn#dev#1", "churn#staging#2", "churn#prod#3"]
    result = push(governed, *tags)  # main not pushed: the server's main lacks it
    assert result.returncode != 0 and "is not on main, release/*" in result.stderr
    result = push(governed, "main", *tags)
    assert result.returncode == 0, result.stderr
    assert set(remote.tags()) == set(tags)


def test_a_branch_the_push_deletes_no_longer_counts(governed: Repo, remote: Repo) -> None:
    remote.ok("hooks", "install", "--server")
    governed.git("checkout", "-q", "-b", "release/1")
    governed.commit("release")
    for args in (
        ("register", "churn"),
        ("promote", "churn", "dev"),
        ("promote", "churn", "staging"),
    ):
        governed.ok(*args)
    governed.git("push", "-q", "origin", "main", "release/1")
    governed.ok("promote", "churn", "prod")
    tags = ["churn@v0.0.1", "churn#dev#1", "churn#staging#2", "churn#prod#3"]
    result = push(governed, ":release/1", *tags)  # deleted by the same push
    assert result.returncode != 0 and "is not on main, release/*" in result.stderr
    assert push(governed, *tags).returncode == 0


def test_a_push_cannot_bring_its_own_rules(governed: Repo, remote: Repo) -> None:
    remote.ok("hooks", "install", "--server")
    governed.git("push", "-q", "origin", "main")
    governed.ok("register", "churn")
    governed.commit("loosen", {CONFIG_FILE: "stages: [dev, staging, prod]\n"})
    governed.git("tag", "-a", "-m", "by hand", "churn#prod#1", "churn@v0.0.1^{}")
    # The policy of the pushed main does not apply to the same push: the server's does.
    result = push(governed, "main", "churn@v0.0.1", "churn#prod#1")
    assert result.returncode != 0 and "has not been in staging before prod" in result.stderr


# -- git registry policy -------------------------------------------------------------------


def test_policy_prints_the_effective_policy(governed: Repo, remote: Repo) -> None:
    out = governed.ok("policy")
    assert out.splitlines()[1:] == [
        "stages: dev, staging, prod",
        "types: any",
        "promotion:",
        "  staging: after dev",
        "  prod: after staging; commit on main or release/*",
    ]
    data = json.loads(governed.ok("policy", "--json"))
    assert data["promotion"]["prod"] == {
        "after": ["staging"],
        "branches": ["main", "release/*"],
        "signed": False,
        "signers": [],
    }
    assert data["source"]["file"] == ".registry.yaml" and data["problems"] == []
    # --remote: the remote's default branch, not ours.
    assert governed.ok("policy", "--remote", "origin").splitlines()[1:] == out.splitlines()[1:]
    governed.commit("no rules", {CONFIG_FILE: "stages: [prod]\n"})
    assert "promotion: no rules" in governed.ok("policy")
    assert "  prod: after staging" in governed.ok("policy", "--remote", "origin")
    governed.git("push", "-q", "origin", "main")
    assert "promotion: no rules" in governed.ok("policy", "--remote", "origin")


def test_policy_of_a_remote_without_a_default_branch_says_why(repo: Repo, remote: Repo) -> None:
    remote.git("symbolic-ref", "HEAD", "refs/heads/nothing")
    result = repo.run("policy", "--remote", "origin")
    assert result.code == 128
    assert "the HEAD of 'origin' names no commit" in result.err
    assert "git symbolic-ref HEAD refs/heads/BRANCH" in result.err


def test_policy_with_a_problem_warns_and_exits_1(repo: Repo) -> None:
    repo.commit("p", {CONFIG_FILE: "promotion:\n  prod:\n    colour: red\n"})
    result = repo.run("policy")
    assert result.code == 1
    assert "warning: .registry.yaml:3:5: 'promotion: prod': unknown key 'colour'" in result.err


# -- commit-msg: the staged signers file ----------------------------------------------------


def test_commit_msg_refuses_a_policy_whose_signers_file_is_not_staged(repo: Repo) -> None:
    repo.ok("hooks", "install")
    (repo.path / CONFIG_FILE).write_text("allowed_signers: .registry/allowed_signers\n")
    repo.git("add", CONFIG_FILE)
    result = subprocess.run(
        ["git", "commit", "-q", "-m", "policy"], cwd=repo.path, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "allowed_signers: .registry/allowed_signers is not in the commit" in result.stderr
    keys = repo.path / ".registry" / "allowed_signers"
    keys.parent.mkdir()
    keys.write_text("alice@acme.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "policy and keys")


# -- the signature rules, judged with given verdicts (the real ones: test_signed_promotions) --


def _registry(*specs: tuple[str, str, int]) -> Registry:
    refs = []
    for name, commit, time in specs:
        oid = ObjectId(hashlib.sha1(name.encode()).hexdigest())
        tagger = Signature("Ada", "ada@example.com", 1_700_000_000 + time, 0)
        refs.append(TagRef(name, oid, TagObject(oid, ObjectId(commit), "commit", tagger, name)))
    registry = build_registry(refs, now=1_800_000_000)
    assert registry.problems == ()
    return registry


SIGNED = parse_policy(
    b"promotion:\n  prod:\n    signers: [alice@acme.example]\nallowed_signers: keys\n",
    CONFIG_FILE,
)[0]
C1, C2 = "1" * 40, "2" * 40


def _facts(verdicts: dict[str, KnownVerdict]) -> Facts:
    def verify(event: EventLike) -> KnownVerdict:
        return verdicts.get(event.tag, NOT_SIGNED)

    return Facts(SIGNED, lambda commit, artifact: (), lambda commit, branches: None, verify)


GOOD = KnownVerdict("good", "alice@acme.example", "ED25519 SHA256:abc", "good")


@pytest.mark.core
@pytest.mark.parametrize(
    ("verdict", "said", "hint"),
    [
        (NOT_SIGNED, "this tag is not signed", "add --sign"),
        (
            KnownVerdict("unknown-key", None, "ED25519 SHA256:xyz", "no principal"),
            "the signing key (ED25519 SHA256:xyz) is not listed in keys",
            "add the key to keys in a reviewed commit on the default branch",
        ),
        (
            KnownVerdict("bad", None, None, "Signature verification failed"),
            "the signature does not verify (Signature verification failed)",
            "changed after it was signed",
        ),
        (
            KnownVerdict("unverifiable", None, None, "gpg.program failed"),
            "the signature cannot be verified (gpg.program failed)",
            "git verify-tag",
        ),
        (
            KnownVerdict("good", "bob@acme.example", "ED25519 SHA256:b", "good"),
            "signed by bob@acme.example, who is not one of prod's signers (alice@acme.example;",
            "one of alice@acme.example signs it",
        ),
    ],
)
def test_each_signature_verdict_has_its_message_and_way_out(
    verdict: KnownVerdict, said: str, hint: str
) -> None:
    before = _registry(("churn@v1.0.0", C1, 0))
    after = _registry(("churn@v1.0.0", C1, 0), ("churn#prod#1", C1, 1))
    (problem,) = problems_of_new_tags(
        before, after, {"churn#prod#1"}, _facts({"churn#prod#1": verdict})
    )
    assert problem.tag == "churn#prod#1" and said in problem.message, problem.message
    assert problem.hint is not None and hint in problem.hint, problem.hint
    assert problem.rule in (Rule.PROMOTION_SIGNED, Rule.PROMOTION_SIGNERS)
    good = problems_of_new_tags(before, after, {"churn#prod#1"}, _facts({"churn#prod#1": GOOD}))
    assert good == []


@pytest.mark.core
def test_a_rollback_and_a_holders_deregistration_need_the_signature_too() -> None:
    held = [("churn@v1.0.0", C1, 0), ("churn#prod#1", C1, 1)]
    facts = _facts({"churn#prod#1": GOOD})
    for cancel in ("churn#prod!#2", "churn@v1.0.0!"):
        after = _registry(*held, (cancel, C1, 2))
        (problem,) = problems_of_new_tags(_registry(*held), after, {cancel}, facts)
        assert problem.tag == cancel and "this tag is not signed" in problem.message
        signed = _facts({"churn#prod#1": GOOD, cancel: GOOD})
        assert problems_of_new_tags(_registry(*held), after, {cancel}, signed) == []
    # A version that holds no signed stage is deregistered without a signature.
    other = [("churn@v1.0.0", C1, 0), ("churn@v2.0.0", C2, 1), ("churn#prod#1", C1, 2)]
    after = _registry(*other, ("churn@v2.0.0!", C2, 3))
    assert problems_of_new_tags(_registry(*other), after, {"churn@v2.0.0!"}, facts) == []


@pytest.mark.core
def test_check_judges_the_holders_and_the_cancels_since_them() -> None:
    facts = _facts({"churn#prod#2": GOOD})
    registry = _registry(
        ("churn@v1.0.0", C1, 0),
        ("churn#prod#1", C1, 1),  # unsigned, superseded: history
        ("churn@v2.0.0", C2, 2),
        ("churn#prod#2", C2, 3),  # signed: holds prod
    )
    assert evaluate([], [], registry, facts) == []
    # An unsigned rollback after it decides the holder now: reported, and so is the
    # unsigned assignment it hands prod back to.
    registry = _registry(
        ("churn@v1.0.0", C1, 0),
        ("churn#prod#1", C1, 1),
        ("churn@v2.0.0", C2, 2),
        ("churn#prod#2", C2, 3),
        ("churn#prod!#3", C2, 4),
    )
    found = {p.tag for p in evaluate([], [], registry, facts)}
    assert found == {"churn#prod#1", "churn#prod!#3"}


@pytest.mark.core
def test_the_validity_window_of_a_signers_line() -> None:
    import base64
    import hashlib

    blob = b"\x00\x00\x00\x0bssh-ed25519" + bytes(36)
    key = base64.b64encode(blob).decode()
    fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    data = (
        "# keys\n"
        f'bob@x namespaces="git" ssh-ed25519 {key}\n'
        f'alice@x,ops@x namespaces="git",valid-after="20240101",valid-before="20250101Z" '
        f"ssh-ed25519 {key}\n"
        f'carol@x valid-before="tomorrow" ssh-ed25519 {key}\n'
    ).encode()
    assert signer_window(data, "bob@x", fingerprint) == (float("-inf"), float("inf"))
    after, before = signer_window(data, "ops@x", fingerprint) or (0.0, 0.0)
    assert before == 1735689600.0  # 2025-01-01T00:00:00Z
    assert 1704000000 < after < 1704200000  # 2024-01-01, local time
    assert signer_window(data, "carol@x", fingerprint) == (float("inf"), float("-inf"))
    assert signer_window(data, "alice@x", "SHA256:other") is None
    assert signer_window(data, "dave@x", fingerprint) is None
