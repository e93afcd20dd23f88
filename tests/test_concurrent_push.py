"""Concurrent pushes to a server with the registry's hooks: two pushes whose tags are
fine alone but conflict together (the same counter, one version at two commits) never
both land, and the one refused says why (issue: the pre-receive hooks of two pushes
both ran before either push wrote a ref).

Real ``git push`` processes run at the same time against a bare repository. A foreign
hook chained before ours is a barrier: each push waits there until the other push has
reached it too, so every pair is a race, not one push after the other.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from git_registry import pushlock
from git_registry.cli import main
from git_registry.errors import RegistryError

from conftest import Repo, git, git_daemon

pytestmark = pytest.mark.slow

ZERO = "0" * 40
BARRIER = "REGISTRY_TEST_BARRIER"
# Each push waits until the other push has reached this hook too (two markers), or
# until the test says one push ended without getting here ("done").
BARRIER_HOOK = f"""\
[ -n "${BARRIER}" ] || exit 0
: >"${BARRIER}/$$"
while [ "$(ls "${BARRIER}" | wc -l)" -lt 2 ] && [ ! -e "${BARRIER}/../done" ]; do
    sleep 0.02
done
"""


@dataclass
class Pushed:
    """What one ``git push`` of a race did."""

    tag: str
    commit: str
    code: int
    err: str


@dataclass
class Site:
    """A bare server with the hooks, two clones, and commits to tag."""

    server: Repo
    a: Repo
    b: Repo
    base: str
    """The commit of churn@v1.0.0, where stage tags go."""
    spare: list[str]
    """Commits without a version, two per version race."""
    races: int = 0


def write_hook(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def lock_path(server: Repo) -> Path:
    return server.path / "registry" / "push.lock"


def make_site(tmp_path: Path, *, ours: str = "all", spare: int = 0) -> Site:
    """A server whose main branch has churn@v1.0.0 and ``spare`` more commits.

    ``ours``: "all" server hooks, the barrier chained before our pre-receive; or
    "transaction": only our reference-transaction hook, the barrier as the update hook
    (after pre-receive, before the ref transactions: the backstop's race).
    """
    seed = Repo(tmp_path / "seed")
    base = seed.commit("base")
    seed.ok("register", "churn", "--version", "v1.0.0")
    commits = [seed.commit() for _ in range(spare)]
    server = Repo(tmp_path / "srv.git", bare=True)
    hooks = server.path / "hooks"
    write_hook(hooks / "pre-receive", BARRIER_HOOK)  # kept and chained
    server.ok("hooks", "install", "--server")
    if ours == "transaction":
        os.remove(hooks / "pre-receive")
        os.remove(hooks / "pre-receive.registry-orig")
        write_hook(hooks / "update", BARRIER_HOOK)
    # Bound the work, not the time: the loser of a race waits as long as it takes.
    server.git("config", "registry.pushLockTimeout", "600")
    seed.git("push", "-q", str(server.path), "main", "churn@v1.0.0")
    clones = []
    for name in ("a", "b"):
        git(tmp_path, "clone", "-q", str(server.path), name)
        clones.append(Repo(tmp_path / name))
    return Site(server, clones[0], clones[1], base, commits)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path, spare=2 * 12)


def race(site: Site, a: tuple[str, str], b: tuple[str, str], url: str = "origin") -> list[Pushed]:
    """Tag (name, commit) in clone A and clone B and push both at once: each push
    reaches the barrier before either goes on."""
    site.races += 1
    barrier = site.server.path.parent / f"barrier-{site.races}" / "in"
    barrier.mkdir(parents=True)
    env = {**os.environ, BARRIER: str(barrier)}
    procs = []
    for clone, (tag, commit) in ((site.a, a), (site.b, b)):
        clone.tag(tag, commit)
        procs.append(
            subprocess.Popen(
                ["git", "push", url, tag],
                cwd=clone.path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    # A push that ends before the barrier (a bug here) must not leave the other one
    # waiting.
    while all(p.poll() is None for p in procs):
        time.sleep(0.02)
    (barrier.parent / "done").touch()
    errs = [p.communicate()[1] for p in procs]
    return [
        Pushed(tag, commit, p.returncode, err)
        for (tag, commit), p, err in zip((a, b), procs, errs, strict=True)
    ]


def server_tags(server: Repo) -> dict[str, str]:
    return server.tags()


def assert_consistent(server: Repo) -> None:
    """No counter used twice, no version at two commits (read with Git), and
    ``git registry check`` agrees; no lock left behind."""
    tags = server_tags(server)
    counters = Counter(
        m.group(1) for name in tags if (m := re.fullmatch(r"churn[@#].*#(\d+)", name))
    )
    assert [c for c, n in counters.items() if n > 1] == []
    versions: dict[str, set[str]] = {}
    for name, commit in tags.items():
        if m := re.fullmatch(r"churn@(v[0-9.]+)!?(?:#\d+)?", name):
            versions.setdefault(m.group(1), set()).add(commit)
    assert {v: c for v, c in versions.items() if len(c) > 1} == {}
    check = server.git_registry("check")
    assert check.code == 0, check.out + check.err
    assert not lock_path(server).exists()
    server.fsck()


def tally(pairs: list[list[Pushed]], server: Repo) -> Counter[str]:
    """How many pairs had exactly one, both or none land (what the server has)."""
    tags = server_tags(server)
    result: Counter[str] = Counter()
    for pair in pairs:
        landed = [tags.get(p.tag) == p.commit for p in pair]
        for pushed, ok in zip(pair, landed, strict=True):
            assert (pushed.code == 0) == ok, pushed
        result[{2: "both", 1: "one", 0: "none"}[sum(landed)]] += 1
    return result


# -- the race --------------------------------------------------------------------------------


def test_conflicting_pushes_at_once_never_both_land(site: Site) -> None:
    pairs, reasons = [], []
    for i in range(20):
        if i % 2 == 0:  # the same counter on two stage tags
            k = 10 + i
            pairs.append(
                race(site, (f"churn#dev#{k}", site.base), (f"churn#staging#{k}", site.base))
            )
            reasons.append(f"counter #{k} of churn is already used by tag churn#")
        else:  # one version at two commits (the counter form names the same version)
            v, x, y = f"v{100 + i}.0.0", site.spare[i], site.spare[i + 1]
            pairs.append(race(site, (f"churn@{v}", x), (f"churn@{v}#{100 + i}", y)))
            reasons.append(f"{v} of churn is already registered at commit")
    counts = tally(pairs, site.server)
    print(f"\n20 racing pairs: {dict(counts)}", file=sys.stderr)
    assert counts == {"one": 20}
    for pair, reason in zip(pairs, reasons, strict=True):
        (refused,) = [p for p in pair if p.code != 0]
        # Both were checked before pushing on, but one after the other: the second
        # check saw the first push's tag.
        assert "remote: error: churn" in refused.err and reason in refused.err, refused.err
        assert "git-registry pre-receive hook refused this push" in refused.err
        assert (
            f"! [remote rejected] {refused.tag} -> {refused.tag} (pre-receive hook declined)"
            in refused.err
        )
    assert_consistent(site.server)


def test_the_transaction_hook_alone_refuses_a_conflict(tmp_path: Path) -> None:
    """The backstop, for ref transactions no pre-receive of ours checked: both pushes
    pass pre-receive before either writes a ref."""
    site = make_site(tmp_path, ours="transaction", spare=4)
    pairs = [
        race(site, ("churn#dev#5", site.base), ("churn#staging#5", site.base)),
        race(site, ("churn@v2.0.0", site.spare[0]), ("churn@v2.0.0#9", site.spare[1])),
        race(site, ("churn#dev#6", site.base), ("churn#prod#6", site.base)),
        race(site, ("churn@v3.0.0", site.spare[2]), ("churn@v3.0.0#10", site.spare[3])),
    ]
    counts = tally(pairs, site.server)
    print(f"\n4 racing pairs, reference-transaction only: {dict(counts)}", file=sys.stderr)
    assert counts == {"one": 4}
    for pair in pairs:
        (refused,) = [p for p in pair if p.code != 0]
        # Git ends receive-pack when the hook refuses at "prepared": no per-ref status;
        # the reason reaches a local (or ssh) client on stderr.
        assert "git-registry reference-transaction hook refused this ref transaction" in (
            refused.err
        )
        assert "fatal: ref updates aborted by hook" in refused.err
    assert_consistent(site.server)


def test_non_conflicting_pushes_at_once_both_land(site: Site) -> None:
    pairs = [
        race(site, ("churn#dev#5", site.base), ("churn#staging#6", site.base)),
        race(site, ("churn@v2.0.0", site.spare[0]), ("churn@v3.0.0", site.spare[1])),
    ]
    assert tally(pairs, site.server) == {"both": 2}
    for pair in pairs:
        assert all("error" not in p.err and "warning" not in p.err for p in pair), pair
    assert_consistent(site.server)


def test_race_over_git_daemon_says_why(site: Site) -> None:
    """Over git:// a hook's stderr reaches the client only through Git's side band:
    pre-receive's does (a refusal at "prepared" would not)."""
    with git_daemon(site.server.path) as url:
        pair = race(site, ("churn#dev#7", site.base), ("churn#staging#7", site.base), url)
    assert tally([pair], site.server) == {"one": 1}
    (refused,) = [p for p in pair if p.code != 0]
    assert "remote: error: churn#" in refused.err
    assert "counter #7 of churn is already used" in refused.err
    assert "(pre-receive hook declined)" in refused.err


# -- pushes that must land -------------------------------------------------------------------


@pytest.mark.parametrize("atomic", [False, True], ids=["per-ref", "atomic"])
def test_registration_and_assignment_in_one_push_land(tmp_path: Path, atomic: bool) -> None:
    # '#' sorts before '@': the stage tag's transaction comes first, before its version.
    site = make_site(tmp_path)
    site.a.commit(files={"model.txt": "trained\n"})
    site.a.ok("register", "churn", "--version", "v2.0.0")
    site.a.ok("promote", "churn", "prod")
    tags = ["churn@v2.0.0", "churn#prod#1"]
    proc = subprocess.run(
        ["git", "push", *(["--atomic"] if atomic else []), "origin", "main", *tags],
        cwd=site.a.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert set(tags) <= set(server_tags(site.server))
    assert_consistent(site.server)


def test_a_push_after_a_refused_one_lands(site: Site) -> None:
    pair = race(site, ("churn#dev#5", site.base), ("churn#staging#5", site.base))
    (refused,) = [p for p in pair if p.code != 0]
    loser = site.a if refused.tag == "churn#dev#5" else site.b
    loser.git("tag", "-d", refused.tag)
    loser.tag("churn#qa#6", site.base)
    proc = subprocess.run(
        ["git", "push", "origin", "churn#qa#6"], cwd=loser.path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert_consistent(site.server)


# -- the lock file ---------------------------------------------------------------------------


def write_lock(server: Repo, pid: int, since: int, host: str | None = None) -> None:
    path = lock_path(server)
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f"git-registry push lock\npid={pid}\nhost={host or socket.gethostname()}\ntime={since}\n"
    )


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not a push (its pid holds a lock)."""
    proc = subprocess.Popen(["sleep", "30"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def push_tag(site: Site, tag: str, commit: str | None = None) -> subprocess.CompletedProcess[str]:
    site.a.tag(tag, commit or site.base)
    return subprocess.run(
        ["git", "push", "origin", tag], cwd=site.a.path, capture_output=True, text=True
    )


def test_a_lock_of_a_dead_process_is_taken_over(site: Site) -> None:
    pid = dead_pid()
    write_lock(site.server, pid, int(time.time()))
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode == 0, proc.stderr
    assert "warning: took over the registry push lock" in proc.stderr
    assert f"process {pid} on {socket.gethostname()} is gone" in proc.stderr
    assert f"pid={pid}\n" in (lock_path(site.server).parent / "push.lock.stale").read_text()
    assert_consistent(site.server)


def test_a_live_lock_makes_the_push_fail_then_a_dead_one_is_taken_over(
    site: Site, sleeper: subprocess.Popen[bytes]
) -> None:
    write_lock(site.server, sleeper.pid, int(time.time()))
    site.server.git("config", "registry.pushLockTimeout", "0.3")
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode != 0
    path = lock_path(site.server)
    assert (
        f"remote: fatal: the registry push lock {path} is held by process {sleeper.pid} on "
        f"{socket.gethostname()} since" in proc.stderr
    )
    assert "gave up after 0.3 s" in proc.stderr
    assert "hint: another push of registry tags is being written: push again" in proc.stderr
    assert "! [remote rejected] churn#dev#5 -> churn#dev#5 (pre-receive hook declined)" in (
        proc.stderr
    )
    assert "churn#dev#5" not in server_tags(site.server)
    assert f"pid={sleeper.pid}\n" in path.read_text()  # not ours: left alone
    sleeper.kill()
    sleeper.wait()
    proc = subprocess.run(
        ["git", "push", "origin", "churn#dev#5"], cwd=site.a.path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "took over the registry push lock" in proc.stderr
    assert_consistent(site.server)


def test_a_lock_older_than_the_limit_is_taken_over_even_if_its_process_lives(
    site: Site, sleeper: subprocess.Popen[bytes]
) -> None:
    write_lock(site.server, sleeper.pid, 1)
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode == 0, proc.stderr
    assert "more than 60 s" in proc.stderr
    assert_consistent(site.server)


def test_a_lock_of_another_host_is_taken_over_only_when_old(site: Site) -> None:
    write_lock(site.server, 1, int(time.time()), host="elsewhere.invalid")
    site.server.git("config", "registry.pushLockTimeout", "0")
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode != 0
    assert "is held by process 1 on elsewhere.invalid" in proc.stderr
    write_lock(site.server, 1, 1, host="elsewhere.invalid")
    proc = subprocess.run(
        ["git", "push", "origin", "churn#dev#5"], cwd=site.a.path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert_consistent(site.server)


def test_an_unreadable_lock_is_taken_over(site: Site) -> None:
    lock_path(site.server).parent.mkdir(exist_ok=True)
    lock_path(site.server).write_text("garbage\n")
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode == 0, proc.stderr
    assert "it cannot be read as a lock" in proc.stderr
    assert_consistent(site.server)


def test_a_lock_that_cannot_be_written_refuses_the_push(site: Site) -> None:
    shutil.rmtree(site.server.path / "registry")  # the guard and tag cache of earlier pushes
    (site.server.path / "registry").write_text("not a folder\n")
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode != 0
    assert f"cannot create the registry push lock {lock_path(site.server)}" in proc.stderr
    assert "churn#dev#5" not in server_tags(site.server)


def test_a_bad_timeout_setting_is_a_warning(site: Site) -> None:
    site.server.git("config", "registry.pushLockTimeout", "soon")
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode == 0, proc.stderr
    assert "warning: registry.pushLockTimeout 'soon' is not a number of seconds" in proc.stderr


def test_branch_pushes_never_take_the_lock(site: Site, sleeper: subprocess.Popen[bytes]) -> None:
    write_lock(site.server, sleeper.pid, int(time.time()))
    site.server.git("config", "registry.pushLockTimeout", "0")
    before = lock_path(site.server).read_text()
    site.a.commit(files={"model.txt": "trained\n"})
    site.a.git("tag", "-a", "-m", "a release", "release-1")  # not a registry tag either
    proc = subprocess.run(
        ["git", "push", "origin", "main", "release-1", "HEAD:refs/heads/topic"],
        cwd=site.a.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert lock_path(site.server).read_text() == before
    # A registry tag does wait for it.
    assert push_tag(site, "churn#dev#5").returncode != 0


def hook(cwd: Path, *args: str, stdin: str = "", parent: str | None = None) -> tuple[int, str]:
    """Run ``git registry hook ARGS`` in-process, as Git runs the hook."""
    err = io.StringIO()
    env = {**os.environ, **({"GIT_REGISTRY_HOOK_PARENT": parent} if parent else {})}
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(["hook", *args], stdout=io.StringIO(), stderr=err, env=env, cwd=str(cwd))
    finally:
        sys.stdin = old
    return code, err.getvalue()


def test_refs_of_others_never_open_the_repository(tmp_path: Path) -> None:
    nowhere = tmp_path / "not-a-repository"
    nowhere.mkdir()
    oid = "1" * 40
    for line in (f"{ZERO} {oid} refs/heads/main", f"{ZERO} {oid} refs/tags/release-1", ""):
        for state in ("prepared", "committed", "aborted"):
            assert hook(nowhere, "reference-transaction", state, stdin=line + "\n") == (0, "")
    deletion = f"{oid} {ZERO} refs/tags/churn@v1.0.0\n{ZERO} {ZERO} refs/tags/churn#dev#1\n"
    assert hook(nowhere, "reference-transaction", "prepared", stdin=deletion) == (0, "")
    # A registry tag does open it (here: there is none).
    tag = f"{ZERO} {oid} refs/tags/churn@v1.0.0\n"
    code, err = hook(nowhere, "reference-transaction", "prepared", stdin=tag)
    assert code == 128 and "not a git repository" in err


def test_garbled_transaction_input_and_unknown_state(site: Site) -> None:
    code, err = hook(site.server.path, "reference-transaction", "prepared", stdin="one two\n")
    assert code == 128
    assert "reference-transaction: cannot read the line 'one two'" in err
    code, err = hook(site.server.path, "reference-transaction", "done")
    assert code == 129 and "invalid choice: 'done'" in err


def test_the_lock_belongs_to_the_git_process_running_the_hooks(
    site: Site, sleeper: subprocess.Popen[bytes]
) -> None:
    owner, path = str(sleeper.pid), lock_path(site.server)
    oid = site.server.git("rev-parse", "churn@v1.0.0").strip()
    first, second = (f"{ZERO} {oid} refs/tags/churn@v1.0.0#{n}\n" for n in (3, 4))
    # What pre-receive leaves: the lock of the Git process, with the updates to write.
    path.write_text(
        f"git-registry push lock\npid={owner}\nhost={socket.gethostname()}\n"
        f"time={int(time.time())}\npending={oid} refs/tags/churn@v1.0.0#3\n"
        f"pending={oid} refs/tags/churn@v1.0.0#4\n"
    )
    # That process's transaction passes at once; another process waits for it.
    code, err = hook(
        site.server.path, "reference-transaction", "prepared", stdin=first, parent=owner
    )
    assert (code, err) == (0, "")
    site.server.git("config", "registry.pushLockTimeout", "0")
    code, err = hook(site.server.path, "reference-transaction", "prepared", stdin=first, parent="1")
    assert code == 128 and f"is held by process {owner}" in err
    # Another process's "committed" changes nothing; the owner's strikes its update off.
    hook(site.server.path, "reference-transaction", "committed", stdin=first, parent="1")
    hook(site.server.path, "reference-transaction", "committed", stdin=first, parent=owner)
    assert "churn@v1.0.0#3" not in path.read_text()
    assert "churn@v1.0.0#4" in path.read_text()
    # When the last one is written (or aborted) the lock is released.
    hook(site.server.path, "reference-transaction", "aborted", stdin=second, parent=owner)
    assert not path.exists()


# -- other writers on the server -------------------------------------------------------------


def test_a_conflicting_tag_made_on_the_server_is_refused(site: Site) -> None:
    """``git tag`` on the server is a ref transaction too: the hook checks it."""
    site.server.git("tag", "-a", "-m", "fine", "churn#dev#5", site.base)
    proc = subprocess.run(
        ["git", "tag", "-a", "-m", "reuses #5", "churn#prod#5", site.base],
        cwd=site.server.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 128
    assert "counter #5 of churn is already used" in proc.stderr
    assert "fatal: ref updates aborted by hook" in proc.stderr
    assert "churn#prod#5" not in server_tags(site.server)
    assert_consistent(site.server)


def test_pack_refs_and_deleting_packed_tags_work_despite_old_conflicts(
    site: Site, sleeper: subprocess.Popen[bytes]
) -> None:
    # Conflicts stored before the hooks were installed stay readable and movable.
    for name in ("churn#a#5", "churn#b#5"):
        site.server.git("-c", "core.hooksPath=/dev/null", "tag", "-a", "-m", "x", name, site.base)
    assert site.server.git_registry("check").code == 1
    # pack-refs "creates" every tag with the value it has: no conflict, and no wait
    # for a push that holds the lock.
    write_lock(site.server, sleeper.pid, int(time.time()))
    site.server.git("config", "registry.pushLockTimeout", "0")
    site.server.git("pack-refs", "--all")
    site.server.git("gc", "-q")
    assert "refs/tags/churn#a#5" in (site.server.path / "packed-refs").read_text()
    lock_path(site.server).unlink()
    site.server.git("config", "registry.allowDelete", "true")
    proc = subprocess.run(
        ["git", "push", "origin", ":refs/tags/churn#b#5"],
        cwd=site.a.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert_consistent(site.server)


def test_a_deletion_is_written_before_the_next_push_is_judged(site: Site) -> None:
    """A push that deletes registry tags (registry.allowDelete) holds the lock from its
    check until Git has deleted them, like one that stores tags: a push at the same
    moment that needs the deleted tag is judged without it."""
    server, hooks = site.server, site.server.path / "hooks"
    server.git("config", "registry.allowDelete", "true")
    work = server.path.parent
    entered, waiting, go = work / "entered", work / "waiting", work / "go"
    # The deletion stops between its check and its write (the window every push has);
    # the promotion says when its pre-receive starts (ours runs right after).
    write_hook(
        hooks / "update",
        'case "$1" in refs/tags/churn@v1.0.0)\n'
        f"  : > '{entered}'\n"
        f"  while [ ! -e '{go}' ]; do sleep 0.02; done;;\n"
        "esac\n",
    )
    write_hook(
        hooks / "pre-receive.registry-orig",
        f"if grep -q 'churn#prod' ; then : > '{waiting}'; fi\n",
    )
    site.a.ok("promote", "churn", "prod")

    def push(clone: Repo, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["git", "push", "origin", *args],
            cwd=clone.path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    deletion = push(site.b, "--delete", "churn@v1.0.0")
    try:
        while not entered.exists() and deletion.poll() is None:
            time.sleep(0.02)
        promotion = push(site.a, "churn#prod#1")
        while not waiting.exists() and promotion.poll() is None:
            time.sleep(0.02)
    finally:
        go.touch()
    deleted, promoted = deletion.communicate()[1], promotion.communicate()[1]
    assert deletion.returncode == 0, deleted
    assert promotion.returncode != 0
    assert "remote: error: churn#prod#1: points at commit" in promoted
    assert "where churn has no registered version" in promoted
    assert set(server_tags(server)) == set()
    assert_consistent(server)


def test_a_refused_deletion_releases_the_lock_and_a_deletion_waits_for_it(
    site: Site, sleeper: subprocess.Popen[bytes]
) -> None:
    proc = subprocess.run(
        ["git", "push", "origin", "--delete", "churn@v1.0.0"],
        cwd=site.a.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "deleting a registry tag on the remote is refused" in proc.stderr
    assert not lock_path(site.server).exists()
    site.server.git("config", "registry.allowDelete", "true")
    write_lock(site.server, sleeper.pid, int(time.time()))
    site.server.git("config", "registry.pushLockTimeout", "0")
    proc = subprocess.run(
        ["git", "push", "origin", "--delete", "churn@v1.0.0"],
        cwd=site.a.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert f"is held by process {sleeper.pid}" in proc.stderr
    assert "churn@v1.0.0" in server_tags(site.server)


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("atomic", [False, True])
def test_deleting_and_storing_tags_in_one_push_releases_the_lock(
    site: Site, packed: bool, atomic: bool
) -> None:
    """Git deletes a tag in its own transaction, and first (or around it) runs one on
    packed-refs whose lines name no old value: only the deletion's own lines strike
    it off, and the lock is gone once every update is written."""
    site.server.git("config", "registry.allowDelete", "true")
    push_tag(site, "churn#dev#5").check_returncode()
    if packed:
        site.server.git("pack-refs", "--all")
    site.a.tag("churn#qa#6", site.base)
    refspecs = [":refs/tags/churn#dev#5", "churn#qa#6"]
    proc = subprocess.run(
        ["git", "push", *(["--atomic"] if atomic else []), "origin", *refspecs],
        cwd=site.a.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "churn#dev#5" not in server_tags(site.server)
    assert "churn#qa#6" in server_tags(site.server)
    assert_consistent(site.server)


def test_a_deletion_strikes_off_only_its_own_entry(site: Site) -> None:
    """The lock names a deletion with the tag's old object: Git's packed-refs lines
    (all zeros) and another process's lines leave it pending."""
    owner, path = str(os.getpid()), lock_path(site.server)
    oid = site.server.git("rev-parse", "churn@v1.0.0").strip()
    path.write_text(
        f"git-registry push lock\npid={owner}\nhost={socket.gethostname()}\n"
        f"time={int(time.time())}\npending=delete {oid} refs/tags/churn@v1.0.0\n"
    )
    packed = f"{ZERO} {ZERO} refs/tags/churn@v1.0.0\n"
    own = f"{oid} {ZERO} refs/tags/churn@v1.0.0\n"
    for state in ("prepared", "aborted", "committed"):
        assert hook(
            site.server.path, "reference-transaction", state, stdin=packed, parent=owner
        ) == (0, "")
    assert (
        hook(site.server.path, "reference-transaction", "prepared", stdin=own, parent=owner)[0] == 0
    )
    hook(site.server.path, "reference-transaction", "committed", stdin=own, parent="1")
    assert "pending=delete" in path.read_text()
    hook(site.server.path, "reference-transaction", "committed", stdin=own, parent=owner)
    assert not path.exists()


def test_a_failing_chained_transaction_hook_stops_only_prepared(site: Site) -> None:
    hooks = site.server.path / "hooks"
    write_hook(hooks / "reference-transaction.registry-orig", '[ "$1" = prepared ] || exit 3\n')
    proc = push_tag(site, "churn#dev#5")
    assert proc.returncode == 0, proc.stderr
    assert not lock_path(site.server).exists()  # our "committed" still ran
    write_hook(hooks / "reference-transaction.registry-orig", "exit 3\n")
    proc = push_tag(site, "churn#dev#6")
    assert proc.returncode != 0 and "ref updates aborted by hook" in proc.stderr
    assert "churn#dev#6" not in server_tags(site.server)
    # Our pre-receive took the lock for churn#dev#6; Git runs no "aborted" hook after
    # a refusal at "prepared", so the wrapper tells ours.
    assert not lock_path(site.server).exists()


# -- the lock itself (no Git) ----------------------------------------------------------------


def test_lock_file_round_trip_and_garbage() -> None:
    owner = pushlock.Owner(42, "host-a")
    text = pushlock.format_holder(owner, 1700000000, {"b refs/tags/x#2", "a refs/tags/x@v1.0.0"})
    holder = pushlock.parse_holder(text)
    assert holder == pushlock.Holder(
        owner, 1700000000, frozenset({"a refs/tags/x@v1.0.0", "b refs/tags/x#2"})
    )
    for garbage in ("", "pid=0\nhost=h\ntime=1\n", "pid=7\ntime=1\n", "pid=7\nhost=h\ntime=x\n"):
        assert pushlock.parse_holder(garbage).owner is None


def test_hook_owner_is_the_parent_the_wrapper_names() -> None:
    assert pushlock.hook_owner({"GIT_REGISTRY_HOOK_PARENT": "4242"}).pid == 4242
    for bad in ("", "0", "-5", "x", "99999999999"):
        assert pushlock.hook_owner({"GIT_REGISTRY_HOOK_PARENT": bad}).pid == os.getppid()


def test_lock_take_renew_wait_take_over_and_release(tmp_path: Path) -> None:
    now = [1000.0]
    alive = {1: True, 2: True}

    def lock(pid: int, timeout: float = 0) -> pushlock.PushLock:
        owner = pushlock.Owner(pid, "here")
        return pushlock.PushLock(
            str(tmp_path), owner, timeout=timeout, clock=lambda: now[0], alive=alive.__getitem__
        )

    first, second = lock(1), lock(2)
    assert first.acquire() is None
    first.note({"a refs/tags/x#1", "b refs/tags/x#2"})
    now[0] += 30
    assert first.acquire() is None  # its own: renewed, the pending updates kept
    assert first.pending() == {"a refs/tags/x#1", "b refs/tags/x#2"}
    assert second.pending() == frozenset()
    with pytest.raises(RegistryError, match=r"held by process 1 on here since 0 s: gave up"):
        second.acquire()
    assert not second.release() and not second.done({"a refs/tags/x#1"})
    assert first.done({"a refs/tags/x#1"}) and os.path.exists(first.path)
    now[0] += 61  # untouched for more than 60 s: stale though its process lives
    stale = second.acquire()
    assert stale is not None and "more than 60 s" in stale[1]
    assert not first.done({"b refs/tags/x#2"})  # no longer first's
    alive[2] = False
    taken = first.acquire()
    assert taken is not None and taken[1] == "process 2 on here is gone"
    assert first.done({"anything"}) and not os.path.exists(first.path)
