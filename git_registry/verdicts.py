"""What ``git verify-tag --raw`` says of a tag's signature, read as a :class:`Verdict`
(good, unsigned, bad, unknown-key, unverifiable), for SSH (ssh-keygen's lines) and
OpenPGP or x509 (gpg's status lines), as Git 2.39 prints them.

Pure: it reads what :mod:`git_registry.signing` ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from git_registry import gitbin
from git_registry.controls import CONTROL_RE
from git_registry.grammar import lazy_compile

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

GOOD = "good"
UNSIGNED = "unsigned"
BAD = "bad"
UNKNOWN_KEY = "unknown-key"
UNVERIFIABLE = "unverifiable"
STATUSES = (GOOD, UNSIGNED, BAD, UNKNOWN_KEY, UNVERIFIABLE)
"""Every :attr:`Verdict.status`."""

MAX_DETAIL = 300
"""The most characters of a :attr:`Verdict.detail` (longer ones end with ``...``)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What Git says of a tag object's signature."""

    status: str
    """``good``, ``unsigned``, ``bad`` (the signature does not match the tag: tampered
    or corrupt), ``unknown-key`` (a valid signature by a key not trusted: not in
    ``allowed_signers``, not in the keyring, or below ``gpg.minTrustLevel``) or
    ``unverifiable`` (anything else: no ``allowed_signers``, a program missing, an
    expired or revoked OpenPGP key, x509 without gpgsm…)."""
    principal: str | None
    """The signer, for a good signature: SSH, the principal ``allowed_signers`` matched;
    OpenPGP and x509, the e-mail of the ``GOODSIG`` user id (else the whole user id) where
    the keyring holds it valid (trust full or ultimate), else None (a user id is only its
    key owner's claim: the key's fingerprint then names the signer)."""
    key: str | None
    """SSH: ``ED25519 SHA256:…``; OpenPGP and x509: the signing key's fingerprint
    (``VALIDSIG``), or the key id Git names where it has no fingerprint."""
    format: str | None
    """``ssh``, ``openpgp``, ``x509``; None for an unsigned tag (or no tag object)."""
    detail: str
    """Why, in one line: control characters escaped, at most :data:`MAX_DETAIL`
    characters."""


def one_line(text: str) -> str:
    """``text`` as one printable, bounded line: control characters escaped."""
    text = CONTROL_RE.sub(_escaped, text.strip())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def verdict_of(
    status: str,
    detail: str,
    *,
    principal: str | None = None,
    key: str | None = None,
    fmt: str | None = None,
) -> Verdict:
    return Verdict(status, principal, key, fmt, one_line(detail))


def read_verdict(fmt: str, result: gitbin.GitResult, signers_file: str | None = None) -> Verdict:
    """The verdict in what ``git verify-tag --raw`` printed and returned (Git 2.39) for a
    tag whose signature has the format ``fmt`` (``ssh``, ``openpgp``, ``x509``).

    With ``--raw``, Git prints on stderr what ssh-keygen said (its output, then its
    errors), or gpg's and gpgsm's status lines (``[GNUPG:] GOODSIG …``); it exits 0
    only for a signature it accepts.

    Args:
        signers_file: the ``allowed_signers`` path Git was given: ssh-keygen's messages
            name it ``allowed_signers``.
    """
    lines = [line.rstrip("\r").strip() for line in result.stderr.split("\n")]
    if signers_file:
        lines = [line.replace(signers_file, "allowed_signers") for line in lines]
    # Git's own warnings ("warning: ssh signing revocation file configured but not
    # found") come before the raw output.
    said = [line for line in lines if line and not line.startswith("warning: ")]
    if "error: no signature found" in said:
        return verdict_of(UNSIGNED, "Git finds no signature in the tag object")
    if fmt == "ssh":
        return _ssh_verdict(result, said)
    return _gpg_verdict(fmt, result, said)


_SSH_GOOD_RE = lazy_compile(r'Good "git" signature for (.+) with (\S+) key (\S+)')
_SSH_VALID_RE = lazy_compile(r'Good "git" signature with (\S+) key (\S+)')
_SSH_FAILED = ("Could not verify signature", "Signature verification failed", "Couldn't verify")


def _ssh_verdict(result: gitbin.GitResult, said: list[str]) -> Verdict:
    """:func:`read_verdict` of an SSH signature.

    Git 2.39 asks ``ssh-keygen -Y find-principals`` which principal of
    ``allowed_signers`` has the signing key, then ``-Y verify`` for it; with none, it
    runs ``-Y check-novalidate`` to say whether the signature itself is valid, and
    fails. It reads only the first line (gpg-interface.c, ``parse_ssh_output``).
    """
    first = said[0] if said else ""
    good = _SSH_GOOD_RE.fullmatch(first)  # greedy: the last " with ", as Git reads it
    if good is not None and result.returncode == 0:
        principal, kind, fingerprint = good.groups()
        return verdict_of(GOOD, first, principal=principal, key=f"{kind} {fingerprint}", fmt="ssh")
    valid = _SSH_VALID_RE.fullmatch(first)
    if valid is not None:
        key = f"{valid[1]} {valid[2]}"
        why = "; ".join(dict.fromkeys(said[1:])) or "No principal matched."
        detail = f"a valid signature, but allowed_signers does not allow the key {key}: {why}"
        return verdict_of(UNKNOWN_KEY, detail, key=key, fmt="ssh")
    if any(line.startswith(_SSH_FAILED) for line in said):
        # A tampered object: "Signature verification failed: incorrect signature"; a
        # corrupt signature: "invalid format"; a revoked key (gpg.ssh.revocationFile)
        # or a namespace allowed_signers refuses: only "Could not verify signature.".
        specific = [line for line in said if line != "Could not verify signature."]
        why = "; ".join(dict.fromkeys(specific)) or "Could not verify signature."
        return verdict_of(BAD, f"the signature does not verify: {why}", fmt="ssh")
    return verdict_of(UNVERIFIABLE, _git_failed(result, "SSH"), fmt="ssh")


def _git_failed(result: gitbin.GitResult, what: str) -> str:
    return f"Git cannot verify the {what} signature: {gitbin.git_reason(result, 'verify-tag')}"


_TRUST = {
    "TRUST_UNDEFINED": "undefined",
    "TRUST_NEVER": "never",
    "TRUST_MARGINAL": "marginal",
    "TRUST_FULLY": "fully",
    "TRUST_ULTIMATE": "ultimate",
}
_GONE = {
    "EXPKEYSIG": "the key {0} of {1} has expired",
    "REVKEYSIG": "the key {0} of {1} has been revoked",
    "EXPSIG": "the signature by {1} (key {0}) has expired",
}


def _gpg_verdict(fmt: str, result: gitbin.GitResult, said: list[str]) -> Verdict:
    """:func:`read_verdict` of an OpenPGP or x509 signature, from gpg's (gpgsm's) status
    lines (GnuPG doc/DETAILS), as Git reads them (gpg-interface.c, ``parse_gpg_output``)."""
    status: dict[str, str] = {}
    for line in said:
        if line.startswith("[GNUPG:] "):
            keyword, _, args = line[len("[GNUPG:] ") :].partition(" ")
            status.setdefault(keyword, args)
    name = "OpenPGP" if fmt == "openpgp" else fmt
    trust = next((word for key, word in _TRUST.items() if key in status), None)
    trusted = f", trust {trust}" if trust else ""
    if "GOODSIG" in status:
        keyid, _, uid = status["GOODSIG"].partition(" ")
        # VALIDSIG <signing key fpr> ... [<primary key fpr>]: the primary key names the
        # signer (what 'gpg --fingerprint' shows), whichever subkey signed.
        validsig = status.get("VALIDSIG", "").split(" ")
        fingerprint = (validsig[9] if len(validsig) > 9 else validsig[0]) or None
        if result.returncode == 0 and fingerprint and "BADSIG" not in status:
            detail = f"good {name} signature by {uid} (key {fingerprint}{trusted})"
            # The user id is the key owner's claim: it names the signer only where the
            # keyring says it is valid (a key certified by a trusted key, or one's own).
            valid = trust in ("fully", "ultimate")
            principal = _email(uid) if valid else None
            return verdict_of(GOOD, detail, principal=principal, key=fingerprint, fmt=fmt)
        if "BADSIG" not in status and "ERRSIG" not in status:
            detail = (
                f"a valid {name} signature by {uid} (key {fingerprint or keyid}), but Git "
                f"does not trust the key enough (trust {trust or 'unknown'}; gpg.minTrustLevel)"
            )
            return verdict_of(UNKNOWN_KEY, detail, key=fingerprint or keyid, fmt=fmt)
    if "BADSIG" in status:
        keyid, _, uid = status["BADSIG"].partition(" ")
        detail = f"the {name} signature by {uid} (key {keyid}) does not match the tag"
        return verdict_of(BAD, detail, key=keyid, fmt=fmt)
    for keyword, words in _GONE.items():
        if keyword in status:
            keyid, _, uid = status[keyword].partition(" ")
            return verdict_of(UNVERIFIABLE, words.format(keyid, uid), key=keyid, fmt=fmt)
    if "NO_PUBKEY" in status or status.get("ERRSIG", "").split(" ")[5:6] == ["9"]:
        # ERRSIG <keyid> <algo> <hash> <class> <time> <rc> [<fingerprint>]; rc 9: no key.
        errsig = status.get("ERRSIG", "").split(" ")
        key = errsig[6] if len(errsig) > 6 and errsig[6] != "-" else status.get("NO_PUBKEY")
        key = key or errsig[0] or None
        detail = f"the {name} signing key {key} is not in the keyring"
        return verdict_of(UNKNOWN_KEY, detail, key=key, fmt=fmt)
    if "NODATA" in status:
        return verdict_of(BAD, f"the signature is not valid {name} data", fmt=fmt)
    return verdict_of(UNVERIFIABLE, _git_failed(result, name), fmt=fmt)


FINGERPRINT_RE = lazy_compile(r"[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}")
_COLON_ESCAPE_RE = lazy_compile(r"\\x([0-9a-fA-F]{2})")
_PERCENT_ESCAPE_RE = lazy_compile(r"%([0-9a-fA-F]{2})")


def colon_unescape(text: str) -> str:
    """A field of gpg's colon listing, its ``\\xNN`` escapes undone."""
    return _COLON_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)


def goodsig_uid(said: str) -> str | None:
    """The user id of gpg's ``GOODSIG`` status line (its ``%XX`` escapes undone)."""
    for line in said.splitlines():
        if line.startswith("[GNUPG:] GOODSIG "):
            uid = line[len("[GNUPG:] GOODSIG ") :].partition(" ")[2]
            return _PERCENT_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), uid)
    return None


_EMAIL_RE = lazy_compile(r".*<([^<>]*)>\s*")


def _email(uid: str) -> str:
    """The e-mail of a user id ``Name (comment) <email>``, else the whole user id."""
    match = _EMAIL_RE.fullmatch(uid)
    return match[1] if match is not None and match[1] else uid
