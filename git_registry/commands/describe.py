"""``git registry describe NAME[@V|@latest|#STAGE]``: an artifact's committed annotation."""

from __future__ import annotations

import argparse

from git_registry import annotations as ann
from git_registry.cli import Context
from git_registry.commands._common import (
    Selector,
    load,
    parse_selector,
    resolve_ref,
    warn_problems,
)
from git_registry.errors import NotFoundError, RegistryError, UsageError
from git_registry.plan import known_hint
from git_registry.render import dump_json
from git_registry.tags import ObjectId, short


def run(args: argparse.Namespace, ctx: Context) -> int:
    selector = parse_selector(args.selector)
    name = selector.artifact
    version: str | None = None
    if selector.version is None and selector.stage is None and not selector.latest:
        if args.rev is not None:
            commit = resolve_ref(ctx, args.rev)
        else:
            head = ctx.repo().head()
            if head is None:
                raise RegistryError(
                    "this repository has no commits yet", hint="commit an artifacts.yaml first"
                )
            commit = head
    else:
        if args.rev is not None:
            raise UsageError(f"--rev reads NAME at a commit; {args.selector} names its own")
        commit, version = _version_commit(ctx, selector.artifact, args.selector, selector)
    annotation = ctx.catalog().annotation(commit, name)
    file, key = ann.file_for(name)
    where = f"{file} at commit {short(commit)}"
    if annotation is None:
        raise NotFoundError(
            f"{name} has no entry in {where}",
            hint=f"add one with: git registry annotate {name} --path PATH",
        )
    if args.field is not None:
        value = getattr(annotation, args.field)
        if value is None:
            raise NotFoundError(f"{name} has no {args.field} in {where}")
        ctx.out(str(value))
        return 0
    if args.json:
        doc = {"artifact": name, "version": version, "file": file, "commit": commit}
        doc.update(annotation.to_json())
        ctx.stdout.write(dump_json(doc))
        return 0
    ctx.out(f"# {where}" + (f" ({name} {version})" if version else ""))
    ctx.stdout.write(ann.entry_text(key, annotation.to_json()))
    return 0


def _version_commit(
    ctx: Context, artifact: str, text: str, selector: Selector
) -> tuple[ObjectId, str]:
    registry = load(ctx, [artifact]).registry
    warn_problems(ctx, registry, artifact)
    info = registry.artifacts.get(artifact)
    if info is None:
        raise NotFoundError(f"unknown artifact '{artifact}'", hint=known_hint(registry))
    if selector.latest:
        found = info.latest
    elif selector.version is not None:
        found = info.version(selector.version)
    else:
        assert selector.stage is not None
        hold = info.holder(selector.stage)
        found = info.version(hold.version) if hold else None
    if found is None:
        raise NotFoundError(f"{text} does not name a version of {artifact}")
    return found.commit, found.version
