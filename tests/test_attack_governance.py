"""Attacks on governance (issue 14): someone with push access but without alice's key
tries to change who holds a signed stage, or to get a version into a gated stage past
its rules. Real Git, real SSH keys, a real bare remote with the server hook installed,
real ``git push``.

A test marked ``xfail(strict=True)`` is a confirmed vulnerability of the current code
(it fails until fixed); the others are attacks that are already defeated.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from git_registry.policy import CONFIG_FILE

from conftest import FIXED_TIME, Repo, SshSigner, allowed_signers, sign_with_ssh
from signed_team import (
    KEYS,
    POLICY,
    Team,
    as_alice,
    as_attacker,
    clean_check,
    hand_tag,
    holder,
    make_team,
    push,
    pushed,
    refused_by_server,
    tagger_time,
)


@pytest.fixture
def team(repo: Repo, remote: Repo, make_ssh_signer: Callable[[str], SshSigner]) -> Team:
    """See :func:`signed_team.make_team`."""
    return make_team(repo, remote, make_ssh_signer)


# -- the holder of prod changed by events that are not tags of prod --------------------------


def test_the_fixture_dates_are_what_the_attacks_assume(team: Team) -> None:
    repo, _remote, _alice, _bob = team
    assert [tagger_time(repo, t) for t in ("churn@v0.0.1", "churn#dev#1", "churn#staging#2")] == [
        FIXED_TIME,
        FIXED_TIME + 1,
        FIXED_TIME + 2,
    ]
    assert tagger_time(repo, "churn#prod#3") == FIXED_TIME + 3


def test_an_unsigned_deregistration_of_the_prod_holder_is_refused(team: Team) -> None:
    repo, remote, _alice, _bob = team
    hand_tag(repo, "churn@v0.0.1!#4", "churn@v0.0.1^{}", when=FIXED_TIME + 10)
    err = refused_by_server(repo, remote, "churn@v0.0.1!#4")
    assert "churn@v0.0.1!#4: prod needs signed tags" in err
    assert holder(remote) == "v0.0.1"


def test_a_backdated_deregistration_of_the_holder_must_be_signed(team: Team) -> None:
    """Was a vulnerability: a deregistration dated before the prod assignment was judged
    as of its tagger time (the version "held nothing" then), so it needed no signature,
    yet it took prod away from its holder."""
    repo, remote, alice, _bob = team
    # Dated with the registration (T0), before dev (T0+1).
    hand_tag(repo, "churn@v0.0.1!", "churn@v0.0.1^{}", when=FIXED_TIME)
    err = refused_by_server(repo, remote, "churn@v0.0.1!")
    assert "churn@v0.0.1!: prod needs signed tags" in err and "this tag is not signed" in err
    assert holder(remote) == "v0.0.1"
    # Signed by alice, the same tag is accepted.
    repo.git("tag", "-d", "churn@v0.0.1!")
    sign_with_ssh(repo, alice)
    hand_tag(repo, "churn@v0.0.1!", "churn@v0.0.1^{}", when=FIXED_TIME, sign=True)
    pushed(repo, "churn@v0.0.1!")
    assert holder(remote) is None


def test_check_reports_a_backdated_deregistration_of_the_holder(team: Team) -> None:
    repo, _remote, _alice, _bob = team
    hand_tag(repo, "churn@v0.0.1!", "churn@v0.0.1^{}", when=FIXED_TIME)
    assert holder(repo) is None
    out = repo.run("check").out
    assert "churn@v0.0.1!: prod needs signed tags" in out, out


def test_a_backdated_deregistration_of_a_newer_holder_with_a_fallback(team: Team) -> None:
    repo, remote, alice, _bob = team
    second_holder(repo, remote, alice)  # v0.0.2 holds prod, v0.0.1 underneath
    as_attacker(repo)
    registered = tagger_time(repo, "churn@v0.0.2")
    hand_tag(repo, "churn@v0.0.2!", "churn@v0.0.2^{}", when=registered)
    assert holder(repo) == "v0.0.1"
    assert "churn@v0.0.2!: prod needs signed tags" in repo.run("check").out
    err = refused_by_server(repo, remote, "churn@v0.0.2!")
    assert "churn@v0.0.2!: prod needs signed tags" in err
    assert holder(remote) == "v0.0.2"


def test_a_superseded_unsigned_deregistration_is_not_reported(team: Team) -> None:
    """Adopting ``signed`` does not make old history a problem: v0.0.1 was deregistered,
    unsigned, before v0.0.2 took prod (signed)."""
    repo, remote, alice, _bob = team
    second_holder(repo, remote, alice)
    as_attacker(repo)
    before = tagger_time(repo, "churn@v0.0.2")
    # Deregistered (unsigned) before v0.0.2 was registered: history, not in effect.
    hand_tag(repo, "churn@v0.0.1!", "churn@v0.0.1^{}", when=before - 1)
    assert repo.ok("which", "churn", "prod", "--all-versions").split() == ["v0.0.2"]
    assert "churn@v0.0.1!" not in repo.run("check").out


def retire_the_holder(repo: Repo, remote: Repo, alice: SshSigner) -> str:
    """Alice deregisters churn v0.0.1, the prod holder (a signed tag, which the write
    signs by itself); prod then has no holder. Returns the deregistration's name."""
    as_alice(repo, alice)
    result = repo.run("deregister", "churn@v0.0.1")
    assert result.code == 0, result.err
    assert "note: signing the" in result.err
    (name,) = [t for t in repo.tags() if t.startswith("churn@v0.0.1!")]
    pushed(repo, name)
    assert holder(remote) is None
    as_attacker(repo)
    return name


def test_alices_signed_deregistration_of_the_holder_is_accepted(team: Team) -> None:
    repo, remote, alice, _bob = team
    retire_the_holder(repo, remote, alice)
    assert clean_check(repo)


def test_registering_the_retired_holder_again_puts_it_back_in_prod(team: Team) -> None:
    repo, remote, alice, _bob = team
    retire_the_holder(repo, remote, alice)
    hand_tag(repo, "churn@v0.0.1#9", "churn@v0.0.1^{}", when=FIXED_TIME + 20)
    assert holder(repo) == "v0.0.1"  # the attack works on the state
    result = push(repo, "churn@v0.0.1#9")
    assert holder(remote) is None, "an unsigned registration gave prod a holder"
    assert result.returncode != 0


def test_a_backdated_registration_on_the_retired_holders_commit_takes_its_prod(
    team: Team,
) -> None:
    repo, remote, alice, _bob = team
    retire_the_holder(repo, remote, alice)
    # Same second as v0.0.1's registration: it sorts after it by name, before dev#1.
    hand_tag(repo, "churn@v6.6.6", "churn@v0.0.1^{}", when=FIXED_TIME)
    assert holder(repo) == "v6.6.6"  # the attack works on the state (check is silent)
    result = push(repo, "churn@v6.6.6")
    assert holder(remote) is None, "an unsigned registration gave prod a holder"
    assert result.returncode != 0


def test_a_second_version_on_the_holders_commit_is_refused(team: Team) -> None:
    repo, remote, _alice, _bob = team
    # Backdated so that the prod assignment would be its own: two active versions on one
    # commit are a problem of their own.
    hand_tag(repo, "churn@v6.6.6", "churn@v0.0.1^{}", when=FIXED_TIME)
    err = refused_by_server(repo, remote, "churn@v6.6.6")
    assert "holds 2 active versions of churn" in err
    assert holder(remote) == "v0.0.1"


def test_a_version_registered_and_deregistered_on_the_holders_commit_is_refused(
    team: Team,
) -> None:
    """A version registered at the holder's commit, dated with its registration, becomes
    the owner of its stage tags; deregistered (dated before staging), it would take prod
    away from v0.0.1 without a tag of v0.0.1. Its deregistration needs alice's signature:
    without it, its version would hold prod."""
    repo, remote, _alice, _bob = team
    hand_tag(repo, "churn@v6.6.6", "churn@v0.0.1^{}", when=FIXED_TIME)
    hand_tag(repo, "churn@v6.6.6!", "churn@v0.0.1^{}", when=FIXED_TIME + 2)
    assert holder(repo) is None  # the attack works on the state
    err = refused_by_server(repo, remote, "churn@v6.6.6", "churn@v6.6.6!")
    assert "churn@v6.6.6!: prod needs signed tags" in err
    assert holder(remote) == "v0.0.1"


def test_deprecating_the_artifact_changes_no_holder(team: Team) -> None:
    repo, remote, _alice, _bob = team
    repo.ok("deprecate", "churn")
    pushed(repo, "churn@deprecated")
    assert holder(remote) == "v0.0.1"
    assert remote.run("which", "churn", "prod").code == 1  # held, but no longer served


# -- branches: what the server counts as "on main" ------------------------------------------


def gate_staging_on_main(repo: Repo) -> str:
    """The team adds ``branches: [main]`` to staging (pushed to main); an attacker's
    commit on a feature branch gets churn v0.1.0 registered and through dev. Returns
    the feature commit."""
    repo.commit(
        "staging on main",
        {CONFIG_FILE: POLICY.replace("after: [dev]", "after: [dev]\n    branches: [main]")},
    )
    pushed(repo, "main")
    repo.git("checkout", "-q", "-b", "feature")
    feature = repo.commit("not reviewed")
    repo.ok("register", "churn", "--version", "v0.1.0")
    repo.ok("promote", "churn@v0.1.0", "dev")
    pushed(repo, "churn@v0.1.0", "churn#dev#4")
    repo.git("checkout", "-q", "main")
    return feature


def staging_tag(repo: Repo, feature: str) -> str:
    """The attacker's staging assignment of v0.1.0 (the feature commit), by hand."""
    hand_tag(repo, "churn#staging#5", feature, when=FIXED_TIME + 30)
    return "churn#staging#5"


def test_a_version_off_main_is_refused_by_the_server(team: Team) -> None:
    repo, remote, _alice, _bob = team
    feature = gate_staging_on_main(repo)
    tag = staging_tag(repo, feature)
    err = refused_by_server(repo, remote, tag)
    assert "is not on main" in err
    # Pushing main along with it counts (as documented), so main moves too.
    pushed(repo, f"{feature}:refs/heads/main", tag)
    assert remote.git("rev-parse", "main").strip() == feature


@pytest.mark.parametrize("branch", ["origin/main", "main/x", "refs/heads/main", "xmain"])
def test_a_branch_named_like_main_is_not_main(team: Team, branch: str) -> None:
    repo, remote, _alice, _bob = team
    feature = gate_staging_on_main(repo)
    tag = staging_tag(repo, feature)
    # refs/heads/refs/heads/main for the third: a branch whose name is a ref's.
    err = refused_by_server(repo, remote, f"{feature}:refs/heads/{branch}", tag)
    assert f"{tag}: commit {feature[:7]} of churn@v0.1.0 is not on main" in err


@pytest.mark.parametrize("how", ["tag-object-as-main", "deny-non-fast-forwards"])
def test_a_refused_main_update_still_lets_the_tag_through(team: Team, how: str) -> None:
    repo, remote, _alice, _bob = team
    feature = gate_staging_on_main(repo)
    tag = staging_tag(repo, feature)
    main = remote.git("rev-parse", "main").strip()
    if how == "tag-object-as-main":
        # Git refuses to store a tag object in a branch, after pre-receive accepted it.
        repo.git("tag", "-a", "-m", "bait", "bait", feature)
        result = push(repo, "bait:refs/heads/main", tag)
    else:
        # The server protects main as the README asks: no force-push.
        remote.git("config", "receive.denyNonFastForwards", "true")
        repo.commit("main moves on")  # the feature branch is no fast-forward of main now
        pushed(repo, "main")
        main = remote.git("rev-parse", "main").strip()
        result = push(repo, f"+{feature}:refs/heads/main", tag)
    assert remote.git("rev-parse", "main").strip() == main  # main is protected ...
    assert tag not in remote.tags(), "a version off main holds staging: " + result.stderr


# -- replaying alice's signatures -------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="VULN (design): a signature binds the tag's name, commit and time, not the "
    "repository: alice's signed tag from another repository with the same commits (a fork, "
    "a mirror, a sandbox registry) is accepted here if its counter is free",
)
def test_alices_tag_from_another_repository_is_replayed_here(team: Team, tmp_path: Path) -> None:
    repo, remote, alice, _bob = team
    # A sandbox registry with the same history, where alice rolls prod back.
    sandbox = tmp_path / "sandbox"
    subprocess.run(["git", "clone", "-q", str(remote.path), str(sandbox)], check=True)
    other = Repo.__new__(Repo)
    other.path, other._n = sandbox, 0
    sign_with_ssh(other, alice)
    other.ok("unassign", "churn", "prod")
    assert "churn#prod!#4" in other.tags()
    # The attacker fetches her signed tag object and pushes it to the real server.
    repo.git("fetch", "-q", str(sandbox), "refs/tags/churn#prod!#4:refs/tags/churn#prod!#4")
    result = push(repo, "churn#prod!#4")
    assert holder(remote) == "v0.0.1", "alice's sandbox rollback took prod away here"
    assert result.returncode != 0


def test_alices_signed_tag_under_a_new_counter_is_bad(team: Team) -> None:
    repo, remote, _alice, _bob = team
    # Her prod#3 object again, as prod#9 (newer than anything): the name is signed.
    oid = repo.git("rev-parse", "churn#prod#3").strip()
    repo.git("update-ref", "refs/tags/churn#prod#9", oid)
    err = refused_by_server(repo, remote, "churn#prod#9")
    assert "churn#prod#9: prod needs signed tags" in err and "not 'churn#prod#9'" in err


# -- where the server reads its rules ----------------------------------------------------------


def test_loosening_the_rules_in_the_same_push_does_not_help(team: Team) -> None:
    repo, remote, _alice, _bob = team
    repo.commit("no more rules", {CONFIG_FILE: "stages: [dev, staging, prod]\n"})
    hand_tag(repo, "churn#prod!#4", "churn@v0.0.1^{}", when=FIXED_TIME + 10)
    err = refused_by_server(repo, remote, "main", "churn#prod!#4")
    assert "churn#prod!#4: prod needs signed tags" in err
    err = refused_by_server(repo, remote, "--atomic", "main", "churn#prod!#4")
    assert "churn#prod!#4: prod needs signed tags" in err


def test_creating_the_unborn_default_branch_is_refused(team: Team) -> None:
    """Was a vulnerability: a server whose HEAD names an unborn branch refused registry
    tags, but anyone could create that branch (a push without registry tags), and its
    policy then became the server's."""
    repo, remote, _alice, _bob = team
    # A server set up with 'git init --bare' (HEAD: master) while the team pushes main.
    remote.git("symbolic-ref", "HEAD", "refs/heads/master")
    hand_tag(repo, "churn#prod!#4", "churn@v0.0.1^{}", when=FIXED_TIME + 10)
    err = refused_by_server(repo, remote, "churn#prod!#4")
    assert "names no commit" in err or "names no branch" in err
    repo.git("checkout", "-q", "-b", "evil")
    repo.commit("my rules", {CONFIG_FILE: "stages: [dev, staging, prod]\n"})
    result = push(repo, "evil:refs/heads/master")
    assert result.returncode != 0, "a push created the default branch the server reads"
    assert (
        "the server's HEAD (refs/heads/master) names no branch, so its policy cannot be read: "
        "registry tags are refused; a push may not create refs/heads/master"
    ) in result.stderr
    assert "git symbolic-ref HEAD refs/heads/main" in result.stderr
    assert "master" not in remote.git("branch", "--list")
    push(repo, "churn#prod!#4")
    assert holder(remote) == "v0.0.1"
    # An empty server still takes its first push (HEAD's branch or another one).
    empty = Repo(repo.path.parent / "empty.git", bare=True)
    empty.git("symbolic-ref", "HEAD", "refs/heads/master")
    empty.ok("hooks", "install", "--server")
    repo.git("remote", "add", "empty", str(empty.path))
    assert repo.git("push", "-q", "empty", "main", "main:master") == ""


# -- keys ---------------------------------------------------------------------------------------


def test_an_expired_key_signs_a_new_tag_dated_before_its_expiry(
    team: Team, make_ssh_signer: Callable[[str], SshSigner]
) -> None:
    repo, remote, alice, bob = team
    carol = make_ssh_signer("carol@acme.example")
    expired = f'{carol.principal} namespaces="git",valid-before="20231201" {carol.public}\n'
    as_alice(repo, alice)
    repo.commit(
        "carol signs prod until December 2023",
        {
            CONFIG_FILE: POLICY.replace(
                "[alice@acme.example]", "[alice@acme.example, carol@acme.example]"
            ),
            KEYS: allowed_signers(alice, bob).decode() + expired,
        },
    )
    pushed(repo, "main")
    # Long after her key expired, carol (who left) signs a rollback dated before then.
    sign_with_ssh(repo, carol)
    hand_tag(repo, "churn#prod!#4", "churn@v0.0.1^{}", when=FIXED_TIME + 10, sign=True)
    result = push(repo, "churn#prod!#4")
    assert holder(remote) == "v0.0.1", "an expired key took prod away"
    assert result.returncode != 0
    assert "the key of carol@acme.example has expired" in result.stderr
    # check still accepts what her key signed while it was valid (judged at its time).


def test_a_wildcard_principal_does_not_match_a_signer_literally(
    team: Team, make_ssh_signer: Callable[[str], SshSigner]
) -> None:
    repo, remote, alice, bob = team
    mallory = make_ssh_signer("mallory@acme.example")
    as_alice(repo, alice)
    repo.commit(
        "every acme key may sign staging",
        {KEYS: allowed_signers(alice, bob).decode() + f"*@acme.example {mallory.public}\n"},
    )
    pushed(repo, "main")
    sign_with_ssh(repo, mallory)
    hand_tag(repo, "churn#prod!#4", "churn@v0.0.1^{}", when=FIXED_TIME + 10, sign=True)
    err = refused_by_server(repo, remote, "churn#prod!#4")
    assert "signed by *@acme.example, who is not one of prod's signers" in err
    # Nor can mallory sign as alice: the principal is the line's, not the key comment's.
    hand_tag(repo, "churn#prod!#5", "churn@v0.0.1^{}", when=FIXED_TIME + 11, sign=True)
    assert (
        "alice" not in refused_by_server(repo, remote, "churn#prod!#5").split("signed by")[1][:20]
    )


@pytest.mark.parametrize("how", ["folder", "symlink", "submodule", "missing"])
def test_an_allowed_signers_that_is_not_a_file_trusts_no_key(team: Team, how: str) -> None:
    repo, remote, alice, _bob = team
    as_alice(repo, alice)
    repo.git("rm", "-q", "--cached", KEYS)
    (repo.path / KEYS).unlink()
    if how == "folder":
        repo.commit("keys folder", {f"{KEYS}/x": allowed_signers(alice).decode()})
    elif how == "symlink":
        (repo.path / "real_keys").write_bytes(allowed_signers(alice))
        (repo.path / KEYS).symlink_to("../real_keys")
        repo.commit("keys link")
    elif how == "submodule":
        commit = repo.git("rev-parse", "HEAD").strip()
        repo.git("update-index", "--add", "--cacheinfo", f"160000,{commit},{KEYS}")
        repo.git("commit", "-q", "-m", "keys submodule")
    else:
        repo.git("commit", "-q", "-m", "no keys")
    # The hook refuses such a main (a problem of its policy): put it there past the hook.
    err = refused_by_server(repo, remote, "main")
    assert "allowed_signers" in err
    remote.git("fetch", "-q", str(repo.path), "+main:main")
    # Even alice's own signature cannot verify: nothing changes prod.
    hand_tag(repo, "churn#prod!#4", "churn@v0.0.1^{}", when=FIXED_TIME + 10, sign=True)
    err = refused_by_server(repo, remote, "churn#prod!#4")
    assert "churn#prod!#4: prod needs signed tags" in err


# -- writes, check and the server agree --------------------------------------------------------


def second_holder(repo: Repo, remote: Repo, alice: SshSigner) -> None:
    """Alice takes churn v0.0.2 (a new commit on main) through dev, staging and prod:
    v0.0.1 still holds prod underneath (the version prod falls back to)."""
    as_alice(repo, alice)
    repo.commit("v2")
    before = set(repo.tags())
    for args in (
        ("register", "churn"),
        ("promote", "churn", "dev"),
        ("promote", "churn", "staging"),
        ("promote", "churn", "prod"),
    ):
        repo.ok(*args)
    pushed(repo, "main", *sorted(set(repo.tags()) - before))
    assert holder(remote) == "v0.0.2"
    assert remote.ok("which", "churn", "prod", "--all-versions").split() == ["v0.0.2", "v0.0.1"]


def test_deregistering_the_holder_is_signed_by_the_write_and_accepted(team: Team) -> None:
    repo, remote, alice, _bob = team
    second_holder(repo, remote, alice)
    result = repo.run("deregister", "churn@v0.0.2", "--push")
    assert result.code == 0, result.err
    assert "note: signing the" in result.err
    assert holder(remote) == "v0.0.1"


def test_deregistering_the_fallback_holder_is_signed_by_the_write(team: Team) -> None:
    repo, remote, alice, _bob = team
    second_holder(repo, remote, alice)
    result = repo.run("deregister", "churn@v0.0.1", "--push")
    assert result.code == 0, result.err
    assert "note: signing the" in result.err
    assert remote.ok("which", "churn", "prod", "--all-versions").split() == ["v0.0.2"]


def test_the_fallback_holder_cannot_be_deregistered_unsigned(team: Team) -> None:
    repo, remote, alice, _bob = team
    second_holder(repo, remote, alice)
    as_attacker(repo)
    hand_tag(repo, "churn@v0.0.1!#9", "churn@v0.0.1^{}", when=FIXED_TIME + 50)
    err = refused_by_server(repo, remote, "churn@v0.0.1!#9")
    assert "churn@v0.0.1!#9: prod needs signed tags" in err


# -- crafted tag objects -------------------------------------------------------------------------


def write_object(repo: Repo, raw: bytes) -> str:
    """Write ``raw`` as a tag object, unchecked (``hash-object --literally``)."""
    return (
        subprocess.run(
            ["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"],
            cwd=repo.path,
            input=raw,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )


def signature_of(repo: Repo, tag: str) -> bytes:
    raw = repo.git("cat-file", "tag", tag).encode()
    return raw[raw.index(b"-----BEGIN SSH SIGNATURE-----") :]


def rollback_payload(repo: Repo, name: str) -> bytes:
    commit = repo.git("rev-parse", "churn@v0.0.1^{}").strip()
    return (
        f"object {commit}\ntype commit\ntag {name}\n"
        f"tagger Mallory <m@evil.example> {FIXED_TIME + 10} +0000\n\nrollback\n"
    ).encode()


@pytest.mark.parametrize(
    "how",
    [
        "alices-signature-on-another-payload",
        "mallorys-then-alices-signature",
        "alices-then-mallorys-signature",
        "alices-signature-in-the-message",
    ],
)
def test_crafted_objects_with_alices_signature_are_refused(
    team: Team, make_ssh_signer: Callable[[str], SshSigner], how: str
) -> None:
    repo, remote, _alice, _bob = team
    name = "churn#prod!#4"
    payload = rollback_payload(repo, name)
    alices = signature_of(repo, "churn#prod#3")
    mallory = make_ssh_signer("mallory@evil.example")
    sign_with_ssh(repo, mallory)
    hand_tag(repo, "mallory-signed", "churn@v0.0.1^{}", when=FIXED_TIME + 10, sign=True)
    mallorys = signature_of(repo, "mallory-signed")
    raw = {
        "alices-signature-on-another-payload": payload + alices,
        "mallorys-then-alices-signature": payload + mallorys + alices,
        "alices-then-mallorys-signature": payload + alices + mallorys,
        "alices-signature-in-the-message": payload + b"\n" + alices + b"\ntrailing\n",
    }[how]
    oid = write_object(repo, raw)
    repo.git("update-ref", f"refs/tags/{name}", oid)
    err = refused_by_server(repo, remote, name)
    assert f"{name}: prod needs signed tags" in err
    assert holder(remote) == "v0.0.1"


# -- OpenPGP: who a signer is ------------------------------------------------------------------


def _gpg(home: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(
        [
            "gpg",
            "--batch",
            "--homedir",
            str(home),
            "--passphrase",
            "",
            "--pinentry-mode",
            "loopback",
            *args,
        ],
        input=data,
        capture_output=True,
        check=True,
    ).stdout


@pytest.fixture
def gpg_homes(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Fresh GnuPG homes (short paths under /tmp for the agent's socket), agents stopped
    at the end."""
    import shutil
    import tempfile

    homes: list[str] = []

    def make(_name: str) -> Path:
        home = tempfile.mkdtemp(prefix="gra-", dir="/tmp")
        homes.append(home)
        return Path(home)

    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    yield make
    for home in homes:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_a_key_in_the_keyring_claims_alices_email(
    repo: Repo, remote: Repo, gpg_homes: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice_home, bob_home, server_home = gpg_homes("alice"), gpg_homes("bob"), gpg_homes("server")
    _gpg(alice_home, "--quick-gen-key", "Alice <alice@acme.example>", "ed25519", "sign", "never")
    _gpg(bob_home, "--quick-gen-key", "Bob <bob@acme.example>", "ed25519", "sign", "never")
    # Bob adds alice's e-mail to his own key, as its primary user id.
    bob_fpr = _gpg(bob_home, "--with-colons", "--list-secret-keys").decode().split("fpr:")[1]
    bob_fpr = bob_fpr.split(":")[8]
    _gpg(bob_home, "--quick-add-uid", bob_fpr, "Alice <alice@acme.example>")
    _gpg(bob_home, "--quick-set-primary-uid", bob_fpr, "Alice <alice@acme.example>")
    # The server's keyring holds the team's keys (bob signs other stages).
    for home in (alice_home, bob_home):
        _gpg(server_home, "--import", data=_gpg(home, "--export", "--armor"))
    repo.commit(
        "policy",
        {
            CONFIG_FILE: "promotion:\n  prod:\n    signers: [alice@acme.example]\n",
            "artifacts.yaml": "churn: {}\n",
        },
    )
    remote.ok("hooks", "install", "--server")
    pushed(repo, "main")
    repo.git("config", "user.signingKey", bob_fpr)
    monkeypatch.setenv("GNUPGHOME", str(bob_home))
    repo.ok("register", "churn")
    hand_tag(repo, "churn#prod#1", "churn@v0.0.1^{}", when=FIXED_TIME + 5, sign=True)
    monkeypatch.setenv("GNUPGHOME", str(server_home))  # the hook's keyring
    result = push(repo, "churn@v0.0.1", "churn#prod#1")
    assert holder(remote) is None, "bob's key signed prod as alice"
    assert result.returncode != 0
