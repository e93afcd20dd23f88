"""Second attack round on governance (issue 14), against the fixes of the first
(tests/test_attack_governance.py): someone with push access but without alice's key
tries to change who holds prod (signed by alice, after staging, on main). Real Git,
real keys, a real bare remote with the server hook, real ``git push``.

A test marked ``xfail(strict=True)`` is a confirmed vulnerability of the current code;
the others are attacks that are already defeated.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from git_registry.policy import CONFIG_FILE

from conftest import FIXED_TIME, Repo, SshSigner
from signed_team import (
    POLICY,
    Team,
    as_alice,
    as_attacker,
    hand_tag,
    holder,
    make_team,
    push,
    pushed,
)


def holders(repo: Repo, stage: str = "prod") -> list[str]:
    result = repo.run("which", "churn", stage, "--all-versions")
    return result.out.split() if result.code == 0 else []


def check_out(repo: Repo) -> str:
    result = repo.run("check")
    return result.out + result.err


@pytest.fixture
def team(repo: Repo, remote: Repo, make_ssh_signer: Callable[[str], SshSigner]) -> Team:
    """See :func:`signed_team.make_team`."""
    return make_team(repo, remote, make_ssh_signer)


def second_holder(repo: Repo, remote: Repo, alice: SshSigner) -> None:
    """Alice takes churn v0.0.2 (a new commit on main) to prod: v0.0.1 underneath."""
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
    assert holders(remote) == ["v0.0.2", "v0.0.1"]
    as_attacker(repo)


# -- 1. registrations and deregistrations that change the holder ------------------------------


def test_two_backdated_deregistrations_of_the_holder(team: Team) -> None:
    repo, remote, _alice, _bob = team
    # Both dated with v0.0.1's registration (T0), before its dev, staging and prod.
    hand_tag(repo, "churn@v0.0.1!", "churn@v0.0.1^{}", when=FIXED_TIME)
    hand_tag(repo, "churn@v0.0.1!#4", "churn@v0.0.1^{}", when=FIXED_TIME)
    assert holder(repo) is None  # the attack works on the state
    result = push(repo, "churn@v0.0.1!", "churn@v0.0.1!#4")
    assert holder(remote) == "v0.0.1", "two unsigned deregistrations took prod away"
    assert result.returncode != 0
    assert "prod needs signed tags" in check_out(repo), "check is silent"


def test_two_backdated_deregistrations_roll_prod_back(team: Team) -> None:
    repo, remote, alice, _bob = team
    second_holder(repo, remote, alice)
    registered = int(
        repo.git("for-each-ref", "--format=%(taggerdate:unix)", "refs/tags/churn@v0.0.2")
    )
    hand_tag(repo, "churn@v0.0.2!", "churn@v0.0.2^{}", when=registered)
    hand_tag(repo, "churn@v0.0.2!#99", "churn@v0.0.2^{}", when=registered)
    assert holder(repo) == "v0.0.1"
    result = push(repo, "churn@v0.0.2!", "churn@v0.0.2!#99")
    assert holder(remote) == "v0.0.2", "prod rolled back to v0.0.1 without a signature"
    assert result.returncode != 0
    assert "prod needs signed tags" in check_out(repo)


def test_a_decoy_version_deregistered_twice_takes_prod(team: Team) -> None:
    repo, remote, _alice, _bob = team
    hand_tag(repo, "churn@v6.6.6", "churn@v0.0.1^{}", when=FIXED_TIME)
    hand_tag(repo, "churn@v6.6.6!", "churn@v0.0.1^{}", when=FIXED_TIME + 2)
    hand_tag(repo, "churn@v6.6.6!#4", "churn@v0.0.1^{}", when=FIXED_TIME + 2)
    assert holder(repo) is None  # v6.6.6 owns churn#prod#3, and is deregistered
    result = push(repo, "churn@v6.6.6", "churn@v6.6.6!", "churn@v6.6.6!#4")
    assert holder(remote) == "v0.0.1", "a decoy version took prod away"
    assert result.returncode != 0
    assert "prod needs signed tags" in check_out(repo)


def test_a_decoy_version_that_reowns_staging_and_prod_is_refused(team: Team) -> None:
    """v6.6.6 registered on the holder's commit at T0 (after v0.0.1 by name) owns its
    dev, staging and prod tags; v0.0.1 (then holding nothing) is deregistered: same
    commit, another version in prod. The server refuses the registration (_revived)."""
    repo, remote, _alice, _bob = team
    hand_tag(repo, "churn@v6.6.6", "churn@v0.0.1^{}", when=FIXED_TIME)
    hand_tag(repo, "churn@v0.0.1!", "churn@v0.0.1^{}", when=FIXED_TIME + 10)
    assert holder(repo) == "v6.6.6"
    result = push(repo, "churn@v6.6.6", "churn@v0.0.1!")
    assert result.returncode != 0
    assert "churn@v6.6.6: prod needs signed tags" in result.stderr
    assert holder(remote) == "v0.0.1"


def test_a_reregistration_of_the_active_holder_changes_nothing(team: Team) -> None:
    repo, remote, _alice, _bob = team
    hand_tag(repo, "churn@v0.0.1#7", "churn@v0.0.1^{}", when=FIXED_TIME + 20)
    pushed(repo, "churn@v0.0.1#7")
    assert holder(remote) == "v0.0.1"


def test_reregistering_the_retired_fallback_is_refused(team: Team) -> None:
    """Alice retires v0.0.1 (underneath v0.0.2); registering it again would put it back
    under v0.0.2, where a deregistration of v0.0.2 would then fall back to it."""
    repo, remote, alice, _bob = team
    second_holder(repo, remote, alice)
    as_alice(repo, alice)
    assert repo.run("deregister", "churn@v0.0.1", "--push").code == 0
    as_attacker(repo)
    assert holders(remote) == ["v0.0.2"]
    hand_tag(repo, "churn@v0.0.1#50", "churn@v0.0.1^{}", when=FIXED_TIME + 500)
    result = push(repo, "churn@v0.0.1#50")
    assert result.returncode != 0
    assert "churn@v0.0.1#50: prod needs signed tags" in result.stderr


def test_moving_v0_0_1_to_another_commit_by_an_earlier_registration_is_refused(
    team: Team,
) -> None:
    """A registration of v0.0.1 dated before the real one, on another commit, makes the
    real registration (and so churn#prod#3's version) void."""
    repo, remote, _alice, _bob = team
    other = repo.commit("elsewhere")
    hand_tag(repo, "churn@v0.0.1#0", other, when=FIXED_TIME - 10)
    assert holder(repo) is None
    result = push(repo, "churn@v0.0.1#0")
    assert result.returncode != 0
    assert holder(remote) == "v0.0.1"


# -- 2. OpenPGP: who a signer is ----------------------------------------------------------------


_LOOPBACK = ("--pinentry-mode", "loopback")


def _gpg(home: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(
        [*("gpg", "--batch", "--homedir", str(home), "--passphrase", ""), *_LOOPBACK, *args],
        input=data,
        capture_output=True,
        check=True,
    ).stdout


def _fingerprint(home: Path) -> str:
    listing = _gpg(home, "--with-colons", "--list-keys").decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


@pytest.fixture
def gpg_homes() -> Iterator[Callable[[], Path]]:
    """Fresh GnuPG homes (short paths under /tmp for the agent's socket)."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    homes: list[str] = []

    def make() -> Path:
        home = tempfile.mkdtemp(prefix="gra2-", dir="/tmp")
        homes.append(home)
        return Path(home)

    yield make
    for home in homes:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def pgp_team(
    repo: Repo, remote: Repo, gpg_homes: Callable[[], Path], signers: str
) -> tuple[Path, Path, str]:
    """The server's keyring trusts its admin's key (ultimate), and the admin certified
    bob's key (his user id 'Bob', so trust full): bob signs other stages. prod's signers
    are ``signers``. Returns bob's home, the server's home and bob's fingerprint."""
    admin, bob, server = gpg_homes(), gpg_homes(), gpg_homes()
    _gpg(admin, "--quick-gen-key", "Admin <admin@acme.example>", "ed25519", "sign", "never")
    _gpg(bob, "--quick-gen-key", "Bob <bob@acme.example>", "ed25519", "sign", "never")
    admin_fpr, bob_fpr = _fingerprint(admin), _fingerprint(bob)
    _gpg(server, "--import", data=_gpg(admin, "--export-secret-keys"))
    _gpg(server, "--import-ownertrust", data=f"{admin_fpr}:6:\n".encode())
    _gpg(server, "--import", data=_gpg(bob, "--export"))
    _gpg(server, "--yes", "--quick-sign-key", bob_fpr)
    repo.commit(
        "policy",
        {
            CONFIG_FILE: f"promotion:\n  prod:\n    signers: [{signers}]\n",
            "artifacts.yaml": "churn: {}\n",
        },
    )
    remote.ok("hooks", "install", "--server")
    pushed(repo, "main")
    repo.git("config", "user.signingKey", bob_fpr)
    return bob, server, bob_fpr


def test_a_certified_key_claims_alices_email_in_another_user_id(
    repo: Repo, remote: Repo, gpg_homes: Callable[[], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    bob, server, bob_fpr = pgp_team(repo, remote, gpg_homes, "alice@acme.example")
    _gpg(bob, "--quick-add-uid", bob_fpr, "Alice <alice@acme.example>")
    _gpg(bob, "--quick-set-primary-uid", bob_fpr, "Alice <alice@acme.example>")
    # The server's admin refreshes the team's keys (an import merges the new user id).
    _gpg(server, "--import", data=_gpg(bob, "--export"))
    assert "[ unknown] Alice" in _gpg(server, "--list-keys", bob_fpr).decode()
    monkeypatch.setenv("GNUPGHOME", str(bob))
    repo.ok("register", "churn")
    hand_tag(repo, "churn#prod#1", "churn@v0.0.1^{}", when=FIXED_TIME + 5, sign=True)
    monkeypatch.setenv("GNUPGHOME", str(server))  # the hook's keyring
    result = push(repo, "churn@v0.0.1", "churn#prod#1")
    assert holder(remote) is None, "bob's key signed prod as alice: " + result.stderr
    assert result.returncode != 0


@pytest.mark.parametrize("how", ["lower", "spaced"])
def test_signers_may_list_a_fingerprint_in_any_case_not_spaced(
    repo: Repo,
    remote: Repo,
    gpg_homes: Callable[[], Path],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """A fingerprint in lower case names the key; one written with spaces (as gpg shows
    it) is refused in the policy itself (no principal, no fingerprint)."""
    bob, server, bob_fpr = pgp_team(repo, remote, gpg_homes, "PLACEHOLDER")
    spaced = " ".join(bob_fpr[i : i + 4] for i in range(0, 40, 4))
    listed = bob_fpr.lower() if how == "lower" else spaced
    repo.commit("signers", {CONFIG_FILE: f"promotion:\n  prod:\n    signers: ['{listed}']\n"})
    if how == "spaced":
        assert "is not a principal" in push(repo, "main").stderr
        return
    pushed(repo, "main")
    monkeypatch.setenv("GNUPGHOME", str(bob))
    repo.ok("register", "churn")
    hand_tag(repo, "churn#prod#1", "churn@v0.0.1^{}", when=FIXED_TIME + 5, sign=True)
    monkeypatch.setenv("GNUPGHOME", str(server))
    result = push(repo, "churn@v0.0.1", "churn#prod#1")
    assert result.returncode == 0, result.stderr
    assert holder(remote) == "v0.0.1"


def test_a_short_key_id_in_signers_names_no_key(
    repo: Repo, remote: Repo, gpg_homes: Callable[[], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 16-digit key id is easy to collide: it names no signer."""
    bob, server, bob_fpr = pgp_team(repo, remote, gpg_homes, "PLACEHOLDER")
    repo.commit(
        "signers", {CONFIG_FILE: f"promotion:\n  prod:\n    signers: ['{bob_fpr[-16:]}']\n"}
    )
    pushed(repo, "main")
    monkeypatch.setenv("GNUPGHOME", str(bob))
    repo.ok("register", "churn")
    hand_tag(repo, "churn#prod#1", "churn@v0.0.1^{}", when=FIXED_TIME + 5, sign=True)
    monkeypatch.setenv("GNUPGHOME", str(server))
    result = push(repo, "churn@v0.0.1", "churn#prod#1")
    assert result.returncode != 0
    assert holder(remote) is None


# -- 3. branch tips: what the server counts as "on main" ---------------------------------------


def gate_staging_on_main(repo: Repo) -> str:
    """staging gets ``branches: [main]``; churn v0.1.0 (a feature commit) goes through dev
    and is pushed. Returns the feature commit."""
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
    hand_tag(repo, "churn#staging#5", feature, when=FIXED_TIME + 30)
    return feature


def test_main_refused_by_an_update_hook_still_lets_the_tag_through(team: Team) -> None:
    repo, remote, _alice, _bob = team
    feature = gate_staging_on_main(repo)
    main = remote.git("rev-parse", "main").strip()
    # The team protects main with its own update hook (reviews only).
    update = remote.path / "hooks" / "update"
    update.write_text('#!/bin/sh\n[ "$1" = refs/heads/main ] && exit 1\nexit 0\n')
    update.chmod(0o755)
    result = push(repo, f"{feature}:refs/heads/main", "churn#staging#5")
    assert remote.git("rev-parse", "main").strip() == main  # main is protected ...
    assert "churn#staging#5" not in remote.tags(), "a version off main: " + result.stderr
    # Refused where Git holds the ref locks, with the branches as they are then.
    assert "churn#staging#5: commit" in result.stderr and "is not on main" in result.stderr
    assert "reference-transaction hook refused this ref transaction" in result.stderr


def test_the_same_with_atomic_is_refused_whole(team: Team) -> None:
    repo, remote, _alice, _bob = team
    feature = gate_staging_on_main(repo)
    update = remote.path / "hooks" / "update"
    update.write_text('#!/bin/sh\n[ "$1" = refs/heads/main ] && exit 1\nexit 0\n')
    update.chmod(0o755)
    refs = (f"{feature}:refs/heads/main", "churn#staging#5")
    result = subprocess.run(
        [*("git", "push", "--no-verify", "--atomic", "origin"), *refs],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "churn#staging#5" not in remote.tags()


def test_an_annotated_tag_of_a_main_commit_as_main_does_not_count(team: Team) -> None:
    """The pushed tip is a tag object whose commit is the feature commit: Git refuses a
    tag object in refs/heads, and _moves does not count it either."""
    repo, remote, _alice, _bob = team
    feature = gate_staging_on_main(repo)
    repo.git("tag", "-a", "-m", "bait", "bait", feature)
    result = push(repo, "bait:refs/heads/main", "churn#staging#5")
    assert "churn#staging#5" not in remote.tags(), result.stderr


def test_a_merge_into_main_puts_the_feature_on_main(team: Team) -> None:
    """check and the server agree on a holder reachable only through a merge's second
    parent; the branch glob main* matches release branches too (as documented)."""
    repo, remote, _alice, _bob = team
    feature = gate_staging_on_main(repo)
    repo.git("merge", "-q", "--no-ff", "-m", "merge feature", feature)
    pushed(repo, "main", "churn#staging#5")
    assert holder(remote, "staging") == "v0.1.0"
    assert "staging" not in check_out(repo).replace("checked", "")


def test_check_in_a_shallow_clone_does_not_crash(team: Team, tmp_path: Path) -> None:
    """A shallow clone misses the history that says a holder's commit is on main: check
    answers without a traceback, warns that the clone is shallow, and does not report the
    holder as off main (it cannot tell: the server judges it)."""
    repo, remote, _alice, _bob = team
    repo.commit("more")
    repo.commit("and more")
    pushed(repo, "main")
    shallow = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            f"file://{remote.path}",
            str(shallow),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["git", "fetch", "-q", "--tags"], cwd=shallow, check=True, capture_output=True)
    clone = Repo.__new__(Repo)
    clone.path, clone._n = shallow, 0
    result = clone.run("check")
    assert "Traceback" not in result.err, result.err
    assert result.code == 0, (result.out, result.err)
    assert "is not on main" not in result.out
    assert "shallow clone" in result.err
