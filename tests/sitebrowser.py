"""Headless Chromium on the static site (issue 18): screenshots, the DOM after the page's
script ran, and every network request the page made. Used by tests/test_site_browser.py
and to make the README's screenshot of the demo registry's site::

    python tests/sitebrowser.py docs/site.png

(``git registry demo``, then ``git registry site``, then the screenshot: the tests' own
code path.) Standard library only; Chromium is Debian's ``chromium`` package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chromium() -> str | None:
    """The Chromium binary on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshots_dir() -> Path:
    """Where the browser tests keep their screenshots for a person to look at:
    ``$REGISTRY_SCREENSHOTS``, default ``.ci/screenshots/`` (CI keeps it as an artifact)."""
    folder = Path(os.environ.get("REGISTRY_SCREENSHOTS") or ROOT / ".ci" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _run(args: list[str], profile: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    binary = chromium()
    assert binary is not None, "chromium is not installed"
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--metrics-recording-only",
        f"--user-data-dir={profile}",
        # Nothing can be fetched: any host a page names resolves to nothing.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        *args,
    ]
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def screenshot(
    url: str, png: Path, *, width: int = 1100, height: int = 900, dark: bool = False
) -> Path:
    """A screenshot of ``url`` as ``png`` (light theme, or ``dark``)."""
    with tempfile.TemporaryDirectory() as profile:
        result = _run(
            [
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                *(["--force-dark-mode"] if dark else []),
                url,
            ],
            Path(profile),
        )
    assert png.is_file(), f"no screenshot of {url}:\n{result.stderr[-2000:]}"
    return png


def dump_dom(url: str) -> str:
    """The page's DOM after it loaded and its script ran (``--dump-dom``)."""
    with tempfile.TemporaryDirectory() as profile:
        result = _run(["--dump-dom", url], Path(profile))
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def requests(url: str) -> list[str]:
    """Every URL the browser requested while loading ``url`` (from its net log), the
    page's own ``file://`` URL included."""
    with tempfile.TemporaryDirectory() as profile:
        log = Path(profile) / "netlog.json"
        _run(
            [f"--log-net-log={log}", "--net-log-capture-mode=Everything", "--dump-dom", url],
            Path(profile),
        )
        text = log.read_text(encoding="utf-8", errors="replace")
    # A net log cut short by the browser's exit lacks its closing brackets.
    text = text.rstrip().rstrip(",")
    for ending in ("", "]}", "\n]}"):
        try:
            doc = json.loads(text + ending)
            break
        except json.JSONDecodeError:
            continue
    else:
        raise AssertionError("the net log cannot be read")
    found = []
    for event in doc.get("events", []):
        params = event.get("params") or {}
        for key in ("url", "original_url", "host"):
            value = params.get(key)
            if isinstance(value, str) and value:
                found.append(value)
    return found


# Chromium's own requests (its clock, its account checks), made whatever the page: not the
# page's. They cannot leave the machine either (every host resolves to nothing).
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com", "~notfound")


def page_requests(url: str) -> list[str]:
    """The URLs and hosts the page at ``url`` made the browser ask for, other than its
    own ``file://`` URLs and Chromium's own requests (:data:`BROWSER_HOSTS`)."""
    from urllib.parse import urlsplit

    out = []
    for found in requests(url):
        if found.startswith("file:") or found in ("about:blank",):
            continue
        host = (urlsplit(found).hostname or "") if "://" in found else found
        if not any(host == b or host.endswith("." + b) for b in BROWSER_HOSTS):
            out.append(found)
    return sorted(set(out))


def demo_site(workdir: Path) -> Path:
    """``git registry demo`` in ``workdir``, then ``git registry site``: the site's folder."""
    env = {**os.environ}
    for var in ("GIT_DIR", "GIT_WORK_TREE"):
        env.pop(var, None)
    demo = workdir / "registry-demo"
    site = workdir / "site"
    registry = [sys.executable, "-m", "git_registry"]
    subprocess.run(
        [*registry, "demo", str(demo)], check=True, capture_output=True, env=env, cwd=workdir
    )
    subprocess.run(
        [*registry, "site", str(site)], check=True, capture_output=True, env=env, cwd=demo
    )
    return site


def readme_screenshot(png: Path) -> Path:
    """The README's screenshot: the demo registry's ``churn`` page, light theme."""
    with tempfile.TemporaryDirectory() as work:
        site = demo_site(Path(work))
        return screenshot((site / "a" / "churn.html").as_uri(), png, width=1000, height=1010)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "site.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    print(readme_screenshot(target.resolve()))
