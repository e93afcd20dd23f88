"""Attacks on the features of issues 18 and 20: ``git registry site`` (its folder, its
page names) and the registry state cache (``.git/registry/state-cache``).

Real repositories (``git``) and real files; nothing mocked."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from test_statecache import _rewritten, state_file, whole

from git_registry.sitegen import artifact_path

from conftest import Repo, make_registry

# -- the state cache: a hand-edited file whose CRC passes ------------------------------


@pytest.fixture
def reg(repo: Repo) -> Repo:
    return make_registry(
        repo,
        "churn@v1.0.0 churn#prod#1 commit churn@v1.1.0 churn#staging#2 commit seg@v0.0.1 "
        "seg#dev#1 churn@v1.0.0!",
    )


def _problem_message_is_a_number(index: list[Any], segments: list[Any]) -> None:
    index[6] = ((123, None, None, None, None),)


def _problem_tag_is_a_number(index: list[Any], segments: list[Any]) -> None:
    index[6] = (("a problem", 5, None, None, None),)


def _stages_are_not_text(index: list[Any], segments: list[Any]) -> None:
    index[7] = (1, 2.5, None)


def _counters_of_another_type(index: list[Any], segments: list[Any]) -> None:
    index[8] = ((1, 2.0),)


def _known_names_are_not_text(index: list[Any], segments: list[Any]) -> None:
    index[9] = (None, 3)


@pytest.mark.parametrize(
    "edit",
    [
        _problem_message_is_a_number,
        _problem_tag_is_a_number,
        _stages_are_not_text,
        _counters_of_another_type,
        _known_names_are_not_text,
    ],
)
def test_an_index_value_of_another_type_falls_back_to_the_tags(reg: Repo, edit: Any) -> None:
    """Attack: the index's problems, stages, counters and known names were converted
    (``str()``, ``int()``), not checked: a problem whose message is a number crashed
    every whole read (``__str__ returned non-string``), a stage list of numbers made
    ``show`` print other columns. A value of another type is a damaged file: the read
    builds the state from the tags."""
    expected = whole(reg, cache=False)
    reg.ok("show")
    _rewritten(state_file(reg), edit)
    assert whole(reg) == expected


# -- site: the folder and the page names ------------------------------------------------


def test_a_link_to_a_folder_in_a_previous_site_is_kept(reg: Repo, tmp_path: Path) -> None:
    """Attack: a link to a folder (``docs -> ../docs``) is neither a file nor an empty
    folder to ``os.walk``: the folder looked like a site holding only its own files,
    was swapped whole, and the user's link was deleted with the old folder."""
    out = tmp_path / "out"
    reg.ok("site", str(out))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.html").write_text("the user's")
    (out / "docs").symlink_to(docs)
    result = reg.run("site", str(out))
    assert result.code == 0, result
    assert (out / "docs").is_symlink()
    assert os.readlink(out / "docs") == str(docs)
    assert (docs / "guide.html").read_text() == "the user's"
    assert (out / "index.html").is_file()


def _old_hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:8]


def test_no_two_artifacts_pages_are_one_file() -> None:
    """Attack: page names could be forged. ``x-history-2`` (a valid artifact name) was
    the file of page 2 of ``x``'s history, ``a-b-<8 hex of sha1('a/b')>`` the page of
    ``a/b``, and ``Churn`` and ``churn`` one file where case is ignored: one page
    silently overwrote the other."""
    names = [
        "x",
        "x-history-2",
        "x-versions-3",
        "a/b",
        f"a-b-{_old_hash('a/b')}",
        "Churn",
        "churn",
        "index",
        "Index",
    ]
    paths = [
        artifact_path(n, page, what).lower()
        for n in names
        for page, what in [
            (1, ""),
            (2, "history"),
            (3, "history"),
            (2, "versions"),
            (3, "versions"),
        ]
    ]
    assert len(paths) == len(set(paths))


def test_an_artifact_named_as_anothers_page_gets_its_own(repo: Repo, tmp_path: Path) -> None:
    forged = f"a-b-{_old_hash('a/b')}"
    repo.commit()
    make_registry(repo, f"a/b@v1.0.0 commit {forged}@v2.0.0")
    repo.ok("site", str(tmp_path / "out"))
    pages = sorted(p.name for p in (tmp_path / "out" / "a").iterdir())
    assert len(pages) == 2
    texts = [(tmp_path / "out" / "a" / p).read_text() for p in pages]
    assert sum("v1.0.0" in t for t in texts) == 1
    assert sum("v2.0.0" in t for t in texts) == 1


def test_out_as_a_link_to_a_folder_writes_into_that_folder(reg: Repo, tmp_path: Path) -> None:
    """Attack: OUT a link to the folder a web server serves (``site -> /var/www/html``,
    a usual set-up): the link itself was renamed away and deleted, the pages written
    into a new plain folder in its place, and the served folder never got them."""
    served = tmp_path / "www"
    served.mkdir()
    link = tmp_path / "site"
    link.symlink_to(served)
    for _ in range(2):  # a new site, then a site replaced
        result = reg.run("site", str(link))
        assert result.code == 0, result
        assert link.is_symlink() and os.readlink(link) == str(served)
        assert (served / "index.html").is_file()
        assert (served / "a" / "churn.html").is_file()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
