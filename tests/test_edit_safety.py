"""``annotate`` and ``remove`` write only a regular ``artifacts.yaml`` inside the work
tree: never through a symbolic link (a folder or the file), never into a FIFO, a
folder or a device, and nothing at all when they fail. They keep the file's byte
order mark and line breaks. Real repositories, real links and FIFOs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Repo

LINKED_FOLDER = "is a symbolic link: git registry reads models/artifacts.yaml from commits"


def status(repo: Repo) -> str:
    return repo.git("status", "--porcelain", "--untracked-files=all")


def scratch_files(repo: Repo) -> list[str]:
    """Temporary files left in the Git directory's scratch folder."""
    folder = repo.path / ".git" / "registry"
    return sorted(p.name for p in folder.glob(".artifacts.yaml.*")) if folder.is_dir() else []


def fails(repo: Repo, *args: str) -> str:
    """Run in-process; assert exit 128 and one fatal line; return stderr."""
    result = repo.run(*args)
    assert result.code == 128, f"exit {result.code}\n{result.out}\n{result.err}"
    assert "Traceback" not in result.err
    assert [ln for ln in result.err.splitlines() if ln.startswith("fatal: ")], result.err
    assert len([ln for ln in result.err.splitlines() if ln.startswith("fatal: ")]) == 1
    return result.err


# -- folders that are links -----------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the repository (never /tmp itself)."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


@pytest.fixture
def linked_folder(repo: Repo, outside: Path) -> Repo:
    """A committed link ``models -> OUTSIDE``."""
    (repo.path / "models").symlink_to(outside)
    repo.git("add", "models")
    repo.git("commit", "-q", "-m", "link models")
    return repo


@pytest.mark.parametrize("commit", [[], ["--commit"]], ids=["plain", "commit"])
def test_annotate_never_writes_through_a_linked_folder(
    linked_folder: Repo, outside: Path, commit: list[str]
) -> None:
    head = linked_folder.git("rev-parse", "HEAD")
    err = fails(linked_folder, "annotate", "models:m", "--path", "w", *commit)
    assert f"fatal: models {LINKED_FOLDER}" in err
    assert list(outside.iterdir()) == []
    assert linked_folder.git("rev-parse", "HEAD") == head
    assert status(linked_folder) == ""
    assert scratch_files(linked_folder) == []


def test_remove_never_rewrites_a_file_beyond_a_linked_folder(
    linked_folder: Repo, outside: Path
) -> None:
    (outside / "artifacts.yaml").write_text("m:\n  path: w\n")
    err = fails(linked_folder, "remove", "models:m")
    assert f"models {LINKED_FOLDER}" in err
    assert (outside / "artifacts.yaml").read_text() == "m:\n  path: w\n"
    assert status(linked_folder) == ""


def test_a_link_deeper_down_and_a_link_inside_the_work_tree(repo: Repo, outside: Path) -> None:
    """A link anywhere on the way is refused, even one to a folder of the work tree:
    Git records the link, not the folder, so the file would never be committed."""
    (repo.path / "a").mkdir()
    (repo.path / "a" / "b").symlink_to(outside)
    err = fails(repo, "annotate", "a/b/c:m", "--path", "w")
    assert "fatal: a/b is a symbolic link" in err
    assert list(outside.iterdir()) == [] and not (repo.path / "a" / "b" / "c").exists()

    (repo.path / "real").mkdir()
    (repo.path / "alias").symlink_to("real")
    err = fails(repo, "annotate", "alias:m", "--path", "w")
    assert "fatal: alias is a symbolic link" in err
    assert list((repo.path / "real").iterdir()) == []


def test_a_linked_artifacts_yaml_in_a_folder_is_still_refused(repo: Repo, outside: Path) -> None:
    (outside / "models.yaml").write_text("m:\n  path: w\n")
    (repo.path / "models").mkdir()
    (repo.path / "models" / "artifacts.yaml").symlink_to(outside / "models.yaml")
    err = fails(repo, "annotate", "models:m", "--type", "model")
    assert "fatal: models/artifacts.yaml is a symbolic link" in err and "readlink" in err
    assert (outside / "models.yaml").read_text() == "m:\n  path: w\n"
    assert (repo.path / "models" / "artifacts.yaml").is_symlink()


def test_a_file_where_a_folder_should_be(repo: Repo) -> None:
    (repo.path / "models").write_text("not a folder\n")
    err = fails(repo, "annotate", "models/x:m", "--path", "w")
    assert "fatal: cannot use models/x/artifacts.yaml: models is not a folder" in err
    assert (repo.path / "models").read_text() == "not a folder\n"


def test_new_folders_are_made_and_removed_again_if_the_write_fails(repo: Repo) -> None:
    repo.ok("annotate", "new/deep:m", "--path", "s3://m")
    assert (repo.path / "new" / "deep" / "artifacts.yaml").read_text() == "m:\n  path: s3://m\n"
    # A folder name the file system refuses (too long): the folder made before it is
    # removed again, so a failed command leaves nothing behind.
    long_name = "x" * 300
    err = fails(repo, "annotate", f"made/{long_name}:m", "--path", "s3://m")
    assert f"cannot use the folder made/{long_name}: File name too long" in err
    assert not (repo.path / "made").exists()
    assert status(repo) == "?? new/deep/artifacts.yaml\n"


# -- artifacts.yaml that is not a regular file ----------------------------------------------


def test_a_fifo_named_artifacts_yaml_does_not_hang(repo: Repo) -> None:
    """Opening a FIFO for reading waits for a writer: annotate must refuse it instead.
    Run as a process so that a regression fails (the bound) rather than hanging."""
    os.mkfifo(repo.path / "artifacts.yaml")
    (repo.path / "models").mkdir()
    os.mkfifo(repo.path / "models" / "artifacts.yaml")
    for args in (["annotate", "churn", "--path", "w"], ["remove", "models:m"]):
        proc = subprocess.run(
            ["git", "registry", *args],
            cwd=repo.path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 128, proc.stderr
        assert "is a named pipe (FIFO), not a regular file" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert (repo.path / "artifacts.yaml").is_fifo()
    assert scratch_files(repo) == []


def test_a_folder_named_artifacts_yaml(repo: Repo) -> None:
    (repo.path / "artifacts.yaml").mkdir()
    err = fails(repo, "annotate", "churn", "--path", "w")
    assert "fatal: artifacts.yaml is a folder, not a regular file" in err
    assert list((repo.path / "artifacts.yaml").iterdir()) == []


# -- byte order mark and line breaks --------------------------------------------------------

BOM = b"\xef\xbb\xbf"


def test_annotate_keeps_a_bom_and_crlf_line_breaks(repo: Repo) -> None:
    original = BOM + b"# models\r\nchurn:\r\n  path: s3://churn\r\n  type: model\r\n"
    (repo.path / "artifacts.yaml").write_bytes(original)
    repo.git("add", "artifacts.yaml")
    repo.git("commit", "-q", "-m", "crlf")
    repo.ok("annotate", "seg", "--path", "s3://seg", "--label", "cv")
    repo.ok("annotate", "churn", "--description", "two words")
    data = (repo.path / "artifacts.yaml").read_bytes()
    assert data.startswith(BOM) and data.count(BOM) == 1
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line break is CRLF
    assert data == BOM + (
        b"# models\r\nchurn:\r\n  path: s3://churn\r\n  type: model\r\n"
        b"  description: two words\r\nseg:\r\n  path: s3://seg\r\n  labels: [cv]\r\n"
    )
    repo.ok("remove", "seg", "--commit")
    assert (repo.path / "artifacts.yaml").read_bytes() == BOM + (
        b"# models\r\nchurn:\r\n  path: s3://churn\r\n  type: model\r\n  description: two words\r\n"
    )
    # Read back from the commit as any other file.
    assert repo.ok("describe", "churn", "--description") == "two words\n"


def test_crlf_without_a_final_line_break(repo: Repo) -> None:
    (repo.path / "artifacts.yaml").write_bytes(b"churn:\r\n  path: s3://churn")
    repo.ok("annotate", "seg", "--path", "s3://seg")
    assert (repo.path / "artifacts.yaml").read_bytes() == (
        b"churn:\r\n  path: s3://churn\r\nseg:\r\n  path: s3://seg\r\n"
    )


def test_lf_files_stay_lf_and_without_a_bom(repo: Repo) -> None:
    (repo.path / "artifacts.yaml").write_bytes(b"churn:\n  path: s3://churn\n")
    repo.ok("annotate", "seg", "--path", "s3://seg")
    assert (repo.path / "artifacts.yaml").read_bytes() == (
        b"churn:\n  path: s3://churn\nseg:\n  path: s3://seg\n"
    )
