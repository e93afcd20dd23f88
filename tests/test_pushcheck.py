"""The push checks (pushcheck.py), called directly: ``PushCheck`` on real repositories
(the decision the pre-push and pre-receive hooks print), the hooks' input parsers,
the headless-server refusal and the staged-files check."""

from __future__ import annotations

import subprocess

import pytest

from git_registry import rules
from git_registry.catalog import Catalog
from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId
from git_registry.pushcheck import (
    Finding,
    PushCheck,
    RefUpdate,
    headless,
    headless_policy,
    object_id,
    parse_pre_push,
    parse_pre_receive,
)
from git_registry.repo import Repository
from git_registry.treecheck import staged_problems

from conftest import FIXED_TIME, Repo, make_registry

NOW = FIXED_TIME + 3600
A, B = "a" * 40, "b" * 40
ZERO = "0" * 40

REWRITE_HINT = (
    "undo an event with a new tag (deregister, unassign, deprecate); to allow this, run "
    "'git config registry.allowDelete true' (on the server for the server hook)"
)


def check(
    repo: Repo,
    *updates: RefUpdate,
    allow_delete: bool = False,
    only: set[rules.Rule] | None = None,
) -> list[Finding]:
    """PushCheck as the server's pre-receive runs it: ``existing`` is the tags there."""
    with Repository.discover(str(repo.path)) as opened:
        push = PushCheck(
            opened, Catalog(opened), opened.tag_refs(), allow_delete=allow_delete, now=NOW
        )
        return push.run(updates, only)


def unpushed(repo: Repo, name: str, target: str = "HEAD", *, date: int | None = None) -> ObjectId:
    """A tag object as a push brings it (no ref names it here), written by ``git mktag``."""
    commit = repo.git("rev-parse", "--verify", f"{target}^{{commit}}").strip()
    text = (
        f"object {commit}\ntype commit\ntag {name}\n"
        f"tagger Cy Committer <cy@example.com> {date or FIXED_TIME + 100} +0000\n\npushed\n"
    )
    proc = subprocess.run(
        ["git", "mktag"], cwd=repo.path, input=text, capture_output=True, text=True, check=True
    )
    return ObjectId(proc.stdout.strip())


def new(repo: Repo, name: str, target: str = "HEAD", **kwargs: int) -> RefUpdate:
    return RefUpdate(f"refs/tags/{name}", None, unpushed(repo, name, target, **kwargs))


@pytest.fixture
def churn(repo: Repo) -> Repo:
    """churn v1.0.0 (prod) at the first commit, v1.1.0 at a second one (HEAD)."""
    return make_registry(repo, "churn@v1.0.0 churn#prod#1 commit churn@v1.1.0")


def oid_of(repo: Repo, name: str) -> ObjectId:
    return ObjectId(repo.git("rev-parse", f"refs/tags/{name}").strip())


# -- the hooks' input ------------------------------------------------------------------------


@pytest.mark.core
def test_pre_push_and_pre_receive_lines() -> None:
    assert parse_pre_push(
        [
            f"refs/tags/churn@v1.0.0 {A} refs/tags/churn@v1.0.0 {ZERO}\n",
            "\n",
            f"(delete) {ZERO} refs/tags/x {B}",
        ]
    ) == [
        RefUpdate("refs/tags/churn@v1.0.0", None, ObjectId(A)),
        RefUpdate("refs/tags/x", ObjectId(B), None),
    ]
    assert parse_pre_receive(
        [f"{ZERO} {A} refs/tags/churn#prod#1", f"{A} {B} refs/heads/main"]
    ) == [
        RefUpdate("refs/tags/churn#prod#1", None, ObjectId(A)),
        RefUpdate("refs/heads/main", ObjectId(A), ObjectId(B)),
    ]
    assert object_id("0" * 64) is None  # SHA-256 repositories
    assert object_id("0" * 39 + "1") == "0" * 39 + "1"


@pytest.mark.core
@pytest.mark.parametrize(
    ("parse", "line", "message"),
    [
        (parse_pre_push, f"refs/heads/main {A} refs/heads/main", "pre-push: cannot read the line"),
        (parse_pre_receive, f"{A} {B} refs/tags/x y", "pre-receive: cannot read the line"),
    ],
)
def test_a_line_the_hook_cannot_read_is_refused(parse: object, line: str, message: str) -> None:
    assert callable(parse)
    with pytest.raises(RegistryError) as info:
        parse([line])
    assert info.value.message == f"{message} '{line}'"


# -- registry tags ---------------------------------------------------------------------------


def test_a_valid_push_has_no_findings(churn: Repo) -> None:
    # A new version on a commit of its own (the first one holds v1.0.0: the commit
    # before it), and a new artifact.
    churn.commit()
    assert check(churn, new(churn, "churn@v1.2.0"), new(churn, "seg@v0.0.1")) == []


def test_a_second_version_on_a_commit_is_refused(churn: Repo) -> None:
    (finding,) = check(churn, new(churn, "churn@v2.0.0"))
    head = churn.git("rev-parse", "--short=7", "HEAD").strip()
    assert finding.ref == "churn@v2.0.0"
    assert finding.message == (
        f"commit {head} holds 2 active versions of churn (v1.1.0, v2.0.0); "
        "stage tags on it go to the newest registration"
    )
    assert (
        finding.hint == "deregister the other version first: git registry deregister churn@v1.1.0"
    )


def test_a_version_on_a_second_commit_is_refused(churn: Repo) -> None:
    (finding,) = check(churn, new(churn, "churn@v1.1.0#5", "HEAD~1"))
    first = churn.git("rev-parse", "--short=7", "HEAD").strip()
    second = churn.git("rev-parse", "--short=7", "HEAD~1").strip()
    assert (finding.ref, finding.message) == (
        "churn@v1.1.0#5",
        f"v1.1.0 of churn is already registered at commit {first} (tag churn@v1.1.0); "
        f"this tag points at {second}: ignored",
    )


def test_a_tag_from_the_future_is_refused(churn: Repo) -> None:
    assert check(churn, new(churn, "seg@v0.0.1", date=NOW + rules.FUTURE_SKEW)) == []
    later = NOW + rules.FUTURE_SKEW + 1
    (finding,) = check(churn, new(churn, "seg@v0.0.1", date=later))
    assert finding.ref == "seg@v0.0.1"
    assert finding.message == (
        f"tagger time {later} is in the future (the clock says {NOW}): ignored"
    )


def test_a_pushed_tag_that_breaks_existing_ones_names_them(churn: Repo) -> None:
    # A registration of v1.1.0 on the first commit, dated before churn@v1.1.0: the
    # existing tag becomes the second registration of v1.1.0, on another commit, and
    # the first commit holds two versions (v1.0.0 and the pushed v1.1.0).
    first = churn.git("rev-parse", "--short=7", "HEAD~1").strip()
    head = churn.git("rev-parse", "--short=7", "HEAD").strip()
    pushed = new(churn, "churn@v1.1.0#7", "HEAD~1", date=FIXED_TIME - 10)
    assert check(churn, pushed) == [
        Finding(
            "churn@v1.1.0",
            f"v1.1.0 of churn is already registered at commit {first} (tag churn@v1.1.0#7); "
            f"this tag points at {head}: ignored (with the pushed churn@v1.1.0#7)",
            "a version names one commit: register a new version instead",
        ),
        Finding(
            "churn@v1.0.0",
            f"commit {first} holds 2 active versions of churn (v1.1.0, v1.0.0); stage tags "
            "on it go to the newest registration (with the pushed churn@v1.1.0#7)",
            "deregister the other version first: git registry deregister churn@v1.1.0",
        ),
    ]


def test_rewriting_or_deleting_a_registry_tag_is_refused(churn: Repo) -> None:
    moved = unpushed(churn, "churn@v1.0.0", "HEAD")
    old = oid_of(churn, "churn@v1.0.0")
    rewrite = RefUpdate("refs/tags/churn@v1.0.0", old, moved)
    delete = RefUpdate("refs/tags/churn#prod#1", oid_of(churn, "churn#prod#1"), None)
    assert check(churn, rewrite, delete) == [
        Finding(
            "churn@v1.0.0",
            "the remote already has this tag, pointing elsewhere: replacing it is refused "
            "(it would rewrite the history of churn)",
            REWRITE_HINT,
        ),
        Finding(
            "churn#prod#1",
            "deleting a registry tag on the remote is refused "
            "(it would rewrite the history of churn)",
            REWRITE_HINT,
        ),
    ]
    # registry.allowDelete: the deletion is fine; the moved v1.0.0 is judged by the rules
    # (it now shares HEAD with v1.1.0).
    allowed = check(churn, rewrite, delete, allow_delete=True)
    assert [f.ref for f in allowed] == ["churn@v1.0.0"]
    assert "holds 2 active versions of churn" in allowed[0].message


def test_a_typo_of_a_known_artifact_is_refused(churn: Repo) -> None:
    (finding,) = check(churn, new(churn, "churn@1.2.0"))
    assert finding.ref == "churn@1.2.0"
    assert finding.message == "'1.2.0' is not a version"
    assert finding.hint == "versions are v + SemVer: did you mean churn@v1.2.0?"
    # Not a known artifact, not a registry tag: none of our business.
    assert check(churn, new(churn, "other@1.2.0"), new(churn, "release-1.2")) == []


def test_the_first_tag_of_an_artifact_makes_its_old_typos_problems(churn: Repo) -> None:
    churn.tag("seg@1.0")  # on the server already, harmless while seg is unknown
    (finding,) = check(churn, new(churn, "seg@v0.0.1"))
    assert finding.ref == "seg@1.0"
    assert finding.message.endswith(
        "(the pushed seg@v0.0.1 makes seg a known artifact: delete seg@1.0 first)"
    )


def test_only_some_rules_for_the_recheck_under_the_lock(churn: Repo) -> None:
    # The server's re-check under the ref locks reads only the conflict rules: a second
    # active version on HEAD is one of them; a typo or a rewrite is not re-judged there.
    update = new(churn, "churn@v2.0.0")
    (finding,) = check(churn, update, only={rules.Rule.SHARED_COMMIT})
    assert finding.ref == "churn@v2.0.0"
    assert check(churn, update, only={rules.Rule.COUNTER_REUSED}) == []
    assert check(churn, new(churn, "churn@1.2.0"), only=set(rules.Rule)) == []


# -- branches and the policy -----------------------------------------------------------------


def test_a_branch_with_an_invalid_artifacts_file_is_refused(repo: Repo) -> None:
    good = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "topic")
    bad = repo.commit(files={"artifacts.yaml": "churn:\n  colour: blue\n"})
    repo.git("checkout", "-q", "main")
    update = RefUpdate("refs/heads/topic", None, ObjectId(bad))
    (finding,) = check(repo, update)
    assert finding.ref == "topic"
    assert finding.message == (
        "artifacts.yaml:2:3: artifact 'churn', key 'colour': unknown key "
        "(allowed: path, type, description, labels, custom, virtual, sha256, requires)"
    )
    assert check(repo, RefUpdate("refs/heads/topic", None, ObjectId(good))) == []
    # Deleting a branch checks nothing.
    assert check(repo, RefUpdate("refs/heads/topic", ObjectId(bad), None)) == []


def test_a_branch_is_refused_only_for_the_problems_it_brings(repo: Repo) -> None:
    # models/cv/artifacts.yaml is broken on main already: a push that leaves it as it is
    # refuses nothing; one that breaks another file is refused for that file alone.
    repo.commit(files={"models/cv/artifacts.yaml": "seg: [\n"})
    old = ObjectId(repo.git("rev-parse", "HEAD").strip())
    fine = ObjectId(repo.commit(files={"artifacts.yaml": "churn:\n  type: model\n"}))
    assert check(repo, RefUpdate("refs/heads/main", old, fine)) == []
    worse = repo.commit(files={"artifacts.yaml": "churn:\n  typ: model\n"})
    (finding,) = check(repo, RefUpdate("refs/heads/main", fine, ObjectId(worse)))
    assert finding.message.startswith("artifacts.yaml:2:3: artifact 'churn', key 'typ'")
    # A new branch is compared with the default branch (the server's HEAD).
    repo.git("reset", "-q", "--hard", fine)
    assert check(repo, RefUpdate("refs/heads/topic", None, fine)) == []
    (finding,) = check(repo, RefUpdate("refs/heads/topic", None, ObjectId(worse)))
    assert "key 'typ'" in finding.message


def test_a_stage_the_policy_does_not_allow_is_refused(repo: Repo) -> None:
    repo.commit(files={".registry.yaml": "stages: [dev, prod]\n"})
    make_registry(repo, "churn@v1.0.0")
    assert check(repo, new(repo, "churn#prod#1")) == []
    (finding,) = check(repo, new(repo, "churn#qa#1"))
    assert (finding.ref, finding.message, finding.hint) == (
        "churn#qa#1",
        "stage 'qa' is not allowed by .registry.yaml (allowed: dev, prod)",
        "add it to 'stages' in .registry.yaml, or promote to an allowed stage",
    )


# -- a server whose HEAD names no commit -----------------------------------------------------


@pytest.mark.core
def test_headless_suggests_the_default_branch() -> None:
    finding = headless("refs/heads/master", ["refs/heads/dev", "refs/heads/main"])
    assert finding == Finding(
        "HEAD",
        "the server's HEAD (refs/heads/master) names no branch, so its policy cannot be "
        "read: registry tags are refused",
        "point it at the default branch: git symbolic-ref HEAD refs/heads/main",
    )
    assert headless(None, ["refs/heads/trunk"]).hint == (
        "point it at the default branch: git symbolic-ref HEAD refs/heads/trunk"
    )
    assert headless(None, ["refs/heads/a", "refs/heads/b"]).message.startswith(
        "the server's HEAD names no commit"
    )
    assert headless(None, ["refs/heads/a", "refs/heads/b"]).hint == (
        "point it at the default branch: git symbolic-ref HEAD refs/heads/BRANCH (branches: a, b)"
    )


def test_headless_policy_of_real_servers(repo: Repo, remote: Repo) -> None:
    with Repository.discover(str(remote.path)) as opened:
        assert headless_policy(opened) is None  # HEAD is main, which was pushed
    remote.git("symbolic-ref", "HEAD", "refs/heads/master")
    with Repository.discover(str(remote.path)) as opened:
        finding = headless_policy(opened)
    assert finding is not None
    assert finding.hint == "point it at the default branch: git symbolic-ref HEAD refs/heads/main"
    empty = Repo(remote.path.parent / "empty.git", bare=True)
    with Repository.discover(str(empty.path)) as opened:
        assert headless_policy(opened) is None  # nothing pushed yet


# -- staged files ----------------------------------------------------------------------------


def test_staged_problems_read_the_index_not_the_work_tree(repo: Repo) -> None:
    (repo.path / "artifacts.yaml").write_text("churn:\n  type: model\n")
    repo.git("add", "artifacts.yaml")
    (repo.path / "artifacts.yaml").write_text("churn: [\n")  # not staged
    with Repository.discover(str(repo.path)) as opened:
        assert staged_problems(opened) == []
    (repo.path / "models").mkdir()
    (repo.path / "models" / "artifacts.yaml").write_text("seg:\n  virtual: maybe\n")
    (repo.path / ".registry.yaml").write_text("stages: prod\n")
    repo.git("add", "models/artifacts.yaml", ".registry.yaml")
    with Repository.discover(str(repo.path)) as opened:
        found = [str(p) for p in staged_problems(opened)]
    assert len(found) == 2
    assert found[0].startswith(".registry.yaml:1:")
    assert found[1].startswith("models/artifacts.yaml:2:12: ")
