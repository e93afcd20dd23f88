"""Attacks on the registry's guarantees, each a failing test until it is fixed.

Real repositories, real ``git`` and the real hooks; nothing is mocked. Each test
names the guarantee it checks (README "Rules and guarantees" and "Security").
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Repo, git

FIXED = 1700000000  # the date of every commit and tag in the hermetic environment (conftest)


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command, its exit code and output (never raises)."""
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=False)


def registry(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``git registry ARGS`` as a user runs it."""
    return run(cwd, "git", "registry", *args)


def peeled(repo: Repo, tag: str) -> str:
    """What Git says a tag's commit is: ``git rev-parse TAG^{commit}``."""
    return repo.git("rev-parse", "--verify", f"refs/tags/{tag}^{{commit}}").strip()


def server_for(tmp_path: Path, client: Repo) -> Repo:
    """A bare server holding the client's main branch, with the server hooks."""
    server = Repo(tmp_path / "srv.git", bare=True)
    client.git("remote", "add", "origin", str(server.path))
    client.git("push", "-q", "origin", "main")
    server.ok("hooks", "install", "--server")
    return server


def refused_by_hook(push: subprocess.CompletedProcess[str]) -> set[str]:
    """The tags a server hook named in ``remote: error: TAG: ...`` lines (not its
    summary, ``remote: error: git-registry pre-receive hook refused ...``)."""
    tags = set()
    for line in push.stderr.splitlines():
        if line.startswith("remote: error: ") and not line.startswith("remote: error: git-reg"):
            tags.add(line[len("remote: error: ") :].split(": ")[0])
    return tags


def reported_by_check(repo: Repo) -> set[str]:
    out = registry(repo.path, "check", "--json").stdout
    # Errors only: a warning (GTO compatibility) refuses nothing, in check or in a hook.
    problems = json.loads(out)["problems"]
    return {p["tag"] for p in problems if p["tag"] and p["severity"] == "error"}


# -- 1. a tag named "refs/tags/NAME" is read as NAME, but the hook never judges it ------


def test_server_hook_refuses_registry_tags_nested_under_refs_tags(
    tmp_path: Path, repo: Repo
) -> None:
    """Server hook: refuses every push that gives the registry a problem it did not have.

    The ref refs/tags/refs/tags/churn#hax#1 is read by check and show as the event
    churn#hax#1 (parse_tag strips a second 'refs/tags/'), but PushCheck's _tags_of
    filters it out (its name does not start with 'churn'), so the hook judges nothing.
    """
    repo.commit("policy", {".registry.yaml": "stages: [dev, prod]\n"})
    server = server_for(tmp_path, repo)
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn", "prod")
    assert run(repo.path, "git", "push", "-q", "origin", "--tags").returncode == 0
    # A stage the policy does not allow, with a counter already used.
    repo.tag("refs/tags/churn#hax#1")
    push = run(repo.path, "git", "push", "origin", "refs/tags/refs/tags/churn#hax#1")
    assert reported_by_check(server) == set(), "the push made check report a new problem"
    assert push.returncode != 0, "the server accepted a tag that check reports"


def test_show_and_which_name_the_same_stage_holder(repo: Repo) -> None:
    """Reads agree with each other and with Git: 'show' (every tag) takes
    refs/tags/refs/tags/churn#prod#7 as churn#prod#7, 'which' (one artifact) does not,
    and 'git rev-parse churn#prod#7' finds no such tag."""
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn", "prod")
    evil = repo.commit("evil")
    repo.tag("refs/tags/churn@v9.0.0", evil, date=f"{FIXED + 10} +0000")
    repo.tag("refs/tags/churn#prod#7", evil, date=f"{FIXED + 11} +0000")
    which = json.loads(registry(repo.path, "which", "churn", "prod", "--json").stdout)
    table = json.loads(registry(repo.path, "show", "--json").stdout)
    # The nested tags are events of another artifact, named refs/tags/churn (the grammar
    # allows '/'), never of churn.
    names = sorted(a["name"] for a in table["artifacts"])
    assert names == ["churn", "refs/tags/churn"]
    (churn,) = [a for a in table["artifacts"] if a["name"] == "churn"]
    assert churn["stages"]["prod"]["commit"] == which["commit"]
    assert (
        churn["latest"]
        == json.loads(registry(repo.path, "latest", "churn", "--json").stdout)["version"]
    )


# -- 2. tag refs read differently from Git ------------------------------------------------


def two_versions(repo: Repo) -> tuple[str, str]:
    """churn v1.0.0 at a first commit, v2.0.0 at a second; returns both commits."""
    first = repo.git("rev-parse", "HEAD").strip()
    second = repo.commit("second")
    repo.ok("register", "churn", first, "--version", "v1.0.0")
    repo.ok("register", "churn", second, "--version", "v2.0.0")
    return first, second


def latest_commit(repo: Repo) -> str | None:
    proc = registry(repo.path, "latest", "churn", "--json")
    return json.loads(proc.stdout)["commit"] if proc.returncode == 0 else None


def test_loose_ref_with_a_second_line_is_read_as_git_reads_it(repo: Repo) -> None:
    """A tag is read exactly as Git reads it. Git reads a loose ref's id up to the first
    white space (refs/files-backend.c parse_loose_ref_contents); the registry reads
    the whole file as the id, calls the object missing and drops v2.0.0."""
    _, second = two_versions(repo)
    ref = repo.path / ".git" / "refs" / "tags" / "churn@v2.0.0"
    ref.write_text(ref.read_text().strip() + "\nwritten by a tool\n")
    assert peeled(repo, "churn@v2.0.0") == second
    assert latest_commit(repo) == second


def test_check_reports_what_the_server_refuses_for_a_loose_ref_with_a_second_line(
    tmp_path: Path, repo: Repo
) -> None:
    """check reports exactly the tags the server hook refuses when every branch and tag
    is pushed: check reports churn@v2.0.0 (object 'missing'), the push carries the
    real tag and the hook accepts it."""
    two_versions(repo)
    ref = repo.path / ".git" / "refs" / "tags" / "churn@v2.0.0"
    ref.write_text(ref.read_text().strip() + "\nwritten by a tool\n")
    server_for(tmp_path, repo)
    push = run(repo.path, "git", "push", "origin", "--tags")
    assert reported_by_check(repo) == refused_by_hook(push)


def test_empty_loose_ref_does_not_resurrect_the_packed_one(repo: Repo) -> None:
    """Git says an empty loose ref is broken and ignores it (it does not fall back to
    packed-refs); the registry skips the empty file and serves the packed value."""
    two_versions(repo)
    repo.git("pack-refs", "--all")
    (repo.path / ".git" / "refs" / "tags" / "churn@v2.0.0").write_text("")
    gone = run(repo.path, "git", "rev-parse", "--verify", "-q", "refs/tags/churn@v2.0.0")
    assert gone.returncode != 0  # Git has no churn@v2.0.0
    assert json.loads(registry(repo.path, "latest", "churn", "--json").stdout)["version"] == (
        "v1.0.0"
    )


def test_duplicate_packed_ref_is_read_as_git_reads_it(repo: Repo) -> None:
    """A hand-edited packed-refs names churn@v2.0.0 twice: Git peels the first line,
    the registry (a dict of every line) the last one."""
    first, second = two_versions(repo)
    repo.git("tag", "-a", "-m", "other", "other", first)
    other = repo.git("rev-parse", "refs/tags/other").strip()
    repo.git("pack-refs", "--all")
    packed = repo.path / ".git" / "packed-refs"
    packed.write_text(packed.read_text() + f"{other} refs/tags/churn@v2.0.0\n")
    assert peeled(repo, "churn@v2.0.0") == second
    assert latest_commit(repo) == second


def test_replaced_tag_object_is_read_as_git_reads_it(repo: Repo) -> None:
    """Design answer: the registry reads tags as 'git --no-replace-objects rev-parse
    TAG^{commit}' does (README, Rules and guarantees). A local 'git replace' (which
    'git push' does not send) must not redirect what a pushed tag deploys: plain
    rev-parse follows the replacement, the registry keeps the tag's own commit."""
    first, second = two_versions(repo)
    repo.git("tag", "-a", "-m", "other", "other", first)
    tag = repo.git("rev-parse", "refs/tags/churn@v2.0.0").strip()
    other = repo.git("rev-parse", "refs/tags/other").strip()
    repo.git("replace", "-f", tag, other)
    assert peeled(repo, "churn@v2.0.0") == first != second  # plain Git follows it
    unreplaced = repo.git(
        "--no-replace-objects", "rev-parse", "--verify", "refs/tags/churn@v2.0.0^{commit}"
    ).strip()
    assert unreplaced == second
    assert latest_commit(repo) == second


def test_symbolic_ref_tag_is_judged_by_check_as_the_hook_judges_it(
    tmp_path: Path, repo: Repo
) -> None:
    """A tag made with 'git symbolic-ref' is skipped without a word by every read and by
    check; 'git push --tags' sends the tag object it names, and the hook refuses it
    (a second active version on one commit)."""
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.git("symbolic-ref", "refs/tags/churn@v2.0.0", "refs/tags/churn@v1.0.0")
    server_for(tmp_path, repo)
    push = run(repo.path, "git", "push", "origin", "--tags")
    assert reported_by_check(repo) == refused_by_hook(push)


# -- 3. the server's policy ----------------------------------------------------------------


def test_hook_without_a_default_branch_does_not_drop_the_policy(tmp_path: Path) -> None:
    """A bare repository made with plain 'git init --bare' (Git < 3: HEAD is master)
    that receives main: the hook reads no policy at all (fail open), and check in
    every clone reports the tag it let through."""
    client = Repo(tmp_path / "client")
    client.commit("policy", {".registry.yaml": "stages: [dev, prod]\n"})
    server_path = tmp_path / "plain.git"
    git(tmp_path, "-c", "init.defaultBranch=master", "init", "-q", "--bare", str(server_path))
    client.git("remote", "add", "origin", str(server_path))
    client.git("push", "-q", "origin", "main")
    assert registry(server_path, "hooks", "install", "--server").returncode == 0
    client.ok("register", "churn", "--version", "v1.0.0")
    client.tag("churn#hax#1")
    push = run(client.path, "git", "push", "origin", "--tags")
    # Fail closed: nothing lands while the policy cannot be read, and the hook says why.
    assert push.returncode != 0
    assert "the server's HEAD (refs/heads/master) names no branch" in push.stderr
    assert not git(server_path, "for-each-ref", "refs/tags")
    git(server_path, "symbolic-ref", "HEAD", "refs/heads/main")
    push = run(client.path, "git", "push", "origin", "--tags")
    assert reported_by_check(client) == refused_by_hook(push) == {"churn#hax#1"}


def test_accepted_push_gives_check_no_new_problem_malformed_name(
    tmp_path: Path, repo: Repo
) -> None:
    """The hook judges a malformed name only when that tag is pushed: a typo tag
    foo@1.0.0 of a not-yet-known artifact is accepted, then registering foo (also
    accepted) makes check report foo@1.0.0 on the server."""
    server = server_for(tmp_path, repo)
    repo.tag("foo@1.0.0")
    assert run(repo.path, "git", "push", "-q", "origin", "foo@1.0.0").returncode == 0
    assert reported_by_check(server) == set()
    repo.ok("register", "foo", "--version", "v1.0.0")
    push = run(repo.path, "git", "push", "-q", "origin", "foo@v1.0.0")
    if push.returncode == 0:
        assert reported_by_check(server) == set()


def test_accepted_branch_push_gives_check_no_new_problem_policy(tmp_path: Path, repo: Repo) -> None:
    """Design answer: a push of the default branch that narrows 'stages' is accepted (a
    team may drop a stage, and the issue wants what was promoted to stay revocable).
    The stage rule judges the stages versions HOLD: check then reports the one version
    still holding the dropped stage (work to do), never the history of that stage, and
    the report goes away with the rollback, which is always possible."""
    server = server_for(tmp_path, repo)
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn", "dev")
    repo.ok("unassign", "churn", "dev")
    repo.ok("promote", "churn", "dev", "--force")
    assert run(repo.path, "git", "push", "-q", "origin", "--tags").returncode == 0
    assert reported_by_check(server) == set()
    repo.commit("policy", {".registry.yaml": "stages: [prod]\n"})
    assert run(repo.path, "git", "push", "-q", "origin", "main").returncode == 0
    assert reported_by_check(server) == {"churn#dev#3"}  # the holder, not #1 or #2
    repo.ok("unassign", "churn", "dev")
    assert run(repo.path, "git", "push", "-q", "origin", "--tags").returncode == 0
    assert reported_by_check(server) == set()


# -- 4. writes that do not do what they print, cancels refused ----------------------------


def test_unassign_after_a_nine_digit_counter(repo: Repo) -> None:
    """Cancel events are never refused ('what was promoted can always be taken back'):
    one valid tag churn#dev#999999999 (check: no problem; the hook accepts it) makes
    the next counter ten digits, and every counted write, unassign included, is
    refused for good."""
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn", "prod")
    repo.tag("churn#dev#999999999", date=f"{FIXED + 10} +0000")
    assert registry(repo.path, "check").returncode == 0
    unassign = registry(repo.path, "unassign", "churn", "prod")
    assert unassign.returncode == 0, unassign.stderr
    assert registry(repo.path, "which", "churn", "prod").returncode == 1


def test_unassign_on_a_shared_commit_unassigns_what_it_prints(repo: Repo) -> None:
    """A write does what it prints. v1.0.0 holds prod; v2.0.0 was registered at the same
    commit later (a 'read it' problem: the registry serves it). 'unassign churn prod'
    exits 0 saying it unassigns prod from v1.0.0, but its tag goes to the newest
    registration at that commit, v2.0.0: v1.0.0 keeps prod."""
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.ok("promote", "churn", "prod")
    repo.tag("churn@v2.0.0", date=f"{FIXED + 10} +0000")
    unassign = registry(repo.path, "unassign", "churn", "prod")
    if unassign.returncode == 0:
        assert "from churn v1.0.0" in unassign.stdout
        assert registry(repo.path, "which", "churn", "prod").returncode == 1


# -- 5. tracebacks from repository data ---------------------------------------------------


def test_huge_hex_integer_in_custom_is_no_traceback(repo: Repo) -> None:
    """One committed value (custom: 0x + 4,000 hex digits, valid YAML, which check and
    the branch hook accept) makes 'describe' and 'show --json' crash: Python refuses
    to print an int of more than 4,300 decimal digits."""
    repo.commit("big", {"artifacts.yaml": "churn:\n  custom: 0x" + "f" * 4000 + "\n"})
    for args in (("describe", "churn"), ("show", "--json"), ("describe", "churn", "--json")):
        proc = registry(repo.path, *args)
        assert "Traceback" not in proc.stderr, args
        assert proc.returncode in (0, 1, 128), args


def test_keys_equal_only_in_python_are_not_silently_merged(repo: Repo) -> None:
    """'duplicate keys reported instead of silently overwritten' (yamlsafe): 1 and 0x1
    are reported as one key twice, but 1 and true (or 1 and 1.0, or 1 and '1') are
    merged without a word: check finds nothing and 'custom' loses a value."""
    repo.commit("keys", {"artifacts.yaml": "churn:\n  custom: {1: a, true: b}\n"})
    checked = registry(repo.path, "check")
    if checked.returncode == 1:  # reported: nothing is silently lost
        assert "duplicate key" in checked.stdout
        return
    custom = json.loads(registry(repo.path, "describe", "churn", "--json").stdout)["custom"]
    assert len(custom) == 2, custom


# -- 6. concurrency and locks -------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_delete_and_promote_never_both_land(tmp_path: Path) -> None:
    """Pushes are judged one at a time, so two pushes each fine alone never both land
    when together they break a rule. A push that only deletes tags
    (registry.allowDelete) takes no push lock: it is judged while another push holds
    the lock between its check and its write. Here: one push assigns prod to v1.0.0,
    the other deletes churn@v1.0.0; alone, either is fine and the second is refused;
    at once, both land and prod points at a commit with no version.

    A foreign 'update' hook holds the first push between pre-receive and its ref
    write (the window every push has) until the second push has finished."""
    a = Repo(tmp_path / "a")
    a.commit("base")
    server = server_for(tmp_path, a)
    a.ok("register", "churn", "--version", "v1.0.0")
    a.git("push", "-q", "origin", "churn@v1.0.0")
    server.git("config", "registry.allowDelete", "true")
    server.git("config", "registry.pushLockTimeout", "1")
    entered, go = tmp_path / "entered", tmp_path / "go"
    update = server.path / "hooks" / "update"
    update.write_text(
        "#!/bin/sh\n"
        'case "$1" in refs/tags/churn#prod*)\n'
        f"  : > '{entered}'; i=0\n"
        f"  while [ ! -e '{go}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done;;\n"
        "esac\n"
    )
    update.chmod(0o755)
    git(tmp_path, "clone", "-q", str(server.path), "b")
    a.ok("promote", "churn", "prod")
    first = subprocess.Popen(
        ["git", "push", "origin", "churn#prod#1"],
        cwd=a.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(1200):
            if entered.exists() or first.poll() is not None:
                break
            time.sleep(0.05)
        second = run(tmp_path / "b", "git", "push", "origin", "--delete", "churn@v1.0.0")
    finally:
        go.touch()
        first.communicate(timeout=120)
    assert first.returncode != 0 or second.returncode != 0, "both pushes landed"
    assert reported_by_check(server) == set()


def test_empty_write_lock_left_by_a_killed_writer_is_not_forever(repo: Repo) -> None:
    """A write lock left by a killed process is taken over. A writer killed between
    creating write.lock (O_EXCL) and writing its owner into it (or a machine that
    crashed before the file's contents reached the disk) leaves an empty file: it
    never names a dead owner, so every later write fails until someone removes it."""
    repo.git("config", "registry.lockTimeout", "0")
    lock = repo.path / ".git" / "registry" / "write.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_bytes(b"")
    old = time.time() - 24 * 3600
    os.utime(lock, (old, old))
    proc = registry(repo.path, "register", "churn")
    assert proc.returncode == 0, proc.stderr


def test_a_tag_named_like_a_ref_is_no_crash(tmp_path: Path, repo: Repo) -> None:
    """A tag literally named refs/tags/churn (the ref refs/tags/refs/tags/churn) while
    churn is registered: check and the server hook used to crash on it."""
    server = server_for(tmp_path, repo)
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.tag("refs/tags/churn")
    check = registry(repo.path, "check")
    assert "Traceback" not in check.stderr and check.returncode == 0, check.stderr
    push = run(repo.path, "git", "push", "origin", "--tags")
    assert "Traceback" not in push.stderr and push.returncode == 0, push.stderr
    assert reported_by_check(server) == set()
