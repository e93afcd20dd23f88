"""``check-ref --verify``: a tag judged as the server's pre-receive hook judges its push
(one code path), for hosts that run no server hooks. Each bad tag is pushed both to a
server running the real hook (refused there) and to a host without hooks, whose clone
the guard judges: the same problems, in the same words."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Repo, git


def remote_errors(stderr: str) -> list[str]:
    return [
        line.removeprefix("remote: ").rstrip()  # Git pads the server's lines with blanks
        for line in stderr.splitlines()
        if line.startswith(("remote: error: ", "remote: hint: "))
        and "pre-receive hook refused" not in line
    ]


def verify_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if line.startswith(("error: ", "hint: ")) and "breaks the registry's rules" not in line
    ]


@pytest.fixture
def hosts(repo: Repo, tmp_path: Path) -> tuple[Repo, Repo, Repo]:
    """(client, server with the hook, host without hooks): both hold main with a policy
    and churn v0.0.1 in dev."""
    repo.commit(files={".registry.yaml": "stages: [dev, prod]\n"})
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "dev")
    server = Repo(tmp_path / "server.git", bare=True)
    server.ok("hooks", "install", "--server")
    host = Repo(tmp_path / "host.git", bare=True)
    for name, bare in (("server", server), ("host", host)):
        repo.git("remote", "add", name, str(bare.path))
        repo.git("push", "-q", name, "main", "churn@v0.0.1", "churn#dev#1")
    return repo, server, host


BAD_TAGS = {
    "churn@1.0.0": "'1.0.0' is not a version",
    "churn#qa#5": "stage 'qa' is not allowed by .registry.yaml",
    "churn#prod#1": "counter #1 of churn is already used by tag churn#prod#1",
    "churn@v0.0.2": "holds 2 active versions of churn (v0.0.1, v0.0.2)",
}


@pytest.mark.parametrize("tag", sorted(BAD_TAGS))
def test_verify_says_what_the_server_hook_says(
    hosts: tuple[Repo, Repo, Repo], tmp_path: Path, tag: str
) -> None:
    client, server, host = hosts
    client.tag(tag, message="by hand")
    proc_err = _push_stderr(client, "server", tag)
    assert tag not in server.tags()
    expected = remote_errors(proc_err)
    assert any(BAD_TAGS[tag] in line for line in expected), proc_err
    client.git("push", "-q", "host", f"refs/tags/{tag}")  # no hooks: it lands
    clone = Repo.__new__(Repo)
    clone.path = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(host.path), str(clone.path))
    result = clone.run("check-ref", "--verify", tag)
    assert result.code == 1
    assert verify_errors(result.err) == expected
    assert result.err.endswith(
        f"error: {tag} breaks the registry's rules (1 problem): the pre-receive hook of a "
        "server running git-registry would have refused its push\n"
    )
    assert result.out == ""


def _push_stderr(client: Repo, remote: str, tag: str) -> str:
    import subprocess

    proc = subprocess.run(
        ["git", "push", remote, f"refs/tags/{tag}"],
        cwd=client.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    return proc.stderr


def test_verify_accepts_what_the_server_accepts(hosts: tuple[Repo, Repo, Repo]) -> None:
    client, server, _host = hosts
    client.ok("promote", "churn", "prod")
    client.git("push", "-q", "server", "churn#prod#2")
    assert "churn#prod#2" in server.tags()
    result = client.run("check-ref", "--verify", "--json", "refs/tags/churn#prod#2")
    assert result.code == 0
    assert result.err == "note: churn#prod#2: the server's pre-receive hook would accept it\n"
    assert '"event": "assignment"' in result.out


def test_verify_lets_other_tags_through(repo: Repo) -> None:
    repo.tag("release-1.0")
    result = repo.run("check-ref", "--verify", "--allow-other", "release-1.0")
    assert result.code == 0
    assert "note: release-1.0: the server's pre-receive hook would accept it" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["refs/heads/main"],
            "fatal: 'refs/heads/main' is not a tag: --verify judges a pushed tag",
        ),
        (["churn@v9.0.0"], "fatal: there is no tag 'churn@v9.0.0' in this repository"),
    ],
)
def test_verify_fatal_when_it_cannot_judge(repo: Repo, args: list[str], message: str) -> None:
    result = repo.run("check-ref", "--verify", *args)
    assert result.code == 128
    assert result.err.startswith(message)


def test_verify_needs_the_branch_head_names(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.git("checkout", "-q", "--detach")
    result = repo.run("check-ref", "--verify", "churn@v0.0.1")
    assert result.code == 128
    assert result.err == (
        "fatal: HEAD is detached: --verify reads the policy from the branch HEAD names, as "
        "the server hook reads it from its default branch\n"
        "hint: check out the default branch first, e.g. git checkout -B main origin/main\n"
    )


def test_verify_uses_the_branch_policy_not_the_tagged_commit(repo: Repo) -> None:
    """The tagged commit widens the policy; the branch's (main's) is applied."""
    repo.commit(files={".registry.yaml": "stages: [dev, prod]\n"})
    repo.git("checkout", "-q", "-b", "wide")
    repo.commit(files={".registry.yaml": "stages: [dev, prod, qa]\n"})
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "qa")
    repo.git("checkout", "-q", "main")
    result = repo.run("check-ref", "--verify", "churn#qa#1")
    assert result.code == 1
    assert "error: churn#qa#1: stage 'qa' is not allowed by .registry.yaml" in result.err
