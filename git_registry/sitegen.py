"""``git registry site``: the static registry site, as files (issue 18).

Pure: from the registry, the annotations at HEAD and the policy, the pages as
``{relative path: HTML}`` (:func:`build`). Nothing is fetched when a page is viewed:
one HTML file per page with its CSS, its SVG and its few lines of JavaScript inline,
under a Content-Security-Policy that forbids every request. Every value read from a
tag, a commit or a file is escaped (:func:`h`); links go only to
the site's own pages and to commits through an ``http(s)`` URL template.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from git_registry.state import Registry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.annotations import Annotation
    from git_registry.policy import Policy

MANIFEST = ".git-registry-site"
"""The file that marks a folder as a site this command wrote, listing its files."""
PAGE_SIZE = 100
"""Rows of a long table (versions, history) per page."""


@dataclass(frozen=True, slots=True)
class SiteInput:
    """What a site is made of."""

    registry: Registry
    annotations: Mapping[str, Annotation] = field(default_factory=dict)
    stages: Sequence[str] = ()
    """The stages in the policy's order (the index's columns, the timelines' lanes)."""
    policy: Policy | None = None
    commit_urls: Mapping[str, str] = field(default_factory=dict)
    """Commit URL template per repository label ("" for a single repository)."""
    title: str = "Model registry"
    warnings: Sequence[str] = ()


def h(text: str) -> str:
    """``text`` as HTML text or attribute value: control characters escaped as the
    terminal shows them (:func:`~git_registry.render.escape`), then ``& < > " '``."""
    from git_registry.render import escape

    return html.escape(escape(text), quote=True)


def hm(text: str) -> str:
    """:func:`h` of a text of several lines (shown with ``white-space: pre-wrap``)."""
    return "\n".join(h(line) for line in text.split("\n"))


# -- commit links -------------------------------------------------------------------------

_SAFE_PATH = re.compile(r"[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)+")
_HOSTS = {"github.com": "{base}/commit/{{commit}}", "gitlab.com": "{base}/-/commit/{{commit}}"}


def detect_commit_url(remote_url: str) -> str | None:
    """The commit URL template of a GitHub or GitLab repository, from its clone URL
    (``https://github.com/o/r.git``, ``git@github.com:o/r.git``, ``ssh://…``), or None.

    Credentials in the URL (``https://user:token@…``) are never copied; a path with
    anything but plain name characters gives None."""
    url = remote_url.strip()
    match = re.fullmatch(r"(?:https?|ssh|git)://(?:[^@/]*@)?([^/:]+)(?::\d+)?/(.+)", url)
    if match is None:
        match = re.fullmatch(r"(?:[^@/:]+@)?([^/:]+):(?!/)(.+)", url)  # scp-like
    if match is None:
        return None
    host, path = match.group(1).lower(), match.group(2).rstrip("/")
    path = path[:-4] if path.endswith(".git") else path
    if host not in _HOSTS or not _SAFE_PATH.fullmatch(path) or ".." in path.split("/"):
        return None
    return _HOSTS[host].format(base=f"https://{host}/{path}")


def commit_url_problem(template: str) -> str | None:
    """Why ``registry.commitUrl`` cannot be used, or None: it must be an ``http(s)``
    URL holding ``{commit}``, with no quote, angle bracket, space or control character."""
    if not re.match(r"https?://[^/\s]", template, re.IGNORECASE):
        return "it is not an http:// or https:// URL"
    if "{commit}" not in template:
        return "it has no {commit}"
    if re.search(r"[\s\"'<>`\\\x00-\x1f\x7f]", template):
        return "it holds a space, a quote, an angle bracket or a control character"
    return None


def commit_link(template: str | None, commit: str) -> str | None:
    """The URL of ``commit`` (a hex object id) from a checked template, or None."""
    if template is None or not re.fullmatch(r"[0-9a-f]{4,64}", commit):
        return None
    return template.replace("{commit}", commit)


# -- metrics ------------------------------------------------------------------------------


def metrics(message: str) -> list[tuple[str, str]]:
    """A version's metrics and metadata as written: the ``Registry-Metric`` and
    ``Registry-Meta`` trailers of its registration's tag message, read as ``show``
    reads them (:mod:`git_registry.trailers`), metrics first, each sorted by key."""
    from git_registry import trailers

    found = trailers.read(message)
    pairs = [(key, found.metrics[key].text) for key in sorted(found.metrics)]
    return pairs + [(key, found.meta[key]) for key in sorted(found.meta)]


# -- names and pages ----------------------------------------------------------------------


def slug(name: str) -> str:
    """The file name (without ``.html``) of an artifact's page: the name itself when it
    is plain (lower-case letters, digits, ``_`` and ``-``), else its plain characters, a
    ``.`` and a hash (``LABEL:models/cv`` has both; ``Churn`` too, which a file system
    that ignores case would take for ``churn``). A plain slug holds no ``.``: it can
    never be another name's hashed one, nor a further page of another's."""
    if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,80}", name) and name != "index":
        return name
    plain = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_")[:60] or "artifact"
    return f"{plain}.{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def artifact_path(name: str, page: int = 1, what: str = "") -> str:
    """Where an artifact's page (or page ``page`` of its ``what`` table) is: after a
    ``.``, which no plain slug holds (``a/x.history-2.html`` is never the page of an
    artifact named ``x-history-2``)."""
    base = f"a/{slug(name)}"
    return f"{base}.html" if page == 1 else f"{base}.{what}-{page}.html"


def pages_of(count: int, size: int = PAGE_SIZE) -> int:
    """How many pages ``count`` rows take (at least one)."""
    return max(1, -(-count // size))


def label_of(name: str, labels: Sequence[str]) -> str:
    """The repository label of ``LABEL:NAME`` in a site of several (``""`` otherwise)."""
    head, sep, _ = name.partition(":")
    return head if sep and head in labels else ""
