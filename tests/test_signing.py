"""Signed registry tags (issue 14), the Git layer: tags signed by Git itself through
``Repository.create_tags(sign=...)``, and ``signing.Verifier`` reading ``git verify-tag``.

Real parts only: real ``git``, ``ssh-keygen`` and ``gpg``. The core tests read what Git
2.39 printed for each case, recorded from real runs."""

from __future__ import annotations

import pytest

from git_registry import gitbin
from git_registry.signing import (
    MAX_DETAIL,
    Verdict,
    read_verdict,
)

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
    "openpgp good, a key of undefined trust": (
        "openpgp",
        0,
        f"[GNUPG:] NEWSIG\n{_GOODSIG}{_VALIDSIG}[GNUPG:] TRUST_UNDEFINED 0 pgp\n",
        ("good", "g1@acme.example", _FPR),
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
