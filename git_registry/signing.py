"""Signed registry tags: verifying a tag's signature and signing new tags, both by Git
itself (``git verify-tag``, ``git tag -s``), so that Git's signing settings apply:
``gpg.format`` (openpgp, ssh, x509), ``gpg.program`` and ``gpg.<format>.program``,
``user.signingKey`` (``key::`` literal SSH keys included), ``gpg.ssh.defaultKeyCommand``,
an ssh-agent, a gpg-agent, ``gpg.minTrustLevel``, ``gpg.ssh.revocationFile``.

Part of the Git layer. SSH trust comes from one place only: the ``allowed_signers``
content the caller read from a trusted commit (never the user's own
``gpg.ssh.allowedSignersFile``); OpenPGP trust is the keyring of the process
(``GNUPGHOME``), as for Git.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from git_registry import gitbin
from git_registry.controls import CONTROL_RE
from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId
from git_registry.grammar import lazy_compile
from git_registry.tagobject import (
    format_ident,
    format_tag_object,
    header_name,
    signature_start,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

    from git_registry.repo import NewTagObject, Repository

__all__ = [
    "SignRequest",
    "Verdict",
    "Verifier",
    "read_verdict",
    "signed_message",
    "write_signed_tags",
]

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


@dataclass(frozen=True, slots=True)
class SignRequest:
    """Sign new tags, as ``git tag -s`` (or ``-u KEY``) would."""

    key: str | None = None
    """Like ``git tag -u KEY``: a key id, an SSH key's path, ``key::…``; None: Git's
    default (``user.signingKey``, else ``gpg.ssh.defaultKeyCommand`` for SSH, else the
    committer identity for OpenPGP)."""


def _line(text: str) -> str:
    """``text`` as one printable, bounded line: control characters escaped."""
    text = CONTROL_RE.sub(_escaped, text.strip())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _verdict(
    status: str,
    detail: str,
    *,
    principal: str | None = None,
    key: str | None = None,
    fmt: str | None = None,
) -> Verdict:
    return Verdict(status, principal, key, fmt, _line(detail))


# -- verifying -------------------------------------------------------------------------------


class Verifier:
    """Verifies registry tags' signatures with Git's own verification (``git verify-tag``).

    Use as a context manager, or call :meth:`close`: it removes the private copy of
    ``allowed_signers`` Git reads.
    """

    def __init__(self, repo: Repository, allowed_signers: bytes | None) -> None:
        """Verify tags of ``repo``.

        Args:
            repo: the repository holding the tags (its environment: a server hook's
                quarantine included).
            allowed_signers: the content of the ``allowed_signers`` file (ssh-keygen(1),
                ALLOWED SIGNERS) that alone decides which SSH keys are trusted, read
                from a trusted commit; None: SSH signatures are ``unverifiable``.
        """
        self._repo = repo
        self._allowed = allowed_signers
        self._signers_file: str | None = None
        self._verdicts: dict[str, tuple[Verdict, str | None]] = {}

    def __enter__(self) -> Verifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the private ``allowed_signers`` file (verdicts stay cached)."""
        path, self._signers_file = self._signers_file, None
        if path is not None:
            with contextlib.suppress(OSError):
                os.remove(path)

    def verify(self, tag: ObjectId, name: str | None = None) -> Verdict:
        """The verdict on the signature of tag object ``tag`` (each object verified once).

        A tag object without a signature is ``unsigned`` at the cost of reading it (no
        new process); a signed one costs one ``git verify-tag`` (which runs gpg or
        ssh-keygen). A missing object, or one that is not a tag, is ``unverifiable``.

        Args:
            name: the name of the ref that points at ``tag`` (``churn#prod#4``, without
                ``refs/tags/``). The signature covers the name in the object's ``tag``
                header, not the ref's: a good signature of an object whose header names
                another tag (a signed tag pushed again under a new name) is ``bad``.

        Raises:
            GitError: ``git`` is missing, or its ``cat-file`` process died.
        """
        oid = ObjectId(tag.lower())
        found = self._verdicts.get(oid)
        if found is None:
            found = self._verdicts[oid] = self._verify(oid)
        verdict, signed_name = found
        if name is not None and verdict.status == GOOD and signed_name != name:
            named = (
                f"is named '{signed_name}'" if signed_name else "has a header Git does not write"
            )
            detail = (
                f"the signed tag object {named}, not '{name}': a signature holds for the "
                "name it was made for"
            )
            return _verdict(BAD, detail, key=verdict.key, fmt=verdict.format)
        return verdict

    def _verify(self, tag: ObjectId) -> tuple[Verdict, str | None]:
        """The verdict on ``tag``'s signature, and the name in its ``tag`` header."""
        raw = self._repo.tag_object(tag)
        if raw is None:
            return _verdict(UNVERIFIABLE, f"{tag} is not a tag object of this repository"), None
        return self._verify_raw(tag, raw), header_name(raw)

    def _verify_raw(self, tag: ObjectId, raw: bytes) -> Verdict:
        found = signature_start(raw)
        if found is None:
            return _verdict(UNSIGNED, "the tag object has no signature")
        fmt = found[1]
        if fmt == "ssh" and self._allowed is None:
            why = "the policy names no allowed_signers file: an SSH signature cannot be verified"
            return _verdict(UNVERIFIABLE, why, fmt=fmt)
        # Ours wins over any gpg.ssh.allowedSignersFile of the user's (git -c included).
        signers = self._signers_path() if fmt == "ssh" else os.devnull
        env = gitbin.with_config(self._repo.env, [("gpg.ssh.allowedSignersFile", signers)])
        result = gitbin.run_git(
            ["verify-tag", "--raw", "--end-of-options", tag],
            cwd=self._repo.cwd,
            env=env,
            check=False,
        )
        verdict = read_verdict(fmt, result, signers)
        if fmt == "openpgp" and verdict.principal is not None:
            verdict = self._valid_user_id(verdict, result.stderr)
        return verdict

    def _valid_user_id(self, verdict: Verdict, said: str) -> Verdict:
        """``verdict`` with its principal only if the keyring holds the very user id that
        signed (``GOODSIG``) valid: gpg's trust line is the key's (its best user id), and
        a key's owner may add any user id to it. Else no principal (``signers`` must
        then list the key's fingerprint)."""
        uid = _goodsig_uid(said)
        assert verdict.key is not None
        if uid is None or not self._uid_is_valid(verdict.key, uid):
            detail = f"{verdict.detail}; the user id that signed is not valid in the keyring"
            return _verdict(GOOD, detail, key=verdict.key, fmt=verdict.format)
        return verdict

    def _uid_is_valid(self, fingerprint: str, uid: str) -> bool:
        """Whether gpg (Git's ``gpg.program``) lists ``uid`` of the key ``fingerprint``
        with full or ultimate validity."""
        import subprocess

        entries = gitbin.config_entries(
            r"^gpg\.(openpgp\.)?program$", self._repo.cwd, env=self._repo.env
        )
        named = dict(entries)
        program = named.get("gpg.openpgp.program") or named.get("gpg.program") or "gpg"
        if not _HEX_FPR_RE.fullmatch(fingerprint):
            return False
        listing = ["--batch", "--no-tty", "--with-colons", "--fixed-list-mode", "--list-keys"]
        try:
            proc = subprocess.run(
                [program, *listing, "--", fingerprint],
                env=dict(self._repo.env) if self._repo.env is not None else None,
                cwd=self._repo.cwd,
                capture_output=True,
                check=False,
            )
        except OSError:
            return False
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if fields[0] == "uid" and len(fields) > 9 and _colon_unescape(fields[9]) == uid:
                return fields[1] in ("f", "u")
        return False

    def _signers_path(self) -> str:
        """The private file holding ``allowed_signers`` (mode 0600), written once: in the
        repository's own folder, else (read-only) in the temporary folder."""
        if self._signers_file is None:
            import tempfile

            assert self._allowed is not None
            try:
                folder = self._repo.scratch_dir()
                os.makedirs(folder, exist_ok=True)
                fd, path = tempfile.mkstemp(prefix="allowed-signers-", dir=folder)
            except OSError:
                fd, path = tempfile.mkstemp(prefix="git-registry-allowed-signers-")
            self._signers_file = path
            with os.fdopen(fd, "wb") as f:
                f.write(self._allowed)
        return self._signers_file


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
        return _verdict(UNSIGNED, "Git finds no signature in the tag object")
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
        return _verdict(GOOD, first, principal=principal, key=f"{kind} {fingerprint}", fmt="ssh")
    valid = _SSH_VALID_RE.fullmatch(first)
    if valid is not None:
        key = f"{valid[1]} {valid[2]}"
        why = "; ".join(dict.fromkeys(said[1:])) or "No principal matched."
        detail = f"a valid signature, but allowed_signers does not allow the key {key}: {why}"
        return _verdict(UNKNOWN_KEY, detail, key=key, fmt="ssh")
    if any(line.startswith(_SSH_FAILED) for line in said):
        # A tampered object: "Signature verification failed: incorrect signature"; a
        # corrupt signature: "invalid format"; a revoked key (gpg.ssh.revocationFile)
        # or a namespace allowed_signers refuses: only "Could not verify signature.".
        specific = [line for line in said if line != "Could not verify signature."]
        why = "; ".join(dict.fromkeys(specific)) or "Could not verify signature."
        return _verdict(BAD, f"the signature does not verify: {why}", fmt="ssh")
    return _verdict(UNVERIFIABLE, _git_failed(result, "SSH"), fmt="ssh")


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
            return _verdict(GOOD, detail, principal=principal, key=fingerprint, fmt=fmt)
        if "BADSIG" not in status and "ERRSIG" not in status:
            detail = (
                f"a valid {name} signature by {uid} (key {fingerprint or keyid}), but Git "
                f"does not trust the key enough (trust {trust or 'unknown'}; gpg.minTrustLevel)"
            )
            return _verdict(UNKNOWN_KEY, detail, key=fingerprint or keyid, fmt=fmt)
    if "BADSIG" in status:
        keyid, _, uid = status["BADSIG"].partition(" ")
        detail = f"the {name} signature by {uid} (key {keyid}) does not match the tag"
        return _verdict(BAD, detail, key=keyid, fmt=fmt)
    for keyword, words in _GONE.items():
        if keyword in status:
            keyid, _, uid = status[keyword].partition(" ")
            return _verdict(UNVERIFIABLE, words.format(keyid, uid), key=keyid, fmt=fmt)
    if "NO_PUBKEY" in status or status.get("ERRSIG", "").split(" ")[5:6] == ["9"]:
        # ERRSIG <keyid> <algo> <hash> <class> <time> <rc> [<fingerprint>]; rc 9: no key.
        errsig = status.get("ERRSIG", "").split(" ")
        key = errsig[6] if len(errsig) > 6 and errsig[6] != "-" else status.get("NO_PUBKEY")
        key = key or errsig[0] or None
        detail = f"the {name} signing key {key} is not in the keyring"
        return _verdict(UNKNOWN_KEY, detail, key=key, fmt=fmt)
    if "NODATA" in status:
        return _verdict(BAD, f"the signature is not valid {name} data", fmt=fmt)
    return _verdict(UNVERIFIABLE, _git_failed(result, name), fmt=fmt)


_HEX_FPR_RE = lazy_compile(r"[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}")
_COLON_ESCAPE_RE = lazy_compile(r"\\x([0-9a-fA-F]{2})")
_PERCENT_ESCAPE_RE = lazy_compile(r"%([0-9a-fA-F]{2})")


def _colon_unescape(text: str) -> str:
    """A field of gpg's colon listing, its ``\\xNN`` escapes undone."""
    return _COLON_ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _goodsig_uid(said: str) -> str | None:
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


# -- signing ---------------------------------------------------------------------------------


def signed_message(message: str) -> str:
    """The message a signed tag carries for ``message``: the same, with a line break at
    the end if it has none. Git appends the signature right after the message, and
    finds it only at the start of a line (Git 2.39 signs ``text-----BEGIN …`` and
    ``git verify-tag`` then says "no signature found")."""
    return message if not message or message.endswith("\n") else message + "\n"


# The settings 'git tag -s' reads, passed on from the user's repository (its own config
# file is not read where Git signs); and how it writes objects into that repository.
_SIGNING_CONFIG = (
    r"^(user|gpg)\.|^core\.(sharedrepository|compression|loosecompression"
    r"|fsync|fsyncmethod|fsyncobjectfiles)$"
)
_SIGN_HINT = (
    "nothing was created; Git signs with user.signingKey (or registry.signingKey for "
    "registry tags) in the format gpg.format (openpgp, ssh, x509), e.g. "
    "git config gpg.format ssh && git config user.signingKey ~/.ssh/id_ed25519"
)


def write_signed_tags(
    repo: Repository, tags: Sequence[NewTagObject], request: SignRequest
) -> list[ObjectId]:
    """Write the tag objects ``tags`` into ``repo``'s object store, each signed by Git
    (``git tag -s``, or ``-u KEY``), creating no ref in ``repo``.

    Git signs in a throwaway bare repository in ``repo``'s own folder, whose object
    store is ``repo``'s (``GIT_OBJECT_DIRECTORY``): the tag objects land in ``repo``,
    their refs only in the throwaway one, removed afterwards. ``repo``'s ``user.*``,
    ``gpg.*`` (and object-writing ``core.*``) settings, its own config file included,
    reach Git through ``GIT_CONFIG_COUNT``. The tagger is each tag's, given as the
    committer (``GIT_COMMITTER_NAME``, ``_EMAIL``, ``_DATE``); the message is
    :func:`signed_message`. Each object written is checked: the name, commit, tagger and
    message asked for, then a signature.

    Raises:
        RegistryError: Git cannot sign a tag (its reason, in one line), or wrote another
            tag than the one asked for; no ref was created.
    """
    import shutil
    import tempfile

    if not tags:
        return []
    config = [
        (key, "true" if value is None else value)
        for key, value in gitbin.config_entries(_SIGNING_CONFIG, repo.cwd, env=repo.env)
    ]
    try:
        folder = repo.scratch_dir()
        os.makedirs(folder, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix="sign-", dir=folder)
    except OSError as exc:
        raise RegistryError(
            f"cannot sign the tags: cannot make a temporary folder in {folder}: "
            f"{exc.strerror or exc}",
            hint="nothing was created",
        ) from exc
    try:
        env = _scratch_env(repo, scratch, len(tags[0].target), config)
        said = [_sign(repo, new, request, scratch, env) for new in tags]
        made = gitbin.tag_refs(repo.cwd, env=env, git_dir=scratch)
        return [
            _checked(repo, new, made.get(new.name), stderr)
            for new, stderr in zip(tags, said, strict=True)
        ]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _scratch_env(
    repo: Repository, scratch: str, hex_len: int, config: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """Make the throwaway repository ``scratch``; the environment that signs in it."""
    base = os.environ if repo.env is None else repo.env
    objects = base.get("GIT_OBJECT_DIRECTORY") or os.path.join(repo.paths.common_dir, "objects")
    alternates = base.get("GIT_ALTERNATE_OBJECT_DIRECTORIES")
    plain = gitbin.unrelated_env(base)
    object_format = "sha256" if hex_len == 64 else "sha1"
    init = ["init", "--quiet", "--bare", "--template=", f"--object-format={object_format}"]
    result = gitbin.run_git([*init, "--", scratch], env=plain, check=False)
    if result.returncode != 0:
        raise RegistryError(
            f"cannot sign the tags: {_line(gitbin.git_reason(result, 'init'))}",
            hint="nothing was created",
        )
    env = {
        **plain,
        "GIT_DIR": scratch,
        "GIT_OBJECT_DIRECTORY": os.path.abspath(objects),
        **({"GIT_ALTERNATE_OBJECT_DIRECTORIES": alternates} if alternates else {}),
    }
    # The user's hooks (a global core.hooksPath) are for the user's refs, not for the
    # throwaway ones: Git would run reference-transaction for each.
    return gitbin.with_config(env, [*config, ("core.hooksPath", os.devnull)])


def _sign(
    repo: Repository, new: NewTagObject, request: SignRequest, scratch: str, env: dict[str, str]
) -> str:
    """``git tag -s`` (``-u KEY``) ``new`` in the throwaway repository; what Git said.

    Raises:
        RegistryError: Git failed (its reason).
    """
    message = os.path.join(scratch, "TAG_MESSAGE")
    with open(message, "wb") as f:
        f.write(signed_message(new.message).encode("utf-8", "replace"))
    _who, time, zone = format_ident(new.tagger).rsplit(" ", 2)
    tagger = {
        "GIT_COMMITTER_NAME": new.tagger.name,
        "GIT_COMMITTER_EMAIL": new.tagger.email,
        "GIT_COMMITTER_DATE": f"@{time} {zone}",
    }
    how = "-s" if request.key is None else f"--local-user={request.key}"
    result = gitbin.run_git(
        ["tag", how, "--cleanup=verbatim", "-F", message, "--end-of-options", new.name, new.target],
        cwd=repo.cwd,
        env={**env, **tagger},
        check=False,
    )
    if result.returncode != 0:
        raise RegistryError(
            f"cannot sign tag '{new.name}': {_line(gitbin.git_reason(result, 'tag'))}",
            hint=_SIGN_HINT,
        )
    return result.stderr


def _checked(repo: Repository, new: NewTagObject, oid: ObjectId | None, said: str) -> ObjectId:
    """``oid``, the tag object Git wrote for ``new``, once checked.

    Raises:
        RegistryError: it is not the tag asked for, or it has no signature (Git 2.39
            exits 0 without one when ssh-keygen fails: "Couldn't load public key").
    """
    raw = repo.tag_object(oid) if oid is not None else None
    text = format_tag_object(new.name, new.target, new.tagger, signed_message(new.message))
    expected = text.encode("utf-8", "replace")
    found = signature_start(raw) if raw is not None else None
    if raw is None or oid is None:
        problem = "Git wrote no tag object"
    elif found is None:
        reason = gitbin.git_reason(gitbin.GitResult(0, "", said)) if said.strip() else ""
        problem = f"Git wrote it without a signature{': ' if reason else ''}{reason}"
    elif raw[: found[0]] != expected:
        problem = f"Git wrote another tag than the one asked for ({_difference(expected, raw)})"
    else:
        return oid
    raise RegistryError(f"cannot sign tag '{new.name}': {_line(problem)}", hint=_SIGN_HINT)


def _difference(expected: bytes, written: bytes) -> str:
    """The first line where ``written`` differs from ``expected``, both quoted."""
    asked, wrote = expected.split(b"\n"), written.split(b"\n")
    for n, (a, w) in enumerate(zip(asked, wrote, strict=False), 1):
        if a != w:
            return f"line {n}: {_short(w)} instead of {_short(a)}"
    return f"line {min(len(asked), len(wrote)) + 1}: the message differs in length"


def _short(line: bytes) -> str:
    shown = repr(line[:60].decode("utf-8", "replace"))
    return shown + "..." if len(line) > 60 else shown
