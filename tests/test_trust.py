"""Trust (SPEC 9): a registry tag is read exactly as Git reads it; a tag with a header
Git would not write, an impossible tagger time or an unusable counter is a problem with
that one tag; cancel events are never blocked; hooks refuse what ``check`` reports.

Every test starts where the issue does: a fresh ``git registry demo reg``, a bare clone
``srv.git`` with ``receive.fsckObjects`` and the server hook, and a clone ``dev`` of it.
Bad tags are made with the real ``git`` binary (``git hash-object -t tag --literally``,
``git tag -a`` with ``GIT_COMMITTER_DATE``, a hand-written ``packed-refs`` line) and
pushed with a real ``git push``.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from git_registry.cli import main

from conftest import Repo, Result, git

NOW = 1_700_000_000  # the hermetic fixture's GIT_COMMITTER_DATE: "now" for a write
OLD_DATE = "1000000000 +0000"  # 2001, years before any demo event
TAGGER = f"Cy Committer <cy@example.com> {NOW} +0000"


# -- the issue's setup -------------------------------------------------------------------


def adopt(path: Path) -> Repo:
    """A :class:`Repo` for a repository that exists already (made by clone or demo)."""
    repo = Repo.__new__(Repo)
    repo.path = path
    repo._n = 100
    return repo


@dataclass
class World:
    reg: Repo
    srv: Repo
    dev: Repo


def build_world(tmp_path: Path, prepare: Callable[[Repo], None] | None = None) -> World:
    """``git registry demo reg``; ``srv.git``: a bare clone with fsck and the server hook;
    ``dev``: a clone of it. ``prepare`` may add to ``reg`` before it is cloned."""
    code = main(["demo", "reg"], stdout=io.StringIO(), stderr=io.StringIO(), cwd=str(tmp_path))
    assert code == 0
    reg = adopt(tmp_path / "reg")
    if prepare is not None:
        prepare(reg)
    git(tmp_path, "clone", "-q", "--bare", "reg", "srv.git")
    srv = adopt(tmp_path / "srv.git")
    srv.git("config", "receive.fsckObjects", "true")
    srv.ok("hooks", "install", "--server")
    git(tmp_path, "clone", "-q", "srv.git", "dev")
    return World(reg, srv, adopt(tmp_path / "dev"))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path)


# -- helpers -----------------------------------------------------------------------------


def read(repo: Repo, *args: str) -> Result:
    """``git registry ARGS`` in-process; a Python exception becomes a traceback on stderr
    (what a user would see), so a crash is an assertion failure, not a test error."""
    try:
        return repo.run(*args)
    except Exception:
        return Result(-1, "", traceback.format_exc())


def no_traceback(result: Result | subprocess.CompletedProcess[str]) -> None:
    err = result.err if isinstance(result, Result) else result.stderr
    assert "Traceback" not in err, err[-3000:]


def as_json(result: Result) -> Any:
    import json

    no_traceback(result)
    return json.loads(result.out)


def peeled(repo: Repo, tag: str) -> str:
    """The commit Git finds for ``tag`` (``git rev-parse TAG^{commit}``)."""
    return repo.git(
        "rev-parse", "--verify", "--end-of-options", f"refs/tags/{tag}^{{commit}}"
    ).strip()


def hand_tag(repo: Repo, name: str, target: str, *, date: str | None = None) -> None:
    """``git tag -a`` by hand, dated ``date`` (``GIT_COMMITTER_DATE``) if given."""
    env = {"GIT_COMMITTER_DATE": date} if date else None
    repo.git("tag", "-a", "-m", f"by hand: {name}", name, target, env=env)


def tag_object(repo: Repo, header: list[str], message: str = "by hand\n") -> str:
    """Write a tag object exactly as given (``git hash-object -t tag --literally``)."""
    proc = subprocess.run(
        ["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"],
        cwd=repo.path,
        input="\n".join(header) + "\n\n" + message,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def set_tag(repo: Repo, name: str, oid: str) -> None:
    """Point ``refs/tags/NAME`` at ``oid`` (a loose ref file: Git's update-ref parses the
    object and refuses one it cannot read, but a ref file is all a fetch needs)."""
    path = repo.path / ".git" / "refs" / "tags" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(oid + "\n")


def push(repo: Repo, *refspecs: str, verify: bool = True) -> subprocess.CompletedProcess[str]:
    args = ["git", "push", *([] if verify else ["--no-verify"]), "origin"]
    return subprocess.run(
        [*args, *refspecs], cwd=repo.path, capture_output=True, text=True, check=False
    )


_ERROR_RE = re.compile(r"^(remote: )?error: (\S+): ", re.MULTILINE)


def refused(proc: subprocess.CompletedProcess[str], *, by: str) -> set[str]:
    """The refs a hook refused, from its ``error: REF: message`` lines: ``by`` is
    "server" (pre-receive, lines Git prefixes with ``remote:``) or "client" (pre-push)."""
    return {
        name for prefix, name in _ERROR_RE.findall(proc.stderr) if bool(prefix) == (by == "server")
    }


def assert_server_refuses(world: World, tag: str, *refspec: str) -> None:
    """Push ``tag`` past the client hook: the server hook refuses it, by name, cleanly."""
    proc = push(world.dev, *(refspec or (f"refs/tags/{tag}",)), verify=False)
    no_traceback(proc)
    assert proc.returncode != 0, f"the server accepted {tag}"
    assert "pre-receive hook declined" in proc.stderr, proc.stderr[-2000:]
    assert tag in refused(proc, by="server"), proc.stderr[-2000:]
    assert tag not in world.srv.tags()


def assert_client_refuses(world: World, tag: str, *refspec: str) -> None:
    """With ``git registry hooks install`` in dev, the pre-push hook refuses ``tag``."""
    world.dev.ok("hooks", "install")
    proc = push(world.dev, *(refspec or (f"refs/tags/{tag}",)))
    no_traceback(proc)
    assert proc.returncode != 0, f"the push of {tag} went through"
    assert tag in refused(proc, by="client"), proc.stderr[-2000:]
    assert tag not in world.srv.tags()


def assert_pushes(world: World, *refspecs: str) -> None:
    """Both hooks (dev's pre-push, srv's pre-receive) accept the push."""
    world.dev.ok("hooks", "install")
    proc = push(world.dev, *refspecs)
    assert proc.returncode == 0, proc.stderr[-3000:]


def check_tags(repo: Repo) -> set[str]:
    """The tag names ``git registry check --json`` reports; asserts it exits 1."""
    result = read(repo, "check", "--json")
    data = as_json(result)
    assert result.code == 1, result.out
    return {p["tag"] for p in data["problems"] if p["tag"]}


def warned_once(err: str, tag: str) -> bool:
    return sum(1 for line in err.splitlines() if line.startswith("warning:") and tag in line) == 1


def assert_commits_agree_with_git(repo: Repo) -> None:
    """Every event the registry reports points where Git peels its tag."""
    for event in as_json(read(repo, "history", "--json"))["events"]:
        assert event["commit"] == peeled(repo, event["tag"]), event["tag"]


def new_commit(repo: Repo, text: str) -> str:
    """A commit changing only a data file (artifacts.yaml stays valid); its id."""
    return repo.commit(f"data: {text}", {"data.txt": text + "\n"})


def skipped_by_reads(world: World, artifact: str, tag: str) -> None:
    """Reads skip ``tag``, warn about it once and serve everything else."""
    dev = world.dev
    table = read(dev, "show")
    no_traceback(table)
    assert table.code == 0 and artifact in table.out
    history = read(dev, "history")
    no_traceback(history)
    assert history.code == 0
    events = as_json(read(dev, "history", artifact, "--json"))["events"]
    assert tag not in {e["tag"] for e in events}, f"{tag} is served as an event"
    assert events, "the artifact's other events are still served"
    one = read(dev, "show", artifact, "--json")
    data = as_json(one)
    assert one.code == 0
    assert warned_once(one.err, tag), one.err
    latest = read(dev, "latest", artifact, "--json")
    assert latest.code == 0 and as_json(latest)["tag"] != tag
    assert data["latest"] == as_json(latest)["version"]
    ref = read(dev, "check-ref", tag, "--json")
    no_traceback(ref)
    assert ref.code == 1, ref.out  # not a registry event
    assert_commits_agree_with_git(dev)


# -- 1. tag headers are read as Git reads them --------------------------------------------


def _header(variant: str, name: str, first: str, second: str) -> list[str]:
    base = [f"object {first}", "type commit", f"tag {name}", f"tagger {TAGGER}"]
    return {
        "second-object": [*base, f"object {second}"],
        "second-tagger": [*base, "tagger Mallory <m@example.com> 1000000000 +0000"],
        "second-type": [*base, "type commit"],
        "second-tag": [*base, "tag segment@v9.9.9"],
        "unknown-header": [*base, f"x-registry-commit {second}"],
        "missing-tagger": base[:3],
    }[variant]


GIT_READABLE = [
    "second-object",
    "second-tagger",
    "second-type",
    "second-tag",
    "unknown-header",
    "missing-tagger",
]


@pytest.mark.slow
@pytest.mark.parametrize("variant", GIT_READABLE)
def test_tag_header_not_in_gits_shape_is_skipped_reported_and_refused(
    world: World, variant: str
) -> None:
    """Headers Git itself can read (fsck and receive.fsckObjects let them through) but
    would never write: a repeated, missing or unknown line makes the tag malformed."""
    dev = world.dev
    other = peeled(dev, "segment@v0.4.1")
    commit = new_commit(dev, variant)
    assert push(dev, "main").returncode == 0
    tag = "segment@v0.5.0"
    oid = tag_object(dev, _header(variant, tag, commit, other))
    dev.git("update-ref", f"refs/tags/{tag}", oid)  # Git reads it: update-ref accepts it
    assert peeled(dev, tag) == commit
    skipped_by_reads(world, "segment", tag)
    assert tag in check_tags(dev)
    assert_server_refuses(world, tag)
    assert_client_refuses(world, tag)


def test_second_object_line_is_the_issues_example(world: World) -> None:
    """The issue's repro: a stage tag with two ``object`` lines; Git (checkout, rev-parse)
    follows the first, the registry must never report the second."""
    dev = world.dev
    first = peeled(dev, "segment@v0.4.0")
    second = peeled(dev, "segment@v0.4.1")
    tag = "segment#prod#5"
    oid = tag_object(dev, _header("second-object", tag, first, second))
    dev.git("update-ref", f"refs/tags/{tag}", oid)
    dev.git("checkout", "-q", tag)
    assert dev.git("rev-parse", "HEAD").strip() == first == peeled(dev, tag)
    dev.git("checkout", "-q", "main")
    which = read(dev, "which", "segment", "prod", "--json")
    no_traceback(which)
    assert which.code == 1, which.out  # the only prod tag is skipped: nothing holds prod
    ref = read(dev, "check-ref", tag, "--json")
    no_traceback(ref)
    assert ref.code == 1, ref.out
    assert_commits_agree_with_git(dev)
    assert tag in check_tags(dev)
    assert_server_refuses(world, tag)
    assert_client_refuses(world, tag)


def test_repeated_tagger_cannot_choose_the_events_date(world: World) -> None:
    """A second ``tagger`` line must not move an event in time: the tag is malformed, so
    it takes no stage and no date (here it would otherwise win churn's prod stage)."""
    dev = world.dev
    commit = peeled(dev, "churn@v3.1.0")
    tag = "churn#prod#4"
    header = [
        f"object {commit}",
        "type commit",
        f"tag {tag}",
        "tagger Cy Committer <cy@example.com> 1600000000 +0000",  # what Git shows
        f"tagger Cy Committer <cy@example.com> {NOW} +0000",  # what the pusher wants
    ]
    dev.git("update-ref", f"refs/tags/{tag}", tag_object(dev, header))
    shown = dev.git("for-each-ref", "--format=%(taggerdate:unix)", f"refs/tags/{tag}").strip()
    assert shown == "1600000000"
    which = as_json(read(dev, "which", "churn", "prod", "--json"))
    assert which["tag"] != tag and which["version"] == "v3.0.0"
    events = as_json(read(dev, "history", "churn", "--json"))["events"]
    assert tag not in {e["tag"] for e in events}
    assert tag in check_tags(dev)
    assert_server_refuses(world, tag)


@pytest.mark.slow
@pytest.mark.parametrize(
    "order",
    [
        ["type", "object", "tag", "tagger"],
        ["object", "type", "tagger", "tag"],
        ["object", "type", "note", "tag", "tagger"],
        ["object", "tag", "tagger"],
    ],
    ids=["type-first", "tagger-before-tag", "unknown-before-tag", "no-type"],
)
def test_tag_header_git_cannot_read_is_skipped_reported_and_refused(
    world: World, order: list[str]
) -> None:
    """Headers Git cannot parse at all (``git rev-parse TAG^{commit}`` fails): the registry
    must not make up an event Git cannot peel; the pre-push hook refuses it (the server
    never sees it: Git cannot pack it)."""
    dev = world.dev
    commit = new_commit(dev, "-".join(order))
    tag = "segment@v0.5.0"
    lines = {
        "object": f"object {commit}",
        "type": "type commit",
        "tag": f"tag {tag}",
        "tagger": f"tagger {TAGGER}",
        "note": "note hello",
    }
    set_tag(dev, tag, tag_object(dev, [lines[k] for k in order]))
    assert git(dev.path, "rev-parse", "--verify", "-q", f"{tag}^{{commit}}", check=False) == ""
    skipped_by_reads(world, "segment", tag)
    assert tag in check_tags(dev)
    assert_client_refuses(world, tag)


# -- 2. tagger times Git accepts but no clock can show -----------------------------------


def _far_future() -> int:
    # Not a timing assertion: a date 30 days past both clocks a "now" could come from.
    return max(int(time.time()), NOW) + 30 * 86_400


@pytest.mark.slow
@pytest.mark.parametrize(
    "stamp",
    [f"{NOW} +2400", f"{NOW} -2400", f"{NOW} +9959", "99999999999999 +0000", "far-future"],
    ids=["zone+2400", "zone-2400", "zone+9959", "time-99999999999999", "30-days-ahead"],
)
def test_impossible_tagger_time_is_one_bad_tag(world: World, stamp: str) -> None:
    dev = world.dev
    if stamp == "far-future":
        stamp = f"{_far_future()} +0000"
    commit = new_commit(dev, stamp)
    assert push(dev, "main").returncode == 0
    tag = "segment@v0.5.0"
    header = [f"object {commit}", "type commit", f"tag {tag}", f"tagger C <c@x> {stamp}"]
    dev.git("update-ref", f"refs/tags/{tag}", tag_object(dev, header))
    dev.fsck()  # Git finds nothing wrong with it
    skipped_by_reads(world, "segment", tag)
    assert tag in check_tags(dev)
    assert_server_refuses(world, tag)
    assert_client_refuses(world, tag)
    # No later write takes its tagger time from that tag: "now" is GIT_COMMITTER_DATE.
    new_commit(dev, "after")
    before = set(dev.tags())
    registered = read(dev, "register", "segment")
    no_traceback(registered)
    assert registered.code == 0, registered.err
    promoted = read(dev, "promote", "segment", "prod")
    no_traceback(promoted)
    assert promoted.code == 0, promoted.err
    created = set(dev.tags()) - before
    assert len(created) == 2
    for name in created:
        when = dev.git("for-each-ref", "--format=%(taggerdate:unix)", f"refs/tags/{name}")
        assert NOW <= int(when) <= NOW + 60, (name, when)
    assert_pushes(world, "main", *(f"refs/tags/{n}" for n in sorted(created)))


@pytest.mark.slow
@pytest.mark.parametrize(
    "tagger",
    [
        "Eve <eve@example.com> <mallory@example.com> 1700000000 +0000",
        "Eve <eve@example.com>",
        "Eve <eve@example.com> 1700000000",
        "Eve <eve@example.com> 17000abc +0000",
        "Eve <eve@example.com> 1700000000 +00",
        "Eve <eve@example.com> 0001700000000 +0000",
    ],
    ids=["two-emails", "no-date", "no-zone", "junk-in-date", "short-zone", "zero-padded"],
)
def test_tagger_line_git_would_not_write_is_a_bad_tag(world: World, tagger: str) -> None:
    """Tagger lines ``git fsck`` calls invalid, where the registry today reads a time Git
    does not (0, or 1700000000 where ``%(taggerdate)`` says 0) or a made-up email.
    ``receive.fsckObjects`` keeps them off srv.git; reads, check and pre-push must agree."""
    dev = world.dev
    commit = new_commit(dev, tagger)
    assert push(dev, "main").returncode == 0
    tag = "segment@v0.5.0"
    header = [f"object {commit}", "type commit", f"tag {tag}", f"tagger {tagger}"]
    dev.git("update-ref", f"refs/tags/{tag}", tag_object(dev, header))
    skipped_by_reads(world, "segment", tag)
    assert tag in check_tags(dev)
    assert_client_refuses(world, tag)


# -- 3. counters that cannot be parsed or followed ---------------------------------------


def _packed_tag(repo: Repo, name: str, oid: str, commit: str) -> None:
    """Add ``refs/tags/NAME`` to packed-refs by hand (no file name can be that long)."""
    packed = repo.path / ".git" / "packed-refs"
    lines = packed.read_text().splitlines()
    # Drop the 'sorted' trait: Git then sorts the file itself instead of trusting it.
    header = lines[0].replace(" sorted", "") if lines and lines[0].startswith("#") else None
    body = lines[1:] if header is not None else lines
    body += [f"{oid} refs/tags/{name}", f"^{commit}"]
    packed.write_text("\n".join(([header] if header else []) + body) + "\n")


def test_unparseable_counter_is_skipped_and_reported(world: World) -> None:
    dev = world.dev
    commit = peeled(dev, "churn@v3.1.0")
    tag = "churn#prod#" + "9" * 5000
    oid = tag_object(dev, [f"object {commit}", "type commit", f"tag {tag}", f"tagger {TAGGER}"])
    _packed_tag(dev, tag, oid, commit)
    assert f"refs/tags/{tag}" in dev.git("for-each-ref", "--format=%(refname)", "refs/tags")
    for args in (["show"], ["show", "churn"], ["history"], ["which", "churn", "prod"]):
        result = read(dev, *args)
        no_traceback(result)
        assert result.code == 0, (args, result.err[-2000:])
    one = read(dev, "show", "churn")
    assert warned_once(one.err, tag), one.err[-2000:]
    ref = read(dev, "check-ref", tag, "--json")
    no_traceback(ref)
    assert ref.code == 1
    assert tag in check_tags(dev)
    assert_commits_agree_with_git(dev)


@pytest.mark.parametrize("digits", [5000, 236])
def test_server_hook_refuses_a_counter_too_long_to_follow(world: World, digits: int) -> None:
    """5,000 digits (sent from a raw object id: no client ref can hold that name) and
    236 digits (a real ref, whose next counters make tag names too long for a file)."""
    dev = world.dev
    commit = peeled(dev, "churn@v3.1.0")
    tag = "churn#prod#" + "9" * digits
    oid = tag_object(dev, [f"object {commit}", "type commit", f"tag {tag}", f"tagger {TAGGER}"])
    assert_server_refuses(world, tag, f"{oid}:refs/tags/{tag}")
    assert_client_refuses(world, tag, f"{oid}:refs/tags/{tag}")


def test_a_normal_counter_passes_both_hooks(world: World) -> None:
    dev = world.dev
    hand_tag(dev, "churn#prod#12", peeled(dev, "churn@v3.1.0"))
    assert_pushes(world, "refs/tags/churn#prod#12")
    assert "churn#prod#12" in world.srv.tags()


def test_unassign_works_after_a_counter_too_long_to_follow(world: World) -> None:
    """The longest counter a ref file can hold, all nines: one more would not fit."""
    dev = world.dev
    prefix = "segment#dev#"
    name_max = os.pathconf(dev.path, "PC_NAME_MAX")
    tag = prefix + "9" * (name_max - len(".lock") - len(prefix))
    hand_tag(dev, tag, peeled(dev, "segment@v0.4.1"))
    before = set(dev.tags())
    result = read(dev, "unassign", "segment", "dev")
    no_traceback(result)
    assert result.code == 0, result.err[-2000:]
    (created,) = set(dev.tags()) - before
    assert created.startswith("segment#dev!")
    assert tag in check_tags(dev)
    assert_pushes(world, f"refs/tags/{created}")


# -- 4. cancel events are never blocked ---------------------------------------------------


def test_demo_unassign_and_deregister_go_through(world: World) -> None:
    """In the demo, churn v3.0.0 (in prod) sits on the first commit, whose artifacts.yaml
    declares models/cv-class.txt before it exists: cancelling must still work."""
    dev = world.dev
    before = set(dev.tags())
    for args in (["unassign", "churn", "prod"], ["deregister", "churn@v3.0.0"]):
        result = read(dev, *args)
        no_traceback(result)
        assert result.code == 0, (args, result.err)
    created = sorted(set(dev.tags()) - before)
    assert len(created) == 2
    assert_pushes(world, *(f"refs/tags/{n}" for n in created))
    assert set(created) <= set(world.srv.tags())


def _fraud_on_an_invalid_commit(reg: Repo) -> None:
    """fraud v1.0.0, in prod, registered by hand on a commit whose artifacts.yaml says
    ``virtual: false`` for a file committed only later (tags from before the hooks)."""
    text = (reg.path / "artifacts.yaml").read_text()
    text += "fraud:\n  type: model\n  path: models/fraud.txt\n  virtual: false\n"
    reg.commit("declare fraud", {"artifacts.yaml": text})
    hand_tag(reg, "fraud@v1.0.0", "HEAD")
    hand_tag(reg, "fraud#prod#1", "HEAD")
    reg.commit("add fraud", {"models/fraud.txt": "weights\n"})


def test_cancel_events_on_a_commit_whose_artifacts_yaml_is_invalid(tmp_path: Path) -> None:
    world = build_world(tmp_path, _fraud_on_an_invalid_commit)
    dev = world.dev
    # Validation still gates assignments and registrations.
    result = read(dev, "promote", "fraud", "staging")
    no_traceback(result)
    assert result.code == 128
    hand_tag(dev, "fraud#staging#2", peeled(dev, "fraud@v1.0.0"))
    assert_server_refuses(world, "fraud#staging#2")
    dev.git("tag", "-d", "fraud#staging#2")
    # Cancel events do not.
    for args in (
        ["unassign", "fraud", "prod"],
        ["deregister", "fraud@v1.0.0"],
        ["deprecate", "fraud"],
    ):
        before = set(dev.tags())
        result = read(dev, *args)
        no_traceback(result)
        assert result.code == 0, (args, result.err)
        (created,) = set(dev.tags()) - before
        assert_pushes(world, f"refs/tags/{created}")
        assert created in world.srv.tags()


def test_dataset_in_prod_can_be_taken_back_after_policy_allows_only_models(
    world: World,
) -> None:
    dev = world.dev
    yaml = (dev.path / "artifacts.yaml").read_text()
    dev.commit("add a dataset", {"artifacts.yaml": yaml + "churnset:\n  type: dataset\n"})
    old = dev.git("rev-parse", "HEAD").strip()
    dev.ok("register", "churnset")
    dev.ok("promote", "churnset", "prod")
    assert_pushes(world, "main", "refs/tags/churnset@v0.0.1", "refs/tags/churnset#prod#1")
    # The team now allows models only (and drops the dataset from HEAD's artifacts.yaml).
    policy = "stages: [dev, staging, prod]\ntypes: [model]\n"
    dev.commit("models only", {".registry.yaml": policy, "artifacts.yaml": yaml})
    assert_pushes(world, "main")
    # Registrations and assignments of the dataset are refused...
    result = read(dev, "promote", "churnset", "staging")
    no_traceback(result)
    assert result.code == 128
    # ... its cancel events are not, locally or through the hooks.
    for args in (["unassign", "churnset", "prod"], ["deregister", "churnset@v0.0.1"]):
        before = set(dev.tags())
        result = read(dev, *args)
        no_traceback(result)
        assert result.code == 0, (args, result.err)
        (created,) = set(dev.tags()) - before
        assert_pushes(world, f"refs/tags/{created}")
    result = read(dev, "register", "churnset", old)
    no_traceback(result)
    assert result.code == 128
    before = set(dev.tags())
    assert read(dev, "deprecate", "churnset").code == 0
    (created,) = set(dev.tags()) - before
    assert_pushes(world, f"refs/tags/{created}")


def test_stage_dropped_from_the_policy_can_still_be_unassigned(world: World) -> None:
    """The policy no longer lists 'staging': assigning it is refused, but taking it back
    from the versions that hold it is a cancel event and goes through."""
    dev = world.dev
    dev.commit("no staging", {".registry.yaml": "stages: [dev, prod]\ntypes: [model, dataset]\n"})
    assert_pushes(world, "main")
    result = read(dev, "promote", "cv-class", "staging")
    no_traceback(result)
    assert result.code == 128
    before = set(dev.tags())
    result = read(dev, "unassign", "cv-class", "staging")
    no_traceback(result)
    assert result.code == 0, result.err
    (created,) = set(dev.tags()) - before
    assert_pushes(world, f"refs/tags/{created}")


def test_cancel_events_survive_a_broken_policy_at_head(world: World) -> None:
    """A broken ``.registry.yaml`` at HEAD (committed past the hooks) gates new
    registrations and assignments, never cancel events."""
    dev = world.dev
    dev.commit("broken policy", {".registry.yaml": "stagez: [dev]\n"})
    result = read(dev, "promote", "segment", "prod")
    no_traceback(result)
    assert result.code == 128
    for args in (["unassign", "segment", "dev"], ["deregister", "cv-class@v1.12.0"]):
        result = read(dev, *args)
        no_traceback(result)
        assert result.code == 0, (args, result.err)
    assert read(dev, "deprecate", "segment").code == 0


# -- 5. backdated events ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "version_tag", "date"),
    [
        ("churn#prod#4", "churn@v3.1.0", OLD_DATE),
        ("churn#staging!#4", "churn@v3.1.0", OLD_DATE),
        ("segment@v0.4.1!", "segment@v0.4.1", OLD_DATE),
        ("segment@v7.0.0!", "segment@v0.4.1", None),
    ],
    ids=[
        "assignment-before-registration",
        "unassignment-before-registration",
        "deregistration-before-registration",
        "deregistration-of-unknown-version",
    ],
)
def test_backdated_or_unfounded_event_is_reported_and_refused(
    world: World, tag: str, version_tag: str, date: str | None
) -> None:
    dev = world.dev
    hand_tag(dev, tag, peeled(dev, version_tag), date=date)
    assert tag in check_tags(dev)
    assert_server_refuses(world, tag)
    assert_client_refuses(world, tag)


# -- found while attacking the registry --------------------------------------------------


def test_deprecate_an_artifact_whose_only_tag_is_unusable(world: World) -> None:
    """``deprecate`` of an artifact that has tags but no usable event crashed
    (``info.events[-1]`` on an empty tuple): refuse it cleanly, or deprecate at HEAD."""
    dev = world.dev
    hand_tag(dev, "fraud@v1.0.0!", "HEAD")  # deregisters a version never registered
    result = read(dev, "deprecate", "fraud")
    no_traceback(result)
    assert result.code in (0, 128), result.err


def test_register_is_not_cancelled_by_a_stray_deregistration(world: World) -> None:
    """A deregistration of a version never registered (which ``check`` reports) must not
    silently cancel the registration a later ``register`` reports as created."""
    dev = world.dev
    new_commit(dev, "fraud")
    hand_tag(dev, "fraud@v0.0.1!", "HEAD")
    before = set(dev.tags())
    result = read(dev, "register", "fraud")
    no_traceback(result)
    if result.code != 0:
        return  # refusing is fine; reporting success for a dead version is not
    (created,) = set(dev.tags()) - before
    latest = read(dev, "latest", "fraud", "--json")
    assert latest.code == 0, latest.err
    assert as_json(latest)["tag"] == created


# -- the rule behind them all: check and the hooks agree ---------------------------------


def test_check_and_server_hook_agree_on_the_demo(tmp_path: Path, world: World) -> None:
    """Every demo tag pushed at once to an empty server with the hook: the tags it refuses
    are exactly those ``check`` reports (none, for a demo that shows the product)."""
    reg = world.reg
    empty = Repo(tmp_path / "empty.git", bare=True)
    reg.git("push", "-q", str(empty.path), "refs/heads/*:refs/heads/*")
    empty.ok("hooks", "install", "--server")
    proc = subprocess.run(
        ["git", "push", str(empty.path), "refs/tags/*:refs/tags/*"],
        cwd=reg.path,
        capture_output=True,
        text=True,
        check=False,
    )
    no_traceback(proc)
    result = read(reg, "check", "--json")
    problems = as_json(result)["problems"]
    reported = {p["tag"] for p in problems if p["tag"] and p["severity"] == "error"}
    assert refused(proc, by="server") == reported
    assert (proc.returncode == 0) == (not reported)
