"""``git registry site OUT`` (issue 18): the static registry site from real repositories:
every artifact and version on its pages, one timeline lane per stage, commit links, long
histories over pages, hostile values escaped, nothing fetched, a user's files never lost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from git_registry.sitegen import (
    MANIFEST,
    commit_link,
    commit_url_problem,
    detect_commit_url,
    metrics,
    slug,
)
from git_registry.timeline import unicode_ok

from conftest import Repo, make_registry

SPEC = (
    "churn@v1.0.0 churn#dev#1 churn#prod#2 commit churn@v1.1.0 churn#prod#3 "
    "churn#prod!#4->v1.1.0 commit seg@v0.1.0 seg#dev#1 seg@deprecated#2 "
    "commit churn@v1.2.0 churn#dev#5 churn@v1.2.0!"
)


@pytest.fixture
def registry(repo: Repo) -> Repo:
    repo.commit(files={"artifacts.yaml": "churn:\n  type: model\n  labels: [customer]\n"})
    return make_registry(repo, SPEC)


def read(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


def test_the_site_has_every_artifact_and_version_and_a_lane_per_stage(
    registry: Repo, tmp_path: Path
) -> None:
    result = registry.run("site", str(tmp_path / "out"))
    assert result.code == 0, result.err
    assert result.out == ""
    assert "wrote 3 pages" in result.err
    site = tmp_path / "out"
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == [
        MANIFEST,
        "a/churn.html",
        "a/seg.html",
        "index.html",
    ]
    index = read(site, "index.html")
    assert re.findall(r'<tr class="artifact" data-name="([^"]+)"', index) == ["churn", "seg"]
    assert "<th>#dev</th><th>#prod</th>" in index
    assert '<span class="badge deprecated">deprecated</span>' in index
    assert '<span class="chip">customer</span>' in index
    churn = read(site, "a/churn.html")
    assert re.findall(r'data-version="(v[^"]+)"><td>', churn) == ["v1.2.0", "v1.1.0", "v1.0.0"]
    assert re.findall(r'<g class="lane" data-stage="([^"]+)"', churn) == ["dev", "prod"]
    assert churn.count('<tr class="event">') == 9
    assert 'class="st-deregistered">deregistered' in churn
    # the rollback handed prod back to v1.0.0: its bar comes again after v1.1.0's
    prod = churn.split('data-stage="prod"')[1].split("</g>")[0]
    assert re.findall(r'class="span c\d" data-version="([^"]+)"', prod) == [
        "v1.0.0",
        "v1.1.0",
        "v1.0.0",
    ]
    assert "rolled back prod: v1.1.0 unassigned" in prod


def test_no_page_can_fetch_anything(registry: Repo, tmp_path: Path) -> None:
    registry.git("config", "registry.commitUrl", "https://git.example.com/r/commit/{commit}")
    registry.ok("site", str(tmp_path / "out"))
    for page in (tmp_path / "out").rglob("*.html"):
        text = page.read_text()
        assert "default-src 'none'" in text.split("</head>")[0]
        assert not re.search(r"\b(src|srcset|action|data|poster)\s*=", text.replace("data-", ""))
        assert "<link" not in text and "@import" not in text and "url(http" not in text
        for tag, url in re.findall(r"<(\w+)[^>]*\bhref=\"(https?:[^\"]*)\"", text):
            assert tag == "a" and url.startswith("https://git.example.com/r/commit/")
    assert "https://git.example.com/r/commit/" in read(tmp_path / "out", "a/churn.html")


@pytest.mark.parametrize(
    ("origin", "link"),
    [
        ("git@github.com:acme/models.git", "https://github.com/acme/models/commit/"),
        ("https://github.com/acme/models", "https://github.com/acme/models/commit/"),
        ("ssh://git@gitlab.com/acme/ml/models.git", "https://gitlab.com/acme/ml/models/-/commit/"),
        (
            "https://ci:s3cret@gitlab.com/acme/models.git",
            "https://gitlab.com/acme/models/-/commit/",
        ),
        ("https://example.com/acme/models.git", None),
        ("git@github.com:acme/<x>.git", None),
    ],
)
def test_commit_links_follow_origin_on_github_and_gitlab(
    registry: Repo, tmp_path: Path, origin: str, link: str | None
) -> None:
    registry.git("remote", "add", "origin", origin)
    registry.ok("site", str(tmp_path / "out"))
    churn = read(tmp_path / "out", "a/churn.html")
    commit = registry.git("rev-parse", "churn@v1.0.0^{commit}").strip()
    if link is None:
        assert 'href="http' not in churn
    else:
        assert f'<a href="{link}{commit}" rel="noreferrer">' in churn
    assert "s3cret" not in churn


@pytest.mark.parametrize(
    "template",
    [
        "javascript:alert(1)//{commit}",
        'https://x.example/{commit}" onmouseover="alert(1)',
        "https://x.example/commit/",
        "data:text/html,{commit}",
    ],
)
def test_a_bad_commit_url_is_warned_about_and_not_used(
    registry: Repo, tmp_path: Path, template: str
) -> None:
    registry.git("config", "registry.commitUrl", template)
    result = registry.run("site", str(tmp_path / "out"))
    assert result.code == 0
    assert "warning: registry.commitUrl is not used" in result.err
    for page in (tmp_path / "out").rglob("*.html"):
        text = page.read_text()
        assert "javascript:" not in text and "onmouseover" not in text and 'href="data' not in text
        assert '<a href="http' not in text


def test_hostile_values_are_escaped(repo: Repo, tmp_path: Path) -> None:
    repo.commit()
    repo.ok("register", "churn", "-m", "<script>alert(4)</script>\n<iframe src=//x>")
    repo.ok("promote", "churn", "prod", "-m", "</title></svg><script>alert(5)</script>")
    repo.ok("promote", "churn", "dev", "-m", "\x1b[31mred\x07")
    yaml = (
        'churn:\n  type: model\n  description: "</p><script>alert(1)</script>"\n'
        '  path: "javascript:alert(3)"\n'
    )
    repo.commit(files={"artifacts.yaml": yaml})
    repo.ok("site", str(tmp_path / "out"))
    for page in (tmp_path / "out").rglob("*.html"):
        text = page.read_text()
        assert text.count("<script") == 1  # ours: the filter, the timeline's scroll
        assert "<img" not in text and "<iframe" not in text
        assert "\x1b" not in text
        assert not re.search(r"<a [^>]*javascript", text)
    churn = read(tmp_path / "out", "a/churn.html")
    assert "&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in churn
    assert "&lt;script&gt;alert(4)&lt;/script&gt;\n&lt;iframe src=//x&gt;" in churn
    assert "&lt;/title&gt;&lt;/svg&gt;&lt;script&gt;alert(5)&lt;/script&gt;" in churn
    assert "\\x1b[31mred" in churn
    assert "<code>javascript:alert(3)</code>" in churn


def test_metrics_from_the_registration_trailers(repo: Repo, tmp_path: Path) -> None:
    repo.commit()
    repo.ok("register", "churn", "--metric", "f1=0.8", "--metric", "auc=0.91", "--meta", "data=v2")
    repo.ok("site", str(tmp_path / "out"))
    churn = read(tmp_path / "out", "a/churn.html")
    assert (
        '<td class="metrics"><span class="chip">auc=0.91</span><span class="chip">f1=0.8</span>'
        '<span class="chip">data=v2</span>' in churn
    )
    assert "<th>metrics</th>" in churn


def test_no_metrics_column_without_metrics(registry: Repo, tmp_path: Path) -> None:
    registry.ok("site", str(tmp_path / "out"))
    churn = read(tmp_path / "out", "a/churn.html")
    assert "<th>metrics</th>" not in churn and 'class="metrics"' not in churn


def test_long_histories_go_over_pages(repo: Repo, tmp_path: Path) -> None:
    repo.commit()
    words = ["churn@v1.0.0"] + [f"churn#{'dev' if i % 2 else 'prod'}#{i}" for i in range(1, 230)]
    make_registry(repo, " ".join(words))
    repo.ok("site", str(tmp_path / "out"))
    site = tmp_path / "out"
    first = read(site, "a/churn.html")
    assert first.count('<tr class="event">') == 100
    assert '<a href="../a/churn.history-2.html">2</a>' in first
    assert '<a href="../a/churn.history-3.html">3</a>' in first
    assert read(site, "a/churn.history-3.html").count('<tr class="event">') == 30
    assert "The newest 150 of 230 events" in first
    assert first.count('class="ev ') == 150


def test_several_remotes_make_one_site(registry: Repo, tmp_path: Path) -> None:
    other = Repo(tmp_path / "other")
    other.commit()
    make_registry(other, "churn@v9.0.0 churn#prod#1")
    registry.ok(
        "site", str(tmp_path / "out"), "--remote", str(registry.path), "--remote", str(other.path)
    )
    site = tmp_path / "out"
    index = read(site, "index.html")
    names = re.findall(r'<tr class="artifact" data-name="([^"]+)"', index)
    assert names == ["other:churn", "repo:churn", "repo:seg"]
    assert (site / "a" / f"{slug('other:churn')}.html").is_file()
    assert "v9.0.0" in read(site, f"a/{slug('other:churn')}.html")
    assert "<title>Model registries</title>" in index


@pytest.mark.core
@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("git@github.com:o/r.git", "https://github.com/o/r/commit/{commit}"),
        ("git@github.com:o/r", "https://github.com/o/r/commit/{commit}"),
        ("ssh://git@github.com:22/o/r.git", "https://github.com/o/r/commit/{commit}"),
        ("https://github.com/o/r/", "https://github.com/o/r/commit/{commit}"),
        ("https://GitHub.com/o/r.git", "https://github.com/o/r/commit/{commit}"),
        ("https://gitlab.com/g/sub/r.git", "https://gitlab.com/g/sub/r/-/commit/{commit}"),
        ("https://u:tok@gitlab.com/g/r", "https://gitlab.com/g/r/-/commit/{commit}"),
        ("https://github.com/o/../x", None),
        ("https://github.com/o", None),
        ("https://github.com.evil.example/o/r", None),
        ("https://evil.example/github.com/o/r", None),
        ('https://github.com/o/r?x="><script>', None),
        ("/srv/git/r.git", None),
        ("../r.git", None),
        ("file:///srv/r.git", None),
    ],
)
def test_commit_url_detection(url: str, template: str | None) -> None:
    assert detect_commit_url(url) == template
    if template is not None:
        assert commit_url_problem(template) is None


@pytest.mark.core
def test_metrics_trailers_and_commit_links() -> None:
    message = "Trained\n\nRegistry-Metric: auc=0.91\nRegistry-Metric: acc=0.7\nOther: x=1"
    assert metrics(message) == [("acc", "0.7"), ("auc", "0.91")]  # as show reads them
    assert metrics("T\n\nRegistry-Metric: noequals") == []
    assert metrics("Registry-Metric: auc=0.1") == []  # a subject, not a trailer
    twice = "T\n\nRegistry-Metric: auc=0.1\nRegistry-Metric: auc=0.2\nRegistry-Meta: d=x"
    assert metrics(twice) == [("auc", "0.1"), ("d", "x")]  # the first is kept
    template = "https://h.example/c/{commit}"
    assert commit_link(template, "ab" * 20) == "https://h.example/c/" + "ab" * 20
    assert commit_link(template, "not-hex") is None
    assert commit_link(None, "ab" * 20) is None


@pytest.mark.core
@pytest.mark.parametrize(
    ("env", "encoding", "ok"),
    [
        ({"LANG": "en_US.UTF-8"}, None, True),
        ({"LANG": "C.utf8"}, None, True),
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, "utf-8", False),
        ({"LC_CTYPE": "de_DE.ISO-8859-1", "LANG": "en_US.UTF-8"}, None, False),
        ({}, "UTF-8", True),
        ({}, "ascii", False),
        ({}, None, False),
        ({}, "no-such-codec", False),
    ],
)
def test_unicode_is_drawn_in_a_utf8_locale(
    env: dict[str, str], encoding: str | None, ok: bool
) -> None:
    assert unicode_ok(env, encoding) is ok


def test_slugs_are_plain_file_names_and_never_clash() -> None:
    assert slug("churn") == "churn"
    assert slug("index") != "index"
    names = ["a:b", "a-b", "models/cv:seg", "..", "a b", "x" * 300]
    slugs = [slug(n) for n in names]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", s) for s in slugs)


# -- the folder --------------------------------------------------------------------------


def test_a_folder_with_other_files_is_refused_and_untouched(registry: Repo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("mine")
    result = registry.run("site", str(out))
    assert result.code == 128
    assert "is not a site written by 'git registry site'" in result.err
    assert "--force" in result.err
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert (out / "index.html").read_text() == "mine"
    registry.ok("site", str(out), "--force")
    assert "registry" in (out / "index.html").read_text()


def test_force_keeps_the_users_other_files(registry: Repo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "keep.txt").write_text("keep")
    registry.ok("site", str(out), "--force")
    assert (out / "notes" / "keep.txt").read_text() == "keep"
    assert (out / "a" / "churn.html").is_file()


def test_a_previous_site_is_replaced_and_a_users_file_in_it_kept(
    registry: Repo, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    registry.ok("site", str(out))
    (out / "a" / "gone.html").write_text("old page")
    manifest = (out / MANIFEST).read_text()
    (out / MANIFEST).write_text(manifest + "a/gone.html\n../../escape.txt\n")
    (tmp_path / "escape.txt").write_text("outside")
    registry.ok("site", str(out))  # only its own files: the folder is swapped
    assert not (out / "a" / "gone.html").exists()
    assert (tmp_path / "escape.txt").read_text() == "outside"
    (out / "CNAME").write_text("models.example.com\n")
    make_registry(registry, "commit new@v0.1.0")
    result = registry.run("site", str(out))
    assert "updated 4 pages" in result.err
    assert (out / "CNAME").read_text() == "models.example.com\n"
    assert (out / "a" / "new.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_link_out_of_the_folder_is_never_followed(registry: Repo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    registry.ok("site", str(out))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "churn.html").write_text("theirs")
    (elsewhere / "seg.html").write_text("theirs")
    import shutil

    shutil.rmtree(out / "a")
    (out / "a").symlink_to(elsewhere)
    (out / "CNAME").write_text("x\n")  # not only the site's files: updated in place
    result = registry.run("site", str(out))
    assert result.code == 128
    assert "leads out of the folder" in result.err
    assert (elsewhere / "churn.html").read_text() == "theirs"
    assert (elsewhere / "seg.html").read_text() == "theirs"


def test_out_is_a_file(registry: Repo, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    result = registry.run("site", str(tmp_path / "out"))
    assert result.code == 128
    assert "exists and is not a folder" in result.err


def test_an_empty_registry_makes_an_empty_site(repo: Repo, tmp_path: Path) -> None:
    repo.commit()
    repo.ok("site", str(tmp_path / "out"))
    assert "0 artifacts, 0 versions" in read(tmp_path / "out", "index.html")


def test_site_needs_out(registry: Repo) -> None:
    result = registry.run("site")
    assert result.code == 129
    assert "OUT" in result.err


@pytest.mark.core
@given(st.text())
def test_escaped_text_cannot_open_a_tag_or_leave_an_attribute(text: str) -> None:
    from git_registry.sitegen import h, hm

    for shown in (h(text), hm(text)):
        assert not set("<>\"'") & set(shown)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", shown)
    assert "\n" not in h(text)


def test_the_index_columns_follow_the_policy_and_hide_what_no_artifact_has(
    repo: Repo, tmp_path: Path
) -> None:
    repo.commit(files={".registry.yaml": "stages: [latest, type, prod]\n"})
    make_registry(repo, "churn@v1.0.0 churn#prod#1 churn#type#2 churn#latest#3")
    repo.ok("site", str(tmp_path / "out"))
    index = read(tmp_path / "out", "index.html")
    assert re.findall(r"<th>([^<]*)</th>", index.split("</thead>")[0]) == [
        "artifact",
        "latest",
        "#latest",
        "#type",
        "#prod",
    ]
