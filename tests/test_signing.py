"""Signed registry tags (issue 14), the Git layer: tags signed by Git itself through
``Repository.create_tags(sign=...)``, and ``signing.Verifier`` reading ``git verify-tag``.

Real parts only: real ``git``, ``ssh-keygen`` and ``gpg``. The core tests read what Git
2.39 printed for each case, recorded from the real runs above."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from git_registry import gitbin
from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId, Signature
from git_registry.repo import NewTagObject, Repository
from git_registry.signing import (
    MAX_DETAIL,
    SignRequest,
    Verdict,
    Verifier,
    read_verdict,
    signed_message,
)
from git_registry.tagobject import format_tag_object

from conftest import (
    FIXED_TIME,
    GpgKey,
    Repo,
    SshSigner,
    allowed_signers,
    git,
    no_processes,
    sign_with_gpg,
    sign_with_ssh,
)

TAGGER = Signature("Cy Committer", "cy@example.com", FIXED_TIME, 0)
MESSAGE = "Assigning stage prod to artifact churn version v1.0.0"  # GTO's: no line break


@pytest.fixture
def opened(repo: Repo) -> Iterator[Repository]:
    """``repo`` opened as the registry opens it."""
    with Repository.discover(str(repo.path)) as opened:
        yield opened


def _new(repo: Repo, name: str = "churn#prod#1", message: str = MESSAGE) -> NewTagObject:
    head = ObjectId(repo.git("rev-parse", "HEAD").strip())
    return NewTagObject(name, head, message, TAGGER)


def _scratch_files(repo: Repo) -> list[str]:
    """What git-registry left in its own folder of the Git directory."""
    folder = repo.path / ".git" / "registry"
    return sorted(os.listdir(folder)) if folder.exists() else []


def _git_accepts(repo: Repo, oid: str, signers: bytes, tmp_path: Path) -> str:
    """``git verify-tag --raw`` with ``signers`` allowed; its stderr (Git must accept it)."""
    path = tmp_path / "allowed_signers"
    path.write_bytes(signers)
    proc = subprocess.run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={path}", "verify-tag", "--raw", oid],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


# -- signing new tags: SSH ---------------------------------------------------------------------


def test_create_tags_signs_with_the_repositorys_own_ssh_settings(
    repo: Repo, opened: Repository, ssh_signer: SshSigner, tmp_path: Path
) -> None:
    sign_with_ssh(repo, ssh_signer)  # in the repository's own config file, not --global
    new = _new(repo)
    [oid] = opened.create_tags([new], sign=SignRequest())
    assert repo.tags() == {"churn#prod#1": new.target}
    raw = repo.git("cat-file", "tag", oid)
    # The message gets the line break Git needs before the signature; nothing else changes.
    expected = format_tag_object(new.name, new.target, TAGGER, MESSAGE + "\n")
    assert raw.startswith(expected + "-----BEGIN SSH SIGNATURE-----\n")
    assert raw.endswith("-----END SSH SIGNATURE-----\n")
    stderr = _git_accepts(repo, oid, allowed_signers(ssh_signer), tmp_path)
    assert stderr.startswith('Good "git" signature for alice@acme.example with ED25519 key')
    repo.fsck()
    assert not any(name.startswith("sign-") for name in _scratch_files(repo))
    # The registry reads the same event message as for an unsigned tag.
    [tag] = opened.read_tags([("churn#prod#1", oid)])
    assert tag.tag is not None and tag.tag.message.strip() == MESSAGE


def test_create_tags_signs_with_the_key_given(
    repo: Repo,
    opened: Repository,
    ssh_signer: SshSigner,
    make_ssh_signer: Callable[[str], SshSigner],
    tmp_path: Path,
) -> None:
    bob = make_ssh_signer("bob@acme.example")
    sign_with_ssh(repo, ssh_signer)  # Alice by default; Bob's key is asked for
    [oid] = opened.create_tags([_new(repo)], sign=SignRequest(key=str(bob.private)))
    stderr = _git_accepts(repo, oid, allowed_signers(ssh_signer, bob), tmp_path)
    assert stderr.startswith('Good "git" signature for bob@acme.example ')


@pytest.fixture
def ssh_agent(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An ``ssh-agent`` of the test's own (``SSH_AUTH_SOCK``), stopped at the end."""
    if shutil.which("ssh-agent") is None:
        pytest.skip("ssh-agent is not installed")
    folder = tempfile.mkdtemp(prefix="grs-", dir="/tmp" if os.path.isdir("/tmp") else None)
    socket = os.path.join(folder, "agent")  # short: a socket path is at most ~100 bytes
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", socket], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(400):  # bounded work: until the socket exists
            if os.path.exists(socket) or agent.poll() is not None:
                break
            time.sleep(0.05)
        assert os.path.exists(socket), "ssh-agent did not start"
        monkeypatch.setenv("SSH_AUTH_SOCK", socket)
        yield socket
    finally:
        agent.terminate()
        agent.wait()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_literal_ssh_key_signs_through_the_agent(
    repo: Repo, opened: Repository, ssh_signer: SshSigner, ssh_agent: str, tmp_path: Path
) -> None:
    """``key::<public key>`` (Git's literal SSH key, as ``user.signingKey`` or the key
    asked for): ssh-keygen signs with the ssh-agent holding the private key."""
    repo.git("config", "gpg.format", "ssh")
    literal = SignRequest(key=f"key::{ssh_signer.public}")
    # Without the key in the agent, Git 2.39 exits 0 having written an unsigned tag.
    with pytest.raises(RegistryError) as caught:
        opened.create_tags([_new(repo)], sign=literal)
    assert caught.value.message.startswith(
        "cannot sign tag 'churn#prod#1': Git wrote it without a signature: No private key found for"
    )
    assert repo.tags() == {}
    subprocess.run(["ssh-add", "-q", str(ssh_signer.private)], check=True, capture_output=True)
    [oid] = opened.create_tags([_new(repo)], sign=literal)
    _git_accepts(repo, oid, allowed_signers(ssh_signer), tmp_path)


def test_tags_in_one_call_are_signed_and_created_together(
    repo: Repo, opened: Repository, ssh_signer: SshSigner, tmp_path: Path
) -> None:
    sign_with_ssh(repo, ssh_signer)
    news = [_new(repo, "churn@v1.0.0", "Registering\n"), _new(repo, "churn#prod#1")]
    oids = opened.create_tags(news, sign=SignRequest())
    assert sorted(repo.tags()) == ["churn#prod#1", "churn@v1.0.0"]
    for oid in oids:
        _git_accepts(repo, oid, allowed_signers(ssh_signer), tmp_path)
    # A message that ends with a line break is kept as it is.
    assert repo.git("cat-file", "tag", oids[0]).split("\n\n", 1)[1].startswith("Registering\n---")
    repo.fsck()


def test_the_unsigned_path_is_unchanged(repo: Repo, opened: Repository) -> None:
    [oid] = opened.create_tags([_new(repo)])
    new = _new(repo)
    assert repo.git("cat-file", "tag", oid) == format_tag_object(
        new.name, new.target, TAGGER, MESSAGE
    )


@pytest.mark.parametrize(
    ("key", "said"),
    [
        # Git 2.39 exits 0 here, with a tag object without a signature.
        ("/nonexistent/key", "Couldn't load public key /nonexistent/key: No such file"),
        (None, "either user.signingkey or gpg.ssh.defaultKeyCommand needs to be configured"),
    ],
)
def test_a_signing_failure_creates_nothing(
    repo: Repo, opened: Repository, key: str | None, said: str
) -> None:
    repo.git("config", "gpg.format", "ssh")
    with pytest.raises(RegistryError) as caught:
        opened.create_tags([_new(repo, "churn@v1.0.0"), _new(repo)], sign=SignRequest(key=key))
    assert caught.value.message.startswith("cannot sign tag 'churn@v1.0.0': ")
    assert said in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.hint is not None and caught.value.hint.startswith("nothing was created")
    assert repo.tags() == {}
    assert not any(name.startswith("sign-") for name in _scratch_files(repo))


def test_a_tag_git_writes_otherwise_is_refused_and_no_ref_is_created(
    repo: Repo, opened: Repository, ssh_signer: SshSigner
) -> None:
    """Git writes the tagger its own way (it drops a trailing '.' from a name): the
    object is checked, and the first tag's ref is not created either."""
    sign_with_ssh(repo, ssh_signer)
    odd = NewTagObject("churn#prod#1", _new(repo).target, MESSAGE, Signature("Cy Jr.", "c@x", 5, 0))
    with pytest.raises(RegistryError) as caught:
        opened.create_tags([_new(repo, "churn@v1.0.0"), odd], sign=SignRequest())
    assert caught.value.message == (
        "cannot sign tag 'churn#prod#1': Git wrote another tag than the one asked for "
        "(line 4: 'tagger Cy Jr <c@x> 5 +0000' instead of 'tagger Cy Jr. <c@x> 5 +0000')"
    )
    assert repo.tags() == {}


def test_signing_runs_none_of_the_users_hooks(
    repo: Repo, opened: Repository, ssh_signer: SshSigner, tmp_path: Path
) -> None:
    """Git runs reference-transaction for the throwaway repository's refs too: not the
    user's own (a global core.hooksPath); the user's refs are created as before."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    hook = hooks / "reference-transaction"
    hook.write_text(f'#!/bin/sh\necho "$1 $GIT_DIR" >> "{tmp_path / "ran"}"\n')
    hook.chmod(0o755)
    repo.git("config", "--global", "core.hooksPath", str(hooks))
    sign_with_ssh(repo, ssh_signer)
    opened.create_tags([_new(repo)], sign=SignRequest())
    ran = (tmp_path / "ran").read_text().splitlines()
    assert all("/registry/sign-" not in line for line in ran)
    assert [line.split()[0] for line in ran] == ["prepared", "committed"]


def test_signing_in_a_sha256_repository(tmp_path: Path, ssh_signer: SshSigner) -> None:
    git(tmp_path, "init", "-q", "--object-format=sha256", "sha256")
    repo = Repo(tmp_path / "sha256")  # initialised again: kept as it is
    repo.commit("initial")
    sign_with_ssh(repo, ssh_signer)
    with Repository.discover(str(repo.path)) as opened:
        [oid] = opened.create_tags([_new(repo)], sign=SignRequest())
    assert len(oid) == 64
    _git_accepts(repo, oid, allowed_signers(ssh_signer), tmp_path)
    repo.fsck()


def test_signing_from_a_linked_worktree(repo: Repo, tmp_path: Path, ssh_signer: SshSigner) -> None:
    sign_with_ssh(repo, ssh_signer)
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"))
    with Repository.discover(str(tmp_path / "wt")) as opened:
        [oid] = opened.create_tags([_new(repo)], sign=SignRequest())
    _git_accepts(repo, oid, allowed_signers(ssh_signer), tmp_path)
    assert repo.tags() == {"churn#prod#1": _new(repo).target}


# -- signing new tags: OpenPGP -----------------------------------------------------------------


def test_create_tags_signs_with_openpgp(
    repo: Repo, opened: Repository, gpg_key: GpgKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_with_gpg(repo, gpg_key, monkeypatch)
    [oid] = opened.create_tags([_new(repo)], sign=SignRequest())
    assert "\n-----BEGIN PGP SIGNATURE-----\n" in repo.git("cat-file", "tag", oid)
    status = gitbin.run_git(["verify-tag", "--raw", oid], cwd=str(repo.path)).stderr
    assert f"[GNUPG:] VALIDSIG {gpg_key.fingerprint} " in status
    repo.fsck()


def test_openpgp_with_the_key_given_and_with_a_key_gpg_lacks(
    repo: Repo, opened: Repository, gpg_key: GpgKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNUPGHOME", str(gpg_key.home))  # no user.signingKey
    [oid] = opened.create_tags([_new(repo)], sign=SignRequest(key=gpg_key.fingerprint))
    assert "-----BEGIN PGP SIGNATURE-----" in repo.git("cat-file", "tag", oid)
    with pytest.raises(RegistryError) as caught:
        opened.create_tags([_new(repo, "churn#prod#2")], sign=SignRequest(key="DEADBEEF"))
    assert caught.value.message == "cannot sign tag 'churn#prod#2': gpg failed to sign the data"
    assert list(repo.tags()) == ["churn#prod#1"]


def test_openpgp_signs_as_the_tagger_without_a_signing_key(
    repo: Repo, opened: Repository, gpg_key: GpgKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without user.signingKey, Git signs with the key of the committer identity: the
    tagger's."""
    monkeypatch.setenv("GNUPGHOME", str(gpg_key.home))
    gus = Signature("Gus Signer", "gus@acme.example", FIXED_TIME, 60)
    new = NewTagObject("churn#prod#1", _new(repo).target, MESSAGE, gus)
    [oid] = opened.create_tags([new], sign=SignRequest())
    with Verifier(opened, None) as verifier:
        verdict = verifier.verify(ObjectId(oid))
    assert (verdict.status, verdict.principal) == ("good", "gus@acme.example")


# -- verifying: SSH ----------------------------------------------------------------------------


def _signed(repo: Repo, opened: Repository, signer: SshSigner, name: str = "churn#prod#1") -> str:
    sign_with_ssh(repo, signer)
    [oid] = opened.create_tags([_new(repo, name)], sign=SignRequest())
    return oid


def test_verify_a_good_ssh_signature(repo: Repo, opened: Repository, ssh_signer: SshSigner) -> None:
    oid = ObjectId(_signed(repo, opened, ssh_signer))
    with Verifier(opened, allowed_signers(ssh_signer)) as verifier:
        verdict = verifier.verify(oid)
        assert verdict.status == "good"
        assert verdict.principal == "alice@acme.example"
        assert verdict.format == "ssh"
        assert verdict.key is not None and verdict.key.startswith("ED25519 SHA256:")
        assert verdict.detail == (
            f'Good "git" signature for alice@acme.example with ED25519 key {verdict.key[8:]}'
        )
        with no_processes():  # cached: verified once per object
            assert verifier.verify(oid) is verdict
            assert verifier.verify(ObjectId(oid.upper())) is verdict


def test_a_signed_tag_under_another_name_is_bad(
    repo: Repo, opened: Repository, ssh_signer: SshSigner
) -> None:
    """The signature covers the name in the object's header, not the ref's: a signed
    promotion pushed again under a new name does not carry its signature along."""
    oid = ObjectId(_signed(repo, opened, ssh_signer))
    repo.git("update-ref", "refs/tags/churn#prod#2", oid)
    with Verifier(opened, allowed_signers(ssh_signer)) as verifier:
        assert verifier.verify(oid, "churn#prod#1").status == "good"
        with no_processes():
            moved = verifier.verify(oid, "churn#prod#2")
    assert moved == Verdict(
        "bad",
        None,
        verifier.verify(oid).key,
        "ssh",
        "the signed tag object is named 'churn#prod#1', not 'churn#prod#2': a signature "
        "holds for the name it was made for",
    )


def test_an_unsigned_tag_starts_no_process(
    repo: Repo, opened: Repository, ssh_signer: SshSigner
) -> None:
    first, second = opened.create_tags([_new(repo, "churn@v1.0.0"), _new(repo)])
    with Verifier(opened, allowed_signers(ssh_signer)) as verifier:
        assert verifier.verify(first).status == "unsigned"  # starts 'git cat-file'
        with no_processes() as started:
            verdict = verifier.verify(second)
    assert started == []
    assert verdict == Verdict("unsigned", None, None, None, "the tag object has no signature")


def test_a_key_not_in_allowed_signers_is_an_unknown_key(
    repo: Repo,
    opened: Repository,
    ssh_signer: SshSigner,
    make_ssh_signer: Callable[[str], SshSigner],
) -> None:
    oid = ObjectId(_signed(repo, opened, ssh_signer))
    bob = make_ssh_signer("bob@acme.example")
    with Verifier(opened, allowed_signers(bob)) as verifier:
        verdict = verifier.verify(oid)
    assert (verdict.status, verdict.principal, verdict.format) == ("unknown-key", None, "ssh")
    assert verdict.key is not None and verdict.key.startswith("ED25519 SHA256:")
    assert verdict.detail == (
        f"a valid signature, but allowed_signers does not allow the key {verdict.key}: "
        "No principal matched."
    )


def test_a_key_past_its_validity_is_an_unknown_key(
    repo: Repo, opened: Repository, ssh_signer: SshSigner
) -> None:
    oid = ObjectId(_signed(repo, opened, ssh_signer))
    line = f'{ssh_signer.principal} namespaces="git",valid-before="20200101" {ssh_signer.public}'
    with Verifier(opened, line.encode()) as verifier:
        verdict = verifier.verify(oid)
    assert verdict.status == "unknown-key"
    # ssh-keygen names the file: the Verifier's private copy is named allowed_signers.
    assert "allowed_signers:1: key has expired: verify time 2023-11-14T22:13:20 > valid-before" in (
        verdict.detail
    )


def test_a_tampered_tag_is_bad(repo: Repo, opened: Repository, ssh_signer: SshSigner) -> None:
    oid = _signed(repo, opened, ssh_signer)
    raw = repo.git("cat-file", "tag", oid).replace("stage prod", "stage prOd", 1)
    path = repo.path / "forged"
    path.write_text(raw)
    tampered = ObjectId(
        repo.git("hash-object", "-t", "tag", "-w", "--literally", str(path)).strip()
    )
    with Verifier(opened, allowed_signers(ssh_signer)) as verifier:
        verdict = verifier.verify(tampered)
        assert verifier.verify(ObjectId(oid)).status == "good"
    assert (verdict.status, verdict.principal, verdict.key, verdict.format) == (
        "bad",
        None,
        None,
        "ssh",
    )
    assert verdict.detail == (
        "the signature does not verify: Signature verification failed: incorrect signature"
    )


def test_without_allowed_signers_ssh_is_unverifiable_whatever_the_user_configured(
    repo: Repo,
    opened: Repository,
    ssh_signer: SshSigner,
    make_ssh_signer: Callable[[str], SshSigner],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oid = ObjectId(_signed(repo, opened, ssh_signer))
    trusting = tmp_path / "users_allowed_signers"
    trusting.write_bytes(allowed_signers(ssh_signer))
    # The user's own file trusts Alice, in the repository's config and through 'git -c'.
    repo.git("config", "gpg.ssh.allowedSignersFile", str(trusting))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'gpg.ssh.allowedsignersfile'='{trusting}'")
    with Verifier(opened, None) as verifier:
        opened.tag_object(oid)  # the cat-file process is started
        with no_processes():
            verdict = verifier.verify(oid)
    assert (verdict.status, verdict.format) == ("unverifiable", "ssh")
    assert verdict.detail == (
        "the policy names no allowed_signers file: an SSH signature cannot be verified"
    )
    # With the policy's file (Bob's alone), the user's file does not count either.
    bob = make_ssh_signer("bob@acme.example")
    with Verifier(opened, allowed_signers(bob)) as verifier:
        assert verifier.verify(oid).status == "unknown-key"


def test_a_revocation_file_still_applies(
    repo: Repo, opened: Repository, ssh_signer: SshSigner, tmp_path: Path
) -> None:
    oid = ObjectId(_signed(repo, opened, ssh_signer))
    revoked = tmp_path / "revoked_keys"
    revoked.write_text(ssh_signer.public + "\n")
    repo.git("config", "gpg.ssh.revocationFile", str(revoked))
    with Verifier(opened, allowed_signers(ssh_signer)) as verifier:
        verdict = verifier.verify(oid)
    # Git 2.39 says no more than ssh-keygen's "Could not verify signature.".
    assert (verdict.status, verdict.detail) == (
        "bad",
        "the signature does not verify: Could not verify signature.",
    )


def test_the_allowed_signers_copy_is_private_and_removed(
    repo: Repo, opened: Repository, ssh_signer: SshSigner
) -> None:
    oid = ObjectId(_signed(repo, opened, ssh_signer))
    verifier = Verifier(opened, allowed_signers(ssh_signer))
    assert _scratch_files(repo) == []  # nothing written before it is needed
    verifier.verify(oid)
    [copy] = _scratch_files(repo)
    path = repo.path / ".git" / "registry" / copy
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == allowed_signers(ssh_signer)
    verifier.close()
    assert _scratch_files(repo) == []
    verifier.close()  # twice is fine


def test_what_is_not_a_tag_object_is_unverifiable(repo: Repo, opened: Repository) -> None:
    head = ObjectId(repo.git("rev-parse", "HEAD").strip())
    with Verifier(opened, b"") as verifier:
        verdict = verifier.verify(head)
        assert verifier.verify(ObjectId("0" * 40)).status == "unverifiable"
    assert verdict == Verdict(
        "unverifiable", None, None, None, f"{head} is not a tag object of this repository"
    )


def test_a_tag_git_says_has_no_signature_is_unsigned(
    repo: Repo, opened: Repository, ssh_signer: SshSigner
) -> None:
    """A marker inside a line is no signature, for Git as for us (Git 2.39 writes such
    a tag for ``git tag -s`` with a message without a final line break)."""
    sign_with_ssh(repo, ssh_signer)
    (repo.path / "m").write_text("no line break")
    repo.git("tag", "-s", "--cleanup=verbatim", "-F", "m", "v1")
    oid = ObjectId(repo.git("rev-parse", "v1").strip())
    assert "no line break-----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "tag", oid)
    with Verifier(opened, allowed_signers(ssh_signer)) as verifier:
        assert verifier.verify(oid).status == "unsigned"


# -- verifying: OpenPGP and x509 ---------------------------------------------------------------


def test_verify_openpgp_good_unknown_and_bad(
    repo: Repo,
    opened: Repository,
    gpg_key: GpgKey,
    make_gpg_key: Callable[[str, str], GpgKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_with_gpg(repo, gpg_key, monkeypatch)
    [oid] = opened.create_tags([_new(repo)], sign=SignRequest())
    raw = repo.git("cat-file", "tag", oid).replace("stage prod", "stage prOd", 1)
    (repo.path / "forged").write_text(raw)
    forged = ObjectId(repo.git("hash-object", "-t", "tag", "-w", "--literally", "forged").strip())
    with Verifier(opened, None) as verifier:
        good = verifier.verify(oid)
        bad = verifier.verify(forged)
    assert good == Verdict(
        "good",
        "gus@acme.example",
        gpg_key.fingerprint,
        "openpgp",
        f"good OpenPGP signature by Gus Signer <gus@acme.example> "
        f"(key {gpg_key.fingerprint}, trust ultimate)",
    )
    assert (bad.status, bad.format, bad.key) == ("bad", "openpgp", gpg_key.fingerprint[-16:])
    assert bad.detail == (
        f"the OpenPGP signature by Gus Signer <gus@acme.example> (key {gpg_key.fingerprint[-16:]})"
        " does not match the tag"
    )
    # Another keyring, without Gus's key.
    other = make_gpg_key("Olga Other", "olga@acme.example")
    monkeypatch.setenv("GNUPGHOME", str(other.home))
    with Verifier(opened, None) as verifier:
        unknown = verifier.verify(oid)
    assert unknown == Verdict(
        "unknown-key",
        None,
        gpg_key.fingerprint,
        "openpgp",
        f"the OpenPGP signing key {gpg_key.fingerprint} is not in the keyring",
    )


def test_an_x509_signature_without_gpgsm_set_up_is_unverifiable(
    repo: Repo, opened: Repository, gpg_key: GpgKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNUPGHOME", str(gpg_key.home))  # gpgsm's agents are stopped with it
    new = _new(repo)
    text = format_tag_object(new.name, new.target, TAGGER, "m\n")
    (repo.path / "x509").write_text(
        text + "-----BEGIN SIGNED MESSAGE-----\nMIIabc\n-----END SIGNED MESSAGE-----\n"
    )
    oid = ObjectId(repo.git("hash-object", "-t", "tag", "-w", "--literally", "x509").strip())
    with Verifier(opened, None) as verifier:
        verdict = verifier.verify(oid)
    assert (verdict.status, verdict.format) == ("unverifiable", "x509")
    assert verdict.detail.startswith("Git cannot verify the x509 signature: ")


# -- reading what Git 2.39 printed (core) ------------------------------------------------------

_SSH_KEY = "ED25519 SHA256:thdv6Wp6GKIMkE4gV5IGtQZquy8L/81NXJZMdzhRX1A"
_WITH_KEY = "with ED25519 key SHA256:thdv6Wp6GKIMkE4gV5IGtQZquy8L/81NXJZMdzhRX1A"
_FPR = "0379A45567D6F186BA1F9B05B0B663037AFFA854"
_GOODSIG = "[GNUPG:] GOODSIG B0B663037AFFA854 User g1 <g1@acme.example>\n"
_VALIDSIG = f"[GNUPG:] VALIDSIG {_FPR} 2026-12-02 1796195466 0 4 0 22 8 00 {_FPR}\n"

# (format, exit code, stderr of 'git verify-tag --raw', status, principal, key, detail)
GIT_SAID = {
    "ssh good": (
        "ssh",
        0,
        f'Good "git" signature for alice@acme.example {_WITH_KEY}\n',
        ("good", "alice@acme.example", _SSH_KEY),
        f'Good "git" signature for alice@acme.example {_WITH_KEY}',
    ),
    "ssh good, a principal with ' with ' in it": (
        "ssh",
        0,
        f'Good "git" signature for a with b {_WITH_KEY}\n',
        ("good", "a with b", _SSH_KEY),
        f'Good "git" signature for a with b {_WITH_KEY}',
    ),
    "ssh good after Git's warning": (
        "ssh",
        0,
        "warning: ssh signing revocation file configured but not found: /x\n"
        f'Good "git" signature for alice@acme.example {_WITH_KEY}\n',
        ("good", "alice@acme.example", _SSH_KEY),
        f'Good "git" signature for alice@acme.example {_WITH_KEY}',
    ),
    "ssh good line but Git failed": (
        "ssh",
        1,
        f'Good "git" signature for alice@acme.example {_WITH_KEY}\n',
        ("unverifiable", None, None),
        f'Git cannot verify the SSH signature: Good "git" signature for alice@acme.example '
        f"{_WITH_KEY}",
    ),
    "ssh key in no principal": (
        "ssh",
        1,
        f'Good "git" signature {_WITH_KEY}\nNo principal matched.\n',
        ("unknown-key", None, _SSH_KEY),
        f"a valid signature, but allowed_signers does not allow the key {_SSH_KEY}: "
        "No principal matched.",
    ),
    "ssh key expired in allowed_signers": (
        "ssh",
        1,
        f'Good "git" signature {_WITH_KEY}\n/tmp/s/f:1: key has expired: verify time '
        "2026-12-02T07:10:43 > valid-before 2020-01-01T00:00:00\r\nNo principal matched.\n",
        ("unknown-key", None, _SSH_KEY),
        f"a valid signature, but allowed_signers does not allow the key {_SSH_KEY}: "
        "allowed_signers:1: key has expired: verify time 2026-12-02T07:10:43 > "
        "valid-before 2020-01-01T00:00:00; No principal matched.",
    ),
    "ssh tampered": (
        "ssh",
        1,
        "Could not verify signature.\nSignature verification failed: incorrect signature\n",
        ("bad", None, None),
        "the signature does not verify: Signature verification failed: incorrect signature",
    ),
    "ssh corrupt signature": (
        "ssh",
        1,
        "Could not verify signature.\nCouldn't verify signature: invalid format\r\n"
        "sig_find_principals: sshsig_get_pubkey: invalid format\r\nNo principal matched.\n"
        "Couldn't verify signature: invalid format\n",
        ("bad", None, None),
        "the signature does not verify: Couldn't verify signature: invalid format; "
        "sig_find_principals: sshsig_get_pubkey: invalid format; No principal matched.",
    ),
    "ssh revoked key": (
        "ssh",
        1,
        "Could not verify signature.\n",
        ("bad", None, None),
        "the signature does not verify: Could not verify signature.",
    ),
    "ssh namespace not allowed": (
        "ssh",
        1,
        "Could not verify signature.\n/tmp/s/f:1: key is not permitted for use in signature "
        'namespace "git"\n',
        ("bad", None, None),
        "the signature does not verify: allowed_signers:1: key is not permitted for use in "
        'signature namespace "git"',
    ),
    "ssh no allowed signers file (Git's own)": (
        "ssh",
        1,
        "error: gpg.ssh.allowedSignersFile needs to be configured and exist for ssh "
        "signature verification\n",
        ("unverifiable", None, None),
        "Git cannot verify the SSH signature: gpg.ssh.allowedSignersFile needs to be "
        "configured and exist for ssh signature verification",
    ),
    "ssh-keygen missing": (
        "ssh",
        1,
        "fatal: cannot run /nonexistent: No such file or directory\n" * 2,
        ("unverifiable", None, None),
        "Git cannot verify the SSH signature: cannot run /nonexistent: No such file or directory",
    ),
    "no signature found": (
        "ssh",
        1,
        "error: no signature found\n",
        ("unsigned", None, None),
        "Git finds no signature in the tag object",
    ),
    "openpgp good": (
        "openpgp",
        0,
        f"[GNUPG:] NEWSIG\n[GNUPG:] KEY_CONSIDERED {_FPR} 0\n{_GOODSIG}{_VALIDSIG}"
        "[GNUPG:] TRUST_ULTIMATE 0 pgp\n",
        ("good", "g1@acme.example", _FPR),
        f"good OpenPGP signature by User g1 <g1@acme.example> (key {_FPR}, trust ultimate)",
    ),
    "openpgp good, signed by a subkey": (
        "openpgp",
        0,
        f"[GNUPG:] NEWSIG\n{_GOODSIG}[GNUPG:] VALIDSIG {'1' * 40} 2026-12-02 1796195466 0 4 0 22 8 "
        f"00 {_FPR}\n[GNUPG:] TRUST_ULTIMATE 0 pgp\n",
        ("good", "g1@acme.example", _FPR),  # the primary key names the signer
        f"good OpenPGP signature by User g1 <g1@acme.example> (key {_FPR}, trust ultimate)",
    ),
    "openpgp good, a key of undefined trust": (
        "openpgp",
        0,
        f"[GNUPG:] NEWSIG\n{_GOODSIG}{_VALIDSIG}[GNUPG:] TRUST_UNDEFINED 0 pgp\n",
        ("good", None, _FPR),  # its user id is only the key owner's claim
        f"good OpenPGP signature by User g1 <g1@acme.example> (key {_FPR}, trust undefined)",
    ),
    "openpgp below gpg.minTrustLevel": (
        "openpgp",
        1,
        f"[GNUPG:] NEWSIG\n{_GOODSIG}{_VALIDSIG}[GNUPG:] TRUST_UNDEFINED 0 pgp\n",
        ("unknown-key", None, _FPR),
        f"a valid OpenPGP signature by User g1 <g1@acme.example> (key {_FPR}), but Git does "
        "not trust the key enough (trust undefined; gpg.minTrustLevel)",
    ),
    "openpgp no public key": (
        "openpgp",
        1,
        f"[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG B0B663037AFFA854 22 8 00 1796195466 9 {_FPR}\n"
        "[GNUPG:] NO_PUBKEY B0B663037AFFA854\n",
        ("unknown-key", None, _FPR),
        f"the OpenPGP signing key {_FPR} is not in the keyring",
    ),
    "openpgp tampered": (
        "openpgp",
        1,
        f"[GNUPG:] NEWSIG\n[GNUPG:] KEY_CONSIDERED {_FPR} 0\n"
        "[GNUPG:] BADSIG B0B663037AFFA854 User g1 <g1@acme.example>\n",
        ("bad", None, "B0B663037AFFA854"),
        "the OpenPGP signature by User g1 <g1@acme.example> (key B0B663037AFFA854) does "
        "not match the tag",
    ),
    "openpgp corrupt signature": (
        "openpgp",
        1,
        "[GNUPG:] NODATA 3\n[GNUPG:] NODATA 4\n",
        ("bad", None, None),
        "the signature is not valid OpenPGP data",
    ),
    "openpgp expired key": (
        "openpgp",
        1,
        "[GNUPG:] NEWSIG\n[GNUPG:] EXPKEYSIG B0B663037AFFA854 User g1 <g1@acme.example>\n",
        ("unverifiable", None, "B0B663037AFFA854"),
        "the key B0B663037AFFA854 of User g1 <g1@acme.example> has expired",
    ),
    "openpgp revoked key": (
        "openpgp",
        1,
        "[GNUPG:] NEWSIG\n[GNUPG:] REVKEYSIG B0B663037AFFA854 User g1 <g1@acme.example>\n",
        ("unverifiable", None, "B0B663037AFFA854"),
        "the key B0B663037AFFA854 of User g1 <g1@acme.example> has been revoked",
    ),
    "gpg missing": (
        "openpgp",
        1,
        "fatal: cannot run /nonexistent: No such file or directory\n",
        ("unverifiable", None, None),
        "Git cannot verify the OpenPGP signature: cannot run /nonexistent: No such file or "
        "directory",
    ),
    "x509 without gpgsm set up": (
        "x509",
        1,
        "[GNUPG:] ERROR verify.leave 151011327\n",
        ("unverifiable", None, None),
        "Git cannot verify the x509 signature: [GNUPG:] ERROR verify.leave 151011327",
    ),
}


@pytest.mark.core
@pytest.mark.parametrize("case", GIT_SAID)
def test_read_what_git_said(case: str) -> None:
    fmt, code, stderr, (status, principal, key), detail = GIT_SAID[case]
    verdict = read_verdict(fmt, gitbin.GitResult(code, "", stderr), "/tmp/s/f")
    assert verdict == Verdict(status, principal, key, None if status == "unsigned" else fmt, detail)


@pytest.mark.core
def test_a_detail_is_one_bounded_printable_line() -> None:
    stderr = "fatal: cannot run \x1b[31mred\x7f\u202e" + "x" * 1000 + "\n"
    verdict = read_verdict("ssh", gitbin.GitResult(1, "", stderr))
    assert verdict.detail.startswith(
        "Git cannot verify the SSH signature: cannot run \\x1b[31mred\\x7f\\u202exxx"
    )
    assert len(verdict.detail) == MAX_DETAIL and verdict.detail.endswith("...")


@pytest.mark.core
@pytest.mark.parametrize(
    ("message", "signed"),
    [("m", "m\n"), ("m\n", "m\n"), ("", ""), ("a\n\nb", "a\n\nb\n"), ("m\n\n", "m\n\n")],
)
def test_signed_message(message: str, signed: str) -> None:
    assert signed_message(message) == signed
