"""Shared fixtures: a hermetic Git environment and real repositories built with ``git``.

Every test runs with its own ``HOME``, no system config, a fixed identity and
fixed dates, so results are reproducible; repositories are made by the real
``git`` binary and commands run either in-process (``Repo.run``) or as
``git registry`` through Git (``Repo.git_registry``).

Tiers (README, Development): tests marked ``core`` start no process at all (no
``git``: :func:`no_processes` fails them if they do); unmarked tests build real
repositories; tests marked ``slow`` are the end-to-end ones (real shells, ``man``,
GTO, big generated repositories, fuzzing with ``git``, concurrency stress). The
quick loop is ``python -m pytest -m "not slow"``; CI runs everything.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from git_registry.cli import main

pytest_plugins = ["pytester"]

BIN_DIR = os.path.dirname(sys.executable)
FIXED_TIME = 1700000000
FIXED_DATE = f"{FIXED_TIME} +0000"


# Hypothesis fails an example slower than a deadline (200 ms by default) and a test whose
# data is slow to generate: both are clocks, and a busy machine trips them at random. The
# work is bounded by max_examples instead.
settings.register_profile(
    "bounded-work", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("bounded-work")


# -- tiers ----------------------------------------------------------------------------------


class CoreTierError(RuntimeError):
    """A test of the core tier started a process."""


# The audit events Python raises when it starts a program or forks (sys.audit docs).
_SPAWN_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.fork",
        "os.forkpty",
    }
)
_started: list[str] | None = None
"""While :func:`no_processes` is active: what was started (or tried to be)."""


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _started is None or event not in _SPAWN_EVENTS:
        return
    what = f"{event} {args[1] if event == 'subprocess.Popen' else args[0]!r}"
    _started.append(what)
    raise CoreTierError(f"a core test may start no process (no git), but it ran {what}")


sys.addaudithook(_audit)  # audit hooks cannot be removed: it does nothing unless active


@contextlib.contextmanager
def no_processes() -> Iterator[list[str]]:
    """Within: starting any process (``git`` included, by any path) raises
    :class:`CoreTierError`. Yields the list of what was started, so a caller that
    swallowed the error still sees it."""
    global _started
    previous, _started = _started, []
    try:
        yield _started
    finally:
        _started = previous


@pytest.fixture(autouse=True)
def core_tier(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked ``core`` start no process: they fail if one does (even if the code
    under test caught the :class:`CoreTierError`)."""
    if request.node.get_closest_marker("core") is None:
        yield
        return
    assert request.node.get_closest_marker("slow") is None, "a test is core or slow, not both"
    with no_processes() as started:
        yield
    assert not started, f"a core test started processes: {started}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """GTO interoperability tests are end-to-end tests: ``gto`` implies ``slow``."""
    for item in items:
        if item.get_closest_marker("gto") is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Own HOME, no system or global config, fixed identity and dates."""
    home = tmp_path / "home"
    home.mkdir()
    for var in list(os.environ):
        if var.startswith("GIT_") or var in ("NO_COLOR", "EMAIL"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Cy Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "cy@example.com")
    monkeypatch.setenv("GIT_AUTHOR_DATE", FIXED_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", FIXED_DATE)
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("PATH", BIN_DIR + os.pathsep + os.environ.get("PATH", ""))
    yield


@dataclass
class Result:
    """What a command printed and returned."""

    code: int
    out: str
    err: str


def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run the real ``git`` binary; return its stdout."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


class Repo:
    """A real repository made with ``git init`` (on branch main)."""

    def __init__(self, path: Path, bare: bool = False) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "-c", "init.defaultBranch=main", "init", "-q", *(["--bare"] if bare else []))
        self._n = 0

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        return git(self.path, *args, env=env, check=check)

    def commit(self, message: str | None = None, files: dict[str, str] | None = None) -> str:
        """Commit ``files`` (default: a new line in data.txt); return the commit id."""
        self._n += 1
        for name, text in (files or {"data.txt": f"revision {self._n}\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message or f"commit {self._n}")
        return self.git("rev-parse", "HEAD").strip()

    def tag(
        self,
        name: str,
        target: str = "HEAD",
        message: str | None = None,
        *,
        lightweight: bool = False,
        date: str | None = None,
    ) -> None:
        """Make a tag by hand with ``git tag`` (annotated unless ``lightweight``)."""
        env = {"GIT_COMMITTER_DATE": date} if date else None
        if lightweight:
            self.git("tag", name, target, env=env)
        else:
            self.git("tag", "-a", "-m", message or f"hand-made {name}", name, target, env=env)

    def tags(self) -> dict[str, str]:
        """Tag name -> peeled commit id, as ``git for-each-ref`` reports them."""
        out = self.git(
            "for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", "refs/tags"
        )
        result = {}
        for line in out.splitlines():
            name, oid, peeled = [*line.split(" "), ""][:3]
            result[name] = peeled or oid
        return result

    def run(self, *args: str, cwd: Path | None = None) -> Result:
        """Run ``git registry ARGS`` in-process (fast)."""
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), stdout=out, stderr=err, cwd=str(cwd or self.path))
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str) -> str:
        """Run in-process, assert exit 0 and a clean stderr; return stdout."""
        result = self.run(*args)
        assert result.code == 0, f"exit {result.code}\nstdout:\n{result.out}\nstderr:\n{result.err}"
        return result.out

    def git_registry(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run ``git registry ARGS`` through Git, as a user does."""
        proc = subprocess.run(
            ["git", "registry", *args],
            cwd=self.path,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def fsck(self) -> None:
        """``git fsck`` must find nothing wrong."""
        out = subprocess.run(
            ["git", "fsck", "--strict"], cwd=self.path, capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stdout + out.stderr


# -- bounds on work (never on time) ---------------------------------------------------------


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Wrap the function ``owner.name`` so that every call is counted: the returned
    list holds one entry per call so far. Tests bound the work this way, never the
    time (a busy machine makes any time limit fail at random)."""
    calls: list[int] = []
    inner = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return inner(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


class UnreadBytes(bytes):
    """Bytes that may be measured but never decoded (a file refused for its size must
    be refused before it is read)."""

    def decode(self, *args: Any, **kwargs: Any) -> str:
        raise AssertionError("these bytes were decoded")


# -- registries from a spec -----------------------------------------------------------------

_SPEC_TAG = re.compile(
    r"(?P<tag>(?P<artifact>[^@#\s]+)"
    r"(?:@(?P<version>deprecated|v[^!#\s]+?)|#(?P<stage>[^!#\s]+?))(?P<cancel>!)?(?:#\d+)?)"
    r"(?:->(?P<target>v\S+))?"
)


def make_registry(repo: Repo, spec: str) -> Repo:
    """Add the registry tags ``spec`` lists to ``repo``, with ``git tag -a``; return it.

    ``spec`` is whitespace-separated words, applied in order::

        churn@v1.0.0  churn#prod#1  commit  churn@v1.1.0  churn#staging#2->v1.1.0
        churn@v1.0.0!  seg@v0.1.0  seg@deprecated  models/cv=seg@v0.0.1

    - ``commit``: a new commit (``Repo.commit()``) that the next tags go on.
    - A tag name, exactly as the tag is named (``a/b=NAME`` for the artifact
      ``a/b:NAME``, counters written out), optionally followed by ``->VERSION``.
      A registration (``NAME@VERSION``) goes on HEAD; every other tag goes on the
      commit of ``NAME@VERSION`` (given by ``->``, or in the name of a
      deregistration), or on HEAD without one (a stage tag then names the one
      version registered at HEAD in its message).

    Each tag is annotated, with GTO's default message for its event (no trailing
    newline, as ``git registry`` writes it) and the hermetic tagger; its tagger
    time is ``FIXED_TIME`` for an artifact's first tag and one second after that
    artifact's previous tag otherwise: the tags ``git registry`` itself writes,
    byte for byte, when run with the hermetic fixed clock.
    """
    for word in spec.split():
        if word == "commit":
            repo.commit()
            continue
        match = _SPEC_TAG.fullmatch(word)
        assert match is not None, f"not a spec word: {word!r}"
        tag, artifact, version, stage, cancel, target = match.group(
            "tag", "artifact", "version", "stage", "cancel", "target"
        )
        if version is not None and version != "deprecated" and cancel:
            target = version
        commit = f"refs/tags/{artifact}@{target}^{{commit}}" if target else "HEAD^{commit}"
        if stage is not None and target is None:  # the version registered at HEAD
            at_head = repo.git("tag", "--points-at", "HEAD", "--list", f"{artifact}@v*")
            versions = {t.split("@", 1)[1].split("#")[0] for t in at_head.split() if "!" not in t}
            assert len(versions) == 1, f"{word}: {len(versions)} versions at HEAD; add ->VERSION"
            (target,) = versions
        name = artifact.replace("=", ":")
        if version == "deprecated":
            message = f"Deprecating artifact '{name}'"
        elif version is not None:
            verb = "Deregistering" if cancel else "Registering"
            message = f"{verb} artifact {name} version {version}"
        elif cancel:
            message = f"Unassigning stage '{stage}' to artifact '{name}' version '{target}'"
        else:
            message = f"Assigning stage {stage} to artifact {name} version {target}"
        times = repo.git(
            "for-each-ref",
            "--format=%(taggerdate:unix)",
            f"refs/tags/{artifact}@*",
            f"refs/tags/{artifact}#*",
        ).split()
        when = max([FIXED_TIME, *(int(t) + 1 for t in times)])
        repo.git(
            "tag",
            "-a",
            "--cleanup=verbatim",
            "-m",
            message,
            "--end-of-options",
            tag,
            repo.git("rev-parse", "--verify", commit).strip(),
            env={"GIT_COMMITTER_DATE": f"{when} +0000"},
        )
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A repository with one commit."""
    r = Repo(tmp_path / "repo")
    r.commit("initial")
    return r


@pytest.fixture
def empty_repo(tmp_path: Path) -> Repo:
    """A repository with no commits."""
    return Repo(tmp_path / "empty")


@pytest.fixture
def remote(tmp_path: Path, repo: Repo) -> Repo:
    """A bare repository, added to ``repo`` as ``origin`` and holding its main branch."""
    bare = Repo(tmp_path / "remote.git", bare=True)
    repo.git("remote", "add", "origin", str(bare.path))
    repo.git("push", "-q", "origin", "main")
    return bare


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def git_daemon(repository: Path) -> Iterator[str]:
    """``git daemon`` on 127.0.0.1 serving the bare ``repository`` (and its siblings),
    pushes enabled; yields its git:// URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--export-all",
            "--enable=receive-pack",
            "--reuseaddr",
            f"--base-path={repository.parent}",
            str(repository.parent),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}/{repository.name}"
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.fixture
def daemon(remote: Repo) -> Iterator[str]:
    """``git daemon`` on 127.0.0.1 serving ``remote`` (git://…/remote.git), pushes enabled."""
    with git_daemon(remote.path) as url:
        yield url


# -- signing keys (real ssh-keygen and gpg) -------------------------------------------------


@dataclass(frozen=True)
class SshSigner:
    """An ed25519 SSH key without a passphrase, and the principal it signs as."""

    principal: str
    private: Path
    """The private key file (``user.signingKey``, ``git tag -u``); ``.pub`` beside it."""
    public: str
    """The public key line: ``ssh-ed25519 AAAA… principal``."""

    def allowed_signer(self) -> str:
        """Its line of an ``allowed_signers`` file (ssh-keygen(1), ALLOWED SIGNERS),
        allowed to sign in Git's namespace."""
        return f'{self.principal} namespaces="git" {self.public}'


def allowed_signers(*signers: SshSigner) -> bytes:
    """The content of an ``allowed_signers`` file listing ``signers``."""
    return "".join(f"{signer.allowed_signer()}\n" for signer in signers).encode()


@pytest.fixture(scope="session")
def make_ssh_signer(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], SshSigner]:
    """Makes the SSH key of a principal (``alice@acme.example``) with ``ssh-keygen``:
    one key per principal in a test session (tests must not change its files)."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    folder = tmp_path_factory.mktemp("ssh-keys")
    made: dict[str, SshSigner] = {}

    def make(principal: str) -> SshSigner:
        if principal not in made:
            path = folder / f"key{len(made)}"
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(path)],
                check=True,
                capture_output=True,
            )
            public = Path(f"{path}.pub").read_text().strip()
            made[principal] = SshSigner(principal, path, public)
        return made[principal]

    return make


@pytest.fixture
def ssh_signer(make_ssh_signer: Callable[[str], SshSigner]) -> SshSigner:
    """Alice's SSH key (``alice@acme.example``)."""
    return make_ssh_signer("alice@acme.example")


def sign_with_ssh(repo: Repo, signer: SshSigner) -> None:
    """Configure ``repo`` (its own config file) to sign with ``signer``'s SSH key."""
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingKey", str(signer.private))


@dataclass(frozen=True)
class GpgKey:
    """A GnuPG home holding one ed25519 signing key without a passphrase."""

    home: Path
    """Short, under /tmp: gpg-agent's socket path must stay under ~100 characters."""
    fingerprint: str
    uid: str
    """``Name <email>``."""
    email: str

    def env(self) -> dict[str, str]:
        """The environment that uses this keyring (``GNUPGHOME``)."""
        return {"GNUPGHOME": str(self.home)}


@pytest.fixture(scope="session")
def make_gpg_key() -> Iterator[Callable[[str, str], GpgKey]]:
    """Makes a GnuPG home with the key of ``Name <email>`` (``gpg --quick-gen-key``): one
    per user id in a test session. Its agents are stopped and the home removed at the end
    of the session."""
    if shutil.which("gpg") is None or shutil.which("gpgconf") is None:
        pytest.skip("gpg is not installed")
    made: dict[str, GpgKey] = {}
    homes: list[str] = []
    try:

        def make(name: str, email: str) -> GpgKey:
            uid = f"{name} <{email}>"
            if uid not in made:
                home = tempfile.mkdtemp(
                    prefix="grg-", dir="/tmp" if os.path.isdir("/tmp") else None
                )
                homes.append(home)
                gpg = ["gpg", "--batch", "--homedir", home]
                quiet = ["--passphrase", "", "--pinentry-mode", "loopback"]
                generate = ["--quick-gen-key", uid, "ed25519", "sign", "never"]
                subprocess.run([*gpg, *quiet, *generate], check=True, capture_output=True)
                listing = subprocess.run(
                    [*gpg, "--with-colons", "--list-secret-keys"],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                fingerprint = next(
                    line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
                )
                made[uid] = GpgKey(Path(home), fingerprint, uid, email)
            return made[uid]

        yield make
    finally:
        for home in homes:
            subprocess.run(
                ["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True, check=False
            )
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def gpg_key(make_gpg_key: Callable[[str, str], GpgKey]) -> GpgKey:
    """Gus's OpenPGP key (``Gus Signer <gus@acme.example>``)."""
    return make_gpg_key("Gus Signer", "gus@acme.example")


def sign_with_gpg(repo: Repo, key: GpgKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """Configure ``repo`` (its own config file) to sign with ``key`` (OpenPGP, Git's
    default format), whose keyring the test's processes use (``GNUPGHOME``)."""
    monkeypatch.setenv("GNUPGHOME", str(key.home))
    repo.git("config", "user.signingKey", key.fingerprint)


def generated(out: Path, *options: str) -> Repo:
    """A registry repository made by ``bench/make_repo.py OUT OPTIONS`` (fast: no
    ``git tag`` per tag)."""
    make_repo = Path(__file__).resolve().parents[1] / "bench" / "make_repo.py"
    subprocess.run(
        [sys.executable, str(make_repo), str(out), *options], check=True, capture_output=True
    )
    return Repo(out)


NO_CACHE = {"GIT_CONFIG_PARAMETERS": "'registry.cache'='false'"}
"""The environment that turns every cache off (``registry.cache false``)."""


def outputs(
    repo: Repo, runs: Iterable[Sequence[str]], *, cache: bool = True
) -> dict[str, tuple[int, str, str]]:
    """``(exit code, stdout, stderr)`` of each ``git registry ARGS`` in ``runs`` (in-process,
    each run reading the files afresh), with the caches or (``cache`` False) without."""
    found: dict[str, tuple[int, str, str]] = {}
    with pytest.MonkeyPatch.context() as patch:
        if not cache:
            patch.setenv("GIT_CONFIG_PARAMETERS", NO_CACHE["GIT_CONFIG_PARAMETERS"])
        for args in runs:
            result = repo.run(*args)
            found[" ".join(args)] = (result.code, result.out, result.err)
    return found


class Existing(Repo):
    """A repository (or any folder) made some other way than by ``Repo``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._n = 0


@pytest.fixture
def demo(tmp_path: Path) -> Repo:
    """The repository 'git registry demo' builds (a policy, three annotated artifacts)."""
    result = Existing(tmp_path).run("demo", "demo")
    assert result.code == 0, result.err
    return Existing(tmp_path / "demo")


def fails(repo: Repo, *args: str, code: int = 128, cwd: Path | None = None) -> str:
    """Run in-process, expect exit ``code``, nothing on stdout and no traceback; return
    stderr."""
    result = repo.run(*args, cwd=cwd)
    assert result.code == code, result
    assert "Traceback" not in result.err
    assert result.out == ""
    return result.err
