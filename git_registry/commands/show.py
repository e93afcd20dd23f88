"""``git registry show``: the registry, one artifact's versions, or one version."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from git_registry.annotations import Annotation
from git_registry.cli import Context
from git_registry.commands._common import (
    Selector,
    head_annotations,
    load,
    parse_selector,
    warn_problems,
)
from git_registry.errors import NotFoundError, UsageError
from git_registry.plan import known_hint
from git_registry.policy import ordered_stages
from git_registry.render import (
    artifact_json,
    dump_json,
    hold_json,
    registry_table,
    version_json,
    versions_table,
)
from git_registry.state import ArtifactInfo, StageHold, VersionInfo


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.selector is None:
        if args.value:
            raise UsageError(
                f"--{args.value} needs an artifact, e.g. show NAME@latest --{args.value}"
            )
        return _show_registry(args, ctx)
    selector = _selector(ctx, args.selector)
    registry = load(ctx, [selector.artifact]).registry
    warn_problems(ctx, registry, selector.artifact)
    info = registry.artifacts.get(selector.artifact)
    if info is None:
        notes, _problems = head_annotations(ctx, [selector.artifact])
        if selector.artifact in notes:
            raise NotFoundError(
                f"{selector.artifact} is annotated in artifacts.yaml but has no versions yet",
                hint=f"register one: git registry register {selector.artifact}",
            )
        raise NotFoundError(f"unknown artifact '{selector.artifact}'", hint=known_hint(registry))
    if info.deprecated:
        ctx.warn(f"{info.name} is deprecated (tag {info.events[-1].tag})")
    if selector.version is None and selector.stage is None and not selector.latest:
        return _show_artifact(args, ctx, info)
    return _show_one(args, ctx, info, selector)


def _selector(ctx: Context, text: str) -> Selector:
    """A selector, its artifact ``LABEL:NAME`` with several ``--remote``, as the table
    names it (``ra:models:seg#prod``)."""
    from git_registry.mirror import split_label

    label, rest = split_label(ctx.remotes, text)
    selector = parse_selector(rest)
    if not label:
        return selector
    return dataclasses.replace(selector, artifact=f"{label}:{selector.artifact}")


def _show_registry(args: argparse.Namespace, ctx: Context) -> int:
    registry = load(ctx).registry
    warn_problems(ctx, registry)
    catalog = ctx.catalog()
    for problem in catalog.policy_problems():
        ctx.warn(str(problem))
    notes, file_problems = head_annotations(ctx, registry.known)
    for problem in file_problems:
        ctx.warn(str(problem))
    rows: list[tuple[str, ArtifactInfo | None, Annotation | None]] = [
        (name, info, notes.get(name))
        for name, info in registry.artifacts.items()
        if args.all or not info.deprecated
    ]
    rows += [(name, None, note) for name, note in notes.items() if name not in registry.artifacts]
    rows.sort(key=lambda row: row[0])
    held = [s for s in registry.stages if any(info and s in info.stages for _, info, _ in rows)]
    stages = ordered_stages(catalog.policy(), held)
    if args.json:
        warnings = [
            str(p) for p in (*registry.problems, *catalog.policy_problems(), *file_problems)
        ]
        ctx.stdout.write(
            dump_json(
                {
                    "artifacts": [
                        artifact_json(name, info, note, all_versions=args.all_versions)
                        for name, info, note in rows
                    ],
                    "stages": stages,
                    "warnings": warnings,
                }
            )
        )
        return 0
    if not rows:
        hidden = len(registry.artifacts)
        ctx.message(
            "hint",
            f"no active artifacts ({hidden} deprecated: see them with --all)"
            if hidden
            else "the registry is empty: register a version with 'git registry register NAME'",
        )
        return 0
    ctx.stdout.write(registry_table(rows, stages, ctx.paint(), all_versions=args.all_versions))
    return 0


def _show_artifact(args: argparse.Namespace, ctx: Context, info: ArtifactInfo) -> int:
    versions = [v for v in info.versions if v.active or args.all]
    if args.json:
        notes, problems = head_annotations(ctx, [info.name])
        for problem in problems:
            if problem.artifact in (None, info.name):
                ctx.warn(str(problem))
        doc = artifact_json(info.name, info, notes.get(info.name), all_versions=args.all_versions)
        doc["versions"] = [version_json(v) for v in versions]
        ctx.stdout.write(dump_json(doc))
        return 0 if versions else 1
    if not versions:
        raise NotFoundError(
            f"{info.name} has no active versions",
            hint="deregistered versions are shown with --all" if info.versions else None,
        )
    if args.value:
        for v in versions:
            ctx.out(_value(v, args.value, None))
        return 0
    ctx.stdout.write(versions_table(versions, ctx.paint(), with_status=args.all))
    return 0


def _show_one(
    args: argparse.Namespace, ctx: Context, info: ArtifactInfo, selector: Selector
) -> int:
    holds: tuple[StageHold, ...] = ()
    if selector.latest:
        found = [info.latest] if info.latest else []
        missing = f"{info.name} has no active versions"
    elif selector.version is not None:
        version = info.version(selector.version)
        found = [version] if version is not None and (version.active or args.all) else []
        missing = f"{info.name} has no {'' if args.all else 'active '}version {selector.version}"
    else:
        assert selector.stage is not None
        holds = info.stages.get(selector.stage, ())
        if not args.all_versions:
            holds = holds[:1]
        found = [v for h in holds if (v := info.version(h.version)) is not None]
        missing = f"no version of {info.name} is in stage '{selector.stage}'"
    if not found:
        raise NotFoundError(missing)
    if args.json:
        docs = [_one_json(v, h) for v, h in zip(found, holds or [None] * len(found), strict=True)]
        ctx.stdout.write(dump_json(docs if args.all_versions and holds else docs[0]))
        return 0
    if args.value:
        for v, h in zip(found, holds or [None] * len(found), strict=True):
            ctx.out(_value(v, args.value, h))
        return 0
    ctx.stdout.write(versions_table(found, ctx.paint(), with_status=args.all))
    return 0


def _one_json(version: VersionInfo, hold: StageHold | None) -> dict[str, Any]:
    doc = version_json(version)
    if hold is not None:
        doc["assignment"] = hold_json(hold)
    return doc


def _value(version: VersionInfo, what: str, hold: StageHold | None) -> str:
    if what == "version":
        return version.version
    if what == "commit":
        return version.commit
    # --ref: the tag that made the selection true (the assignment for a stage).
    return hold.assignment.tag if hold is not None else version.registration.tag
