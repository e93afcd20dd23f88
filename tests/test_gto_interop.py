"""Interoperability with GTO 1.10.1 on real repositories (SPEC 1 and 3).

Both tools must write the same tags for the same operations, and each must read
the other's repositories with the same meaning. Where SPEC 3.1 and 3.4 say we
deliberately differ, a test shows both behaviours.

GTO is run as a subprocess (``gto`` next to the test interpreter, installed by
the ``test`` extra). A missing GTO fails these tests, unless
``GIT_REGISTRY_SKIP_GTO=1`` is set, which skips them.

GTO writes tags through scmrepo's pygit2 backend: the message as given (no
trailing newline) and the real clock, at 1-second resolution. If
``GIT_COMMITTER_DATE`` is set, that backend refuses and scmrepo falls back to
dulwich, which still uses the real clock but appends a newline to the message;
so GTO runs without the ``GIT_*_DATE`` variables, as in a user's shell, and
every GTO write starts in a later second than the previous one
(``Gto.write``). Our own writes get distinct increasing ``GIT_COMMITTER_DATE``
values (``Clock``). Ties are thus never left to the tie-breaking rules, where
the two tools differ on purpose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, SshSigner, sign_with_ssh

pytestmark = pytest.mark.gto

GTO = os.path.join(os.path.dirname(sys.executable), "gto")
GTO_VERSION = "1.10.1"
# Read at import time: the hermetic fixture removes every GIT_* variable.
SKIP_GTO = os.environ.get("GIT_REGISTRY_SKIP_GTO") == "1"
MAKE_REPO_CANDIDATES = [Path(__file__).resolve().parents[1] / "bench" / "make_repo.py"]


def _gto_problem() -> str | None:
    """Why GTO cannot be used here, or None."""
    if not os.access(GTO, os.X_OK):
        return f"GTO is not installed (no executable {GTO})"
    proc = subprocess.run([GTO, "--version"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return f"'{GTO} --version' failed ({proc.returncode}): {proc.stderr.strip()}"
    if GTO_VERSION not in proc.stdout:
        return f"GTO {GTO_VERSION} is required, found: {proc.stdout.strip()}"
    return None


@pytest.fixture(scope="module")
def gto_problem() -> str | None:
    return _gto_problem()


@pytest.fixture(autouse=True)
def require_gto(gto_problem: str | None) -> None:
    """Fail (or, with GIT_REGISTRY_SKIP_GTO=1, skip) when GTO cannot run."""
    if gto_problem is None:
        return
    if SKIP_GTO:
        pytest.skip(f"GIT_REGISTRY_SKIP_GTO=1: {gto_problem}")
    pytest.fail(
        f"{gto_problem}. Install the test extra (pip install -e '.[test]'), "
        "or set GIT_REGISTRY_SKIP_GTO=1 to skip the GTO interoperability tests.",
        pytrace=False,
    )


class Gto:
    """Runs the real ``gto`` executable in one repository."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._last_second = 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
        for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # see the module docstring
            env.pop(var, None)
        return subprocess.run(
            [GTO, *args],
            cwd=self.repo.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    def read(self, *args: str) -> str:
        """A read command that must succeed; its stdout."""
        proc = self.run(*args)
        assert proc.returncode == 0, (
            f"gto {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.read(*args))

    def write(
        self, *args: str, check: bool = True, new_second: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """A write, started in a later second than the previous write ended (unless
        ``new_second`` is false: for a write to another artifact than the last one)."""
        while new_second and int(time.time()) <= self._last_second:
            time.sleep(1.02 - time.time() % 1)
        proc = self.run(*args)
        self._last_second = int(time.time())
        if check:
            assert proc.returncode == 0, (
                f"gto {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc


class Clock:
    """Distinct, increasing tagger times for our own writes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: int = 1700000100) -> None:
        self.monkeypatch = monkeypatch
        self.now = start

    def tick(self) -> str:
        self.now += 100
        date = f"{self.now} +0000"
        self.monkeypatch.setenv("GIT_COMMITTER_DATE", date)
        return date


def ours(repo: Repo, clock: Clock, *args: str) -> str:
    """One of our writes, at the next tagger time."""
    clock.tick()
    return repo.ok(*args)


def tag_object(repo: Repo, name: str) -> tuple[dict[str, bytes], bytes]:
    """The header fields and the exact message bytes of the annotated tag ``name``."""
    raw = subprocess.run(
        ["git", "cat-file", "tag", name], cwd=repo.path, capture_output=True, check=True
    ).stdout
    header, sep, body = raw.partition(b"\n\n")
    assert sep, f"tag {name} has no message: {raw!r}"
    fields = {}
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        fields[key.decode()] = value
    return fields, body


def tagger_identity(fields: dict[str, bytes]) -> bytes:
    """``Name <email>`` of a tagger line, without the time."""
    return fields["tagger"].rpartition(b">")[0] + b">"


def our_show(repo: Repo) -> dict[str, dict[str, Any]]:
    """``git registry show --json --all``, keyed by artifact name."""
    doc = json.loads(repo.ok("show", "--json", "--all"))
    return {a["name"]: a for a in doc["artifacts"]}


def held(artifact: dict[str, Any]) -> dict[str, str]:
    """Stage -> version held, from our JSON."""
    return {stage: hold["version"] for stage, hold in artifact["stages"].items()}


def gto_held(artifact: dict[str, Any]) -> dict[str, str]:
    """Stage -> version held, from GTO's ``show --json`` (it lists empty stages as null)."""
    return {stage: version for stage, version in artifact["stage"].items() if version}


def assert_same_registry(
    gto_doc: dict[str, dict[str, Any]], mine: dict[str, dict[str, Any]], *, with_deprecated: bool
) -> None:
    """GTO's ``show --json`` (with ``-d`` if ``with_deprecated``) agrees with ours."""
    expected_names = {n for n, a in mine.items() if with_deprecated or not a["deprecated"]}
    assert set(gto_doc) == expected_names
    for name, g in gto_doc.items():
        a = mine[name]
        assert (name, g["version"]) == (name, a["latest"])
        assert (name, gto_held(g)) == (name, held(a))
        if with_deprecated:
            assert (name, g["active"]) == (name, not a["deprecated"])


# --------------------------------------------------------------------------------------
# 1. Same operations, same tags
# --------------------------------------------------------------------------------------


def _twin_repos(tmp_path: Path) -> tuple[Repo, Repo]:
    g = Repo(tmp_path / "by-gto")
    o = Repo(tmp_path / "by-us")
    assert g.commit("initial") == o.commit("initial")
    return g, o


def test_same_operations_write_the_same_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sequence run by GTO in one repository and by us in its twin (same commits):
    the same tag names, peeled targets, tagger identities and message bytes."""
    g, o = _twin_repos(tmp_path)
    gto, clock = Gto(g), Clock(monkeypatch)
    c1 = g.git("rev-parse", "HEAD").strip()
    # (commit first?, GTO's command, ours)
    steps: list[tuple[bool, list[str], list[str]]] = [
        (False, ["register", "m"], ["register", "m"]),
        (True, ["register", "m", "--bump-minor"], ["register", "m", "--bump-minor"]),
        (True, ["register", "m", "--version", "v1.0.0"], ["register", "m", "--version", "v1.0.0"]),
        (
            False,
            ["assign", "m", "--version", "v1.0.0", "--stage", "prod"],
            ["promote", "m@v1.0.0", "prod"],
        ),
        (
            False,
            ["assign", "m", "--version", "v0.1.0", "--stage", "staging", "--simple", "true"],
            ["promote", "m@v0.1.0", "staging", "--simple"],
        ),
        (False, ["deprecate", "m", "v1.0.0", "prod"], ["unassign", "m@v1.0.0", "prod"]),
        (False, ["deprecate", "m", "v0.0.1"], ["deregister", "m@v0.0.1"]),
        (False, ["deprecate", "m"], ["deprecate", "m"]),
        (False, ["register", "dir/sub:name"], ["register", "dir/sub:name"]),
        (
            False,
            ["assign", "dir/sub:name", "--version", "v0.0.1", "--stage", "prod"],
            ["promote", "dir/sub:name@v0.0.1", "prod"],
        ),
    ]
    for new_commit, gto_args, our_args in steps:
        if new_commit:
            assert g.commit() == o.commit()
        gto.write(*gto_args)
        ours(o, clock, *our_args)
    c3 = g.git("rev-parse", "HEAD").strip()
    c2 = g.git("rev-parse", "HEAD~1").strip()

    expected = {
        "m@v0.0.1": c1,
        "m@v0.1.0": c2,
        "m@v1.0.0": c3,
        "m#prod#1": c3,
        "m#staging": c2,
        "m#prod!#2": c3,
        "m@v0.0.1!": c1,
        "m@deprecated": c1,  # the commit of m's newest event (the deregistration)
        "dir/sub=name@v0.0.1": c3,
        "dir/sub=name#prod#1": c3,
    }
    assert g.tags() == expected
    assert o.tags() == expected

    texts = {
        "m@v0.0.1": "Registering artifact m version v0.0.1",
        "m#prod#1": "Assigning stage prod to artifact m version v1.0.0",
        "m#staging": "Assigning stage staging to artifact m version v0.1.0",
        "m#prod!#2": "Unassigning stage 'prod' to artifact 'm' version 'v1.0.0'",
        "m@v0.0.1!": "Deregistering artifact m version v0.0.1",
        "m@deprecated": "Deprecating artifact 'm'",
        "dir/sub=name@v0.0.1": "Registering artifact dir/sub:name version v0.0.1",
    }
    our_bodies, gto_bodies = {}, {}
    for name in expected:
        g_fields, gto_bodies[name] = tag_object(g, name)
        o_fields, our_bodies[name] = tag_object(o, name)
        assert (name, o_fields["object"], o_fields["type"], o_fields["tag"]) == (
            name,
            g_fields["object"],
            g_fields["type"],
            g_fields["tag"],
        )
        assert tagger_identity(o_fields) == tagger_identity(g_fields)
        assert tagger_identity(o_fields) == b"Cy Committer <cy@example.com>"
    for name, text in texts.items():
        assert (name, gto_bodies[name].decode()) == (name, text)
    # The exact bytes: neither tool ends the message with a newline.
    assert our_bodies == gto_bodies
    assert not any(body.endswith(b"\n") for body in our_bodies.values())
    o.fsck()
    g.fsck()


def test_register_after_deregistration_bumps_past_it_where_gto_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC 3.1: GTO re-proposes the deregistered version and fails; we bump past it."""
    g, o = _twin_repos(tmp_path)
    gto, clock = Gto(g), Clock(monkeypatch)
    gto.write("register", "m")
    gto.write("deprecate", "m", "v0.0.1")
    assert g.commit() == o.commit()
    proc = gto.write("register", "m", check=False)
    assert proc.returncode != 0
    assert "tag 'm@v0.0.1' already exists" in proc.stdout + proc.stderr
    assert set(g.tags()) == {"m@v0.0.1", "m@v0.0.1!"}

    ours(o, clock, "register", "m")
    ours(o, clock, "deregister", "m@v0.0.1")
    o.commit()  # (a second version on v0.0.1's commit would need --force: issue 19)
    ours(o, clock, "register", "m")
    head = o.git("rev-parse", "HEAD").strip()
    assert set(o.tags()) == {"m@v0.0.1", "m@v0.0.1!", "m@v0.0.2"}
    assert o.tags()["m@v0.0.2"] == head
    assert o.ok("latest", "m").strip() == "v0.0.2"
    # GTO reads our result the same way.
    assert Gto(o).read("show", "m@latest", "--version").strip() == "v0.0.2"


# --------------------------------------------------------------------------------------
# 2. GTO reads our repositories as we do
# --------------------------------------------------------------------------------------


def test_gto_reads_a_registry_we_wrote(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several artifacts, versions and stages, an unassignment fall-back, a deregistered
    version holding a stage, a deprecation and a re-activation, all written by us:
    GTO's ``show --json``, latest versions and stage holders are ours."""
    clock = Clock(monkeypatch)

    def w(*args: str) -> str:
        return ours(repo, clock, *args)

    # commit 1
    w("register", "churn", "--version", "v1.0.0")
    w("promote", "churn@v1.0.0", "prod")
    w("register", "seg", "--version", "v0.1.0")
    w("promote", "seg@v0.1.0", "dev")
    w("register", "old", "--version", "v0.0.1")
    w("register", "back", "--version", "v1.0.0")
    w("promote", "back@v1.0.0", "prod")
    w("register", "models/x:clf")
    w("promote", "models/x:clf@v0.0.1", "prod", "--simple")
    repo.commit()
    # commit 2
    w("register", "churn", "--version", "v1.1.0")
    w("promote", "churn@v1.1.0", "staging")
    w("promote", "churn@v1.1.0", "prod")
    w("unassign", "churn@v1.1.0", "prod")  # prod falls back to v1.0.0
    w("register", "seg", "--version", "v0.2.0")
    w("promote", "seg@v0.2.0", "prod")
    w("deprecate", "old")
    w("deprecate", "back")
    w("register", "back", "--version", "v1.1.0")  # a later event re-activates back
    repo.commit()
    # commit 3
    w("register", "churn", "--version", "v2.0.0-rc.1")
    w("promote", "churn@v2.0.0-rc.1", "dev")
    w("register", "seg", "--bump-minor")
    w("promote", "seg@v0.3.0", "staging")
    w("deregister", "seg@v0.3.0")
    w("register", "models/x:clf", "--bump-major")
    w("promote", "models/x:clf@v1.0.0", "dev")
    repo.fsck()

    mine = our_show(repo)
    expected = {
        "churn": (
            "v2.0.0-rc.1",
            {"prod": "v1.0.0", "staging": "v1.1.0", "dev": "v2.0.0-rc.1"},
            False,
        ),
        "seg": ("v0.2.0", {"dev": "v0.1.0", "prod": "v0.2.0"}, False),
        "old": ("v0.0.1", {}, True),
        "back": ("v1.1.0", {"prod": "v1.0.0"}, False),
        "models/x:clf": ("v1.0.0", {"prod": "v0.0.1", "dev": "v1.0.0"}, False),
    }
    assert {n: (a["latest"], held(a), a["deprecated"]) for n, a in mine.items()} == expected

    gto = Gto(repo)
    gto_doc = gto.json("show", "--json", "-d")
    assert {n: (g["version"], gto_held(g), not g["active"]) for n, g in gto_doc.items()} == (
        expected
    )
    assert_same_registry(gto_doc, mine, with_deprecated=True)
    assert_same_registry(gto.json("show", "--json"), mine, with_deprecated=False)

    for name in ("churn", "seg", "back"):
        assert gto.read("show", f"{name}@latest", "--version").strip() == expected[name][0]
        assert repo.ok("latest", name).strip() == expected[name][0]
    for name, stage in (("churn", "prod"), ("models/x:clf", "prod")):
        version = expected[name][1][stage]
        assert gto.read("show", f"{name}#{stage}", "--version").strip() == version
        assert repo.ok("which", name, stage).strip() == version


def test_gto_reads_our_signed_tags(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, ssh_signer: SshSigner
) -> None:
    """Signed tags (a signature after the message, as ``git tag -s`` writes it) are
    read by GTO as the unsigned ones: same versions, same stage holders."""
    clock = Clock(monkeypatch)
    sign_with_ssh(repo, ssh_signer)
    ours(repo, clock, "register", "churn", "--version", "v1.0.0", "--sign")
    ours(repo, clock, "promote", "churn@v1.0.0", "prod", "--sign")
    repo.commit()
    ours(repo, clock, "register", "churn", "--version", "v1.1.0", "--sign")
    ours(repo, clock, "promote", "churn@v1.1.0", "prod", "--sign")
    ours(repo, clock, "unassign", "churn@v1.1.0", "prod", "--sign")
    assert "-----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "tag", "churn#prod!#3")
    repo.fsck()
    mine = our_show(repo)
    assert held(mine["churn"]) == {"prod": "v1.0.0"}
    gto = Gto(repo)
    assert_same_registry(gto.json("show", "--json"), mine, with_deprecated=False)
    assert gto.read("show", "churn#prod", "--version").strip() == "v1.0.0"


# --------------------------------------------------------------------------------------
# 3. We read GTO's repositories as GTO does
# --------------------------------------------------------------------------------------


def test_we_read_a_registry_gto_wrote(repo: Repo) -> None:
    """GTO writes counters on registrations and deregistrations, ``dir=name`` tags, an
    unassignment, a deregistration and a deprecation: we read what GTO reads."""
    gto = Gto(repo)
    gto.write("register", "m", "--simple", "false")  # m@v0.0.1#1
    gto.write("assign", "m", "--version", "v0.0.1", "--stage", "dev")  # m#dev#2
    gto.write("register", "nlp/models:bert", "--version", "v1.0.0", new_second=False)
    gto.write("register", "old", new_second=False)
    repo.commit()
    gto.write("register", "m", "--bump-minor", "--simple", "false")  # m@v0.1.0#3
    gto.write("assign", "m", "--version", "v0.1.0", "--stage", "dev")  # m#dev#4
    gto.write("assign", "m", "--version", "v0.1.0", "--stage", "prod")  # m#prod#5
    gto.write("deprecate", "m", "v0.1.0", "dev")  # m#dev!#6: dev falls back to v0.0.1
    gto.write(
        "assign", "nlp/models:bert", "--version", "v1.0.0", "--stage", "staging", new_second=False
    )
    gto.write("deprecate", "old", new_second=False)
    repo.commit()
    gto.write("register", "m")  # m@v0.1.1
    gto.write("deprecate", "m", "v0.1.1", "--simple", "false")  # m@v0.1.1!#7
    tags = set(repo.tags())
    assert tags == {
        "m@v0.0.1#1",
        "m#dev#2",
        "m@v0.1.0#3",
        "m#dev#4",
        "m#prod#5",
        "m#dev!#6",
        "m@v0.1.1",
        "m@v0.1.1!#7",
        "nlp/models=bert@v1.0.0",
        "nlp/models=bert#staging#1",
        "old@v0.0.1",
        "old@deprecated",
    }

    mine = our_show(repo)
    expected = {
        "m": ("v0.1.0", {"dev": "v0.0.1", "prod": "v0.1.0"}, False),
        "nlp/models:bert": ("v1.0.0", {"staging": "v1.0.0"}, False),
        "old": ("v0.0.1", {}, True),
    }
    assert {n: (a["latest"], held(a), a["deprecated"]) for n, a in mine.items()} == expected
    gto_doc = gto.json("show", "--json", "-d")
    assert {n: (g["version"], gto_held(g), not g["active"]) for n, g in gto_doc.items()} == (
        expected
    )
    assert_same_registry(gto_doc, mine, with_deprecated=True)

    for name in ("m", "nlp/models:bert"):
        assert repo.ok("latest", name).strip() == expected[name][0]
        assert gto.read("show", f"{name}@latest", "--version").strip() == expected[name][0]
    for name, stage in (("m", "dev"), ("m", "prod"), ("nlp/models:bert", "staging")):
        version = expected[name][1][stage]
        assert repo.ok("which", name, stage).strip() == version
        assert gto.read("show", f"{name}#{stage}", "--version").strip() == version
    assert repo.ok("which", "m", "dev", "--ref").strip() == "m#dev#2"
    # What each kind of tag means, as GTO's check-ref and ours say it.
    for tag in ("m@v0.0.1#1", "m#dev!#6", "m@v0.1.1!#7", "nlp/models=bert#staging#1"):
        assert_same_check_ref(gto, repo, tag)


def assert_same_check_ref(gto: Gto, repo: Repo, tag: str) -> None:
    """``check-ref TAG --json``: GTO's fields and ours carry the same values."""
    g = gto.json("check-ref", tag, "--json")
    o = json.loads(repo.ok("check-ref", tag, "--json"))
    assert {
        "tag": g["tag"],
        "event": g["event"],
        "artifact": g["artifact"],
        "version": g.get("version"),
        "stage": g.get("stage"),
        "commit": g["commit_hexsha"],
        "timestamp": g["created_at"],
        "tagger": {"name": g["author"], "email": g["author_email"]},
        "message": g["message"],
    } == {
        key: o[key]
        for key in (
            "tag",
            "event",
            "artifact",
            "version",
            "stage",
            "commit",
            "timestamp",
            "tagger",
            "message",
        )
    }


def _make_repo_script() -> Path:
    for path in MAKE_REPO_CANDIDATES:
        if path.is_file():
            return path
    pytest.fail(f"bench/make_repo.py not found in {[str(p) for p in MAKE_REPO_CANDIDATES]}")


def test_we_read_a_generated_gto_style_registry(tmp_path: Path) -> None:
    """156 GTO-style tags (GTO's messages, unique tagger times) from bench/make_repo.py:
    every artifact's latest version and stage holders agree with GTO's."""
    out = tmp_path / "bench"
    subprocess.run(
        [
            sys.executable,
            str(_make_repo_script()),
            str(out),
            "-a",
            "5",
            "-v",
            "6",
            "-p",
            "3",
            "--unassign-every",
            "4",
            "--deregister-every",
            "3",
            "--deprecate",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    repo = Repo(out)  # re-initialising an existing repository changes nothing
    names = list(repo.tags())
    assert len(names) == 156
    assert sum(n.endswith("@deprecated") for n in names) == 1
    assert sum("!#" in n for n in names) == 25  # unassignments
    assert sum(n.endswith("!") for n in names) == 10  # deregistrations
    dates = repo.git("for-each-ref", "--format=%(taggerdate:unix)", "refs/tags").split()
    assert len(set(dates)) == len(dates) == 156, "tagger times must be unique"

    mine = our_show(repo)
    gto_doc = Gto(repo).json("show", "--json", "-d")
    assert set(mine) == set(gto_doc) == {f"model-{i:02d}" for i in range(5)}
    assert mine["model-00"]["deprecated"] is True
    assert gto_doc["model-00"]["active"] is False
    assert_same_registry(gto_doc, mine, with_deprecated=True)
    # Every artifact has versions v1.0.0 .. v1.1.0 with dev, staging and prod each; v1.0.2
    # and v1.1.0 are deregistered, so their stages fall back to older versions.
    for i in range(1, 5):
        name = f"model-{i:02d}"
        assert gto_doc[name]["version"] == "v1.0.4"
        assert gto_held(gto_doc[name]) == {"dev": "v1.0.4", "staging": "v1.0.3", "prod": "v1.0.4"}
        assert repo.ok("latest", name).strip() == "v1.0.4"
        for stage, version in gto_held(gto_doc[name]).items():
            assert repo.ok("which", name, stage).strip() == version


# --------------------------------------------------------------------------------------
# 4. Where we differ on purpose (SPEC 3.4)
# --------------------------------------------------------------------------------------


def test_same_second_ties_are_sorted_by_counter_not_by_name(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC 3.2/3.4: m#prod#9 and m#prod#10 in the same second: #10 is the newer for us,
    GTO sorts by name and takes #9."""
    clock = Clock(monkeypatch)
    c1 = repo.git("rev-parse", "HEAD").strip()
    ours(repo, clock, "register", "m", "--version", "v1.0.0")
    c2 = repo.commit()
    ours(repo, clock, "register", "m", "--version", "v2.0.0")
    tie = "1700009000 +0000"
    repo.tag("m#prod#9", c1, "Assigning stage prod to artifact m version v1.0.0", date=tie)
    repo.tag("m#prod#10", c2, "Assigning stage prod to artifact m version v2.0.0", date=tie)

    # We: #10 is the newer assignment (counter), so v2.0.0 holds prod.
    assert repo.ok("which", "m", "prod").strip() == "v2.0.0"
    assert repo.ok("which", "m", "prod", "--ref").strip() == "m#prod#10"
    assert held(our_show(repo)["m"]) == {"prod": "v2.0.0"}
    # GTO sorts the tie by name: "m#prod#9" > "m#prod#10", so v1.0.0 holds prod.
    gto = Gto(repo)
    assert gto.read("show", "m#prod", "--version").strip() == "v1.0.0"
    assert gto_held(gto.json("show", "--json")["m"]) == {"prod": "v1.0.0"}
    # check points the difference out (issue 19): a warning, exit 0 (1 with --gto).
    result = repo.run("check")
    assert result.code == 0
    assert result.out.startswith(
        "m#prod#10: GTO 1.10.1 orders it before m#prod#9 (the same second: GTO sorts by name, "
        "git registry by counter), so GTO may show another holder of prod"
    )
    assert repo.run("check", "--gto").code == 1


def test_stages_lists_stages_no_longer_held(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPEC 3.4: our ``stages`` lists every stage ever used; GTO's ``stages --used`` drops
    a stage once nobody holds it."""
    clock = Clock(monkeypatch)
    ours(repo, clock, "register", "m")
    ours(repo, clock, "promote", "m", "prod")
    ours(repo, clock, "promote", "m", "staging")
    ours(repo, clock, "unassign", "m", "prod")
    assert repo.ok("stages").splitlines() == ["prod", "staging"]
    assert json.loads(repo.ok("stages", "--json")) == {"stages": ["prod", "staging"]}
    assert held(our_show(repo)["m"]) == {"staging": "v0.0.1"}
    gto = Gto(repo)
    assert gto.read("stages", "--used").splitlines() == ["staging"]
    assert gto_held(gto.json("show", "--json")["m"]) == {"staging": "v0.0.1"}


def test_lookups_that_find_nothing_exit_non_zero(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC 3.4/6: a lookup that finds nothing exits 1 for us. GTO exits 0 with empty
    output when the artifact exists (no stage holder, no active version) and exits 1
    only for an artifact it does not know."""
    clock = Clock(monkeypatch)
    ours(repo, clock, "register", "m")
    ours(repo, clock, "promote", "m", "dev")
    ours(repo, clock, "register", "gone", "--version", "v1.0.0")
    ours(repo, clock, "deregister", "gone@v1.0.0")
    gto = Gto(repo)

    # A stage nobody holds: GTO exits 0 and prints nothing; we exit 1 and say why.
    proc = gto.run("show", "m#prod", "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, "")
    result = repo.run("which", "m", "prod")
    assert (result.code, result.out) == (1, "")
    assert "prod" in result.err

    # An artifact with no active version: same difference for the latest version.
    proc = gto.run("show", "gone@latest", "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, "")
    result = repo.run("latest", "gone")
    assert (result.code, result.out) == (1, "")
    assert "gone" in result.err

    # An unknown artifact: we exit 1 with a message for both lookups; so does GTO.
    for args in (("which", "nosuch", "prod"), ("latest", "nosuch")):
        result = repo.run(*args)
        assert (args, result.code, result.out) == (args, 1, "")
        assert "nosuch" in result.err
    proc = gto.run("show", "nosuch@latest", "--version")
    assert (proc.returncode, proc.stdout.strip()) == (1, "")
    assert "Cannot find artifact 'nosuch'" in proc.stderr
