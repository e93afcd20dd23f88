"""``git registry get``: a version's file or folder from its commit, DVC, http(s), and the
storage providers' tools, written beside PATH and renamed into place.

Repositories are real (``git``); the HTTP server is a real local ``http.server``; the
tools that are not part of the project (``aws``, ``gcloud``, ``gsutil``, ``az``,
``dvc``) are small real programs on ``PATH`` that record their arguments."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from git_registry.annotations import parse
from git_registry.cli import main

from conftest import Repo, fails, make_registry

ROOT = Path(__file__).resolve().parent.parent


def committed(repo: Repo, files: dict[str, str], message: str = "files") -> str:
    return repo.commit(message, files=files)


def leftovers(folder: Path) -> list[str]:
    """Temporary names get left behind in ``folder`` (there must be none)."""
    return sorted(p.name for p in folder.iterdir() if ".get-" in p.name)


def ok(repo: Repo, *args: str, cwd: Path | None = None) -> str:
    """Run in ``cwd``, expect exit 0 and a clean stderr; return stdout."""
    result = repo.run(*args, cwd=cwd)
    assert (result.code, result.err) == (0, ""), result
    return result.out


@pytest.fixture
def out(repo: Repo) -> Path:
    """An empty folder in the repository's work tree (ignored by Git) to run in."""
    folder = repo.path / "out"
    folder.mkdir()
    with open(repo.path / ".git" / "info" / "exclude", "a") as f:
        f.write("/out/\n")
    return folder


@pytest.fixture
def versions(repo: Repo) -> Repo:
    """churn v1.0.0 (prod) holding models/churn.pt 'one'; v2.0.0 'two' at HEAD, whose
    work tree says 'dirty' (never read)."""
    committed(
        repo, {"artifacts.yaml": "churn:\n  path: models/churn.pt\n", "models/churn.pt": "one"}
    )
    make_registry(repo, "churn@v1.0.0 churn#prod#1")
    committed(repo, {"models/churn.pt": "two"})
    make_registry(repo, "churn@v2.0.0")
    (repo.path / "models" / "churn.pt").write_text("dirty")
    return repo


# -- a path of the repository -------------------------------------------------------------


def test_gets_the_file_of_the_versions_commit_not_the_work_tree(versions: Repo, out: Path) -> None:
    assert ok(versions, "get", "churn", cwd=out) == "churn.pt\n"
    assert (out / "churn.pt").read_text() == "two"
    assert versions.run("get", "churn@v1.0.0", "-o", "v1.pt", cwd=out).out == "v1.pt\n"
    assert (out / "v1.pt").read_text() == "one"
    assert ok(versions, "get", "churn#prod", "-o", "prod.pt", cwd=out) == "prod.pt\n"
    assert (out / "prod.pt").read_text() == "one"
    assert ok(versions, "get", "churn@latest", "-o", "latest.pt", cwd=out) == "latest.pt\n"
    assert (out / "latest.pt").read_text() == "two"
    assert leftovers(out) == []


def test_the_path_is_read_from_the_versions_own_artifacts_yaml(repo: Repo, out: Path) -> None:
    committed(repo, {"artifacts.yaml": "churn:\n  path: a.bin\n", "a.bin": "A"})
    make_registry(repo, "churn@v1.0.0")
    committed(repo, {"artifacts.yaml": "churn:\n  path: b.bin\n", "b.bin": "B"})
    make_registry(repo, "churn@v2.0.0")
    assert ok(repo, "get", "churn@v1.0.0", cwd=out) == "a.bin\n"
    assert ok(repo, "get", "churn", cwd=out) == "b.bin\n"
    assert (out / "a.bin").read_text() == "A" and (out / "b.bin").read_text() == "B"


def test_a_folder_is_written_with_its_bytes_and_modes(repo: Repo, out: Path) -> None:
    files = {
        "artifacts.yaml": "seg:\n  path: model\n",
        "model/weights.bin": "\x00\x01binary",
        "model/run.sh": "#!/bin/sh\necho hi\n",
        "model/deep/er/config.json": "{}",
    }
    committed(repo, files)
    (repo.path / "model" / "run.sh").chmod(0o755)
    os.symlink("deep/er/config.json", repo.path / "model" / "config")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "exec and link")
    make_registry(repo, "seg@v1.0.0")
    (repo.path / "model" / "weights.bin").write_text("dirty")
    assert ok(repo, "get", "seg", "-o", "m", cwd=out) == "m\n"
    got = out / "m"
    assert (got / "weights.bin").read_bytes() == b"\x00\x01binary"
    assert (got / "deep" / "er" / "config.json").read_text() == "{}"
    assert os.readlink(got / "config") == "deep/er/config.json"
    assert os.access(got / "run.sh", os.X_OK)
    assert not os.access(got / "weights.bin", os.X_OK)
    # What Git recorded, cross-checked with git ls-tree: every file and its mode.
    listed = repo.git("ls-tree", "-r", "HEAD", "--", "model").splitlines()
    written = {}
    for line in listed:
        meta, name = line.split("\t")
        written[name.removeprefix("model/")] = meta.split()[0]
    on_disk = {}
    for path in got.rglob("*"):
        rel = path.relative_to(got).as_posix()
        if path.is_symlink():
            on_disk[rel] = "120000"
        elif path.is_file():
            on_disk[rel] = "100755" if os.access(path, os.X_OK) else "100644"
    assert on_disk == written


def test_a_folders_artifact_path_is_relative_to_its_artifacts_yaml(repo: Repo, out: Path) -> None:
    committed(
        repo,
        {
            "models/cv/artifacts.yaml": "seg:\n  path: weights/seg.pt\n",
            "models/cv/weights/seg.pt": "seg weights",
        },
    )
    ok(repo, "register", "models/cv:seg")
    assert ok(repo, "get", "models/cv:seg", cwd=out) == "seg.pt\n"
    assert (out / "seg.pt").read_text() == "seg weights"
    doc = json.loads(ok(repo, "get", "models/cv:seg", "--print-url", "--json", cwd=out))
    commit = repo.git("rev-parse", "HEAD").strip()
    assert doc == {
        "artifact": "models/cv:seg",
        "version": "v0.0.1",
        "commit": commit,
        "source": f"{commit}:models/cv/weights/seg.pt",
        "kind": "git",
        "path": "seg.pt",
    }


def test_json_says_what_was_written(versions: Repo, out: Path) -> None:
    doc = json.loads(ok(versions, "get", "churn#prod", "--json", cwd=out))
    commit = versions.git("rev-parse", "churn@v1.0.0^{commit}").strip()
    assert doc == {
        "artifact": "churn",
        "version": "v1.0.0",
        "commit": commit,
        "source": f"{commit}:models/churn.pt",
        "kind": "git",
        "path": "churn.pt",
        "type": "file",
        "sha256": hashlib.sha256(b"one").hexdigest(),
        "verified": False,
    }


def test_print_url_writes_nothing(versions: Repo, out: Path) -> None:
    commit = versions.git("rev-parse", "churn@v2.0.0^{commit}").strip()
    assert ok(versions, "get", "churn", "--print-url", cwd=out) == f"{commit}:models/churn.pt\n"
    assert list(out.iterdir()) == []
    # What it prints is Git's own name for the file in that commit.
    assert versions.git("show", f"{commit}:models/churn.pt") == "two"


def test_output_into_a_folder_and_a_missing_folder(versions: Repo, out: Path) -> None:
    (out / "models").mkdir()
    assert ok(versions, "get", "churn", "-o", "models/", cwd=out) == "models/churn.pt\n"
    assert (out / "models" / "churn.pt").read_text() == "two"
    err = fails(versions, "get", "churn", "-o", "nowhere/x.pt", cwd=out)
    assert err == "fatal: cannot write 'nowhere/x.pt': there is no folder 'nowhere'\n"
    assert not (out / "nowhere").exists()


def test_an_existing_path_is_left_alone_unless_force(versions: Repo, out: Path) -> None:
    (out / "churn.pt").write_text("mine")
    err = fails(versions, "get", "churn", cwd=out)
    assert err == (
        "fatal: 'churn.pt' already exists\n"
        "hint: remove it, choose another path with -o PATH, or replace it with --force\n"
    )
    assert (out / "churn.pt").read_text() == "mine"
    assert ok(versions, "get", "churn", "--force", cwd=out) == "churn.pt\n"
    assert (out / "churn.pt").read_text() == "two"
    # A folder is replaced whole, a link is replaced (never written through).
    (out / "dir").mkdir()
    (out / "dir" / "old").write_text("old")
    ok(versions, "get", "churn", "-o", "dir", "-f", cwd=out)
    assert (out / "dir").read_text() == "two"
    target = out / "target"
    target.write_text("keep")
    os.symlink(target, out / "link")
    assert fails(versions, "get", "churn", "-o", "link", cwd=out).startswith(
        "fatal: 'link' already exists"
    )
    ok(versions, "get", "churn", "-o", "link", "--force", cwd=out)
    assert not (out / "link").is_symlink() and (out / "link").read_text() == "two"
    assert target.read_text() == "keep"
    assert leftovers(out) == []


# -- errors: what the selector names ------------------------------------------------------


def test_an_unknown_selector_fails_with_exit_1_and_writes_nothing(
    versions: Repo, out: Path
) -> None:
    assert fails(versions, "get", "chrun", code=1, cwd=out) == (
        "error: unknown artifact 'chrun'\nhint: did you mean 'churn'?\n"
    )
    assert fails(versions, "get", "churn@v9.9.9", code=1, cwd=out) == (
        "error: churn@v9.9.9 does not name a version of churn\n"
    )
    err = fails(versions, "get", "churn#staging", code=1, cwd=out)
    assert err.startswith("error: no version of churn is in stage 'staging'\n")
    assert fails(versions, "get", "churn@", code=128, cwd=out).startswith(
        "fatal: cannot understand 'churn@'"
    )
    assert list(out.iterdir()) == []


def test_a_path_missing_in_the_commit_fails_with_exit_1(repo: Repo, out: Path) -> None:
    committed(repo, {"artifacts.yaml": "churn:\n  path: models/gone.pt\n"})
    make_registry(repo, "churn@v1.0.0")
    (repo.path / "models").mkdir()
    (repo.path / "models" / "gone.pt").write_text("only in the work tree")
    short = repo.git("rev-parse", "--short=7", "HEAD").strip()
    err = fails(repo, "get", "churn", code=1, cwd=out)
    assert err.startswith(
        f"error: 'models/gone.pt' is not in commit {short} (churn v1.0.0), nor is "
        "'models/gone.pt.dvc'\n"
    )
    assert list(out.iterdir()) == []


def test_no_annotation_or_no_path_fails_with_exit_1(repo: Repo, out: Path) -> None:
    make_registry(repo, "churn@v1.0.0")
    short = repo.git("rev-parse", "--short=7", "HEAD").strip()
    err = fails(repo, "get", "churn", code=1, cwd=out)
    assert err.startswith(
        f"error: churn has no entry in artifacts.yaml at commit {short} (churn v1.0.0): "
        "nothing says where its files are\n"
    )
    committed(repo, {"artifacts.yaml": "seg:\n  type: model\n"})
    make_registry(repo, "seg@v1.0.0")
    assert "seg has no path in artifacts.yaml" in fails(repo, "get", "seg", code=1, cwd=out)


def test_a_broken_artifacts_yaml_at_the_commit_is_fatal(repo: Repo, out: Path) -> None:
    committed(repo, {"artifacts.yaml": "churn:\n  path: [a]\n"})
    make_registry(repo, "churn@v1.0.0")
    err = fails(repo, "get", "churn", cwd=out)
    assert "artifacts.yaml at commit" in err and "is invalid" in err


def test_a_deprecated_artifact_or_deregistered_version_needs_all(versions: Repo, out: Path) -> None:
    make_registry(versions, "churn@v1.0.0!")
    err = fails(versions, "get", "churn@v1.0.0", code=1, cwd=out)
    assert err == (
        "error: churn v1.0.0 is deregistered\n"
        "hint: get it anyway with: git registry get churn@v1.0.0 --all\n"
    )
    assert ok(versions, "get", "churn@v1.0.0", "--all", cwd=out) == "churn.pt\n"
    make_registry(versions, "churn@deprecated")
    err = fails(versions, "get", "churn", code=1, cwd=out)
    assert "is deprecated" in err and "git registry get churn --all" in err
    result = versions.run("get", "churn", "--all", "-o", "x.pt", cwd=out)
    assert result.code == 0 and "warning: artifact 'churn' is deprecated" in result.err
    assert (out / "x.pt").read_text() == "two"


def test_a_version_whose_commit_is_missing_here_is_not_served(
    versions: Repo, tmp_path: Path, out: Path
) -> None:
    """A clone holding the tag object of churn@v1.0.0 but not its commit (as a shallow
    clone that fetched tags without history may)."""
    clone = Repo(tmp_path / "clone")
    clone.git(
        "fetch",
        "-q",
        "--depth=1",
        f"file://{versions.path}",
        "refs/tags/churn@v2.0.0:refs/tags/churn@v2.0.0",
    )
    tag = versions.git("rev-parse", "churn@v1.0.0").strip()
    raw = subprocess.run(
        ["git", "cat-file", "tag", tag], cwd=versions.path, capture_output=True, check=True
    ).stdout
    copied = (
        subprocess.run(
            ["git", "hash-object", "-t", "tag", "-w", "--stdin", "--literally"],
            cwd=clone.path,
            input=raw,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    assert copied == tag
    clone.git("update-ref", "refs/tags/churn@v1.0.0", tag)
    clone_out = clone.path / "o"
    clone_out.mkdir()
    result = clone.run("get", "churn@v2.0.0", cwd=clone_out)
    assert (result.code, result.out) == (0, "churn.pt\n")
    assert (clone_out / "churn.pt").read_text() == "two"
    # The registry reads a tag whose commit is missing as unusable (a warning naming the
    # object), so that version is not served: nothing is written.
    commit = versions.git("rev-parse", "churn@v1.0.0^{commit}").strip()
    err = fails(clone, "get", "churn@v1.0.0", "-o", "v1", code=1, cwd=clone_out)
    assert f"warning: churn@v1.0.0: object {commit} is missing from the repository\n" in err
    assert err.endswith("error: churn@v1.0.0 does not name a version of churn\n")
    assert sorted(p.name for p in clone_out.iterdir()) == ["churn.pt"]


# -- hostile trees ------------------------------------------------------------------------


def _hash(repo: Repo, data: bytes) -> str:
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo.path, input=data, capture_output=True
    )
    return proc.stdout.decode().strip()


def _mktree(repo: Repo, entries: list[tuple[str, str, str, bytes]]) -> str:
    """A tree of ``(mode, type, id, name)`` made with git mktree, which takes any name."""
    text = b"".join(
        f"{mode} {kind} {oid}\t".encode() + name + b"\n" for mode, kind, oid, name in entries
    )
    proc = subprocess.run(["git", "mktree"], cwd=repo.path, input=text, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


def _register_model(repo: Repo, model: list[tuple[str, str, str, bytes]]) -> None:
    """Tag churn@v1.0.0 on a new commit whose artifacts.yaml says 'path: model' and
    whose 'model' is the tree ``model``."""
    yaml_blob = _hash(repo, b"churn:\n  path: model\n")
    root = _mktree(
        repo,
        [
            ("100644", "blob", yaml_blob, b"artifacts.yaml"),
            ("040000", "tree", _mktree(repo, model), b"model"),
        ],
    )
    commit = repo.git("commit-tree", root, "-p", "HEAD", "-m", "crafted").strip()
    repo.tag("churn@v1.0.0", commit, "Registering artifact churn version v1.0.0")


@pytest.mark.parametrize("name", [b"..", b".", b".git", b".GIT", b"git~1", b".git. ", b"a\\b"])
def test_a_tree_entry_that_would_leave_the_folder_is_refused(
    repo: Repo, out: Path, name: bytes
) -> None:
    good = _hash(repo, b"fine")
    _register_model(repo, [("100644", "blob", good, b"a.txt"), ("100644", "blob", good, name)])
    err = fails(repo, "get", "churn", cwd=out)
    assert err.startswith("fatal: refusing to write ") and "the tree entry" in err
    assert "nothing was written" in err
    assert list(out.iterdir()) == []
    assert not (out.parent / "fine").exists()


def test_a_link_leaving_the_folder_fails_midway_and_leaves_nothing(repo: Repo, out: Path) -> None:
    good = _hash(repo, b"x" * 100_000)
    for target in (b"../../outside", b"/etc/passwd", b"sub/../../up"):
        link = _hash(repo, target)
        _register_model(
            repo,
            [
                ("100644", "blob", good, b"a.bin"),
                ("040000", "tree", _mktree(repo, [("100644", "blob", good, b"b.bin")]), b"sub"),
                ("120000", "blob", link, b"zz-link"),
            ],
        )
        err = fails(repo, "get", "churn", cwd=out)
        assert err.startswith("fatal: refusing to write "), err
        assert f"the link 'zz-link' points outside the folder ('{target.decode()}')" in err
        assert list(out.iterdir()) == []
        repo.git("tag", "-d", "churn@v1.0.0")


def test_a_submodule_in_the_folder_is_an_empty_folder_with_a_warning(repo: Repo, out: Path) -> None:
    head = repo.git("rev-parse", "HEAD").strip()
    _register_model(
        repo, [("100644", "blob", _hash(repo, b"w"), b"w.bin"), ("160000", "commit", head, b"lib")]
    )
    result = repo.run("get", "churn", cwd=out)
    assert result.code == 0, result
    short = repo.git("rev-parse", "--short=7", "churn@v1.0.0^{commit}").strip()
    assert result.err == (
        f"warning: 'lib' in {short}:model is a submodule: written as an empty folder\n"
    )
    assert (out / "model" / "w.bin").read_text() == "w"
    assert list((out / "model" / "lib").iterdir()) == []


def test_an_artifact_path_that_is_a_link_is_refused(repo: Repo, out: Path) -> None:
    committed(repo, {"artifacts.yaml": "churn:\n  path: model.pt\n", "real.pt": "r"})
    os.symlink("real.pt", repo.path / "model.pt")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "link")
    make_registry(repo, "churn@v1.0.0")
    err = fails(repo, "get", "churn", cwd=out)
    assert err.startswith("fatal: 'model.pt' is a symbolic link in commit ")
    assert list(out.iterdir()) == []


@pytest.mark.core
@pytest.mark.parametrize(
    ("name", "refused"),
    [
        (b"model.pt", False),
        (b"..x", False),
        (b".gitignore", False),
        (b"", True),
        (b".", True),
        (b"..", True),
        (b"a/b", True),
        (b"a\\b", True),
        (b"a\x00b", True),
        (b".Git", True),
        (b".git...", True),
        (b"GIT~1", True),
    ],
)
def test_unsafe_names(name: bytes, refused: bool) -> None:
    from git_registry.sources import unsafe_name

    assert (unsafe_name(name) is not None) is refused


@pytest.mark.core
@pytest.mark.parametrize(
    ("folder", "target", "escapes"),
    [
        ("", b"a.txt", False),
        ("sub", b"../a.txt", False),
        ("", b"../a.txt", True),
        ("sub", b"../../a.txt", True),
        ("", b"/etc/passwd", True),
        ("", b"", True),
        ("a/b", b"../../c", False),
        ("a/b", b"./../../../c", True),
    ],
)
def test_link_escapes(folder: str, target: bytes, escapes: bool) -> None:
    from git_registry.export import link_escapes

    assert link_escapes(folder, target) is escapes


# -- http(s) ------------------------------------------------------------------------------

BIG = bytes(range(256)) * 8192  # 2 MiB: long enough for a progress bar


SERVED = {"/model.bin": b"model bytes", "/big.bin": BIG}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/short.bin":  # says 1000 bytes, sends 100, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 100)
            self.wfile.flush()
            self.close_connection = True
            return
        body = SERVED.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 in a thread; yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _annotated(repo: Repo, path: str, sha256: str | None = None, version: str = "v1.0.0") -> None:
    text = f"churn:\n  path: {path}\n" + (f"  sha256: {sha256}\n" if sha256 else "")
    committed(repo, {"artifacts.yaml": text})
    make_registry(repo, f"churn@{version}")


def test_http_is_downloaded_and_checked_against_sha256(repo: Repo, out: Path, server: str) -> None:
    digest = hashlib.sha256(b"model bytes").hexdigest()
    _annotated(repo, f"{server}/model.bin", digest.upper())
    doc = json.loads(ok(repo, "get", "churn", "--json", cwd=out))
    assert (out / "model.bin").read_bytes() == b"model bytes"
    assert doc["kind"] == "http" and doc["source"] == f"{server}/model.bin"
    assert (doc["sha256"], doc["verified"], doc["type"]) == (digest, True, "file")
    assert ok(repo, "get", "churn", "--print-url", cwd=out) == f"{server}/model.bin\n"
    assert leftovers(out) == []


def test_http_errors_leave_nothing(repo: Repo, out: Path, server: str) -> None:
    _annotated(repo, f"{server}/missing.bin")
    err = fails(repo, "get", "churn", cwd=out)
    assert err == f"fatal: cannot download {server}/missing.bin: HTTP 404 Not Found\n"
    assert list(out.iterdir()) == []


def test_a_download_that_stops_midway_leaves_nothing(repo: Repo, out: Path, server: str) -> None:
    _annotated(repo, f"{server}/short.bin")
    (out / "keep.bin").write_text("old")
    err = fails(repo, "get", "churn", cwd=out)
    assert err.startswith(
        f"fatal: the download of {server}/short.bin stopped after 100 of 1000 bytes"
    )
    assert err.endswith("hint: nothing was written; run the command again\n")
    assert sorted(p.name for p in out.iterdir()) == ["keep.bin"]
    # With --force over an existing file: the old file stays as it was.
    err = fails(repo, "get", "churn", "-o", "keep.bin", "--force", cwd=out)
    assert "stopped after 100 of 1000 bytes" in err
    assert (out / "keep.bin").read_text() == "old"
    assert leftovers(out) == []


def test_a_sha256_mismatch_leaves_nothing(repo: Repo, out: Path, server: str) -> None:
    _annotated(repo, f"{server}/model.bin", "a" * 64)
    err = fails(repo, "get", "churn", cwd=out)
    got = hashlib.sha256(b"model bytes").hexdigest()
    assert err == (
        f"fatal: {server}/model.bin does not match the sha256 in artifacts.yaml: expected "
        f"{'a' * 64}, got {got}\n"
        "hint: nothing was written; the file changed since it was annotated, or the download "
        "was tampered with\n"
    )
    assert list(out.iterdir()) == []


def test_a_file_of_the_repository_is_checked_against_sha256_too(repo: Repo, out: Path) -> None:
    good = hashlib.sha256(b"weights").hexdigest()
    committed(
        repo, {"artifacts.yaml": f"churn:\n  path: m.pt\n  sha256: {good}\n", "m.pt": "weights"}
    )
    make_registry(repo, "churn@v1.0.0")
    assert json.loads(ok(repo, "get", "churn", "--json", cwd=out))["verified"] is True
    committed(repo, {"m.pt": "changed"})
    make_registry(repo, "churn@v2.0.0")
    err = fails(repo, "get", "churn", "-o", "v2.pt", cwd=out)
    assert "does not match the sha256 in artifacts.yaml" in err
    assert not (out / "v2.pt").exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_download_shows_a_progress_bar_on_a_terminal_only(
    repo: Repo, out: Path, server: str
) -> None:
    _annotated(repo, f"{server}/big.bin")
    err = _Terminal()
    stdout = io.StringIO()
    code = main(["get", "churn"], stdout=stdout, stderr=err, cwd=str(out))
    assert (code, stdout.getvalue()) == (0, "big.bin\n")
    assert (out / "big.bin").read_bytes() == BIG
    bar = err.getvalue()
    assert bar.startswith("\rbig.bin ") and bar.endswith("\n")
    assert "100% [####################] 2.0 MiB / 2.0 MiB" in bar
    # --quiet, or stderr not a terminal: no bar.
    err = _Terminal()
    code = main(["get", "churn", "-o", "q.bin", "--quiet"], stdout=stdout, stderr=err, cwd=str(out))
    assert (code, err.getvalue()) == (0, "")
    assert ok(repo, "get", "churn", "-o", "plain.bin", cwd=out) == "plain.bin\n"


def test_a_url_without_a_name_needs_output(repo: Repo, out: Path, server: str) -> None:
    _annotated(repo, f"{server}/")
    err = fails(repo, "get", "churn", code=129, cwd=out)
    assert err.startswith(f"error: cannot tell what to name '{server}/' here: give -o PATH\n")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/m.pt", "cannot get 'ftp://host/m.pt': get fetches http://"),
        ("s3://-bucket/m.pt", "refusing the URL 's3://-bucket/m.pt': it names no host or bucket"),
        ("s3:///m.pt", "refusing the URL 's3:///m.pt': it names no host or bucket"),
        ("'s3://b/a b.pt'", "refusing the URL 's3://b/a b.pt': it holds spaces"),
    ],
)
def test_urls_that_cannot_be_passed_on_are_refused(
    repo: Repo, out: Path, url: str, message: str
) -> None:
    _annotated(repo, url)
    err = fails(repo, "get", "churn", cwd=out)
    assert err.startswith(f"fatal: {message}"), err
    assert list(out.iterdir()) == []
    # --print-url prints it all the same: the user fetches it some other way.
    assert ok(repo, "get", "churn", "--print-url", cwd=out) == url.strip("'") + "\n"


def test_a_sha256_that_is_not_64_hex_digits_is_a_problem() -> None:
    parsed = parse(b"churn:\n  path: m.pt\n  sha256: abc\n", "artifacts.yaml")
    assert [str(p) for p in parsed.problems] == [
        "artifacts.yaml:3:11: artifact 'churn', key 'sha256': expected the SHA-256 of the "
        "file: 64 hexadecimal digits"
    ]
    # All digits: YAML reads a number; quoted, it is the string it should be.
    parsed = parse(f"churn:\n  sha256: {'1' * 64}\n".encode(), "artifacts.yaml")
    assert [str(p) for p in parsed.problems] == [
        "artifacts.yaml:2:11: artifact 'churn', key 'sha256': expected the SHA-256 of the "
        "file: 64 hexadecimal digits, quoted if YAML reads it as a number; found a number"
    ]
    parsed = parse(f"churn:\n  sha256: '{'1' * 64}'\n".encode(), "artifacts.yaml")
    assert parsed.problems == ()
    parsed = parse(f"churn:\n  sha256: {'AB' * 32}\n".encode(), "artifacts.yaml")
    assert parsed.annotations["churn"].sha256 == "ab" * 32


# -- dvc and the storage providers' tools -------------------------------------------------

FAKE_TOOL = """\
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.environ["FAKE_RECORD"], "a") as f:
    f.write(json.dumps([name, *args]) + "\\n")
def value(prefix):
    return next(a[len(prefix):] for a in args if a.startswith(prefix))
if name == "az" and "download-batch" in args:
    dest = os.path.join(value("--destination="), *value("--pattern=").rstrip("*").split("/"))
    os.makedirs(dest)
    open(os.path.join(dest, "part.bin"), "w").write("from az batch")
else:
    dest = args[-1]
    if name == "az":
        dest = value("--file=")
    elif name == "dvc":
        dest = args[args.index("-o") + 1]
    if "--recursive" in args or "-r" in args:
        os.mkdir(dest)
        dest = os.path.join(dest, "part.bin")
    open(dest, "w").write("from " + name)
code = int(os.environ.get("FAKE_EXIT", "0"))
if code:
    sys.stderr.write(name + ": simulated failure\\n")
sys.exit(code)
"""


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only git and the fake tools installed with :func:`install`; the
    file the tools record their arguments in is ``tools / "record"``."""
    folder = tmp_path / "bin"
    folder.mkdir()
    git = shutil.which("git")
    assert git is not None
    os.symlink(git, folder / "git")
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("FAKE_RECORD", str(folder / "record"))
    return folder


def install(tools: Path, *names: str) -> None:
    for name in names:
        script = tools / name
        script.write_text(f"#!{sys.executable}\n{FAKE_TOOL}")
        script.chmod(0o755)


def recorded(tools: Path) -> list[list[str]]:
    record = tools / "record"
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_s3_is_fetched_with_aws(repo: Repo, out: Path, tools: Path) -> None:
    _annotated(repo, "s3://bucket/models/churn.pt")
    install(tools, "aws")
    assert ok(repo, "get", "churn", cwd=out) == "churn.pt\n"
    assert (out / "churn.pt").read_text() == "from aws"
    ((name, *args),) = recorded(tools)
    assert [name, *args[:-1]] == ["aws", "s3", "cp", "s3://bucket/models/churn.pt"]
    # The tool writes the temporary name beside PATH, never PATH itself.
    assert os.path.dirname(args[-1]) == str(out) and ".churn.pt.get-" in args[-1]
    assert leftovers(out) == []


def test_a_prefix_is_fetched_recursively(repo: Repo, out: Path, tools: Path) -> None:
    _annotated(repo, "s3://bucket/models/churn/")
    install(tools, "aws")
    assert ok(repo, "get", "churn", cwd=out) == "churn\n"
    assert (out / "churn" / "part.bin").read_text() == "from aws"
    assert recorded(tools)[0][:5] == ["aws", "s3", "cp", "--recursive", "s3://bucket/models/churn/"]


def test_a_missing_tool_says_exactly_what_to_run(repo: Repo, out: Path, tools: Path) -> None:
    _annotated(repo, "s3://bucket/models/churn.pt")
    assert fails(repo, "get", "churn", "-o", "my model.pt", cwd=out) == (
        "fatal: cannot get s3://bucket/models/churn.pt: aws is not installed (not found on PATH)\n"
        "hint: install it, or run: aws s3 cp s3://bucket/models/churn.pt 'my model.pt'\n"
    )
    _annotated(repo, "gs://bucket/churn.pt", version="v2.0.0")
    err = fails(repo, "get", "churn", cwd=out)
    assert "gcloud or gsutil is not installed" in err
    assert "run: gcloud storage cp gs://bucket/churn.pt churn.pt\n" in err
    assert list(out.iterdir()) == []


def test_gs_uses_gcloud_else_gsutil(repo: Repo, out: Path, tools: Path) -> None:
    _annotated(repo, "gs://bucket/churn.pt")
    install(tools, "gsutil")
    assert ok(repo, "get", "churn", "-o", "a.pt", cwd=out) == "a.pt\n"
    assert (out / "a.pt").read_text() == "from gsutil"
    install(tools, "gcloud")
    ok(repo, "get", "churn", "-o", "b.pt", cwd=out)
    assert (out / "b.pt").read_text() == "from gcloud"
    first, second = recorded(tools)
    assert first[:3] == ["gsutil", "cp", "gs://bucket/churn.pt"]
    assert second[:4] == ["gcloud", "storage", "cp", "gs://bucket/churn.pt"]


def test_azure_uses_az(repo: Repo, out: Path, tools: Path) -> None:
    install(tools, "az")
    _annotated(repo, "azure://models/churn/v1.pt")
    assert ok(repo, "get", "churn", cwd=out) == "v1.pt\n"
    assert (out / "v1.pt").read_text() == "from az"
    _annotated(repo, "azure://models/churn/", version="v2.0.0")
    assert ok(repo, "get", "churn", cwd=out) == "churn\n"
    assert (out / "churn" / "part.bin").read_text() == "from az batch"
    first, second = recorded(tools)
    assert first[:6] == [
        "az",
        "storage",
        "blob",
        "download",
        "--container-name=models",
        "--name=churn/v1.pt",
    ]
    assert first[6].startswith(f"--file={out}/.v1.pt.get-")
    assert second[:5] == ["az", "storage", "blob", "download-batch", "--source=models"]
    assert second[6] == "--pattern=churn/*"
    assert leftovers(out) == []


def test_a_tool_that_fails_leaves_nothing(
    repo: Repo, out: Path, tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _annotated(repo, "s3://bucket/churn.pt")
    install(tools, "aws")
    monkeypatch.setenv("FAKE_EXIT", "3")
    (out / "churn.pt").write_text("old")
    err = fails(repo, "get", "churn", "--force", cwd=out)
    assert err == (
        "fatal: aws failed (exit 3): aws s3 cp s3://bucket/churn.pt churn.pt\n"
        "hint: its own message is above; nothing was written\n"
    )
    assert (out / "churn.pt").read_text() == "old"
    assert leftovers(out) == []


def test_a_dvc_tracked_path_is_fetched_with_dvc_get(repo: Repo, out: Path, tools: Path) -> None:
    committed(
        repo,
        {
            "artifacts.yaml": "churn:\n  path: -model.pt\n",
            "-model.pt.dvc": "outs:\n- md5: 0\n  path: -model.pt\n",
        },
    )
    make_registry(repo, "churn@v1.0.0")
    commit = repo.git("rev-parse", "HEAD").strip()
    err = fails(repo, "get", "churn", "-o", "m.pt", cwd=out)
    assert err == (
        f"fatal: cannot get {commit}:-model.pt: dvc is not installed (not found on PATH)\n"
        f"hint: install it, or run: dvc get --rev {commit} -o m.pt -- {repo.path} "
        "-model.pt\n"
    )
    install(tools, "dvc")
    assert ok(repo, "get", "churn", "-o", "m.pt", cwd=out) == "m.pt\n"
    assert (out / "m.pt").read_text() == "from dvc"
    ((*head, tmp, dashes, where, path),) = recorded(tools)
    assert tmp.startswith(f"{out}/.m.pt.get-")
    assert head == ["dvc", "get", "--rev", commit, "-o"]
    assert (dashes, where, path) == ("--", str(repo.path), "-model.pt")
    assert ok(repo, "get", "churn", "--print-url", cwd=out) == f"{commit}:-model.pt\n"
    doc = json.loads(ok(repo, "get", "churn", "--print-url", "--json", cwd=out))
    # A name that reads as an option is never made up: -o says it (shown as ./-m).
    assert (doc["kind"], doc["path"]) == ("dvc", None)
    assert fails(repo, "get", "churn", cwd=out, code=129).startswith(
        "error: cannot tell what to name '-model.pt' here: give -o PATH\n"
    )
    tools.joinpath("dvc").unlink()
    err = fails(repo, "get", "churn", "-o", "-m", cwd=out)
    assert f"run: dvc get --rev {commit} -o ./-m -- " in err


# -- the README's examples ----------------------------------------------------------------


def test_the_readmes_get_examples_work_on_the_demo(tmp_path: Path, tools: Path) -> None:
    """Each line of README's 'Getting an artifact' block runs in the demo repository
    (with a recording aws on PATH: no network) and prints what its comment shows: the
    path written, the URL, or the JSON document's keys."""
    install(tools, "aws")
    code = main(["demo", "demo"], stdout=io.StringIO(), stderr=io.StringIO(), cwd=str(tmp_path))
    assert code == 0
    demo = Repo.__new__(Repo)
    demo.path = tmp_path / "demo"
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Getting an artifact\n", 1)[1].split("```sh\n", 1)[1]
    block = block.split("```", 1)[0]
    ran = 0
    for line in block.splitlines():
        command, _, comment = line.partition("  # ")
        words = command.split()
        assert words[:2] == ["git", "registry"], line
        got = demo.run(*words[2:])
        assert (got.code, got.err) == (0, ""), (line, got)
        shown = comment.split()[0]
        if shown.startswith("{"):
            doc = json.loads(got.out)
            expected = json.loads(
                "{" + ", ".join(p for p in comment.strip("{} ").split(", ") if "…" not in p) + "}"
            )
            assert {k: doc[k] for k in expected} == expected, line
        else:
            assert got.out == shown + "\n", line
        ran += 1
    assert ran >= 7
    assert (demo.path / "cv-class.txt").read_text() == "cv-class weights r2\n"
    assert (demo.path / "old.txt").read_text() == "cv-class weights r1\n"
    assert (demo.path / "churn.pt").read_text() == "from aws"
    assert [r[:4] for r in recorded(tools)] == [
        ["aws", "s3", "cp", "s3://mycorp/proj-ml/churn-model.pt"]
    ] * 2


def test_an_artifact_path_through_a_git_folder_is_refused(repo: Repo, out: Path) -> None:
    """A crafted commit whose artifact is its '.git' folder: written as ./.git, its
    config could run commands in the next 'git' there."""
    config = _hash(repo, b"[core]\n\tfsmonitor = echo owned\n")
    dotgit = _mktree(repo, [("100644", "blob", config, b"config")])
    for path in (".git", "a/.GIT/config"):
        yaml_blob = _hash(repo, f"churn:\n  path: {path}\n".encode())
        root = _mktree(
            repo,
            [
                ("100644", "blob", yaml_blob, b"artifacts.yaml"),
                ("040000", "tree", dotgit, b".git"),
                ("040000", "tree", _mktree(repo, [("040000", "tree", dotgit, b".GIT")]), b"a"),
            ],
        )
        commit = repo.git("commit-tree", root, "-m", "crafted").strip()
        repo.tag("churn@v1.0.0", commit, "Registering artifact churn version v1.0.0")
        result = repo.run("get", "churn", "-o", "x", cwd=out)
        assert result.code == 128, result
        part = path.rsplit("/", 2)[-2] if "/" in path else path
        assert (
            result.err == f"fatal: refusing to write '{path}': '{part}' would write a .git folder\n"
        )
        if path == ".git":  # and no name is made up from it
            assert "cannot tell what to name '.git'" in fails(
                repo, "get", "churn", code=129, cwd=out
            )
        assert list(out.iterdir()) == []
        repo.git("tag", "-d", "churn@v1.0.0")


def test_the_progress_bar_escapes_the_path(repo: Repo, out: Path, server: str) -> None:
    _annotated(repo, f"{server}/big.bin")
    err = _Terminal()
    stdout = io.StringIO()
    code = main(["get", "churn", "-o", "a\x1b[31mb"], stdout=stdout, stderr=err, cwd=str(out))
    assert code == 0
    assert "\x1b[31m" not in err.getvalue() and "\x1b[31m" not in stdout.getvalue()
    assert (out / "a\x1b[31mb").read_bytes() == BIG


@pytest.mark.core
@pytest.mark.parametrize(
    ("location", "kind", "name"),
    [
        ("models/churn.pt", "GIT", "churn.pt"),
        ("models/", "GIT", "models"),
        ("https://h.example/a/b.pt?sig=1#x", "HTTP", "b.pt"),
        ("https://h.example/", "HTTP", None),
        ("https://h.example/.git", "HTTP", None),
        ("s3://bucket/prefix/", "S3", "prefix"),
        ("s3://bucket", "S3", None),
        ("gs://b/-rf", "GS", None),
        ("azure://c/..", "AZURE", None),
    ],
)
def test_default_names(location: str, kind: str, name: str | None) -> None:
    from git_registry.sources import Kind, default_name

    assert default_name(location, Kind[kind]) == name


def test_git_runs_get_as_a_git_command(versions: Repo, out: Path) -> None:
    result = versions.git_registry("get", "churn#prod", "-o", "out/prod.pt")
    assert (result.code, result.out, result.err) == (0, "out/prod.pt\n", "")
    assert (out / "prod.pt").read_text() == "one"


def test_annotate_keeps_an_entrys_sha256(repo: Repo) -> None:
    digest = "ab" * 32
    committed(repo, {"artifacts.yaml": f"churn:\n  path: m.pt\n  sha256: {digest}\n"})
    ok(repo, "annotate", "churn", "--type", "model")
    assert (repo.path / "artifacts.yaml").read_text() == (
        f"churn:\n  path: m.pt\n  sha256: {digest}\n  type: model\n"
    )
