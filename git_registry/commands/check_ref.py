"""``git registry check-ref REF``: what event a registry tag created (for CI).

Formats: text, ``json``, ``github`` (appended to ``$GITHUB_OUTPUT``) and ``env``
(a dotenv file for GitLab CI and others).
"""

from __future__ import annotations

import argparse
import os
import secrets
from typing import Any

from git_registry.catalog import AnnotationError
from git_registry.cli import Context
from git_registry.commands._common import load, remote_name
from git_registry.controls import CI_COMMAND_RE, CONTROL_RE
from git_registry.errors import NotFoundError, RegistryError
from git_registry.grammar import parse_tag, strip_tag_prefix
from git_registry.render import describe_event, dump_json, escape, event_json
from git_registry.rules import Rule
from git_registry.state import Event

OUTPUTS = ("name", "version", "stage", "event", "tag", "commit", "path", "type", "description")


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = "json" if args.json else args.format
    name = strip_tag_prefix(args.ref)
    try:
        event = _event(args, ctx, name)
    except NotFoundError as exc:
        if not args.allow_other:
            raise
        ctx.message("note", f"{exc.message} (--allow-other: exit 0)")
        _emit(ctx, fmt, name, None, {k: "" for k in OUTPUTS} | {"tag": name})
        return 0
    values = _values(ctx, event)
    _emit(ctx, fmt, name, event, values)
    return 0


def _event(args: argparse.Namespace, ctx: Context, name: str) -> Event:
    if args.ref.startswith("refs/") and not args.ref.startswith("refs/tags/"):
        raise NotFoundError(f"'{args.ref}' is not a tag: registry events are tags under refs/tags/")
    parsed = parse_tag(name)
    if parsed is None:
        raise NotFoundError(
            f"'{name}' is not a registry tag",
            hint="registry tags look like NAME@vX.Y.Z, NAME#STAGE#N, NAME#STAGE!#N, "
            "NAME@vX.Y.Z! or NAME@deprecated",
        )
    if args.fetch:
        from git_registry.commands.fetch import fetch

        fetch(ctx, remote_name(ctx), [parsed.artifact])
    loaded = load(ctx, [parsed.artifact])
    if name not in loaded.tag_names:
        raise NotFoundError(
            f"there is no tag '{name}' in this repository",
            hint="fetch it with: git registry fetch (or use check-ref --fetch)",
        )
    event = loaded.registry.event(name)
    if event is None:
        problems = loaded.registry.problems_of(name)
        reasons = "; ".join(p.message for p in problems)
        # A tag that depends on others (its registration) may only lack them in a CI
        # checkout; a tag that is bad in itself says what is wrong with it.
        first = problems[0] if problems else None
        missing = (
            first is None
            or first.rule in (Rule.NO_VERSION, Rule.NEVER_REGISTERED)
            or first.message.startswith("lightweight")  # a shallow checkout's copy
            or "is missing" in first.message
        )
        hint = first.hint if first is not None and not missing else None
        if missing and not args.fetch:
            hint = "in a CI checkout, add --fetch to get the real tags"
        raise NotFoundError(f"{name} is not a registry event: {reasons or 'ignored'}", hint=hint)
    return event


def _values(ctx: Context, event: Event) -> dict[str, str]:
    annotation = None
    try:
        annotation = ctx.catalog().annotation(event.commit, event.artifact)
    except (AnnotationError, RegistryError) as exc:
        ctx.warn(f"no annotation for {event.artifact}: {exc.message}")
    return {
        "name": event.artifact,
        "version": event.version or "",
        "stage": event.stage or "",
        "event": event.kind.value,
        "tag": event.tag,
        "commit": event.commit,
        "path": (annotation.path if annotation else None) or "",
        "type": (annotation.type if annotation else None) or "",
        "description": (annotation.description if annotation else None) or "",
    }


def _emit(ctx: Context, fmt: str, name: str, event: Event | None, values: dict[str, str]) -> None:
    if fmt == "json":
        doc: dict[str, Any] = event_json(event) if event else {"tag": name, "event": None}
        if event:
            doc.update({k: values[k] or None for k in ("path", "type", "description")})
        ctx.stdout.write(dump_json(doc))
    elif fmt == "github":
        _github_output(ctx, values)
    elif fmt == "env":
        _env_file(ctx, values)
    elif event is not None:
        ctx.out(f"{name}: {describe_event(event)}")


def _github_output(ctx: Context, values: dict[str, str]) -> None:
    """Append ``key<<DELIM`` blocks to ``$GITHUB_OUTPUT``; DELIM is random and checked
    against every value, so no value can end its block early and inject an output."""
    path = ctx.env.get("GITHUB_OUTPUT")
    if not path:
        raise RegistryError(
            "GITHUB_OUTPUT is not set: --format github writes GitHub Actions step outputs",
            hint="run it in a GitHub Actions step, or use --format env / --json elsewhere",
        )
    text = "".join(values.values())
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in text:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    lines = []
    for key in OUTPUTS:
        lines.append(f"{key}<<{delimiter}\n{values[key]}\n{delimiter}\n")
    with open(path, "a", encoding="utf-8", newline="\n") as f:
        f.write("".join(lines))
    ctx.message("note", f"wrote {', '.join(OUTPUTS)} to {os.path.basename(path)}")


def _env_file(ctx: Context, values: dict[str, str]) -> None:
    """``REGISTRY_KEY=value`` lines that a POSIX shell (``. file``, ``eval``) reads back
    exactly. A value holding what no such line may carry raw (a line break, a control
    character: see :mod:`controls`) or a CI command is written as human output shows it
    (:func:`render.escape`), with a warning: ``--json`` and ``--format github`` carry
    it exactly. (NUL cannot be in a shell variable at all.)"""
    lines = []
    for key in OUTPUTS:
        name = f"REGISTRY_{key.upper()}"
        value = values[key]
        if CONTROL_RE.search(value) or CI_COMMAND_RE.search(value):
            value = escape(value)
            ctx.warn(
                f"{name} is written escaped, as git registry shows it: it holds line breaks, "
                "control characters or a CI command (--json and --format github carry it "
                "exactly)"
            )
        lines.append(f"{name}={_shell_word(value)}\n")
    ctx.stdout.write("".join(lines))


def _shell_word(value: str) -> str:
    """``value`` as one shell word that ``sh`` reads back exactly: bare when plain, else
    double-quoted with a backslash before each backslash, double quote, ``$`` and
    backquote (dotenv readers undo the first two)."""
    if value and all(c.isalnum() or c in "._-/:@#+=," for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("$", "\\$").replace("`", "\\`")
    return f'"{escaped}"'
