"""Hooks end to end: a client with the hooks installed pushing to a bare remote with the
server hook, real ``git push`` / ``git commit`` firing them (SPEC 7, issue 4)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from git_registry.hookinstall import wrapper
from git_registry.pushcheck import headless, parse_pre_push, parse_pre_receive

from conftest import Repo, git

ROOT = Path(__file__).resolve().parent.parent
ZERO = "0" * 40


def push(repo: Repo, *refs: str, verify: bool = True) -> subprocess.CompletedProcess[str]:
    args = ["git", "push", *([] if verify else ["--no-verify"]), "origin", *refs]
    return subprocess.run(args, cwd=repo.path, capture_output=True, text=True, check=False)


def remote_tags(remote: Repo) -> set[str]:
    return set(remote.tags())


@pytest.fixture
def client(repo: Repo, remote: Repo) -> Repo:
    """``repo`` with the client hooks installed; ``remote`` with the server hook."""
    repo.ok("hooks", "install")
    remote.ok("hooks", "install", "--server")
    return repo


def commit_unchecked(repo: Repo, files: dict[str, str]) -> None:
    """Commit ``files`` past the commit-msg hook (as ``git commit --no-verify`` does)."""
    for name, text in files.items():
        target = repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "unchecked")


def write_hook(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


# -- input parsing -------------------------------------------------------------------------


def test_pre_push_input_handles_deletes_and_sha256_zero_ids() -> None:
    lines = [
        f"refs/tags/a@v1.0.0 {'1' * 40} refs/tags/a@v1.0.0 {ZERO}\n",
        f"(delete) {'0' * 64} refs/tags/a@v0.0.1 {'2' * 64}\n",
        "\n",
    ]
    first, second = parse_pre_push(lines)
    assert (first.ref, first.old, first.new) == ("refs/tags/a@v1.0.0", None, "1" * 40)
    assert (second.ref, second.old, second.new) == ("refs/tags/a@v0.0.1", "2" * 64, None)


def test_pre_receive_input() -> None:
    (update,) = parse_pre_receive([f"{ZERO} {'3' * 40} refs/heads/main\n"])
    assert (update.ref, update.old, update.new) == ("refs/heads/main", None, "3" * 40)


def test_garbled_hook_input_is_a_clear_error(client: Repo) -> None:
    proc = subprocess.run(
        ["git", "registry", "hook", "pre-push", "origin", "x"],
        cwd=client.path,
        input="not four fields\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 128
    assert "cannot read the line 'not four fields'" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- install / status / uninstall --------------------------------------------------------


def test_install_writes_marked_wrappers_calling_this_installation(repo: Repo) -> None:
    out = repo.ok("hooks", "install")
    assert "Installed pre-push hook" in out and "Installed commit-msg hook" in out
    hook = repo.path / ".git" / "hooks" / "pre-push"
    assert os.access(hook, os.X_OK)
    text = hook.read_text()
    assert text.startswith("#!/bin/sh\n# git-registry hook wrapper: pre-push")
    assert "git-registry" in text and os.path.isabs(text.split("registry=")[1].split()[0])
    status = repo.ok("hooks", "status").splitlines()
    rows = {line.split()[0]: " ".join(line.split()[1:]) for line in status[1:]}
    assert rows == {
        "pre-push": "installed",
        "commit-msg": "installed",
        "pre-receive": "not installed",
        "reference-transaction": "not installed",
    }
    assert len({len(line) - len(rows[line.split()[0]]) for line in status[1:]}) == 1  # aligned
    again = repo.ok("hooks", "install")
    assert "Updated pre-push hook" in again


def test_shipped_hook_files_are_the_path_only_wrappers() -> None:
    for hook in ("pre-push", "commit-msg", "pre-receive", "reference-transaction"):
        shipped = ROOT / "hooks" / hook
        assert shipped.read_text() == wrapper(hook, None)
        assert os.access(shipped, os.X_OK)
    config = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "entry: git-registry hook commit-msg" in config


def test_foreign_hook_is_chained_runs_first_and_can_stop_the_push(repo: Repo, remote: Repo) -> None:
    hooks = repo.path / ".git" / "hooks"
    log = repo.path.parent / "foreign.log"
    write_hook(hooks / "pre-push", f'cat > "{log}"\n[ ! -e "{repo.path}/block" ]\n')
    out = repo.ok("hooks", "install")
    assert "kept as pre-push.registry-orig and runs first" in out
    assert (hooks / "pre-push.registry-orig").exists()
    repo.ok("register", "churn")
    proc = push(repo, "churn@v0.0.1")
    assert proc.returncode == 0, proc.stderr
    assert "refs/tags/churn@v0.0.1" in log.read_text()  # the foreign hook got the input too
    (repo.path / "block").write_text("")
    repo.commit()
    repo.ok("register", "churn", "--bump-minor")
    proc = push(repo, "churn@v0.1.0")
    assert proc.returncode != 0
    assert "churn@v0.1.0" not in remote_tags(remote)


def test_uninstall_restores_the_foreign_hook(repo: Repo) -> None:
    hooks = repo.path / ".git" / "hooks"
    write_hook(hooks / "commit-msg", "exit 0 # mine\n")
    repo.ok("hooks", "install")
    out = repo.ok("hooks", "uninstall")
    assert "restored the hook that was there before" in out
    assert (hooks / "commit-msg").read_text() == "#!/bin/sh\nexit 0 # mine\n"
    assert not (hooks / "pre-push").exists()
    assert not (hooks / "commit-msg.registry-orig").exists()
    assert "No git-registry hooks" in repo.ok("hooks", "uninstall")


def test_force_sets_the_foreign_hook_aside_and_uninstall_puts_it_back(repo: Repo) -> None:
    hooks = repo.path / ".git" / "hooks"
    write_hook(hooks / "pre-push", "exit 1\n")
    out = repo.ok("hooks", "install", "--force")
    assert "pre-push.registry-replaced and not run" in out
    repo.ok("register", "churn")
    repo.git("init", "-q", "--bare", str(repo.path.parent / "r.git"))
    repo.git("remote", "add", "r", str(repo.path.parent / "r.git"))
    repo.git("push", "-q", "r", "churn@v0.0.1")  # the set-aside 'exit 1' hook is not run
    repo.ok("hooks", "uninstall")
    assert (hooks / "pre-push").read_text() == "#!/bin/sh\nexit 1\n"


def test_install_refuses_to_clobber_a_saved_hook(repo: Repo) -> None:
    hooks = repo.path / ".git" / "hooks"
    write_hook(hooks / "pre-push", "exit 0\n")
    write_hook(hooks / "pre-push.registry-orig", "exit 0 # older\n")
    result = repo.run("hooks", "install")
    assert result.code == 128
    assert "pre-push.registry-orig exists already" in result.err
    assert (hooks / "pre-push").read_text() == "#!/bin/sh\nexit 0\n"
    assert (hooks / "pre-push.registry-orig").read_text() == "#!/bin/sh\nexit 0 # older\n"


def test_core_hooks_path_is_honoured(repo: Repo, remote: Repo) -> None:
    custom = repo.path / "my hooks"
    repo.git("config", "core.hooksPath", str(custom))
    repo.ok("hooks", "install")
    assert (custom / "pre-push").exists()
    assert not (repo.path / ".git" / "hooks" / "pre-push").exists()
    assert "(core.hooksPath)" in repo.ok("hooks", "status")
    repo.ok("register", "churn")
    repo.tag("churn@1.0.0", lightweight=True)
    proc = push(repo, "churn@1.0.0")
    assert proc.returncode != 0 and "did you mean churn@v1.0.0?" in proc.stderr


def test_server_hooks_install_chain_and_uninstall(remote: Repo, repo: Repo) -> None:
    hooks = remote.path / "hooks"
    log = remote.path.parent / "foreign.log"
    write_hook(hooks / "reference-transaction", f'echo "$1" >> "{log}"\n')  # someone's own
    out = remote.ok("hooks", "install", "--server")
    assert "Installed pre-receive hook" in out
    assert "Installed reference-transaction hook" in out
    assert "kept as reference-transaction.registry-orig and runs first" in out
    status = remote.ok("hooks", "status")
    assert re.search(r"reference-transaction +installed, runs reference-transaction\.", status)
    assert re.search(r"pre-receive +installed", status)
    repo.commit()
    repo.ok("register", "churn")
    proc = push(repo, "main", "churn@v0.0.1")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().split() == ["prepared", "committed"] * 2  # main, then the tag
    assert not (remote.path / "registry" / "push.lock").exists()
    out = remote.ok("hooks", "uninstall")
    assert "Removed reference-transaction hook" in out and "restored" in out
    assert (hooks / "reference-transaction").read_text().startswith("#!/bin/sh\necho")
    assert not (hooks / "pre-receive").exists()


def test_bare_repository_needs_server(remote: Repo) -> None:
    result = remote.run("hooks", "install")
    assert result.code == 128 and "--server" in (result.err)
    assert not (remote.path / "hooks" / "pre-push").exists()


def test_repository_path_with_spaces(tmp_path: Path) -> None:
    client = Repo(tmp_path / "my client ü")
    client.commit("initial")
    server = Repo(tmp_path / "the server é.git", bare=True)
    client.git("remote", "add", "origin", str(server.path))
    client.ok("hooks", "install")
    server.ok("hooks", "install", "--server")
    client.ok("register", "churn")
    assert push(client, "main", "churn@v0.0.1").returncode == 0
    client.tag("churn@v1", message="bad")
    proc = push(client, "churn@v1", verify=False)
    assert proc.returncode != 0 and "remote: error: churn@v1" in proc.stderr
    assert set(server.tags()) == {"churn@v0.0.1"}


# -- pre-push and pre-receive: tags --------------------------------------------------------


def test_a_good_registration_and_promotion_pass(client: Repo, remote: Repo) -> None:
    client.ok("register", "churn")
    client.ok("promote", "churn", "prod")
    proc = push(client, "churn@v0.0.1", "churn#prod#1")
    assert proc.returncode == 0, proc.stderr
    assert remote_tags(remote) == {"churn@v0.0.1", "churn#prod#1"}


def test_other_tags_and_branches_pass_untouched(client: Repo, remote: Repo) -> None:
    client.tag("release-2024", lightweight=True)
    client.tag("foo@bar", lightweight=True)  # 'foo' is no artifact we know
    client.git("checkout", "-q", "-b", "feature")
    client.commit()
    proc = push(client, "release-2024", "foo@bar", "feature")
    assert proc.returncode == 0, proc.stderr
    assert {"release-2024", "foo@bar"} <= remote_tags(remote)


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_lightweight_registry_tag_is_refused(client: Repo, remote: Repo, verify: bool) -> None:
    client.tag("churn@v1.0.0", lightweight=True)
    proc = push(client, "churn@v1.0.0", verify=verify)
    assert proc.returncode != 0
    assert "churn@v1.0.0: lightweight tag ignored: registry events are annotated" in proc.stderr
    assert remote_tags(remote) == set()


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_malformed_tag_of_a_known_artifact_gets_a_hint(
    client: Repo, remote: Repo, verify: bool
) -> None:
    client.ok("register", "churn")
    assert push(client, "churn@v0.0.1").returncode == 0
    client.tag("churn@1.0.0")
    proc = push(client, "churn@1.0.0", verify=verify)
    assert proc.returncode != 0
    assert "churn@1.0.0: '1.0.0' is not a version" in proc.stderr
    assert "versions are v + SemVer: did you mean churn@v1.0.0?" in proc.stderr
    assert "churn@1.0.0" not in remote_tags(remote)


def test_malformed_tag_of_an_artifact_declared_only_in_artifacts_yaml(client: Repo) -> None:
    client.commit(files={"artifacts.yaml": "segment:\n  type: model\n"})
    client.tag("segment#prod#x")
    proc = push(client, "segment#prod#x")
    assert proc.returncode != 0
    assert "segment#prod#x: '#x' is not a counter" in proc.stderr


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_a_push_that_makes_an_old_typo_a_malformed_name_is_refused(
    client: Repo, remote: Repo, verify: bool
) -> None:
    """foo@1.0.0 is no problem while foo is unknown; a push that makes foo known would
    make it one (check reports it): the push is refused until the typo is deleted."""
    client.tag("foo@1.0.0")
    client.tag("foo#dev#x")
    assert push(client, "foo@1.0.0", "foo#dev#x").returncode == 0
    assert remote.git_registry("check").code == 0
    client.ok("register", "foo", "--version", "v1.0.0")
    proc = push(client, "foo@v1.0.0", verify=verify)
    assert proc.returncode != 0
    assert (
        "error: foo@1.0.0: '1.0.0' is not a version (the pushed foo@v1.0.0 makes foo a known "
        "artifact: delete foo@1.0.0 first)" in proc.stderr
    )
    assert "hint: versions are v + SemVer: did you mean foo@v1.0.0?" in proc.stderr
    assert "error: foo#dev#x: '#x' is not a counter (the pushed" in proc.stderr
    assert "foo@v1.0.0" not in remote_tags(remote)
    # Deleting the typos in the same push is fine.
    proc = push(client, ":refs/tags/foo@1.0.0", ":refs/tags/foo#dev#x", "foo@v1.0.0")
    assert proc.returncode == 0, proc.stderr
    assert remote_tags(remote) == {"foo@v1.0.0"}
    assert remote.git_registry("check").code == 0


def test_old_typos_of_an_artifact_known_before_are_not_judged_again(
    repo: Repo, remote: Repo
) -> None:
    repo.ok("register", "churn")
    repo.tag("churn@1.0.0")
    assert push(repo, "churn@v0.0.1", "churn@1.0.0").returncode == 0
    remote.ok("hooks", "install", "--server")
    repo.commit()
    repo.ok("register", "churn")
    proc = push(repo, "churn@v0.0.2")
    assert proc.returncode == 0, proc.stderr


def test_typos_of_another_artifact_with_the_same_start_are_not_judged(
    client: Repo, remote: Repo
) -> None:
    client.tag("foo-bar@1.0.0")
    client.tag("foobar@1.0.0")
    assert push(client, "foo-bar@1.0.0", "foobar@1.0.0").returncode == 0
    client.ok("register", "foo", "--version", "v1.0.0")
    proc = push(client, "foo@v1.0.0", verify=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_version_registered_at_another_commit_is_refused(
    client: Repo, remote: Repo, verify: bool
) -> None:
    client.ok("register", "churn", "--version", "v1.0.0")
    assert push(client, "main", "churn@v1.0.0").returncode == 0
    client.commit()
    client.tag("churn@v1.0.0#7", message="again")  # the counter form of the same version
    proc = push(client, "main", "churn@v1.0.0#7", verify=verify)
    assert proc.returncode != 0
    assert "churn@v1.0.0#7: v1.0.0 of churn is already registered at commit" in proc.stderr
    assert "churn@v1.0.0#7" not in remote_tags(remote)


def test_server_sees_versions_the_client_never_fetched(
    client: Repo, remote: Repo, tmp_path: Path
) -> None:
    other = Repo(tmp_path / "other")
    other.git("remote", "add", "origin", str(remote.path))
    other.git("pull", "-q", "origin", "main")
    other.ok("register", "churn", "--version", "v2.0.0")
    assert push(other, "churn@v2.0.0").returncode == 0
    client.commit()
    client.tag("churn@v2.0.0#4", message="same version, other commit")
    proc = push(client, "main", "churn@v2.0.0#4")  # the client hook cannot know
    assert proc.returncode != 0
    assert "remote: error: churn@v2.0.0#4: v2.0.0 of churn is already registered" in proc.stderr
    assert "churn@v2.0.0#4" not in remote_tags(remote)
    # Re-using the very name is stopped before Git even asks the remote.
    client.git("tag", "-d", "churn@v2.0.0#4")
    client.ok("register", "churn", "--version", "v2.0.0")
    proc = push(client, "churn@v2.0.0")
    assert proc.returncode != 0
    assert "the remote already has this tag, pointing elsewhere" in proc.stderr


def test_second_active_version_on_one_commit_is_refused(client: Repo, remote: Repo) -> None:
    client.ok("register", "churn")
    assert push(client, "churn@v0.0.1").returncode == 0
    result = client.run("register", "churn", "--force")  # the write refuses it too
    assert result.code == 128 and "holds 2 active versions of churn" in result.err
    client.tag("churn@v0.0.2", message="a second version by hand")
    proc = push(client, "churn@v0.0.2")
    assert proc.returncode != 0
    assert "churn@v0.0.2: commit" in proc.stderr
    assert "holds 2 active versions of churn (v0.0.1, v0.0.2)" in proc.stderr
    proc = push(client, "churn@v0.0.2", verify=False)
    assert proc.returncode != 0 and "remote: error: churn@v0.0.2" in proc.stderr


def test_stage_outside_the_allow_list_is_refused(client: Repo, remote: Repo) -> None:
    client.commit(files={".registry.yaml": "stages: [dev, prod]\n"})
    client.ok("register", "churn")
    assert push(client, "main", "churn@v0.0.1").returncode == 0
    client.tag("churn#qa#1", message="by hand")
    proc = push(client, "churn#qa#1")
    assert proc.returncode != 0
    assert "churn#qa#1: stage 'qa' is not allowed by .registry.yaml" in proc.stderr
    assert "hint: add it to 'stages' in .registry.yaml" in proc.stderr


def test_server_policy_comes_from_its_default_branch_not_the_push(
    client: Repo, remote: Repo
) -> None:
    client.commit(files={".registry.yaml": "stages: [dev, prod]\n"})
    client.ok("register", "churn")
    assert push(client, "main", "churn@v0.0.1").returncode == 0
    # The pushed commit widens the policy; the server must still use its own.
    client.commit(files={".registry.yaml": "stages: [dev, prod, qa]\n"})
    client.ok("register", "churn")
    client.ok("promote", "churn", "qa")
    proc = push(client, "main", "churn@v0.0.2", "churn#qa#1", verify=False)
    assert proc.returncode != 0
    assert "remote: error: churn#qa#1: stage 'qa' is not allowed by .registry.yaml" in proc.stderr
    assert remote_tags(remote) == {"churn@v0.0.1"}
    assert "qa" not in git(remote.path, "show", "main:.registry.yaml")


def headless_server(tmp_path: Path, client: Repo) -> Path:
    """A bare repository made by a plain 'git init --bare' of Git < 3 (HEAD names
    master) that received the client's main branch, with the server hooks."""
    path = tmp_path / "plain.git"
    git(tmp_path, "-c", "init.defaultBranch=master", "init", "-q", "--bare", str(path))
    client.git("remote", "add", "origin", str(path))
    client.git("push", "-q", "origin", "main")
    proc = subprocess.run(
        ["git", "registry", "hooks", "install", "--server"],
        cwd=path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (
        "warning: the server's HEAD (refs/heads/master) names no branch, so its policy cannot "
        "be read: registry tags are refused when pushed here\n"
        "hint: point it at the default branch: git symbolic-ref HEAD refs/heads/main\n"
    )
    return path


def test_a_server_whose_head_names_no_branch_refuses_registry_tags(
    tmp_path: Path, repo: Repo
) -> None:
    """Its policy cannot be read: judging without it would let through what check
    reports in every clone. Fail closed, with one finding that says how to fix it."""
    repo.commit("policy", {".registry.yaml": "stages: [dev, prod]\n"})
    server = headless_server(tmp_path, repo)
    repo.ok("register", "churn", "--version", "v1.0.0")
    repo.tag("churn#hax#1")
    proc = push(repo, "--tags")
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("remote: error:")]
    assert errors[-1].startswith("remote: error: git-registry pre-receive hook refused")
    assert "refused this push: 1 problem; nothing was changed" in errors[-1]  # not problem(s)
    assert [e.rstrip() for e in errors[:-1]] == [
        "remote: error: HEAD: the server's HEAD (refs/heads/master) names no branch, so its "
        "policy cannot be read: registry tags are refused"
    ]
    assert (
        "remote: hint: point it at the default branch: git symbolic-ref HEAD refs/heads/main"
        in (proc.stderr)
    )
    assert git(server, "tag") == ""
    # Branches and other tags are not registry data: they pass.
    repo.commit()
    repo.git("tag", "-a", "-m", "a release", "release-1")
    proc = push(repo, "main", "release-1")
    assert proc.returncode == 0, proc.stderr
    # Once HEAD names the default branch, the push is judged by its policy: the hook
    # refuses exactly what check reports.
    git(server, "symbolic-ref", "HEAD", "refs/heads/main")
    proc = push(repo, "--tags")
    assert proc.returncode != 0
    assert "remote: error: churn#hax#1: stage 'hax' is not allowed by .registry.yaml" in (
        proc.stderr
    )
    assert "HEAD" not in proc.stderr
    assert git(server, "tag").split() == ["release-1"]


def test_an_empty_server_judges_its_first_push_without_a_policy(tmp_path: Path, repo: Repo) -> None:
    """An empty repository has no policy yet (its first push brings the branches): the
    hook does not refuse registry tags for a HEAD that names no branch there."""
    path = tmp_path / "empty.git"
    git(tmp_path, "-c", "init.defaultBranch=master", "init", "-q", "--bare", str(path))
    proc = subprocess.run(
        ["git", "registry", "hooks", "install", "--server"],
        cwd=path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    repo.git("remote", "add", "origin", str(path))
    repo.ok("register", "churn")
    proc = push(repo, "main", "churn@v0.0.1")
    assert proc.returncode == 0, proc.stderr


def test_the_headless_hint_names_the_default_branch_when_it_can() -> None:
    main = headless("refs/heads/master", ["refs/heads/dev", "refs/heads/main"])
    assert main.hint == "point it at the default branch: git symbolic-ref HEAD refs/heads/main"
    only = headless("refs/heads/master", ["refs/heads/trunk"])
    assert only.hint == "point it at the default branch: git symbolic-ref HEAD refs/heads/trunk"
    some = headless("refs/heads/master", ["refs/heads/a", "refs/heads/b"])
    assert some.hint == (
        "point it at the default branch: git symbolic-ref HEAD refs/heads/BRANCH (branches: a, b)"
    )
    detached = headless(None, ["refs/heads/a"])
    assert detached.message.startswith("the server's HEAD names no commit, ")


def test_counter_reused_is_refused(client: Repo, remote: Repo) -> None:
    client.ok("register", "churn")
    client.ok("promote", "churn", "prod")
    assert push(client, "churn@v0.0.1", "churn#prod#1").returncode == 0
    client.tag("churn#dev#1", message="reuses #1")
    proc = push(client, "churn#dev#1", verify=False)
    assert proc.returncode != 0
    # Same second, same counter: the tie goes to the name, so the pushed tag sorts first
    # and the existing one is the reuse; the message names both.
    assert (
        "churn#prod#1: counter #1 of churn is already used by tag churn#dev#1 "
        "(with the pushed churn#dev#1)" in proc.stderr
    )


def test_stage_tag_without_a_version_is_refused(client: Repo) -> None:
    client.tag("churn#prod#1", message="no version here")
    proc = push(client, "churn#prod#1")
    assert proc.returncode != 0
    assert "where churn has no registered version" in proc.stderr


def test_tag_of_a_tree_is_refused(client: Repo) -> None:
    tree = client.git("rev-parse", "HEAD^{tree}").strip()
    client.git("tag", "-a", "-m", "tree", "churn@v1.0.0", tree)
    proc = push(client, "churn@v1.0.0")
    assert proc.returncode != 0
    assert "churn@v1.0.0: points at a tree, not a commit" in proc.stderr


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_tag_on_a_commit_with_a_broken_artifacts_yaml_is_refused(
    client: Repo, remote: Repo, verify: bool
) -> None:
    """A tag is judged by the artifacts.yaml that declares its artifact, and by no
    other: a broken x/artifacts.yaml refuses x:seg, not churn (declared in the valid
    root file) nor unrelated (declared nowhere)."""
    commit_unchecked(
        client, {"artifacts.yaml": "churn:\n  type: model\n", "x/artifacts.yaml": "seg: [1\n"}
    )
    for name in ("churn@v1.0.0", "unrelated@v1.0.0", "x=seg@v1.0.0"):
        client.tag(name, message="by hand")
    proc = push(client, "x=seg@v1.0.0", verify=verify)
    assert proc.returncode != 0
    commit = client.git("rev-parse", "--short", "HEAD").strip()
    assert f"x=seg@v1.0.0: x/artifacts.yaml at commit {commit} is invalid: " in proc.stderr
    assert "x/artifacts.yaml:2:1:" in proc.stderr
    assert "hint: fix x/artifacts.yaml in a new commit and tag that one" in proc.stderr
    assert "x=seg@v1.0.0" not in remote_tags(remote)
    proc = push(client, "churn@v1.0.0", "unrelated@v1.0.0", verify=verify)
    assert proc.returncode == 0, proc.stderr
    assert {"churn@v1.0.0", "unrelated@v1.0.0"} <= remote_tags(remote)


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_a_broken_root_artifacts_yaml_refuses_only_plain_names(
    client: Repo, remote: Repo, verify: bool
) -> None:
    commit_unchecked(
        client, {"artifacts.yaml": "churn: [\n", "x/artifacts.yaml": "seg:\n  type: model\n"}
    )
    for name in ("churn@v1.0.0", "x=seg@v1.0.0"):
        client.tag(name, message="by hand")
    proc = push(client, "churn@v1.0.0", verify=verify)
    assert proc.returncode != 0
    assert "churn@v1.0.0: artifacts.yaml at commit" in proc.stderr
    assert push(client, "x=seg@v1.0.0", verify=verify).returncode == 0
    assert remote_tags(remote) == {"x=seg@v1.0.0"}


def test_deleting_a_registry_tag_is_refused_unless_allowed(client: Repo, remote: Repo) -> None:
    client.ok("register", "churn")
    assert push(client, "churn@v0.0.1").returncode == 0
    proc = push(client, ":refs/tags/churn@v0.0.1")
    assert proc.returncode != 0
    assert "deleting a registry tag on the remote is refused" in proc.stderr
    proc = push(client, ":refs/tags/churn@v0.0.1", verify=False)
    assert proc.returncode != 0 and "remote: error: churn@v0.0.1: deleting" in proc.stderr
    assert "churn@v0.0.1" in remote_tags(remote)
    client.git("config", "registry.allowDelete", "true")
    proc = push(client, ":refs/tags/churn@v0.0.1")
    assert proc.returncode != 0  # the server still refuses
    remote.git("config", "registry.allowDelete", "true")
    assert push(client, ":refs/tags/churn@v0.0.1").returncode == 0
    assert "churn@v0.0.1" not in remote_tags(remote)


def test_moving_a_registry_tag_is_refused(client: Repo, remote: Repo) -> None:
    client.ok("register", "churn")
    assert push(client, "churn@v0.0.1").returncode == 0
    client.commit()
    client.git("tag", "-f", "-a", "-m", "moved", "churn@v0.0.1")
    proc = push(client, "--force", "main", "churn@v0.0.1", verify=False)
    assert proc.returncode != 0
    assert "churn@v0.0.1: the remote already has this tag, pointing elsewhere" in proc.stderr


# -- branches ------------------------------------------------------------------------------


@pytest.mark.parametrize("verify", [True, False], ids=["client", "server"])
def test_branch_with_broken_artifacts_yaml_is_refused(
    client: Repo, remote: Repo, verify: bool
) -> None:
    before = git(remote.path, "rev-parse", "main")
    commit_unchecked(client, {"artifacts.yaml": "churn:\n  path: /etc/passwd\n"})
    proc = push(client, "main", verify=verify)
    assert proc.returncode != 0
    assert "main: artifacts.yaml:2:9: artifact 'churn', key 'path'" in proc.stderr
    assert git(remote.path, "rev-parse", "main") == before
    client.commit(files={"artifacts.yaml": "churn:\n  path: models/churn.pkl\n"})
    assert push(client, "main").returncode == 0


def test_branch_with_broken_policy_is_refused(client: Repo) -> None:
    commit_unchecked(client, {".registry.yaml": "stagez: [dev]\n"})
    proc = push(client, "main", verify=False)
    assert proc.returncode != 0
    assert "remote: error: main: .registry.yaml:1:1: unknown key 'stagez'" in proc.stderr


def test_update_hook_checks_one_ref(client: Repo) -> None:
    client.tag("churn@v1.0.0", lightweight=True)
    oid = client.git("rev-parse", "churn@v1.0.0").strip()
    result = client.run("hook", "update", "refs/tags/churn@v1.0.0", ZERO, oid)
    assert result.code == 1 and "lightweight tag" in result.err
    assert client.run("hook", "update", "refs/heads/main", ZERO, oid).code == 0


# -- commit-msg ----------------------------------------------------------------------------


def try_commit(repo: Repo, message: str) -> subprocess.CompletedProcess[str]:
    """``git commit -m MESSAGE`` with the hooks, which may refuse it."""
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_commit_refused_for_a_broken_staged_file_but_not_an_unstaged_edit(client: Repo) -> None:
    path = client.path / "artifacts.yaml"
    path.write_text("churn:\n  labels: [a, a]\n")
    client.git("add", "artifacts.yaml")
    proc = try_commit(client, "bad")
    assert proc.returncode != 0
    assert "artifacts.yaml:2:15: artifact 'churn', key 'labels'" in proc.stderr
    assert client.git("log", "--format=%s", "-1").strip() == "initial"
    # A good staged version with a broken, unstaged edit on top: the commit goes through.
    path.write_text("churn:\n  labels: [a]\n")
    client.git("add", "artifacts.yaml")
    path.write_text("churn: [\n")
    client.git("commit", "-q", "-m", "good")
    assert client.git("show", "HEAD:artifacts.yaml") == "churn:\n  labels: [a]\n"
    assert path.read_text() == "churn: [\n"  # the user's edit is untouched


def test_commit_refused_for_a_broken_staged_policy_and_missing_path(client: Repo) -> None:
    client.path.joinpath(".registry.yaml").write_text("stages: [dev, dev]\n")
    client.path.joinpath("m").mkdir()
    client.path.joinpath("m/artifacts.yaml").write_text(
        "churn:\n  path: model.pkl\n  virtual: false\n"
    )
    client.path.joinpath("m/model.pkl").write_text("weights")  # in the work tree, not staged
    client.git("add", ".registry.yaml", "m/artifacts.yaml")
    proc = try_commit(client, "x")
    assert proc.returncode != 0
    assert ".registry.yaml:1:15: 'stages': 'dev' is listed twice" in proc.stderr
    assert "m/artifacts.yaml:2:9: artifact 'm:churn', key 'path'" in proc.stderr


def test_annotate_commit_goes_through_the_hook(client: Repo) -> None:
    out = client.ok("annotate", "churn", "--type", "model", "--commit")
    assert client.git("show", "HEAD:artifacts.yaml").startswith("churn:")
    assert out


def test_a_file_broken_at_head_refuses_no_commit_that_leaves_it_so(
    client: Repo, remote: Repo
) -> None:
    """A broken models/cv/artifacts.yaml (committed and pushed past the hooks) blocks
    neither a commit nor a branch push that leaves it as it is; a commit or push that
    breaks another file is refused for that file alone."""
    commit_unchecked(client, {"models/cv/artifacts.yaml": "seg: [\n"})
    remote.ok("hooks", "uninstall")  # as if pushed before the server had the hooks
    assert push(client, "main", verify=False).returncode == 0
    remote.ok("hooks", "install", "--server")
    out = client.ok("annotate", "churn", "--type", "model", "--commit")
    assert "Committed artifacts.yaml" in out
    (client.path / "artifacts.yaml").write_text("churn:\n  type: model\nseg:\n")
    client.git("add", "artifacts.yaml")
    assert try_commit(client, "plain git commit").returncode == 0
    for verify in (True, False):  # the client's hook, then the server's
        client.commit(files={"data.txt": f"more {verify}\n"})
        proc = push(client, "main", verify=verify)
        assert proc.returncode == 0, proc.stderr
    # Breaking the root file: refused, for the root file's problem only.
    (client.path / "artifacts.yaml").write_text("churn:\n  typ: model\n")
    client.git("add", "artifacts.yaml")
    proc = try_commit(client, "worse")
    assert proc.returncode != 0
    assert "error: artifacts.yaml:2:3: artifact 'churn', key 'typ': unknown key" in proc.stderr
    assert "models/cv" not in proc.stderr
    assert "refused the commit: 1 problem in the staged files" in proc.stderr
    client.git("commit", "-q", "--no-verify", "-m", "worse")
    for verify in (True, False):
        proc = push(client, "main", verify=verify)
        assert proc.returncode != 0
        assert "main: artifacts.yaml:2:3: artifact 'churn', key 'typ'" in proc.stderr
        assert "models/cv" not in proc.stderr
        assert "1 problem;" in proc.stderr


# -- a real network remote -----------------------------------------------------------------


def test_server_hook_over_git_daemon(client: Repo, remote: Repo, daemon: str) -> None:
    client.git("remote", "set-url", "origin", daemon)
    client.ok("register", "churn")
    assert push(client, "churn@v0.0.1").returncode == 0
    client.tag("churn@1.0.0", lightweight=True)
    proc = push(client, "churn@1.0.0", verify=False)
    assert proc.returncode != 0
    assert "did you mean churn@v1.0.0?" in proc.stderr
    assert remote_tags(remote) == {"churn@v0.0.1"}


def test_check_reports_malformed_tags_of_known_artifacts(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.tag("churn@v01.0.0", message="bad version")
    repo.tag("churn@1.0.0", message="no v")
    repo.tag("other@1.0.0", message="unknown artifact: not ours")
    result = repo.run("check")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == (
        "churn@1.0.0: '1.0.0' is not a version "
        "(versions are v + SemVer: did you mean churn@v1.0.0?)"
    )
    assert lines[1].startswith("churn@v01.0.0: not a valid registry tag of churn")
    assert len(lines) == 2


def test_commit_refused_for_a_staged_link(client: Repo) -> None:
    (client.path / "models.yaml").write_text("churn:\n  type: model\n")
    (client.path / "artifacts.yaml").symlink_to("models.yaml")
    client.git("add", "-A")
    proc = try_commit(client, "link")
    assert proc.returncode != 0
    assert "artifacts.yaml:1:1: is a symbolic link" in proc.stderr
    assert client.git("log", "--format=%s", "-1").strip() == "initial"


def test_commit_refused_for_a_staged_policy_link(client: Repo) -> None:
    (client.path / "policy.yaml").write_text("stages: [prod]\n")
    (client.path / ".registry.yaml").symlink_to("policy.yaml")
    client.git("add", "-A")
    proc = try_commit(client, "linked policy")
    assert proc.returncode != 0
    assert ".registry.yaml:1:1: is a symbolic link" in proc.stderr
