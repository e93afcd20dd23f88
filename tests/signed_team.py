"""What the governance attack tests share: a team whose prod needs alice's SSH signature
(after staging, on main), a server with the hook, and the attacker's clone without her
key; and the helpers those tests push, tag and read with (real git, never mocked)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from git_registry.policy import CONFIG_FILE

from conftest import Repo, SshSigner, allowed_signers, sign_with_ssh

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
    signers: [alice@acme.example]
allowed_signers: {KEYS}
"""

Team = tuple[Repo, Repo, SshSigner, SshSigner]


def push(repo: Repo, *refs: str, atomic: bool = False) -> subprocess.CompletedProcess[str]:
    """``git push --no-verify``: only the server hook judges (a pusher skips ours)."""
    return subprocess.run(
        ["git", "push", "--no-verify", *(["--atomic"] if atomic else []), "origin", *refs],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )


def pushed(repo: Repo, *refs: str) -> None:
    result = push(repo, *refs)
    assert result.returncode == 0, result.stderr


def refused_by_server(repo: Repo, remote: Repo, *refs: str) -> str:
    before = remote.tags()
    result = push(repo, *refs)
    assert result.returncode != 0, result.stderr
    assert remote.tags() == before, "the server stored a tag of a refused push"
    return result.stderr


def hand_tag(repo: Repo, name: str, target: str, *, when: int, sign: bool = False) -> None:
    """``git tag -a`` (or ``-s``) with the tagger time ``when``: what anyone can make."""
    repo.git(
        "tag",
        "-s" if sign else "-a",
        "-m",
        f"by hand {name}",
        "--end-of-options",
        name,
        target,
        env={"GIT_COMMITTER_DATE": f"{when} +0000"},
    )


def holder(repo: Repo, stage: str = "prod") -> str | None:
    """The version of churn holding ``stage`` in ``repo`` (a clone or the server), in the
    registry state: ``--all`` reads it even if churn is deprecated (then it is not served)."""
    result = repo.run("which", "churn", stage, "--all")
    return result.out.strip() if result.code == 0 else None


def clean_check(repo: Repo) -> bool:
    """Whether ``check`` in ``repo`` reports nothing."""
    result = repo.run("check")
    return result.code == 0 and not result.out.strip()


def make_team(repo: Repo, remote: Repo, make_ssh_signer: Callable[[str], SshSigner]) -> Team:
    """prod needs alice's signature (bob's key is listed, but he is not a prod signer),
    a commit on main, and staging first. The server hook is installed and main (policy,
    keys) is pushed. churn v0.0.1 (T0) went dev (T0+1), staging (T0+2) and, signed by
    alice, prod (churn#prod#3, T0+3): all pushed. The clone then signs nothing (it is the
    attacker's, without alice's key) unless a test says so."""
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
    sign_with_ssh(repo, alice)
    for args in (
        ("register", "churn"),
        ("promote", "churn", "dev"),
        ("promote", "churn", "staging"),
        ("promote", "churn", "prod"),
    ):
        repo.ok(*args)
    pushed(repo, "main", "churn@v0.0.1", "churn#dev#1", "churn#staging#2", "churn#prod#3")
    assert holder(remote) == "v0.0.1"
    as_attacker(repo)
    return repo, remote, alice, bob


def as_attacker(repo: Repo) -> None:
    """The clone no longer has alice's key."""
    repo.git("config", "--unset", "user.signingKey")
    repo.git("config", "registry.sign", "false")


def as_alice(repo: Repo, alice: SshSigner) -> None:
    sign_with_ssh(repo, alice)
    repo.git("config", "--unset", "registry.sign")


def tagger_time(repo: Repo, tag: str) -> int:
    return int(repo.git("for-each-ref", "--format=%(taggerdate:unix)", f"refs/tags/{tag}"))
