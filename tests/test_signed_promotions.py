"""Signed promotions end to end (issue 14): real SSH keys (ssh-keygen) and an OpenPGP key
(gpg) in the test's own homes, tags signed by Git, pushed with real ``git push`` to a
bare repository whose server hook reads the rules and the allowed signers from its
default branch. Each refusal's message is asserted."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from git_registry.policy import CONFIG_FILE

from conftest import GpgKey, Repo, SshSigner, allowed_signers, sign_with_gpg, sign_with_ssh

KEYS = ".registry/allowed_signers"
POLICY = f"""\
stages: [dev, staging, prod]
promotion:
  staging:
    after: [dev]
  prod:
    after: [staging]
    branches: [main]
    signed: true
    signers: [release-bot@acme.example, alice@acme.example]
allowed_signers: {KEYS}
"""


def push(repo: Repo, *refs: str) -> subprocess.CompletedProcess[str]:
    """``git push --no-verify``: the server hook alone judges (as for a client without ours)."""
    return subprocess.run(
        ["git", "push", "--no-verify", "origin", *refs],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )


def hand_tag(repo: Repo, name: str, target: str, *, sign: bool) -> None:
    """A tag made with plain ``git tag`` (signed with the repository's settings or not):
    what anyone with push access can make, past our own writes."""
    repo.git("tag", "-s" if sign else "-a", "-m", f"by hand {name}", name, target)


Team = tuple[Repo, Repo, SshSigner, SshSigner]


@pytest.fixture
def team(repo: Repo, remote: Repo, make_ssh_signer: Callable[[str], SshSigner]) -> Team:
    """A registry whose prod needs a signature of alice or the release bot; bob's key is
    listed (he may sign other stages) but he is not a prod signer. The server hook is
    installed; main (with the policy and the keys) is pushed; churn v0.0.1 went through
    dev and staging, pushed."""
    alice = make_ssh_signer("alice@acme.example")
    bob = make_ssh_signer("bob@acme.example")
    repo.commit(
        "policy",
        {
            CONFIG_FILE: POLICY,
            KEYS: allowed_signers(alice, bob).decode(),
            "artifacts.yaml": "churn:\n  type: model\n",
        },
    )
    remote.ok("hooks", "install", "--server")
    for args in (
        ("register", "churn"),
        ("promote", "churn", "dev"),
        ("promote", "churn", "staging"),
    ):
        repo.ok(*args)
    result = push(repo, "main", "churn@v0.0.1", "churn#dev#1", "churn#staging#2")
    assert result.returncode == 0, result.stderr
    return repo, remote, alice, bob


def refused_by_server(repo: Repo, remote: Repo, *refs: str) -> str:
    before = remote.tags()
    result = push(repo, *refs)
    assert result.returncode != 0, result.stderr
    assert remote.tags() == before
    return result.stderr


def test_a_write_signs_what_the_policy_needs_and_the_server_accepts_it(team: Team) -> None:
    repo, remote, alice, _bob = team
    sign_with_ssh(repo, alice)
    result = repo.run("promote", "churn", "prod")
    assert result.code == 0, result.err
    assert "note: signing the tag: prod needs signed tags (.registry.yaml)" in result.err
    assert "Created tag churn#prod#3 (signed): assigns stage prod to churn v0.0.1" in result.out
    raw = repo.git("cat-file", "tag", "churn#prod#3")
    assert "-----BEGIN SSH SIGNATURE-----" in raw
    verified = repo.git(
        "-c",
        f"gpg.ssh.allowedSignersFile={repo.path / KEYS}",
        "verify-tag",
        "churn#prod#3",
        check=False,
    )
    del verified
    check = subprocess.run(
        [
            "git",
            "-c",
            f"gpg.ssh.allowedSignersFile={repo.path / KEYS}",
            "verify-tag",
            "churn#prod#3",
        ],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and "for alice@acme.example" in check.stderr
    repo.fsck()
    assert repo.ok("check").strip() == ""
    assert push(repo, "churn#prod#3").returncode == 0
    assert "churn#prod#3" in remote.tags()


def test_unsigned_prod_is_refused_by_the_write_and_the_server(team: Team) -> None:
    repo, remote, _alice, _bob = team
    result = repo.run("promote", "churn", "prod", "--no-sign")
    assert result.code == 128
    assert (
        "churn#prod#3: prod needs signed tags (.registry.yaml:5 promotion: prod: signed): "
        "this tag is not signed"
    ) in result.err
    assert "hint: sign it: add --sign" in result.err
    hand_tag(repo, "churn#prod#3", "churn@v0.0.1^{}", sign=False)
    err = refused_by_server(repo, remote, "churn#prod#3")
    assert "churn#prod#3: prod needs signed tags" in err and "this tag is not signed" in err
    # check in the clone says the same of the tag it holds.
    assert "churn#prod#3: prod needs signed tags" in repo.run("check").out


def test_a_key_not_in_allowed_signers_is_refused(
    team: Team, make_ssh_signer: Callable[[str], SshSigner]
) -> None:
    repo, remote, _alice, _bob = team
    mallory = make_ssh_signer("mallory@evil.example")
    sign_with_ssh(repo, mallory)
    result = repo.run("promote", "churn", "prod")
    assert result.code == 128
    assert "the signing key (ED25519 SHA256:" in result.err
    assert f"is not listed in {KEYS}" in result.err
    assert f"add the key to {KEYS} in a reviewed commit on the default branch" in result.err
    assert "churn#prod#3" not in repo.tags()
    hand_tag(repo, "churn#prod#3", "churn@v0.0.1^{}", sign=True)
    err = refused_by_server(repo, remote, "churn#prod#3")
    assert f"is not listed in {KEYS}" in err


def test_an_allowed_key_whose_principal_is_not_a_signer_is_refused(team: Team) -> None:
    repo, remote, _alice, bob = team
    sign_with_ssh(repo, bob)
    result = repo.run("promote", "churn", "prod")
    assert result.code == 128
    assert (
        "churn#prod#3: signed by bob@acme.example, who is not one of prod's signers "
        "(release-bot@acme.example, alice@acme.example;"
    ) in result.err
    hand_tag(repo, "churn#prod#3", "churn@v0.0.1^{}", sign=True)
    err = refused_by_server(repo, remote, "churn#prod#3")
    assert "signed by bob@acme.example, who is not one of prod's signers" in err
    # Bob may still sign what needs no signer of his: staging needs none at all.
    assert repo.run("unassign", "churn", "staging").code == 0


def test_a_push_cannot_add_its_own_key_with_the_tag_it_signs(
    team: Team, make_ssh_signer: Callable[[str], SshSigner]
) -> None:
    repo, remote, alice, bob = team
    key = make_ssh_signer("mallory@evil.example")
    mallory = SshSigner("alice@acme.example", key.private, key.public)  # claims to be alice
    repo.commit("add my key", {KEYS: allowed_signers(alice, bob, mallory).decode()})
    sign_with_ssh(repo, mallory)
    # Locally HEAD lists the key: the write goes through ...
    repo.ok("promote", "churn", "prod")
    # ... but the server judges with its default branch's keys, not the pushed ones.
    err = refused_by_server(repo, remote, "main", "churn#prod#3")
    assert "churn#prod#3: prod needs signed tags" in err
    assert f"is not listed in {KEYS}" in err


def test_a_rollback_is_never_blocked_by_after_or_branches_but_must_be_signed(
    team: Team,
) -> None:
    repo, remote, alice, _bob = team
    sign_with_ssh(repo, alice)
    repo.ok("promote", "churn", "prod")
    assert push(repo, "churn#prod#3").returncode == 0
    # The rules change: prod now needs a stage the holder never had, on another branch.
    repo.commit(
        "tighter",
        {
            CONFIG_FILE: POLICY.replace("after: [staging]", "after: [dev, qa]")
            .replace("[dev, staging, prod]", "[dev, staging, qa, prod]")
            .replace("branches: [main]", "branches: [release]")
        },
    )
    assert push(repo, "main").returncode == 0
    # Rolling back is not blocked by after or branches; unsigned, it is.
    result = repo.run("unassign", "churn", "prod", "--no-sign")
    assert result.code == 128 and "churn#prod!#4: prod needs signed tags" in result.err
    result = repo.run("unassign", "churn", "prod")  # signed: alice may
    assert result.code == 0, result.err
    assert push(repo, "churn#prod!#4").returncode == 0
    assert "churn#prod!#4" in remote.tags()


def test_a_signed_tag_pushed_again_under_another_name_is_bad(team: Team) -> None:
    repo, remote, alice, _bob = team
    sign_with_ssh(repo, alice)
    repo.ok("promote", "churn", "prod")
    repo.ok("unassign", "churn", "prod")
    assert push(repo, "churn#prod#3", "churn#prod!#4").returncode == 0
    # Alice's signed rollback, replayed as a promotion: it sorts after the rollback
    # (same time, higher counter), so it would put v0.0.1 back in prod.
    oid = repo.git("rev-parse", "churn#prod!#4").strip()
    repo.git("update-ref", "refs/tags/churn#prod#10", oid)
    assert repo.ok("which", "churn", "prod").strip() == "v0.0.1"
    out = repo.run("check").out
    assert "churn#prod#10: prod needs signed tags" in out
    assert "the signature does not verify" in out
    err = refused_by_server(repo, remote, "churn#prod#10")
    assert "churn#prod#10: prod needs signed tags" in err


def test_an_openpgp_signature_from_the_keyring(
    repo: Repo, remote: Repo, gpg_key: GpgKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = "promotion:\n  prod:\n    signers: [gus@acme.example]\n"
    repo.commit("policy", {CONFIG_FILE: policy, "artifacts.yaml": "churn: {}\n"})
    remote.ok("hooks", "install", "--server")
    assert push(repo, "main").returncode == 0
    sign_with_gpg(repo, gpg_key, monkeypatch)  # the server hook runs with this GNUPGHOME too
    repo.ok("register", "churn")
    result = repo.run("promote", "churn", "prod")
    assert result.code == 0, result.err
    assert "-----BEGIN PGP SIGNATURE-----" in repo.git("cat-file", "tag", "churn#prod#1")
    assert push(repo, "churn@v0.0.1", "churn#prod#1").returncode == 0
    # Another keyring (the server's, say) does not know the key: refused.
    monkeypatch.setenv("GNUPGHOME", str(repo.path.parent / "empty-gnupg"))
    (repo.path.parent / "empty-gnupg").mkdir(mode=0o700)
    out = repo.run("check").out
    assert "churn#prod#1: prod needs signed tags" in out and "is not trusted" in out
