"""A bounded fuzzer: hostile tag objects, artifacts.yaml and policy files, and command
lines, against every command (issue: hostile input and faults).

For every command run, whatever the repository holds: no traceback, an exit code in
{0, 1, 128, 129}, the refs unchanged when the command failed, and no raw control or
line-break character from the data in what it prints. The number of examples is
fixed (``FUZZ_EXAMPLES``, default 60 per test), which bounds the work: a few
minutes on a 2-core machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_registry.commands.demo import build_demo

from conftest import Repo

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: a CI failure can be replayed
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXIT_CODES = {0, 1, 128, 129}
# Raw controls and line breaks other than the newline that ends a line: never printed
# (a terminal or a CI log would read them as commands).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u2028\u2029]")

WORDS = [
    "churn",
    "segment",
    "cv-class",
    "models:seg",
    "ghost",
    "churn@v3.0.0",
    "churn@v3.1.0",
    "churn@latest",
    "churn#prod",
    "churn#prod#2",
    "churn@v9.9.9",
    "prod",
    "staging",
    "dev",
    "qa",
    "v1.0.0",
    "v3.1.0",
    "HEAD",
    "HEAD~1",
    "refs/tags/churn@v3.0.0",
    "-x",
    "--upload-pack=touch PWNED",
    "../outside",
    "a\nb",
    "\x1b]0;title\x07",
    "::error::forged",
    "é\u2028",
    "9" * 300,
    "",
]
COMMANDS = [
    ["show"],
    ["show", "--json"],
    ["show", "--all", "--all-versions"],
    ["show", "W"],
    ["show", "W", "--json"],
    ["history"],
    ["history", "W", "--json"],
    ["which", "W", "W"],
    ["latest", "W", "--json"],
    ["check"],
    ["check", "--json"],
    ["check-ref", "W"],
    ["check-ref", "W", "--json"],
    ["check-ref", "W", "--format", "env"],
    ["check-ref", "W", "--format", "dotenv"],
    ["check-ref", "W", "--verify"],
    ["describe", "W"],
    ["get", "W", "--print-url"],  # never a download: no network in tests
    ["get", "W", "--print-url", "--json", "--all"],
    ["stages"],
    ["register", "W", "--version", "W"],
    ["register", "W", "W"],
    ["promote", "W", "W"],
    ["promote", "W", "W", "--ref", "W"],
    ["unassign", "W", "W"],
    ["deregister", "W"],
    ["deprecate", "W"],
    ["deregister", "W", "--delete"],
    ["annotate", "W", "--label", "W", "--path", "W"],
    ["remove", "W"],
]

_base: Path | None = None


def base_repo() -> Path:
    """The demo registry, built once per test session and copied for every example."""
    global _base
    if _base is None:
        top = Path(tempfile.mkdtemp(prefix="registry-fuzz-"))
        build_demo(str(top / "demo"), dict(os.environ))
        _base = top / "demo"
    return _base


@pytest.fixture
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def copy_of_demo(where: Path) -> Repo:
    target = Path(tempfile.mkdtemp(dir=where)) / "repo"
    shutil.copytree(base_repo(), target, symlinks=True)
    repo = Repo.__new__(Repo)
    repo.path = target
    repo._n = 100
    return repo


def refs(repo: Repo) -> str:
    return repo.git("for-each-ref", "--format=%(refname) %(objectname)")


def run_checked(repo: Repo, args: list[str]) -> None:
    before = refs(repo)
    result = repo.run(*args)  # an uncaught exception (a traceback) fails the test here
    assert result.code in EXIT_CODES, (args, result)
    if result.code != 0:
        assert refs(repo) == before, (args, result.err)
    for text in (result.out, result.err):
        found = RAW.search(text)
        assert found is None, (args, repr(found.group()), text[-500:])
    assert not any(line.startswith("::") for line in result.err.splitlines()), result.err


command_lines = st.lists(
    st.tuples(st.sampled_from(COMMANDS), st.lists(st.sampled_from(WORDS), min_size=4)),
    min_size=1,
    max_size=3,
).map(lambda picks: [[w if a == "W" else a for a, w in zip_words(c, ws)] for c, ws in picks])


def zip_words(command: list[str], words: list[str]) -> list[tuple[str, str]]:
    it = iter(words * 2)
    return [(a, next(it) if a == "W" else a) for a in command]


# -- tag objects ---------------------------------------------------------------------

HEADER_LINES = st.sampled_from(
    [
        "object {commit}",
        "object {commit}",
        "object {other}",
        "object 0123",
        "type commit",
        "type tree",
        "type tag",
        "tag {name}",
        "tagger A U Thor <a@u> 1700000000 +0000",
        "tagger A U Thor <a@u> 99999999999999 +0000",
        "tagger A U Thor <a@u> 1700000000 +9959",
        "tagger A U Thor <a@u> 1700000000 -2400",
        "tagger A U Thor <a@u> -5 +0000",
        "tagger Mallory <m@x> <n@y> 1700000000 +0000",
        "tagger \x1b]0;pwn\x07 <m@x> 1700000000 +0000",
        "tagger A <a@u>",
        "gpgsig -----BEGIN PGP SIGNATURE-----",
        "encoding latin-1",
        "",
    ]
)
TAG_NAMES = st.sampled_from(
    [
        "churn@v9.0.0",
        "churn#prod#9",
        "churn#prod!#10",
        "churn@v3.0.0!#11",
        "churn@deprecated#12",
        "segment@v0.4.1#3",
        "churn#prod#" + "9" * 240,
        "ghost@v1.0.0",
        "churn@1.0.0",
    ]
)


@FUZZ
@given(
    header=st.lists(HEADER_LINES, min_size=0, max_size=7),
    body=st.text(max_size=60),
    name=TAG_NAMES,
    commands=command_lines,
)
def test_hostile_tag_objects(
    fresh: Path, header: list[str], body: str, name: str, commands: list[list[str]]
) -> None:
    repo = copy_of_demo(fresh)
    commit = repo.git("rev-parse", "HEAD~2").strip()
    other = repo.git("rev-parse", "HEAD").strip()
    text = "\n".join(line.format(commit=commit, other=other, name=name) for line in header)
    data = (text + "\n\n" + body).encode("utf-8", "surrogateescape")
    proc = subprocess.run(
        ["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"],
        cwd=repo.path,
        input=data,
        capture_output=True,
        check=True,
    )
    oid = proc.stdout.decode().strip()
    made = subprocess.run(
        ["git", "update-ref", f"refs/tags/{name}", oid], cwd=repo.path, capture_output=True
    )
    if made.returncode != 0:  # a name too long for a file: put it in packed-refs
        with open(repo.path / ".git" / "packed-refs", "a") as f:
            f.write(f"{oid} refs/tags/{name}\n")
    for args in commands:
        run_checked(repo, args)


# -- files ---------------------------------------------------------------------------

YAML_PIECES = st.sampled_from(
    [
        "churn:\n  path: x\n",
        "churn:\n  type: model\n  labels: [a, b]\n",
        'churn:\n  path: "x\\n::stop-commands::tok\\n::error file=a::forged\\n"\n',
        'churn:\n  labels: ["\\e]0;title\\a"]\n',
        'churn:\n  description: "\\x00\\x0b\\x0c\\u0085\\u2028"\n',
        "churn:\n  virtual: maybe\n",
        "churn: [\n",
        "a: &a [*a]\n",
        "x: !!python/object:os.system [id]\n",
        "\ufeffchurn:\r\n  path: y\r\n",
        "models:seg: {}\n",
        "- 1\n- 2\n",
        "churn:\n  custom: {k: [1, {z: null}]}\n",
        "",
    ]
)
POLICY_PIECES = st.sampled_from(
    [
        "stages: [dev, prod]\n",
        "types: [model]\n",
        "stages: [dev\n",
        'stages: ["\\e[31mred"]\n',
        "STAGES: [qa]\n",
        "promotion: {}\n",
        "",
    ]
)


@FUZZ
@given(
    annotations=st.lists(YAML_PIECES, max_size=3),
    policy=st.one_of(st.none(), st.lists(POLICY_PIECES, max_size=2)),
    commands=command_lines,
)
def test_hostile_files(
    fresh: Path, annotations: list[str], policy: list[str] | None, commands: list[list[str]]
) -> None:
    repo = copy_of_demo(fresh)
    files = {"artifacts.yaml": "".join(annotations)}
    if policy is not None:
        files[".registry.yaml"] = "".join(policy)
    for path, text in files.items():
        (repo.path / path).write_text(text, encoding="utf-8", newline="")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "hostile files")
    for args in commands:
        run_checked(repo, args)
