"""``git registry annotate NAME``: add or change an entry in ``artifacts.yaml``."""

from __future__ import annotations

import argparse

from git_registry import annotations as ann
from git_registry import options
from git_registry.commands import Command
from git_registry.errors import RegistryError
from git_registry.grammar import NAME_RE, NAME_RULE, check_artifact_name
from git_registry.session import Session
from git_registry.yamlsafe import YamlError, load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


COMMAND = Command(
    name="annotate",
    summary="add or change an artifact's entry in artifacts.yaml",
    description=(
        "Edit the work tree's artifacts.yaml (a/b/artifacts.yaml for a/b:NAME): set the given\n"
        "fields of NAME's entry, creating it if needed. Labels are added to the existing ones.\n"
        "Other entries are kept exactly as they are. --commit commits only that file (and\n"
        "the --add paths: the weights file a 'virtual: false' path names, say)."
    ),
    usage=(
        "git registry annotate NAME [--path P] [--type T] [--label L]... [--description D] "
        "[--custom KEY=VALUE]... [--virtual | --no-virtual] [--commit [-m MSG] [--add PATH]...] "
        "[--push]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument(
        "--path", metavar="P", help="file or folder (relative to the yaml's folder) or URL"
    )
    p.add_argument("--type", metavar="T", help="e.g. model or dataset")
    p.add_argument(
        "--label", metavar="L", action="append", default=[], help="add a label (repeatable)"
    )
    p.add_argument("--description", metavar="D", help="free text")
    p.add_argument(
        "--custom",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="set custom.KEY; VALUE is read as YAML (10, true, [a, b]) (repeatable)",
    )
    virtual = p.add_mutually_exclusive_group()
    virtual.add_argument(
        "--virtual",
        dest="virtual",
        action="store_const",
        const=True,
        help="the path need not exist in the repository (default)",
    )
    virtual.add_argument(
        "--no-virtual",
        dest="virtual",
        action="store_const",
        const=False,
        help="the path must exist in the commit",
    )
    options.commit_push(p)
    p.add_argument(
        "--add",
        metavar="PATH",
        action="append",
        default=[],
        help="with --commit: commit this file or folder too (as git add PATH) (repeatable)",
    )


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.editing import edit

    for option, values in (
        ("--path", [args.path]),
        ("--type", [args.type]),
        ("--description", [args.description]),
        ("--label", args.label),
        ("--custom", args.custom),
    ):
        for value in values:
            if value is not None and not _is_text(value):
                raise RegistryError(
                    f"{option}: the value is not valid UTF-8 text",
                    hint="artifacts.yaml is UTF-8; nothing was changed",
                )
    name = check_artifact_name(args.name)
    for label in args.label:
        if not NAME_RE.fullmatch(label):
            raise RegistryError(f"invalid label '{label}': use {NAME_RULE}")
    if args.type is not None and not NAME_RE.fullmatch(args.type):
        raise RegistryError(f"invalid type '{args.type}': use {NAME_RULE}")
    custom = [_custom_pair(item) for item in args.custom]

    def change(current: ann.Annotation | None, _present: bool) -> dict[str, Any]:
        fields: dict[str, Any] = current.to_json() if current else {}
        for key in ("path", "type", "description"):
            if getattr(args, key) is not None:
                fields[key] = getattr(args, key)
        labels = list(fields.get("labels") or [])
        labels.extend(label for label in args.label if label not in labels)
        fields["labels"] = labels
        if args.virtual is not None:
            fields["virtual"] = args.virtual
        if custom:
            existing = fields.get("custom")
            if existing is not None and not isinstance(existing, dict):
                raise RegistryError(
                    f"custom of {name} is not a mapping, so --custom KEY=VALUE cannot set a key",
                    hint="edit the file by hand",
                )
            merged = dict(existing or {})
            merged.update(custom)
            fields["custom"] = merged
        return fields

    with session.write_lock(f"annotate {name}"):
        edit(
            session,
            name,
            change,
            commit=args.commit,
            push=args.push,
            message=args.message or f"Annotate artifact {name}",
            replaces=[
                k
                for k in ("path", "type", "description", "virtual")
                if getattr(args, k) is not None
            ],
            done=f"Updated {ann.file_for(name)[0]}: {name}",
            adds=args.add,
        )
    return 0


def _custom_pair(item: str) -> tuple[str, Any]:
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise RegistryError(f"--custom '{item}': write KEY=VALUE")
    try:
        root, problems = load(text.encode("utf-8"))
    except YamlError:
        return key, text
    if root is None:
        return key, None if text.strip() else ""
    return key, root.plain() if not problems else text


def _is_text(value: str) -> bool:
    # Bytes that are not UTF-8 reach sys.argv as lone surrogates (PEP 383), which
    # neither UTF-8 nor YAML can hold.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
