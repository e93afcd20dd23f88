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
from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId
from git_registry.tagobject import (
    format_ident,
    format_tag_object,
    header_name,
    signature_start,
)
from git_registry.verdicts import (
    BAD,
    FINGERPRINT_RE,
    GOOD,
    MAX_DETAIL,
    STATUSES,
    UNKNOWN_KEY,
    UNSIGNED,
    UNVERIFIABLE,
    Verdict,
    colon_unescape,
    goodsig_uid,
    one_line,
    read_verdict,
    verdict_of,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.repo import NewTagObject, Repository

__all__ = [
    "BAD",
    "GOOD",
    "MAX_DETAIL",
    "STATUSES",
    "UNKNOWN_KEY",
    "UNSIGNED",
    "UNVERIFIABLE",
    "SignRequest",
    "Verdict",
    "Verifier",
    "read_verdict",
    "signed_message",
    "write_signed_tags",
]


@dataclass(frozen=True, slots=True)
class SignRequest:
    """Sign new tags, as ``git tag -s`` (or ``-u KEY``) would."""

    key: str | None = None
    """Like ``git tag -u KEY``: a key id, an SSH key's path, ``key::…``; None: Git's
    default (``user.signingKey``, else ``gpg.ssh.defaultKeyCommand`` for SSH, else the
    committer identity for OpenPGP)."""


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
            return verdict_of(BAD, detail, key=verdict.key, fmt=verdict.format)
        return verdict

    def _verify(self, tag: ObjectId) -> tuple[Verdict, str | None]:
        """The verdict on ``tag``'s signature, and the name in its ``tag`` header."""
        raw = self._repo.tag_object(tag)
        if raw is None:
            return verdict_of(UNVERIFIABLE, f"{tag} is not a tag object of this repository"), None
        return self._verify_raw(tag, raw), header_name(raw)

    def _verify_raw(self, tag: ObjectId, raw: bytes) -> Verdict:
        found = signature_start(raw)
        if found is None:
            return verdict_of(UNSIGNED, "the tag object has no signature")
        fmt = found[1]
        if fmt == "ssh" and self._allowed is None:
            why = "the policy names no allowed_signers file: an SSH signature cannot be verified"
            return verdict_of(UNVERIFIABLE, why, fmt=fmt)
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
        uid = goodsig_uid(said)
        assert verdict.key is not None
        if uid is None or not self._uid_is_valid(verdict.key, uid):
            detail = f"{verdict.detail}; the user id that signed is not valid in the keyring"
            return verdict_of(GOOD, detail, key=verdict.key, fmt=verdict.format)
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
        if not FINGERPRINT_RE.fullmatch(fingerprint):
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
            if fields[0] == "uid" and len(fields) > 9 and colon_unescape(fields[9]) == uid:
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
            f"cannot sign the tags: {one_line(gitbin.git_reason(result, 'init'))}",
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
            f"cannot sign tag '{new.name}': {one_line(gitbin.git_reason(result, 'tag'))}",
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
    raise RegistryError(f"cannot sign tag '{new.name}': {one_line(problem)}", hint=_SIGN_HINT)


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
