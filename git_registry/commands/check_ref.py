"""``git registry check-ref REF``: what event a registry tag created (for CI).

Formats: text, ``json``, ``github`` (appended to ``$GITHUB_OUTPUT``), ``env`` (lines
a POSIX shell reads back) and ``dotenv`` (a GitLab CI dotenv report). ``--verify``
judges the tag as the server's pre-receive hook judges its push (for hosts that run
no server hooks).
"""

from __future__ import annotations

import argparse
import os

from git_registry import options
from git_registry.commands import Command
from git_registry.controls import CI_COMMAND_RE, CONTROL_RE
from git_registry.errors import EXIT_NOT_FOUND, NotFoundError, RegistryError
from git_registry.grammar import EventKind, parse_tag, strip_tag_prefix
from git_registry.rules import Rule
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from git_registry.state import Event
    from git_registry.trailers import Trailers


COMMAND = Command(
    name="check-ref",
    summary="what a registry tag means (for CI)",
    description=(
        "Say what event the tag REF (NAME or refs/tags/NAME) created: as text, --json,\n"
        "--format github (appends name, version, stage, event, tag, commit, path, type and\n"
        "description to $GITHUB_OUTPUT), --format env (REGISTRY_* lines for a POSIX shell)\n"
        "or --format dotenv (a GitLab CI dotenv report); the version's metrics and metadata\n"
        "(register --metric / --meta) too, as metric_KEY and meta_KEY (REGISTRY_METRIC_KEY\n"
        "in env and dotenv; KEY lower-cased, '.' and '-' as '_'), and as objects in --json.\n"
        "Exit 1 if it is not a registry event, unless --allow-other. --fetch first fetches\n"
        "the artifact's registry tags (in a CI checkout that has only a lightweight copy).\n"
        "--verify first judges the tag as the server's pre-receive hook judges its push,\n"
        "with the policy of the branch HEAD names, and exits 1 with one line per problem\n"
        "(a guard for hosts without hooks).\n"
        "For GTO's scripts: --name, --version, --stage or --event prints that one value\n"
        "(nothing when the event has none), --json=gto GTO's JSON, -r PATH as GTO's -r."
    ),
    usage=(
        "git registry check-ref REF [--json[=gto] | --format FORMAT | --name | --version | "
        "--stage | --event] [--allow-other] [--fetch] [--verify] [-r PATH]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("ref", metavar="REF", help="a tag name, e.g. refs/tags/churn#prod#3")
    shape = p.add_mutually_exclusive_group()
    options.json(shape, gto=True)
    for field, what in (
        ("name", "the artifact's name"),
        ("version", "the version (nothing for a deprecation)"),
        ("stage", "the stage (nothing but for a stage's events)"),
        ("event", "the event: registration, assignment, ..."),
    ):
        shape.add_argument(
            f"--{field}",
            dest="field",
            action="store_const",
            const=field,
            help=f"print only {what}, as GTO does",
        )
    shape.add_argument(
        "--format",
        choices=["text", "json", "github", "env", "dotenv"],
        default="text",
        help="text (default), json, github ($GITHUB_OUTPUT), env (sh) or dotenv (GitLab)",
    )
    p.add_argument(
        "--allow-other",
        action="store_true",
        help="exit 0 (with empty values) when REF is not a registry event",
    )
    p.add_argument(
        "--fetch",
        action="store_true",
        help="fetch the artifact's registry tags from the remote first",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="judge the tag as the server's pre-receive hook judges its push; exit 1 if refused",
    )
    options.gto_repo(p, url=False)


OUTPUTS = ("name", "version", "stage", "event", "tag", "commit", "path", "type", "description")


def run(args: argparse.Namespace, session: Session) -> int:
    fmt = args.field or ("json" if args.json == "ours" else args.json or args.format)
    name = strip_tag_prefix(args.ref)
    if args.verify:
        if args.fetch and parse_tag(name) is not None:
            _fetch(session, name)
            args.fetch = False
        refused = _verify(session, args.ref, name)
        if refused:
            return refused
    try:
        event = _event(args, session, name)
    except NotFoundError as exc:
        if not args.allow_other:
            raise
        session.message("note", f"{exc.message} (--allow-other: exit 0)")
        _emit(session, fmt, name, None, {k: "" for k in OUTPUTS} | {"tag": name})
        return 0
    values = _values(session, event)
    found = _trailers(session, event)
    values.update(trailer_outputs(session, found))
    _emit(session, fmt, name, event, values, found)
    return 0


def _event(args: argparse.Namespace, session: Session, name: str) -> Event:
    from git_registry.reading import load

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
        _fetch(session, name)
    loaded = load(session, [parsed.artifact])
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


def _fetch(session: Session, name: str) -> None:
    from git_registry.commands.fetch import fetch
    from git_registry.writing import remote_name

    parsed = parse_tag(name)
    assert parsed is not None
    fetch(session, remote_name(session), [parsed.artifact])


def _verify(session: Session, ref: str, name: str) -> int:
    """Judge the tag ``name`` as the pre-receive hook judges a push that creates it: the
    same :class:`PushCheck` (the rulebook), the repository's other tags as the server's,
    the policy of the branch HEAD names (the server reads its default branch's), and
    the remote-tracking branches as the server's branches. Returns the exit code of a
    refusal (1), or 0 if the hook would have let it through."""
    from git_registry.commands.hook import report_findings
    from git_registry.gitbin import config_bool
    from git_registry.grammar import TAG_PREFIX
    from git_registry.pushcheck import PushCheck, RefUpdate, headless_policy
    from git_registry.render import count
    from git_registry.writing import remote_name

    # Exit 1 is the verdict "refused": what keeps the tag from being judged is fatal.
    if ref.startswith("refs/") and not ref.startswith(TAG_PREFIX):
        raise RegistryError(f"'{ref}' is not a tag: --verify judges a pushed tag")
    repo = session.repo()
    refs = repo.tag_refs()
    oid = refs.get(name)
    if oid is None:
        raise RegistryError(
            f"there is no tag '{name}' in this repository: --verify judges a tag it has",
            hint="fetch it first (git fetch origin tag NAME, or add --fetch)",
        )
    if repo.head_ref() is None:
        raise RegistryError(
            "HEAD is detached: --verify reads the policy from the branch HEAD names, as the "
            "server hook reads it from its default branch",
            hint="check out the default branch first, e.g. git checkout -B main origin/main",
        )
    headless = headless_policy(repo)
    findings = [headless] if headless is not None else []
    if not findings:
        existing = {tag: value for tag, value in refs.items() if tag != name}
        check = PushCheck(
            repo,
            session.catalog(),
            existing,
            allow_delete=config_bool(session.config(), "registry.allowdelete", False),
            remote=remote_name(session),
        )
        findings = check.run([RefUpdate(TAG_PREFIX + name, None, oid)])
    if not findings:
        session.message("note", f"{name}: the server's pre-receive hook would accept it")
        return 0
    report_findings(session, findings)
    session.message(
        "error",
        f"{name} breaks the registry's rules ({count(len(findings), 'problem')}): the "
        "pre-receive hook of a server running git-registry would have refused its push",
    )
    return EXIT_NOT_FOUND


def _values(session: Session, event: Event) -> dict[str, str]:
    from git_registry.catalog import AnnotationError

    annotation = None
    try:
        annotation = session.catalog().annotation(event.commit, event.artifact)
    except (AnnotationError, RegistryError) as exc:
        session.warn(f"no annotation for {event.artifact}: {exc.message}")
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


def _trailers(session: Session, event: Event) -> Trailers:
    """The metrics and metadata of the event's version (its registration's trailers);
    a malformed trailer is left out with a warning."""
    from git_registry.reading import load
    from git_registry.trailers import NONE, of_version, read

    if event.version is None or event.kind is EventKind.DEREGISTRATION:
        return NONE
    if event.kind is EventKind.REGISTRATION:
        info = None
        found = read(event.message)
    else:
        artifact = load(session, [event.artifact]).registry.artifacts.get(event.artifact)
        info = artifact.version(event.version) if artifact is not None else None
        found = of_version(info) if info is not None else NONE
    tag = info.registration.tag if info is not None else event.tag
    for problem in found.problems:
        session.warn(f"{tag}: {problem}")
    return found


def trailer_outputs(session: Session, found: Trailers) -> dict[str, str]:
    """The outputs ``metric_KEY`` and ``meta_KEY`` (KEY lower-cased, ``.`` and ``-`` as
    ``_``: a name GitHub, a shell and GitLab all take); of two keys giving one name,
    the first (sorted) is kept, with a warning."""
    outputs: dict[str, str] = {}
    pairs = [(f"metric_{k}", k, found.metrics[k].text) for k in sorted(found.metrics)]
    pairs += [(f"meta_{k}", k, found.meta[k]) for k in sorted(found.meta)]
    for raw, key, value in pairs:
        output = raw.lower().replace(".", "_").replace("-", "_")
        if output in outputs:
            session.warn(f"'{key}' is left out of the outputs: its name {output} is taken")
            continue
        outputs[output] = value
    return outputs


def _emit(
    session: Session,
    fmt: str,
    name: str,
    event: Event | None,
    values: dict[str, str],
    found: Trailers | None = None,
) -> None:
    from git_registry.render import describe_event, dump_json, escape, event_json

    if fmt in ("name", "version", "stage", "event"):
        if values[fmt]:  # GTO prints nothing for a value the event has not
            session.out(escape(values[fmt]))
    elif fmt == "gto":
        from git_registry.gtoshape import event_doc

        if event is not None:  # GTO prints nothing for a ref that is no event
            session.stdout.write(dump_json(event_doc(event), indent=4))
    elif fmt == "json":
        # The keys of --format github and env (name, not artifact), null where those
        # are empty, and the event's; "artifact" stays, the same as "name", for the
        # scripts written before "name" was there.
        doc: dict[str, Any] = {k: values[k] or None for k in OUTPUTS}
        if event:
            doc.update(event_json(event))
        if found is not None:
            doc.update(found.to_json())
        session.stdout.write(dump_json(doc))
    elif fmt == "github":
        _github_output(session, values)
    elif fmt == "env":
        _env_file(session, values)
    elif fmt == "dotenv":
        text, warnings = dotenv_report(values)
        for warning in warnings:
            session.warn(warning)
        session.stdout.write(text)
    elif event is not None:
        session.out(f"{name}: {describe_event(event)}")
        if found is not None:
            for key, metric in sorted(found.metrics.items()):
                session.out(f"  metric {key} = {metric.text}")
            for key, value in sorted(found.meta.items()):
                session.out(f"  meta {key} = {value}")


def _github_output(session: Session, values: dict[str, str]) -> None:
    """Append ``key<<DELIM`` blocks to ``$GITHUB_OUTPUT``; DELIM is random and checked
    against every value, so no value can end its block early and inject an output."""
    path = session.env.get("GITHUB_OUTPUT")
    if not path:
        raise RegistryError(
            "GITHUB_OUTPUT is not set: --format github writes GitHub Actions step outputs",
            hint="run it in a GitHub Actions step, or use --format env / --json elsewhere",
        )
    import secrets

    text = "".join(values.values())
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in text:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    lines = []
    for key, value in values.items():
        lines.append(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")
    with open(path, "a", encoding="utf-8", newline="\n") as f:
        f.write("".join(lines))
    session.message("note", f"wrote {', '.join(values)} to {os.path.basename(path)}")


def _env_file(session: Session, values: dict[str, str]) -> None:
    """``REGISTRY_KEY=value`` lines that a POSIX shell (``. file``, ``eval``) reads back
    exactly. A value holding what no such line may carry raw (a line break, a control
    character: see :mod:`controls`) or a CI command is written as human output shows it
    (:func:`render.escape`), with a warning: ``--json`` and ``--format github`` carry
    it exactly. (NUL cannot be in a shell variable at all.)"""
    from git_registry.render import escape

    lines = []
    for key, value in values.items():
        name = f"REGISTRY_{key.upper()}"
        if CONTROL_RE.search(value) or CI_COMMAND_RE.search(value):
            value = escape(value)
            session.warn(
                f"{name} is written escaped, as git registry shows it: it holds line breaks, "
                "control characters or a CI command (--json and --format github carry it "
                "exactly)"
            )
        lines.append(f"{name}={_shell_word(value)}\n")
    session.stdout.write("".join(lines))


def _shell_word(value: str) -> str:
    """``value`` as one shell word that ``sh`` reads back exactly: bare when plain, else
    double-quoted with a backslash before each backslash, double quote, ``$`` and
    backquote (dotenv readers undo the first two)."""
    if value and all(c.isalnum() or c in "._-/:@#+=," for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("$", "\\$").replace("`", "\\`")
    return f'"{escaped}"'


DOTENV_MAX_BYTES = 5 * 1024
"""GitLab refuses a dotenv report larger than 5 KB (its default limit)."""

DOTENV_MAX_VARIABLES = 20
"""GitLab refuses a dotenv report of more variables (Self-Managed's default limit)."""

_DOTENV_DROPPED_FIRST = ("description", "path", "type")


def dotenv_report(values: dict[str, str]) -> tuple[str, list[str]]:
    """``REGISTRY_KEY=value`` lines that GitLab's dotenv report reads back exactly, and
    a warning for each value left out.

    GitLab's rules (``artifacts:reports:dotenv``): one ``KEY=VALUE`` per line, no
    empty or comment lines; keys of ASCII letters, digits and ``_``; the value is the
    rest of the line with the blanks around it stripped and quotes kept as they are
    (no unquoting, no escapes, no variable substitution); no spaces or line breaks in
    a value, even quoted; UTF-8; at most 5 KB. So a value is written as it is, and a
    value GitLab cannot carry (a space, a line break or other control character) is
    left out, as are the free-text values (description, path, type) that would make
    the file too large, then the metrics and metadata (also past GitLab's 20 variables).
    ``--json`` carries them all.
    Pure: the warnings hold the value as it is (:meth:`Session.warn` escapes it).

    Raises:
        RegistryError: even without those, the file would be too large."""
    kept: dict[str, str] = {}
    warnings = []
    for key, value in values.items():
        if any(c.isspace() for c in value) or CONTROL_RE.search(value):
            shown = value[:60] + ("..." if len(value) > 60 else "")
            warnings.append(
                f"REGISTRY_{key.upper()} is left out of the dotenv report: GitLab's dotenv "
                f"reports cannot carry its spaces, line breaks or control characters "
                f"({shown}); --json carries it"
            )
            continue
        kept[key] = value

    def text() -> str:
        return "".join(f"REGISTRY_{key.upper()}={value}\n" for key, value in kept.items())

    # A tag may carry 100 metrics and metadata: the last are left out first, to keep
    # the report within GitLab's count of variables, then within its size.
    trailers = [k for k in reversed(list(kept)) if k.startswith(("metric_", "meta_"))]
    while len(kept) > DOTENV_MAX_VARIABLES and trailers:
        key = trailers.pop(0)
        del kept[key]
        warnings.append(
            f"REGISTRY_{key.upper()} is left out of the dotenv report: GitLab takes at most "
            f"{DOTENV_MAX_VARIABLES} variables; --json carries it"
        )
    for key in (*_DOTENV_DROPPED_FIRST, *trailers):
        if len(text().encode("utf-8")) <= DOTENV_MAX_BYTES:
            break
        if key in kept:
            del kept[key]
            warnings.append(
                f"REGISTRY_{key.upper()} is left out of the dotenv report: GitLab refuses "
                f"reports over {DOTENV_MAX_BYTES} bytes; --json carries it"
            )
    size = len(text().encode("utf-8"))
    if size > DOTENV_MAX_BYTES:  # names this long: nothing is left out silently
        raise RegistryError(
            f"the dotenv report would be {size} bytes: GitLab refuses more than {DOTENV_MAX_BYTES}",
            hint="use --json",
        )
    return text(), warnings
