"""The HTML of the static site's pages (issue 18): the index (the registry table with a
filter box, the policy) and each artifact's page (its annotation, stages, lifecycle
timeline, versions with their metrics, history), long tables over several pages.

Every value from a tag, a commit or a file goes through :func:`h` (control characters
made visible as the terminal output makes them, then HTML-escaped, quotes included);
hrefs are the site's own paths or checked commit URLs (:mod:`git_registry.sitegen`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from git_registry import __version__
from git_registry.gitvalues import short
from git_registry.lifecycle import lifecycle
from git_registry.render import when
from git_registry.sitegen import (
    PAGE_SIZE,
    SiteInput,
    artifact_path,
    commit_link,
    h,
    hm,
    label_of,
    metrics,
    pages_of,
)
from git_registry.state import ArtifactInfo, Event, VersionInfo


def build(site: SiteInput) -> dict[str, str]:
    """Every page of the site: ``{path relative to the site: HTML}``."""
    names = sorted({*site.registry.artifacts, *site.annotations})
    pages = {"index.html": index_page(site, names)}
    for name in site.registry.artifacts:
        pages.update(artifact_pages(site, site.registry.artifacts[name]))
    for name in names:
        if name not in site.registry.artifacts:
            pages[artifact_path(name)] = unregistered_page(site, name)
    return pages


CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


CSS = """
:root{color-scheme:light dark;--bg:#fbfbfd;--fg:#1d2330;--muted:#5d6677;--line:#dde1e8;
--card:#fff;--accent:#2859c5;--chip:#eef1f6;--warn:#a35a00;--bad:#b42323;--ok:#1c7c3a;
--hatch:#c9ced8;--c0:#3b82f6;--c1:#10b981;--c2:#f59e0b;--c3:#8b5cf6;--c4:#ef4444;--c5:#06b6d4;
--c6:#84cc16;--c7:#ec4899}
@media (prefers-color-scheme:dark){:root{--bg:#12151c;--fg:#e3e7ef;--muted:#9aa3b5;
--line:#2c323f;--card:#1a1e27;--accent:#7aa2ff;--chip:#252b37;--warn:#f0a43a;--bad:#ff7b7b;
--ok:#5bd184;--hatch:#3a4150;--c0:#60a5fa;--c1:#34d399;--c2:#fbbf24;--c3:#a78bfa;--c4:#f87171;
--c5:#22d3ee;--c6:#a3e635;--c7:#f472b6}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header.top{padding:14px 20px;border-bottom:1px solid var(--line);background:var(--card)}
header.top a{color:var(--fg);text-decoration:none;font-weight:600}
main{max-width:1200px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:1.6em;margin:.3em 0}h2{font-size:1.15em;margin:1.6em 0 .5em}
a{color:var(--accent)}
code,.mono,td.commit,td.tag{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
font-size:.9em}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;background:var(--card);font-size:.93em}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);white-space:nowrap}
tr:hover td{background:var(--chip)}
td.msg{white-space:pre-wrap;max-width:32em;color:var(--muted)}
td.when,td.tag,td.commit{white-space:nowrap}
.chip{display:inline-block;background:var(--chip);border-radius:999px;padding:0 8px;
margin:1px 2px;font-size:.85em}
.badge{display:inline-block;border-radius:6px;padding:0 7px;font-size:.8em;font-weight:600;
border:1px solid currentColor;vertical-align:middle}
.badge.deprecated,.st-deprecated{color:var(--warn)}.badge.deregistered,.st-deregistered{color:var(--bad)}
.st-active{color:var(--ok)}
.stages{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.stages .card{min-width:120px;padding:8px 14px}
.stages .stage{font-size:.8em;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.stages .held{font-size:1.2em;font-weight:600}
.desc{white-space:pre-wrap}.about{color:var(--muted);font-size:.85em}
input#filter{width:100%;max-width:420px;padding:8px 12px;font-size:1em;border-radius:8px;
border:1px solid var(--line);background:var(--card);color:var(--fg)}
.pager{margin:8px 0}.pager a,.pager span{margin-right:8px}
footer{color:var(--muted);font-size:.85em;margin-top:40px}
.tl{display:flex;align-items:flex-start}.tl-labels{flex:none}
.lifecycle{flex:1 1 auto;min-width:0}
svg.timeline,svg.tl-labels{display:block;font:12px system-ui,sans-serif}
svg .lane-name{fill:var(--fg);font-weight:600}
svg .lane-rule{stroke:var(--line);stroke-width:1}
svg .tick{stroke:var(--muted)}svg .date,svg .note{fill:var(--muted);text-anchor:middle}
svg .now{text-anchor:end;font-style:italic}
svg .note{text-anchor:start}
svg .span{stroke:none;opacity:.9}svg a .span:hover{opacity:1;stroke:var(--fg)}
svg .span-label{fill:#fff;font-weight:600;pointer-events:none}
svg .c0{fill:var(--c0)}svg .c1{fill:var(--c1)}svg .c2{fill:var(--c2)}svg .c3{fill:var(--c3)}
svg .c4{fill:var(--c4)}svg .c5{fill:var(--c5)}svg .c6{fill:var(--c6)}svg .c7{fill:var(--c7)}
svg .mk,svg .ev{stroke:var(--card);stroke-width:2}
svg .m-promo{fill:var(--ok)}svg .m-reg{fill:var(--accent)}svg .m-roll{fill:var(--warn)}
svg .m-unassign{fill:var(--warn)}svg .m-dereg{fill:var(--bad)}svg .m-deprecate{fill:var(--muted)}
svg .hollow{fill:var(--card);stroke:var(--warn);stroke-width:2.5}
svg .hatch{fill:var(--hatch)}svg .dep-label{fill:var(--warn);font-weight:600}
.legend{font-size:.85em;color:var(--muted);margin:6px 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;margin:0 4px 0 12px;
vertical-align:-1px}
@media (max-width:640px){main{padding:10px}th,td{padding:5px 6px}h1{font-size:1.3em}
.hide-narrow{display:none}}
"""

# A long timeline scrolls sideways: show its newest end first.
SCROLL_JS = (
    "document.querySelectorAll('.lifecycle').forEach(function(e){e.scrollLeft=e.scrollWidth})"
)
FILTER_JS = """
(function(){var box=document.getElementById('filter');var rows=document.querySelectorAll(
'tr.artifact');var count=document.getElementById('shown');function apply(){var q=box.value.
trim().toLowerCase();var n=0;rows.forEach(function(r){var hit=!q||r.textContent.toLowerCase().
indexOf(q)>=0;r.hidden=!hit;if(hit)n++});count.textContent=n+' of '+rows.length}
var m=/[#&?]filter=([^&]*)/.exec(location.hash+location.search);if(m){box.value=
decodeURIComponent(m[1].replace(/\\+/g,' '))}box.addEventListener('input',apply);apply()})();
"""


def page(title: str, body: str, *, root: str = "", script: str = "") -> str:
    """A whole page: CSP, theme, header, ``body`` (HTML), footer."""
    js = f"<script>{script}</script>" if script else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{h(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><a href="{root}index.html">&#9672; registry</a></header>'
        f"<main>{body}<footer>Made by git-registry {h(__version__)} from the registry's "
        f"tags: <code>git registry site</code>.</footer></main>{js}</body></html>\n"
    )


def _commit(site: SiteInput, name: str, commit: str) -> str:
    label = label_of(name, list(site.commit_urls))
    url = commit_link(site.commit_urls.get(label), commit)
    text = f"<code>{h(short(commit))}</code>"
    return f'<a href="{h(url)}" rel="noreferrer">{text}</a>' if url else text


def _version_link(root: str, name: str, version: str) -> str:
    return f'<a href="{root}{h(artifact_path(name))}#{h(anchor(version))}">{h(version)}</a>'


def anchor(version: str) -> str:
    return "v-" + "".join(c if c.isalnum() or c in ".-_" else "_" for c in version)


def _status(info: ArtifactInfo | None) -> str:
    from git_registry.render import artifact_status

    return artifact_status(info)


def index_page(site: SiteInput, names: Sequence[str]) -> str:
    registry = site.registry
    stages = list(site.stages)
    notes = [site.annotations[n] for n in names if n in site.annotations]
    with_type = any(n.type for n in notes)
    with_labels = any(n.labels for n in notes)
    head = ["artifact", *(["type"] if with_type else []), "latest", *(f"#{s}" for s in stages)]
    head += ["labels"] if with_labels else []
    rows = []
    for name in names:
        info = registry.artifacts.get(name)
        note = site.annotations.get(name)
        status = _status(info)
        badge = "" if status == "active" else f' <span class="badge {h(status)}">{h(status)}</span>'
        summary = (note.description or "").strip().split("\n")[0] if note else ""
        if len(summary) > 120:
            summary = summary[:119] + "…"
        about = f'<div class="about">{h(summary)}</div>' if summary else ""
        cells = [f'<a href="{h(artifact_path(name))}">{h(name)}</a>{badge}{about}']
        if with_type:
            cells.append(h(note.type) if note and note.type else "")
        cells.append(_version_link("", name, info.latest.version) if info and info.latest else "")
        for stage in stages:
            hold = info.holder(stage) if info else None
            cells.append(_version_link("", name, hold.version) if hold else "")
        if with_labels:
            chips = [f'<span class="chip">{h(lb)}</span>' for lb in (note.labels if note else ())]
            cells.append("".join(chips))
        rows.append(
            f'<tr class="artifact" data-name="{h(name)}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    versions = sum(len(i.versions) for i in registry.artifacts.values())
    body = [
        f"<h1>{h(site.title)}</h1>",
        f'<p class="muted">{len(names)} artifacts, {versions} versions, '
        f"{len(registry.stages)} stages in use.</p>",
        '<p><input id="filter" type="search" placeholder="Filter artifacts (name, type, '
        'label, version)" aria-label="filter artifacts" autocomplete="off"> '
        '<span id="shown" class="muted"></span></p>',
        '<div class="scroll"><table id="registry"><thead><tr>',
        "".join(f"<th>{h(c)}</th>" for c in head),
        "</tr></thead><tbody>",
        "".join(rows),
        "</tbody></table></div>",
        _policy(site),
        _warnings(site.warnings),
    ]
    return page(site.title, "".join(body), script=FILTER_JS)


def _policy(site: SiteInput) -> str:
    policy = site.policy
    if policy is None or (policy.stages is None and not policy.promotion):
        return ""
    out = ["<h2>Policy</h2>", '<div class="card">']
    if policy.file:
        out.append(f'<p class="muted">from <code>{h(policy.file)}</code> at HEAD</p>')
    if policy.stages is not None:
        out.append(
            "<p>Stages: "
            + " &rarr; ".join(f'<span class="chip">{h(s)}</span>' for s in policy.stages)
            + "</p>"
        )
    if policy.types is not None:
        out.append("<p>Types: " + ", ".join(f"<code>{h(t)}</code>" for t in policy.types) + "</p>")
    if policy.promotion:
        out.append('<div class="scroll"><table><thead><tr><th>stage</th><th>after</th>')
        out.append("<th>branches</th><th>signed by</th></tr></thead><tbody>")
        for rule in policy.promotion:
            signed = ", ".join(rule.signers) or ("anyone allowed" if rule.signed else "")
            out.append(
                f"<tr><td>{h(rule.stage)}</td><td>{h(', '.join(rule.after))}</td>"
                f"<td>{h(', '.join(rule.branches))}</td><td>{h(signed)}</td></tr>"
            )
        out.append("</tbody></table></div>")
    out.append("</div>")
    return "".join(out)


def _warnings(warnings: Sequence[str]) -> str:
    if not warnings:
        return ""
    shown = "".join(f"<li>{h(w)}</li>" for w in warnings[:50])
    more = f"<li>and {len(warnings) - 50} more</li>" if len(warnings) > 50 else ""
    return f'<h2>Warnings</h2><ul class="muted">{shown}{more}</ul>'


def _annotation_html(site: SiteInput, name: str) -> str:
    note = site.annotations.get(name)
    if note is None:
        return '<p class="muted">Not annotated in artifacts.yaml.</p>'
    out = ['<div class="card">']
    if note.type:
        out.append(f"<p><b>type</b> {h(note.type)}</p>")
    if note.description:
        out.append(f'<p class="desc">{hm(note.description)}</p>')
    if note.labels:
        out.append(
            "<p>" + "".join(f'<span class="chip">{h(lb)}</span>' for lb in note.labels) + "</p>"
        )
    if note.path:
        out.append(f"<p><b>path</b> <code>{h(note.path)}</code></p>")
    out.append(f'<p class="muted">declared in <code>{h(note.file)}</code></p></div>')
    return "".join(out)


def unregistered_page(site: SiteInput, name: str) -> str:
    body = (
        f'<h1>{h(name)} <span class="badge">unregistered</span></h1>'
        + _annotation_html(site, name)
        + '<p class="muted">No versions yet.</p>'
    )
    return page(name, body, root="../")


def _pager(name: str, what: str, current: int, total: int) -> str:
    if total <= 1:
        return ""
    links = []
    for n in range(1, total + 1):
        target = "../" + artifact_path(name, n, what) if n > 1 else "../" + artifact_path(name)
        links.append(f"<span>{n}</span>" if n == current else f'<a href="{h(target)}">{n}</a>')
    return f'<nav class="pager">{what} pages: {"".join(links)}</nav>'


def _versions_table(site: SiteInput, info: ArtifactInfo, versions: Sequence[VersionInfo]) -> str:
    """The versions' rows; the metrics column only when one of them has metrics."""
    found = [metrics(v.registration.message) for v in versions]
    with_metrics = any(found)
    rows = []
    for v, pairs in zip(versions, found, strict=True):
        status = "active" if v.active else "deregistered"
        shown = "".join(f'<span class="chip">{h(k)}={h(val)}</span>' for k, val in pairs)
        rows.append(
            f'<tr id="{h(anchor(v.version))}" class="version" data-version="{h(v.version)}">'
            f'<td><b>{h(v.version)}</b></td><td class="st-{status}">{status}</td>'
            f"<td>{''.join(f'<span class=chip>{h(s)}</span>' for s in v.stages)}</td>"
            + (f'<td class="metrics">{shown}</td>' if with_metrics else "")
            + f'<td class="commit">{_commit(site, info.name, v.commit)}</td>'
            f'<td class="hide-narrow">{h(when(v.registration.tagger))}</td>'
            f'<td class="hide-narrow">{h(v.registration.tagger.name)}</td></tr>'
        )
    return (
        '<div class="scroll"><table class="versions"><thead><tr><th>version</th><th>status</th>'
        f"<th>stages</th>{'<th>metrics</th>' if with_metrics else ''}<th>commit</th>"
        '<th class="hide-narrow">registered</th>'
        f'<th class="hide-narrow">by</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def _history_table(site: SiteInput, events: Iterable[Event]) -> str:
    kinds = {
        "registration": "registered",
        "deregistration": "deregistered",
        "assignment": "promoted",
        "unassignment": "unassigned",
        "deprecation": "deprecated",
    }
    rows = []
    for e in events:
        message = e.message if len(e.message) <= 300 else e.message[:300] + "…"
        rows.append(
            f'<tr class="event"><td class="when hide-narrow">{h(when(e.tagger))}</td>'
            f"<td>{kinds[e.kind.value]}</td><td>{h(e.version or '')}</td>"
            f"<td>{h(e.stage or '')}</td>"
            f'<td class="commit">{_commit(site, e.artifact, e.commit)}</td>'
            f'<td class="hide-narrow">{h(e.tagger.name)}</td><td class="tag">{h(e.tag)}</td>'
            f'<td class="msg hide-narrow">{hm(message)}</td></tr>'
        )
    return (
        '<div class="scroll"><table class="history"><thead><tr><th class="hide-narrow">time</th>'
        "<th>event</th><th>version</th><th>stage</th><th>commit</th>"
        '<th class="hide-narrow">by</th><th>tag</th><th class="hide-narrow">message</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


LEGEND = (
    '<p class="legend"><i style="background:var(--ok)"></i>promoted'
    '<i style="background:var(--accent)"></i>registered<i style="background:var(--warn)"></i>'
    'rolled back / unassigned<i style="background:var(--bad)"></i>deregistered'
    '<i style="background:var(--hatch)"></i>deprecated</p>'
)


def artifact_pages(site: SiteInput, info: ArtifactInfo) -> dict[str, str]:
    """An artifact's page, and the further pages of its long tables."""
    from git_registry.sitesvg import timeline_svg

    name = info.name
    model = lifecycle(name, info.events, site.stages)
    status = _status(info)
    badge = "" if status == "active" else f' <span class="badge {h(status)}">{h(status)}</span>'
    holders = "".join(
        f'<div class="card"><div class="stage">{h(stage)}</div><div class="held">'
        f"{_version_link('../', name, hold.version) if (hold := info.holder(stage)) else '&ndash;'}"
        "</div></div>"
        for stage in model.stages
    )
    anchors = {v.version: anchor(v.version) for v in info.versions}
    versions_pages = pages_of(len(info.versions))
    events = list(reversed(info.events))
    history_pages = pages_of(len(events))
    latest = info.latest.version if info.latest else "none"
    body = [
        f"<h1>{h(name)}{badge}</h1>",
        f'<p class="muted">{len(info.versions)} versions, latest {h(latest)}, '
        f"{len(info.events)} events.</p>",
        _annotation_html(site, name),
        '<h2>Stages</h2><div class="stages">',
        holders or '<p class="muted">No stage assigned yet.</p>',
        "</div>",
        '<h2>Lifecycle</h2><div class="card">',
        timeline_svg(model, anchors),
        LEGEND,
        "</div><h2>Versions</h2>",
        _versions_table(site, info, info.versions[:PAGE_SIZE]),
        _pager(name, "versions", 1, versions_pages),
        "<h2>History</h2>",
        _history_table(site, events[:PAGE_SIZE]),
        _pager(name, "history", 1, history_pages),
    ]
    pages = {artifact_path(name): page(name, "".join(body), root="../", script=SCROLL_JS)}
    for n in range(2, versions_pages + 1):
        chunk = info.versions[(n - 1) * PAGE_SIZE : n * PAGE_SIZE]
        pages[artifact_path(name, n, "versions")] = page(
            f"{name}: versions, page {n}",
            f"<h1>{h(name)}: versions</h1>{_pager(name, 'versions', n, versions_pages)}"
            + _versions_table(site, info, chunk),
            root="../",
        )
    for n in range(2, history_pages + 1):
        chunk_events = events[(n - 1) * PAGE_SIZE : n * PAGE_SIZE]
        pages[artifact_path(name, n, "history")] = page(
            f"{name}: history, page {n}",
            f"<h1>{h(name)}: history</h1>{_pager(name, 'history', n, history_pages)}"
            + _history_table(site, chunk_events),
            root="../",
        )
    return pages
