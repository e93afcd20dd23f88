"""``git registry site OUT``: the registry as a static site, with lifecycle timelines."""

from __future__ import annotations

import argparse

from git_registry import options
from git_registry.commands import Command
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.annotations import Annotation
    from git_registry.policy import Policy

COMMAND = Command(
    name="site",
    summary="write the registry as a static site (lifecycle timelines)",
    description=(
        "Write a self-contained static site into the folder OUT: an index with the\n"
        "registry table (type, labels, latest, every stage, a filter box) and the policy,\n"
        "and a page per artifact with its annotation, stages, versions (and metrics),\n"
        "history, and its lifecycle timeline: one lane per stage, which version held it\n"
        "when, promotions, rollbacks, deregistrations and deprecation. HTML, CSS and SVG\n"
        "only, nothing fetched when viewed (light and dark themes). Commits link to\n"
        "registry.commitUrl (e.g. https://example.com/r/commit/{commit}), by default to\n"
        "GitHub or GitLab when origin is there. OUT is replaced whole when it is empty or a\n"
        "site written before (other files in it are kept); a folder with other files is\n"
        "refused unless --force. With --remote (repeatable), one site of several\n"
        "repositories' registries, artifacts named REMOTE:NAME."
    ),
    usage="git registry site OUT [--force] [--title TEXT] [--remote NAME|URL]...",
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT", help="the folder to write the site into")
    p.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that holds other files (they are kept; same-named "
        "files are replaced)",
    )
    p.add_argument("--title", metavar="TEXT", help="the index's title (default: the repository's)")
    options.remote(p)


def run(args: argparse.Namespace, session: Session) -> int:
    import os

    from git_registry.reading import load
    from git_registry.sitegen import SiteInput
    from git_registry.sitepages import build
    from git_registry.sitewrite import write_site

    registry = load(session, keep_rows=False).registry
    warnings = [str(p) for p in registry.problems]
    for warning in warnings:
        session.warn(warning)
    notes: dict[str, Annotation] = {}
    policy: Policy | None = None
    if not session.remotes:
        from git_registry.reading import declared_annotations

        notes, file_warnings = declared_annotations(session)
        policy = session.catalog().policy()
        for warning in [*file_warnings, *(str(p) for p in session.catalog().policy_problems())]:
            session.warn(warning)
            warnings.append(warning)
    from git_registry.policy import ordered_stages

    order = policy if policy is not None else _local_policy(session)
    stages = ordered_stages(order, registry.stages) if order else list(registry.stages)
    site = SiteInput(
        registry=registry,
        annotations=notes,
        stages=stages,
        policy=policy,
        commit_urls=_commit_urls(session),
        title=args.title or _title(session),
        warnings=warnings,
    )
    pages = build(site)
    how = write_site(os.path.join(session.cwd, args.out), pages, force=args.force)
    from git_registry.render import count

    verb = {"new": "wrote", "replaced": "replaced", "updated": "updated"}[how]
    session.message(
        "hint",
        f"{verb} {count(len(pages), 'page')} in {args.out}: open "
        f"{os.path.join(args.out, 'index.html')}",
    )
    return 0


def _local_policy(session: Session) -> Policy | None:
    """With --remote, the policy of the repository the command runs in (if any): its
    stages order the columns and lanes, as in ``show --remote`` (the remotes' own
    policies are not read: that would fetch their files)."""
    from git_registry.errors import RegistryError

    local = session.child()
    try:
        return local.catalog().policy()
    except RegistryError:  # not in a repository, or it has no commit yet
        return None
    finally:
        local.close()


def _commit_urls(session: Session) -> dict[str, str]:
    """The commit URL template per repository ("" for the one of a single-repository
    site, each remote's label with --remote): ``registry.commitUrl``, else GitHub's or
    GitLab's when the (origin) URL is there; a bad template is warned about and unused."""
    from git_registry import gitbin
    from git_registry.sitegen import commit_url_problem, detect_commit_url

    if session.remotes:
        from git_registry.selectors import labels

        found = {}
        for label, remote in zip(labels(session.remotes), session.remotes, strict=True):
            url = gitbin.remote_url(remote, session.cwd, env=session.env) or remote
            detected = detect_commit_url(url)
            if detected is not None:
                found[label] = detected
        return found
    configured = session.config().get("registry.commiturl")
    if configured:
        problem = commit_url_problem(configured)
        if problem is None:
            return {"": configured}
        session.warn(f"registry.commitUrl is not used: {problem}")
        return {}
    origin = gitbin.remote_url("origin", session.cwd, env=session.env)
    detected = detect_commit_url(origin) if origin else None
    return {"": detected} if detected else {}


def _title(session: Session) -> str:
    import os

    if session.remotes:
        return "Model registries"
    work_tree = session.repo().paths.work_tree
    name = os.path.basename(work_tree.rstrip(os.sep)) if work_tree else ""
    return f"{name} model registry" if name else "Model registry"
