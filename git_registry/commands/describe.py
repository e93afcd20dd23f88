"""``git registry describe NAME[@V|@latest|#STAGE]``: an artifact's committed annotation."""

from __future__ import annotations

import argparse

from git_registry import annotations as ann
from git_registry import options, yamledit
from git_registry.commands import Command
from git_registry.errors import NotFoundError, RegistryError, UsageError
from git_registry.gitvalues import ObjectId, short
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.selectors import Selector
    from git_registry.state import Registry


COMMAND = Command(
    name="describe",
    summary="an artifact's annotation from artifacts.yaml",
    description=(
        "Print the annotation (path, type, description, labels, custom, virtual, sha256) of an\n"
        "artifact as committed: at HEAD for NAME, at the version's commit for NAME@vX.Y.Z,\n"
        "NAME@latest or NAME#STAGE. A deprecated artifact's NAME@latest and NAME#STAGE are\n"
        "not served: exit 1 and say so, unless --all."
    ),
    usage=(
        "git registry describe NAME[@vX.Y.Z | @latest | #STAGE] [--rev REF] [--all] [--json] "
        "[--path | --type | --description]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "selector", metavar="SELECTOR", help="NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE"
    )
    p.add_argument("--rev", metavar="REF", help="read it at this commit instead (NAME only)")
    p.add_argument(
        "--all",
        action="store_true",
        help="NAME@latest, NAME#STAGE: even if the artifact is deprecated (warns)",
    )
    options.json(p)
    field = p.add_mutually_exclusive_group()
    field.add_argument(
        "--path", dest="field", action="store_const", const="path", help="print only the path"
    )
    field.add_argument(
        "--type", dest="field", action="store_const", const="type", help="print only the type"
    )
    field.add_argument(
        "--description",
        dest="field",
        action="store_const",
        const="description",
        help="print only the description",
    )


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.render import dump_json
    from git_registry.selectors import parse_selector, resolve_ref

    selector = parse_selector(args.selector)
    name = selector.artifact
    version: str | None = None
    deprecation: dict[str, object] = {}
    if selector.version is None and selector.stage is None and not selector.latest:
        if args.rev is not None:
            commit = resolve_ref(session, args.rev)
        else:
            head = session.repo().head()
            if head is None:
                raise RegistryError(
                    "this repository has no commits yet", hint="commit an artifacts.yaml first"
                )
            commit = head
    else:
        if args.rev is not None:
            raise UsageError(f"--rev reads NAME at a commit; {args.selector} names its own")
        commit, version, deprecation = _version_commit(session, args, selector)
    annotation = session.catalog().annotation(commit, name)
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
        session.out(str(value))
        return 0
    if args.json:
        doc: dict[str, object] = {
            "artifact": name,
            "version": version,
            "file": file,
            "commit": commit,
        }
        doc.update(annotation.to_json())
        doc.update(deprecation)
        session.stdout.write(dump_json(doc))
        return 0
    session.out(f"# {where}" + (f" ({name} {version})" if version else ""))
    session.stdout.write(yamledit.entry_text(key, annotation.to_json()))
    return 0


def _version_commit(
    session: Session, args: argparse.Namespace, selector: Selector
) -> tuple[ObjectId, str, dict[str, object]]:
    """The commit and version ``selector`` names, and the deprecation keys of the JSON
    document (a deprecated artifact's stages and latest version are not served)."""
    import shlex

    from git_registry.serving import deprecation_json, served_version

    info, found = served_version(
        session,
        selector,
        retry=f"git registry describe {shlex.quote(args.selector)}",
        show_all=args.all,
        deregistered=True,
        json_doc=args.json,
        unregistered=lambda registry: _not_registered(session, registry, selector.artifact),
    )
    return found.commit, found.version, deprecation_json(info)


def _not_registered(session: Session, registry: Registry, artifact: str) -> NotFoundError:
    """No tag names ``artifact``: say so plainly if it is annotated at HEAD (describe it
    without a version, or register one), else it is unknown."""
    from git_registry.errors import AnnotationError
    from git_registry.lookups import unknown_artifact

    head = session.repo().head()
    try:
        annotated = head is not None and session.catalog().annotation(head, artifact) is not None
    except AnnotationError:  # its file is broken: 'unknown' is all we can say here
        annotated = False
    if not annotated:
        return unknown_artifact(registry, artifact)
    return NotFoundError(
        f"{artifact} is annotated in {ann.file_for(artifact)[0]} but has no registered version",
        hint=f"'git registry describe {artifact}' reads it at HEAD; register a version with: "
        f"git registry register {artifact}",
    )
