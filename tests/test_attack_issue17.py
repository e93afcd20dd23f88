"""Attacks on the features of issue 17: ``git registry get`` (crafted trees, hostile
HTTP servers), metrics and metadata trailers, ``git registry diff``.

Real repositories (``git``), real local HTTP and TCP servers in threads; nothing mocked."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Repo, fails, make_registry


@pytest.fixture
def out(repo: Repo) -> Path:
    folder = repo.path / "out"
    folder.mkdir()
    with open(repo.path / ".git" / "info" / "exclude", "a") as f:
        f.write("/out/\n")
    return folder


# -- get over http: a redirect may only lead to http(s) ------------------------------------


@pytest.fixture
def ftp_listener() -> Iterator[tuple[int, list[int]]]:
    """A TCP port that records every connection made to it (an FTP server's place)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.05)
    hits: list[int] = []

    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            hits.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], hits
    finally:
        done.set()
        thread.join()
        sock.close()


def _redirecting_server(location: str) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def test_a_redirect_to_ftp_is_refused_and_never_followed(
    repo: Repo, out: Path, ftp_listener: tuple[int, list[int]]
) -> None:
    """Attack: urllib follows a redirect to ``ftp://`` (any host), though get promises
    http(s) only: the registry's http server could make a user's machine connect
    anywhere over FTP. Refused before any connection."""
    port, hits = ftp_listener
    httpd = _redirecting_server(f"ftp://127.0.0.1:{port}/model.bin")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/model.bin"
        repo.commit(files={"artifacts.yaml": f"churn:\n  path: {url}\n"})
        make_registry(repo, "churn@v1.0.0")
        err = fails(repo, "get", "churn", cwd=out)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert hits == []
    assert f"it redirects to 'ftp://127.0.0.1:{port}/model.bin'" in err
    assert "not an http:// or https:// URL" in err
    assert list(out.iterdir()) == []


# -- get of a crafted tree ----------------------------------------------------------------


def _object(repo: Repo, kind: str, data: bytes) -> str:
    args = ["git", "hash-object", "-w", "-t", kind, "--literally", "--stdin"]
    proc = subprocess.run(args, cwd=repo.path, input=data, capture_output=True, check=True)
    return proc.stdout.decode().strip()


def _tree(repo: Repo, entries: list[tuple[bytes, bytes, str]]) -> str:
    raw = b"".join(mode + b" " + name + b"\0" + bytes.fromhex(oid) for mode, name, oid in entries)
    return _object(repo, "tree", raw)


@pytest.mark.parametrize("first", ["file", "link"])
def test_a_tree_with_two_entries_of_one_name_is_refused(repo: Repo, out: Path, first: str) -> None:
    """Attack: a crafted tree holding a file (or a link) and a folder of one name, which
    ``git fsck`` calls duplicateEntries: the entries were read into a map by name, so
    one was silently dropped and get wrote the other as if it were the whole tree."""
    blob = _object(repo, "blob", b"x")
    inner = _tree(repo, [(b"100644", b"f", blob)])
    clash = (b"100644", b"a", blob) if first == "file" else (b"120000", b"a", blob)
    model = _tree(repo, [clash, (b"40000", b"a", inner)])
    yaml = _object(repo, "blob", b"seg:\n  path: model\n")
    root = _tree(repo, [(b"100644", b"artifacts.yaml", yaml), (b"40000", b"model", model)])
    commit = repo.git("commit-tree", "-m", "crafted", root).strip()
    repo.git("update-ref", "refs/heads/main", commit)
    make_registry(repo, "seg@v1.0.0")
    err = fails(repo, "get", "seg", cwd=out)
    assert "the tree entry 'a' is given twice" in err
    assert list(out.iterdir()) == []


# -- get interrupted: no temporary file left behind ----------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_download_ended_by_a_signal_leaves_no_temporary_file(
    repo: Repo, out: Path, signum: int
) -> None:
    """Attack: a CI job's timeout (SIGTERM) or a closed terminal (SIGHUP) during a long
    download ended the process at once, leaving ``.model.bin.get-PID-….tmp`` (part of
    the download) beside the destination. It is removed, as on Ctrl-C."""
    release = threading.Event()

    class Stalling(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 24))
            self.end_headers()
            self.wfile.write(b"x" * (1 << 16))
            self.wfile.flush()
            release.wait(60)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/model.bin"
        repo.commit(files={"artifacts.yaml": f"churn:\n  path: {url}\n"})
        make_registry(repo, "churn@v1.0.0")
        proc = subprocess.Popen(
            [sys.executable, "-m", "git_registry", "get", "churn", "-q"],
            cwd=out,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(600):  # until part of the download is on disk
                partial = [p for p in out.iterdir() if ".get-" in p.name]
                if partial and partial[0].stat().st_size > 0:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the download never started")
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert proc.returncode == 130
    assert b"fatal: interrupted" in err
    assert list(out.iterdir()) == []


# -- get -o: what the destination may be ---------------------------------------------------


@pytest.fixture
def one_file(repo: Repo) -> Repo:
    repo.commit(files={"artifacts.yaml": "churn:\n  path: m.bin\n", "m.bin": "two"})
    return make_registry(repo, "churn@v1.0.0")


def test_replacing_the_folder_one_is_in_through_dotdot(one_file: Repo, out: Path) -> None:
    """Attack: ``-o ../here --force`` run inside ``here``: the temporary and set-aside
    names were made through ``here/..``, which no longer resolved once ``here`` was
    moved aside: the command failed midway and left the user's folder under a hidden
    temporary name (and the new file under another)."""
    here = out / "here"
    here.mkdir()
    (here / "old.txt").write_text("old")
    assert one_file.run("get", "churn", "-o", "../here", "--force", cwd=here).code == 0
    assert (out / "here").read_text() == "two"
    assert sorted(p.name for p in out.iterdir()) == ["here"]


@pytest.mark.parametrize("output", ["", ".", "..", "sub/..", ".git", "sub/.GIT"])
def test_an_output_that_is_no_file_name_is_refused(one_file: Repo, out: Path, output: str) -> None:
    """Attack: ``-o .``, ``-o ..``, ``-o ''`` with --force tried to rename the current
    folder or its parent away (and failed on odd errors); ``-o .git --force`` at the top
    of a work tree replaced the repository itself and deleted it."""
    (out / "sub").mkdir()
    (out / "sub" / "keep.txt").write_text("keep")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    result = one_file.run("get", "churn", "-o", output, "--force", cwd=out / "sub")
    assert result.code == 129, result
    assert "names no file get may write" in result.err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert one_file.run("get", "churn", "-o", ".git", "--force").code == 129
    assert (one_file.path / ".git" / "HEAD").is_file()


# -- check-ref: metrics and metadata in CI outputs ------------------------------------------


def test_many_metadata_values_do_not_make_the_dotenv_report_fail(repo: Repo) -> None:
    """Attack: metadata values (valid ones, ``register --meta``) made the dotenv report
    one GitLab refuses: 30 of 190 characters were over its 5 KB, and only description,
    path and type could be left out, so ``check-ref --format dotenv`` failed (exit 128)
    on that tag; twelve made more than its 20 variables, a report GitLab refuses whole.
    The metadata are left out, last first, with a warning."""
    from cisim import gitlab_dotenv

    repo.commit()
    metas = [a for i in range(30) for a in ("--meta", f"key{i:02d}={'v' * 190}")]
    repo.ok("register", "churn", "--metric", "auc=0.9", *metas)
    result = repo.run("check-ref", "churn@v0.0.1", "--format", "dotenv")
    assert result.code == 0, result
    read = gitlab_dotenv(result.out.encode())  # GitLab takes it
    assert read["REGISTRY_NAME"] == "churn"
    assert read["REGISTRY_METRIC_AUC"] == "0.9"
    assert read["REGISTRY_META_KEY00"] == "v" * 190
    assert "REGISTRY_META_KEY29" not in read
    assert "warning: REGISTRY_META_KEY29 is left out of the dotenv report" in result.err


def test_many_small_metrics_stay_within_gitlabs_count_of_variables(repo: Repo) -> None:
    from cisim import gitlab_dotenv

    repo.commit()
    metrics = [a for i in range(15) for a in ("--metric", f"m{i:02d}={i}")]
    repo.ok("register", "churn", *metrics)
    result = repo.run("check-ref", "churn@v0.0.1", "--format", "dotenv")
    assert result.code == 0, result
    read = gitlab_dotenv(result.out.encode())
    assert len(read) == 20
    assert read["REGISTRY_METRIC_M00"] == "0" and "REGISTRY_METRIC_M14" not in read
    assert "GitLab takes at most 20 variables" in result.err


def test_a_metric_of_a_million_characters_is_ignored(repo: Repo) -> None:
    """Attack: metadata values are at most 200 characters, metrics had no limit: a
    hand-made tag's ``Registry-Metric: auc=0.000…1`` (a finite number a million
    characters long) filled ``show``'s table, every CI output and the warning quoting
    it. A metric is at most 64 characters; the warning quotes 40."""
    repo.commit()
    huge = "0." + "0" * 1_000_000 + "1"
    message = f"Registering artifact churn version v0.0.1\n\nRegistry-Metric: auc={huge}\n"
    (repo.path / ".git" / "MSG").write_text(message)
    repo.git("tag", "-a", "-F", str(repo.path / ".git" / "MSG"), "churn@v0.0.1")
    repo.git("tag", "-a", "-m", "Registering artifact seg version v0.0.1", "seg@v0.0.1")
    result = repo.run("show", "churn")
    assert result.code == 0, result
    assert len(result.out) + len(result.err) < 2000
    assert "is not a finite number of at most 64 characters" in result.err
    doc = json.loads(repo.ok("check-ref", "churn@v0.0.1", "--json"))
    assert doc["metrics"] == {}
    err = repo.run("register", "seg", "--metric", f"auc={huge[:70]}").err
    assert "not a finite number of at most 64 characters" in err


def test_a_folder_of_many_subfolders_needs_few_file_descriptors(repo: Repo, out: Path) -> None:
    """Attack (or a plain data set): a folder of more subfolders than the open-files
    limit (1,024 on Linux, 256 on macOS). Every pending subfolder was held open until
    written: 'Too many open files', nothing written. One parent stays open now."""
    import resource

    files = {f"data/class{i:03d}/x.txt": str(i) for i in range(300)}
    repo.commit(files={"artifacts.yaml": "ds:\n  path: data\n", **files})
    make_registry(repo, "ds@v1.0.0")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 64
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(in_use + 150, hard), hard))
    try:
        result = repo.run("get", "ds", cwd=out)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert result.code == 0, result
    assert len(list((out / "data").iterdir())) == 300
    assert (out / "data" / "class299" / "x.txt").read_text() == "299"


@pytest.mark.slow  # 3,000 trees made with git hash-object
def test_a_tree_nested_thousands_deep_is_written_and_removed(repo: Repo, out: Path) -> None:
    """Attack: a crafted tree 3,000 deep. It is written (a loop, not recursion); when
    something after it fails, the half-written folder is removed, which
    ``shutil.rmtree`` could not do (RecursionError: a traceback and the temporary
    folder left behind), nor can it replace such a folder with --force."""
    from git_registry.outputs import remove

    blob = _object(repo, "blob", b"deep")
    deep = _tree(repo, [(b"100644", b"f", blob)])
    for _ in range(3000):
        deep = _tree(repo, [(b"40000", b"d", deep)])
    yaml = _object(repo, "blob", b"seg:\n  path: model\n")
    dot, up = _object(repo, "blob", b"."), _object(repo, "blob", b"s/..")
    for version, model in (
        ("v1.0.0", _tree(repo, [(b"40000", b"d", deep)])),
        (
            "v2.0.0",
            _tree(repo, [(b"40000", b"d", deep), (b"120000", b"e", up), (b"120000", b"s", dot)]),
        ),
    ):
        root = _tree(repo, [(b"100644", b"artifacts.yaml", yaml), (b"40000", b"model", model)])
        commit = repo.git("commit-tree", "-m", "deep", root).strip()
        repo.git("update-ref", "refs/heads/main", commit)
        make_registry(repo, f"seg@{version}")
    try:
        result = repo.run("get", "seg@v1.0.0", cwd=out)
        assert result.code == 0, result
        fd = os.open(out / "model", os.O_RDONLY)
        try:
            for _ in range(3001):
                inner = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = inner
            with open(os.open("f", os.O_RDONLY, dir_fd=fd), "rb") as f:
                assert f.read() == b"deep"
        finally:
            os.close(fd)
        # Fails after writing the deep folder: removed, no traceback.
        err = fails(repo, "get", "seg@v2.0.0", "-o", "other", cwd=out)
        assert "leads outside the folder through other links" in err
        assert sorted(p.name for p in out.iterdir()) == ["model"]
        # Replaced with --force: the old deep folder is removed.
        assert repo.run("get", "seg@v1.0.0", "--force", cwd=out).code == 0
        assert sorted(p.name for p in out.iterdir()) == ["model"]
    finally:
        remove(str(out / "model"))  # pytest's own clean-up is shutil.rmtree
    assert list(out.iterdir()) == []


def test_two_links_that_lead_out_together_are_refused(repo: Repo, out: Path) -> None:
    """Attack, with plain ``git add``: ``s -> .`` and ``e -> s/..``. Each target was
    checked alone, as a path: ``s/..`` is ``.``, inside. But the system resolves ``s``
    first: ``e`` is the folder's parent, and the written model folder held a way out
    (a reader of ``model/e/...`` reads anything beside it)."""
    (repo.path / "model").mkdir()
    (repo.path / "model" / "w.bin").write_text("w")
    os.symlink(".", repo.path / "model" / "s")
    os.symlink("s/..", repo.path / "model" / "e")
    repo.commit(files={"artifacts.yaml": "m:\n  path: model\n"})
    make_registry(repo, "m@v1.0.0")
    err = fails(repo, "get", "m", cwd=out)
    assert "the link 'e' leads outside the folder through other links" in err
    assert list(out.iterdir()) == []
    # A link through another that stays inside is written.
    os.unlink(repo.path / "model" / "e")
    os.symlink("s/w.bin", repo.path / "model" / "e")
    repo.commit(files={})
    make_registry(repo, "m@v1.1.0")
    assert repo.run("get", "m", cwd=out).code == 0
    assert (out / "model" / "e").read_text() == "w"


@pytest.mark.core
def test_a_remote_label_never_shows_the_urls_credentials() -> None:
    """Attack: ``--remote https://user:token@host`` labelled the remote ``token-host`` in
    every line of output (and a site's page names): the password left the URL."""
    from git_registry.selectors import labels

    remotes = [
        "https://user:s3cret@host",
        "git@github.com:o/r.git",
        "https://tok3n@github.com/o/r.git",
        "ssh://u:pa55@h:22/x/y",
        "https://host:8443",
        "origin",
    ]
    found = labels(remotes)
    assert found == ["host", "r", "r-2", "y", "host-2", "origin"]
    assert not any(secret in " ".join(found) for secret in ("s3cret", "tok3n", "pa55", "user"))
