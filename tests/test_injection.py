"""No value reaches ``git`` where it reads options: remotes, URLs, refs and tag names
from the command line, Git config or a remote are data, never ``--upload-pack=CMD``;
and the ``ext::`` transport never runs a command. Real ``git``, real remotes; each
attack is checked by its effect (a marker file that must not appear)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from git_registry import transport
from git_registry.errors import EXIT_FATAL, RegistryError

from conftest import Repo, Result


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """The file an injected command would create."""
    return tmp_path / "PWNED"


def hostile(marker: Path) -> list[str]:
    """Remotes that Git would read as options (each would create ``marker``)."""
    return [
        f"--upload-pack=touch {marker};",
        f"--receive-pack=touch {marker};",
        f"-oProxyCommand=touch {marker}",
        f"--exec=touch {marker};",
    ]


def registry(repo: Repo, *args: str, config: str | None = None, **env: str) -> Result:
    """``git [-c CONFIG] registry ARGS`` as a user runs it (the reproduction's form)."""
    proc = subprocess.run(
        ["git", *(["-c", config] if config else []), "registry", *args],
        cwd=repo.path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_refused(result: Result, marker: Path, code: int = EXIT_FATAL) -> str:
    """Nothing ran: the exit code, one ``fatal:``/``error:`` line, no traceback, no marker."""
    assert not marker.exists(), "an injected command ran"
    assert result.code == code, f"exit {result.code}\n{result.out}\n{result.err}"
    assert "Traceback" not in result.err
    lines = [ln for ln in result.err.splitlines() if ln.startswith(("fatal:", "error:"))]
    assert len(lines) == 1, result.err
    return lines[0]


def allow_ext_everywhere(repo: Repo, marker: Path) -> str:
    """A user whose global config allows ``ext::``; return an ``ext::`` URL that would
    create ``marker``, after proving that plain ``git`` does run it here."""
    repo.git("config", "--global", "protocol.ext.allow", "always")
    url = f"ext::sh -c touch% {marker}"
    repo.git("ls-remote", url, check=False)
    assert marker.exists(), "the setup must be exploitable through plain git"
    marker.unlink()
    return url


# -- the reproduction -------------------------------------------------------------------


def test_reproduction_show_remote(repo: Repo, remote: Repo, marker: Path) -> None:
    result = registry(repo, "show", "--remote", f"--upload-pack=touch {marker};")
    line = assert_refused(result, marker)
    assert line.startswith("fatal: refusing --remote '--upload-pack=touch ")
    assert "cannot start with '-'" in line
    assert "hint: " in result.err


def test_reproduction_check_ref_fetch(repo: Repo, remote: Repo, marker: Path) -> None:
    repo.ok("register", "churn")
    result = registry(
        repo,
        "check-ref",
        "churn@v0.0.1",
        "--fetch",
        config=f"registry.remote=--upload-pack=touch {marker};",
    )
    line = assert_refused(result, marker)
    assert line.startswith("fatal: refusing registry.remote '--upload-pack=touch ")


# -- --remote on the read commands ------------------------------------------------------


READS = [
    ["show"],
    ["show", "churn"],
    ["history"],
    ["which", "churn", "prod"],
    ["latest", "churn"],
]


@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_remote_option_is_never_an_option(
    repo: Repo, remote: Repo, marker: Path, command: list[str]
) -> None:
    for value in hostile(marker):
        line = assert_refused(repo.run(*command, f"--remote={value}"), marker)
        assert line.startswith("fatal: refusing --remote '-")
        # The second --remote is refused as well, before the first is read.
        result = repo.run(*command, "--remote", str(remote.path), f"--remote={value}")
        assert_refused(result, marker)
    assert not (repo.path.parent / "home" / ".cache" / "git-registry").exists()


def test_remote_option_as_a_separate_word(repo: Repo, remote: Repo, marker: Path) -> None:
    # As in Git, an option that takes a value takes the next word, '-' or not: the value
    # is then refused as a remote, never read as an option.
    assert_refused(repo.run("show", "--remote", f"--upload-pack=touch {marker};"), marker)
    assert_refused(repo.run("show", "--remote", "--output=x"), marker)


def test_configured_remote_with_a_dash_url(repo: Repo, marker: Path) -> None:
    repo.git("config", "remote.bad.url", f"--upload-pack=touch {marker};")
    line = assert_refused(repo.run("show", "--remote", "bad"), marker)
    assert line.startswith("fatal: refusing the URL of remote 'bad' '--upload-pack=")


def test_remote_value_with_a_line_break_stays_one_line(repo: Repo, marker: Path) -> None:
    line = assert_refused(repo.run("history", "--remote=-x\nfatal: forged"), marker)
    assert "'-x\\nfatal: forged'" in line


def test_ext_remote_never_runs(repo: Repo, remote: Repo, marker: Path) -> None:
    url = allow_ext_everywhere(repo, marker)
    for env in ({}, {"GIT_ALLOW_PROTOCOL": "ext:file"}):
        result = registry(repo, "show", "--remote", url, **env)
        line = assert_refused(result, marker)
        assert line.startswith("fatal: could not read from remote 'ext::")
        assert line.endswith("': transport 'ext' not allowed")


def test_allowed_protocols_other_than_ext_still_work(repo: Repo, remote: Repo) -> None:
    repo.ok("register", "churn", "--push")
    result = registry(
        repo, "latest", "churn", "--remote", f"file://{remote.path}", GIT_ALLOW_PROTOCOL="ext:file"
    )
    assert result.code == 0, result.err
    assert result.out == "v0.0.1\n"


def test_relative_cache_home_is_ignored(repo: Repo, remote: Repo, tmp_path: Path) -> None:
    repo.ok("register", "churn", "--push")
    result = registry(repo, "latest", "churn", "--remote", "origin", XDG_CACHE_HOME="-x")
    assert result.code == 0, result.err
    assert not (repo.path / "-x").exists()
    assert (tmp_path / "home" / ".cache" / "git-registry" / "remotes").is_dir()


# -- registry.remote: check-ref --fetch, writes with --push, fetch, push ----------------


def _setup_for_writes(repo: Repo) -> None:
    repo.ok("register", "churn")
    repo.ok("promote", "churn", "prod")
    repo.commit()  # a commit without a version, for register


WRITES = [
    ["check-ref", "churn@v0.0.1", "--fetch"],
    ["fetch"],
    ["fetch", "churn"],
    ["push"],
    ["push", "churn"],
    ["push", "--renumber"],
    ["register", "churn", "--push"],
    ["register", "churn"],
    ["promote", "churn", "dev", "--push"],
    ["unassign", "churn", "prod", "--delete", "--push"],
    ["deregister", "churn@v0.0.1", "--delete"],
    ["deprecate", "churn", "--delete", "--dry-run"],
    ["deprecate", "churn", "--push"],
    ["annotate", "churn", "--path", "m.pt", "--commit", "--push"],
]


@pytest.mark.parametrize("command", WRITES, ids=" ".join)
def test_registry_remote_is_never_an_option(
    repo: Repo, remote: Repo, marker: Path, command: list[str]
) -> None:
    _setup_for_writes(repo)
    before = repo.git("for-each-ref", "--format=%(refname) %(objectname)")
    head = repo.git("rev-parse", "HEAD")
    for value in hostile(marker):
        repo.git("config", "registry.remote", value)
        line = assert_refused(repo.run(*command), marker)
        assert line.startswith("fatal: refusing registry.remote '-"), line
    # Refused before anything was written: no tag, no commit, no file.
    assert repo.git("for-each-ref", "--format=%(refname) %(objectname)") == before
    assert repo.git("rev-parse", "HEAD") == head
    assert not (repo.path / "artifacts.yaml").exists()
    assert remote.git("for-each-ref", "refs/tags") == ""


@pytest.mark.parametrize("command", WRITES, ids=" ".join)
def test_ext_registry_remote_never_runs(
    repo: Repo, remote: Repo, marker: Path, command: list[str]
) -> None:
    _setup_for_writes(repo)
    repo.git("remote", "add", "evil", allow_ext_everywhere(repo, marker))
    repo.git("config", "registry.remote", "evil")
    result = registry(repo, *command, GIT_ALLOW_PROTOCOL="ext:file")
    assert not marker.exists()
    assert "Traceback" not in result.err
    if command == ["register", "churn"]:  # nothing to reach: the hint names evil
        assert result.code == 0 and "    git push evil churn@v0.0.2\n" in result.out
        return
    if "--delete" in command and "--push" not in command:  # evil is only asked what it has
        assert result.code == 0, result.err
        assert "warning: cannot tell whether evil has the tags" in result.err
        assert "transport 'ext' not allowed" in result.err
        return
    assert result.code in (1, EXIT_FATAL), result.err
    assert "transport 'ext' not allowed" in result.err


# -- fetch and push: the REMOTE word ----------------------------------------------------


@pytest.mark.parametrize("command", ["fetch", "push"])
def test_remote_word_is_never_an_option(
    repo: Repo, remote: Repo, marker: Path, command: str
) -> None:
    repo.ok("register", "churn")
    for value in [*hostile(marker), f"-oProxyCommand=touch {marker}@host:repo"]:
        line = assert_refused(repo.run(command, "--", value), marker)
        assert line.startswith("fatal: refusing remote '-"), line
        assert_refused(repo.run(command, "--", value, "churn"), marker)
    assert remote.git("for-each-ref", "refs/tags") == ""


@pytest.mark.parametrize("command", ["fetch", "push"])
def test_ssh_host_that_is_an_option_is_blocked(
    repo: Repo, remote: Repo, marker: Path, command: str
) -> None:
    repo.ok("register", "churn")
    url = f"ssh://-oProxyCommand=touch%20{marker}/repo"
    line = assert_refused(repo.run(command, url), marker)
    assert "strange hostname" in line


def test_remote_named_with_a_dash_is_refused(repo: Repo, remote: Repo, marker: Path) -> None:
    # Git lets a remote be called '-x' (git remote add -- -x URL); we do not pass it on.
    repo.git("remote", "add", "--", "-x", str(remote.path))
    repo.ok("register", "churn")
    assert_refused(repo.run("push", "--", "-x"), marker)
    assert_refused(repo.run("latest", "churn", "--remote=-x"), marker)
    assert remote.git("for-each-ref", "refs/tags") == ""
    # Nor is it named in a command we print for the user to run.
    repo.git("config", "registry.remote", "-x")
    before = repo.git("for-each-ref", "--format=%(refname) %(objectname)")
    for args in (["deregister", "churn@v0.0.1", "--delete"], ["register", "churn"]):
        line = assert_refused(repo.run(*args), marker)
        assert line.startswith("fatal: refusing registry.remote '-x'"), line
    assert repo.git("for-each-ref", "--format=%(refname) %(objectname)") == before


def test_a_configured_url_that_is_an_option_is_refused(
    repo: Repo, remote: Repo, marker: Path
) -> None:
    """A remote whose URL Git would read as an option is refused in every path that
    reaches it: reads, fetch, push, the remote check of a deletion, --push."""
    repo.ok("register", "churn")
    for url in hostile(marker):
        repo.git("remote", "remove", "origin", check=False)
        repo.git("remote", "add", "--", "origin", url)
        before = repo.git("for-each-ref", "--format=%(refname) %(objectname)")
        for args in (
            ["show", "--remote", "origin"],
            ["fetch"],
            ["push"],
            ["promote", "churn", "prod", "--push"],
            ["deregister", "churn@v0.0.1", "--delete"],
            ["deregister", "churn@v0.0.1", "--delete", "--push"],
        ):
            line = assert_refused(repo.run(*args), marker)
            assert "the URL of remote 'origin'" in line and "cannot start with '-'" in line, line
        assert repo.git("for-each-ref", "--format=%(refname) %(objectname)") == before


# -- refs and tag names -----------------------------------------------------------------


def test_ref_argument_is_never_an_option(repo: Repo, tmp_path: Path, marker: Path) -> None:
    out = tmp_path / "file"
    for args in (
        ["register", "churn", "--", f"--output={out}"],
        ["promote", "churn", "prod", f"--ref=--output={out}"],
        ["register", "churn", "--", f"--upload-pack=touch {marker};"],
    ):
        line = assert_refused(repo.run(*args), marker)
        assert "does not name a commit" in line, line
    # Without '--', argparse reads it as an unknown option: a usage error.
    assert_refused(repo.run("register", "churn", f"--output={out}"), marker, code=129)
    assert not out.exists()
    assert repo.tags() == {}


@pytest.mark.parametrize("fetch", [[], ["--fetch"]])
def test_check_ref_value_is_never_an_option(
    repo: Repo, remote: Repo, tmp_path: Path, marker: Path, fetch: list[str]
) -> None:
    out = tmp_path / "file"
    for value in (f"--output={out}", f"--upload-pack=touch {marker};"):
        # Not a registry tag: a lookup that found nothing (SPEC 6), exit 1.
        line = assert_refused(repo.run("check-ref", *fetch, "--", value), marker, code=1)
        assert line == f"error: '{value}' is not a registry tag"
    assert not out.exists()


def test_tag_names_that_start_with_a_dash_are_data(repo: Repo, remote: Repo) -> None:
    # A folder may start with '-' (grammar: dirname), so a registry tag may too: it is
    # created, pushed, printed, fetched and checked as a tag, never read as an option.
    out = repo.ok("register", "--", "-x:model")
    assert "    git push origin refs/tags/-x=model@v0.0.1\n" in out
    out = repo.ok("promote", "--push", "--", "-x:model", "prod")
    assert "Pushed -x=model#prod#1" in out
    repo.ok("push", "--", "-x:model")
    tags = remote.git("for-each-ref", "--format=%(refname)", "refs/tags").split()
    assert tags == ["refs/tags/-x=model#prod#1", "refs/tags/-x=model@v0.0.1"]
    repo.git("tag", "-d", "--", "-x=model#prod#1", "-x=model@v0.0.1")
    out = repo.ok("fetch", "--", "-x:model")
    assert "Fetched registry tags of -x:model from origin: 2 new" in out
    out = repo.ok("check-ref", "--fetch", "--", "-x=model#prod#1")
    assert out.startswith("-x=model#prod#1: ")
    out = repo.ok("unassign", "--delete", "--push", "--", "-x:model", "prod")
    assert "git push --atomic origin --delete 'refs/tags/-x=model#prod#1'" in out
    assert remote.git("for-each-ref", "--format=%(refname)", "refs/tags").split() == [
        "refs/tags/-x=model@v0.0.1"
    ]


def test_printed_commands_keep_dash_names_as_data(repo: Repo, remote: Repo) -> None:
    """The commands we print for the user to copy do what they say when run."""
    out = repo.ok("register", "--", "-x:model")
    command = out.split("To publish, run:\n    ", 1)[1].splitlines()[0]
    subprocess.run(shlex.split(command), cwd=repo.path, check=True, capture_output=True)
    assert remote.git("for-each-ref", "--format=%(refname)", "refs/tags") == (
        "refs/tags/-x=model@v0.0.1\n"
    )
    # 'git tag' refuses such a name, update-ref does not: a lightweight tag takes v0.0.1.
    repo.git("update-ref", "refs/tags/-y=model@v0.0.1", "HEAD")
    out = repo.ok("register", "--", "-y:model")
    command = out.split("To publish, run:\n    ", 1)[1].splitlines()[0]
    assert command == "git push origin 'refs/tags/-y=model@v0.0.1#1'"
    subprocess.run(shlex.split(command), cwd=repo.path, check=True, capture_output=True)
    assert "refs/tags/-y=model@v0.0.1#1\n" in remote.git("for-each-ref", "refs/tags")


# -- what our git layer runs ------------------------------------------------------------


def _traced(repo: Repo, trace: Path, *args: str) -> list[list[str]]:
    """``git registry ARGS`` with GIT_TRACE: every git command line that ran."""
    trace.unlink(missing_ok=True)
    result = registry(repo, *args, GIT_TRACE=str(trace))
    assert result.code == 0, result.err
    lines = trace.read_text().splitlines()
    return [
        shlex.split(line.split("trace: built-in: ", 1)[1])
        for line in lines
        if "trace: built-in: " in line
    ]


def test_every_value_comes_after_end_of_options(repo: Repo, remote: Repo, tmp_path: Path) -> None:
    """GIT_TRACE shows each ``git`` command line as Git parsed it: in every command that
    takes a remote, a ref or a tag name from us, those come after --end-of-options."""
    trace = tmp_path / "trace"
    ran = []
    ran += _traced(repo, trace, "register", "--push", "--", "-x:model", "HEAD")
    ran += _traced(repo, trace, "promote", "--ref", "HEAD", "--", "-x:model", "prod")
    ran += _traced(repo, trace, "push", "origin")
    ran += _traced(repo, trace, "fetch", "origin")
    ran += _traced(repo, trace, "check-ref", "--fetch", "--", "-x=model#prod#1")
    ran += _traced(repo, trace, "show")  # every artifacts.yaml at HEAD: ls-tree
    ran += _traced(repo, trace, "show", "--remote", "origin")
    ran += _traced(repo, trace, "show", "--remote", str(remote.path))
    ran += _traced(repo, trace, "unassign", "--delete", "--push", "--", "-x:model", "prod")
    # Tags are created and deleted by 'update-ref --stdin -z' (one transaction): the refs
    # are data on its standard input, never arguments, so it has nothing to check here.
    checked = {"ls-remote", "fetch", "push", "ls-tree", "remote", "rev-parse"}
    seen = set()
    for argv in ran:
        command = argv[1]
        if command not in checked or all(a.startswith("-") for a in argv[2:]):
            continue  # not ours, or no value at all ('git remote', 'rev-parse --git-dir')
        seen.add(command)
        assert "--end-of-options" in argv, argv
        options = argv[2 : argv.index("--end-of-options")]
        if command == "remote":
            assert options[0] == "get-url"
            options = options[1:]
        assert all(a.startswith("-") for a in options), argv  # only our literal options
    assert seen == checked  # each kind of command line was seen, and checked


# -- the one check ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["origin", "https://example.com/r.git", "./-x", "/srv/-x"])
def test_check_remote_accepts(value: str) -> None:
    assert transport.check_remote(value) == value


@pytest.mark.parametrize("value", ["-", "-x", "--upload-pack=x", "--", "-oProxyCommand=x"])
def test_check_remote_refuses(value: str) -> None:
    with pytest.raises(RegistryError) as info:
        transport.check_remote(value, source="registry.remote")
    assert info.value.exit_code == EXIT_FATAL
    assert info.value.message.startswith(f"refusing registry.remote '{value}'")
    assert info.value.hint


def test_tag_word() -> None:
    assert transport.tag_word("churn@v1.0.0") == "churn@v1.0.0"
    assert transport.tag_word("-x=model@v1.0.0") == "refs/tags/-x=model@v1.0.0"


def test_a_pre_push_remote_named_like_an_option_does_not_stop_the_push(repo: Repo) -> None:
    """Git passes the pre-push hook the remote's name and URL; a remote named '-x' is
    data (the refs come on stdin), never a usage error that blocks every push."""
    proc = subprocess.run(
        ["git", "registry", "hook", "pre-push", "-x", "/some/url"],
        cwd=repo.path,
        input="",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
