"""The static site in a real browser (issue 18): headless Chromium loads the generated
pages. Screenshots of the index and of an artifact page (light, dark, a phone's width)
are kept for a person to look at, in ``$REGISTRY_SCREENSHOTS`` (default
``.ci/screenshots/``); the DOM after the page's script ran has every artifact and every
version, one timeline lane per stage, a filter box that filters; no page requests
anything from the network (Chromium's net log)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sitebrowser

from conftest import Repo, make_registry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sitebrowser.chromium() is None,
        reason="chromium is not installed (.ci/run installs Debian's chromium package)",
    ),
]

SPEC = (
    "churn@v1.0.0 churn#dev#1 churn#prod#2 commit churn@v1.1.0 churn#dev#3 churn#prod#4 "
    "churn#prod!#5->v1.1.0 commit seg@v0.1.0 seg#dev#1 commit seg@v0.2.0 seg#dev#2 "
    "seg@deprecated#3 commit churn@v1.2.0 churn#staging#6 churn@v1.2.0!"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One registry's site for every test here (Chromium is slow to start)."""
    import io

    from git_registry.cli import main

    work = tmp_path_factory.mktemp("browser")
    repo = Repo(work / "models")
    repo.commit(
        files={
            "artifacts.yaml": "churn:\n  type: model\n  labels: [customer]\n"
            "seg:\n  type: model\n  description: Segmentation\n",
            ".registry.yaml": "stages: [dev, staging, prod]\n",
        }
    )
    make_registry(repo, SPEC)
    err = io.StringIO()
    code = main(["site", str(work / "site")], stdout=io.StringIO(), stderr=err, cwd=str(repo.path))
    assert code == 0, err.getvalue()
    return work / "site"


def test_screenshots_of_the_index_and_an_artifact_page(site: Path) -> None:
    shots = sitebrowser.screenshots_dir()
    taken = [
        sitebrowser.screenshot((site / "index.html").as_uri(), shots / "index.png"),
        sitebrowser.screenshot((site / "index.html").as_uri(), shots / "index-dark.png", dark=True),
        sitebrowser.screenshot(
            (site / "a" / "churn.html").as_uri(), shots / "churn.png", height=1300
        ),
        sitebrowser.screenshot(
            (site / "a" / "churn.html").as_uri(), shots / "churn-dark.png", height=1300, dark=True
        ),
        sitebrowser.screenshot(
            (site / "a" / "churn.html").as_uri(), shots / "churn-phone.png", width=390, height=844
        ),
    ]
    for png in taken:
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    # light and dark differ: the theme follows the system's
    assert taken[0].read_bytes() != taken[1].read_bytes()


def test_every_artifact_and_version_is_on_the_pages(site: Path) -> None:
    index = sitebrowser.dump_dom((site / "index.html").as_uri())
    assert re.findall(r'<tr class="artifact" data-name="([^"]+)"', index) == ["churn", "seg"]
    assert "3 of 3" not in index and "2 of 2" in index
    versions = {
        "churn": ["v1.2.0", "v1.1.0", "v1.0.0"],
        "seg": ["v0.2.0", "v0.1.0"],
    }
    for name, expected in versions.items():
        dom = sitebrowser.dump_dom((site / "a" / f"{name}.html").as_uri())
        assert re.findall(r'<tr id="[^"]+" class="version" data-version="([^"]+)"', dom) == expected


def test_the_timeline_has_one_lane_per_stage(site: Path) -> None:
    dom = sitebrowser.dump_dom((site / "a" / "churn.html").as_uri())
    assert re.findall(r'<g class="lane" data-stage="([^"]+)"', dom) == ["dev", "staging", "prod"]
    seg = sitebrowser.dump_dom((site / "a" / "seg.html").as_uri())
    assert re.findall(r'<g class="lane" data-stage="([^"]+)"', seg) == ["dev"]
    assert '<g class="deprecated">' in seg


@pytest.mark.parametrize(
    ("query", "shown"),
    [("", ["churn", "seg"]), ("churn", ["churn"]), ("SEGMENT", ["seg"]), ("zzz", [])],
)
def test_the_filter_box_filters(site: Path, query: str, shown: list[str]) -> None:
    """``index.html#filter=TEXT`` fills the box; the script hides the rows that do not
    match (name, type, labels, versions, case-insensitive)."""
    url = (site / "index.html").as_uri() + (f"#filter={query}" if query else "")
    dom = sitebrowser.dump_dom(url)
    rows = re.findall(r'<tr class="artifact" data-name="([^"]+)"( hidden="")?', dom)
    assert [name for name, hidden in rows if not hidden] == shown
    assert f'id="shown" class="muted">{len(shown)} of 2<' in dom


def test_no_page_requests_anything_from_the_network(site: Path, tmp_path: Path) -> None:
    # The check can fail: a page that loads an image and a stylesheet is caught.
    control = tmp_path / "control.html"
    control.write_text(
        '<img src="http://example.invalid/x.png">'
        '<link rel="stylesheet" href="https://cdn.example.org/a.css">'
    )
    caught = sitebrowser.page_requests(control.as_uri())
    assert any("example.invalid" in r for r in caught)
    assert any("cdn.example.org" in r for r in caught)
    for page in ["index.html", "a/churn.html", "a/seg.html"]:
        assert sitebrowser.page_requests((site / page).as_uri()) == [], page


def test_the_readme_screenshot_is_made_by_this_code_path(tmp_path: Path) -> None:
    png = sitebrowser.readme_screenshot(tmp_path / "site.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert (Path(sitebrowser.ROOT) / "docs" / "site.png").is_file()
