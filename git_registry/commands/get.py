"""``git registry get SELECTOR [-o PATH]``: put a version's files on disk."""

from __future__ import annotations

import argparse
import os

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import NotFoundError, RegistryError, UsageError
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.annotations import Annotation
    from git_registry.sources import Source
    from git_registry.state import VersionInfo


COMMAND = Command(
    name="get",
    summary="download a version's file or folder",
    description=(
        "Put the artifact's path, as artifacts.yaml says at the version's commit, on disk:\n"
        "NAME is its latest version, NAME@vX.Y.Z, NAME@latest or NAME#STAGE as in show. A\n"
        "path in the repository is written from that commit (its bytes and modes, never the\n"
        "work tree); a DVC-tracked one (PATH.dvc) with 'dvc get'; http(s):// is downloaded;\n"
        "s3://, gs://, azure:// are fetched with aws, gcloud or gsutil, az. A file is checked\n"
        "against the annotation's sha256. PATH (default: the path's last part, here) must\n"
        "not exist unless --force; a download that fails or does not match leaves nothing\n"
        "there. Prints the path written."
    ),
    usage=(
        "git registry get NAME[@vX.Y.Z | @latest | #STAGE] [-o PATH] [--force] [--all] "
        "[--print-url] [--json] [--quiet]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "selector", metavar="SELECTOR", help="NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write here (default: the last part of the path or URL, in this folder; "
        "PATH ending in '/': into that folder)",
    )
    p.add_argument(
        "-f", "--force", action="store_true", help="replace PATH if it exists (once all is fetched)"
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="a deprecated artifact's latest version or stage holder, a deregistered version "
        "(warns)",
    )
    p.add_argument(
        "--print-url",
        action="store_true",
        help="print what would be fetched (the URL, or COMMIT:PATH) and write nothing",
    )
    options.json(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace, session: Session) -> int:
    import shlex

    from git_registry.selectors import parse_selector
    from git_registry.serving import served_version

    selector = parse_selector(args.selector)
    info, version = served_version(
        session,
        selector,
        retry=f"git registry get {shlex.quote(args.selector)}",
        show_all=args.all,
        deregistered=False,
        json_doc=args.json,
    )
    annotation = _annotation(session, info.name, version)
    if args.print_url and not args.json and annotation.repo_path() is None:
        session.out(str(annotation.path))  # any URL, even one get would not fetch
        return 0
    source = _source(session, annotation, version)
    shown, dest = _destination(session, args, source)
    doc: dict[str, object] = {
        "artifact": info.name,
        "version": version.version,
        "commit": version.commit,
        "source": source.shown(),
        "kind": source.kind.value,
        "path": shown,
    }
    if args.print_url:
        if args.json:
            from git_registry.render import dump_json

            session.stdout.write(dump_json(doc))
        else:
            session.out(source.shown())
        return 0
    if dest is None:
        raise UsageError(
            f"cannot tell what to name '{source.location}' here: give -o PATH",
            hint=f"git registry get {shlex.quote(args.selector)} -o PATH",
        )
    from git_registry import outputs

    outputs.check_destination(dest, shown or dest, force=args.force)
    with outputs.interruptible(), outputs.staged(dest, force=args.force) as tmp:
        digest = _fetch(session, source, tmp, shown or dest, quiet=args.quiet)
        folder = os.path.isdir(tmp) and not os.path.islink(tmp)
        if digest is None and not folder and (args.json or annotation.sha256):
            digest = outputs.sha256_of(tmp)
        _verify(session, annotation, source, digest, folder)
    if args.json:
        from git_registry.render import dump_json

        doc.update(
            type="folder" if folder else "file",
            sha256=digest,
            verified=bool(annotation.sha256) and not folder,
        )
        session.stdout.write(dump_json(doc))
    else:
        session.out(shown or dest)
    return 0


def _annotation(session: Session, name: str, version: VersionInfo) -> Annotation:
    """The artifact's annotation at the version's commit, with a path."""
    from git_registry.annotations import file_for
    from git_registry.gitvalues import short

    annotation = session.catalog().annotation(version.commit, name)
    where = f"{file_for(name)[0]} at commit {short(version.commit)} ({name} {version.version})"
    if annotation is None or annotation.path is None:
        raise NotFoundError(
            f"{name} has {'no entry' if annotation is None else 'no path'} in {where}: "
            "nothing says where its files are",
            hint=f"annotate it (git registry annotate {name} --path PATH --commit), then "
            "register a version of that commit",
        )
    return annotation


def _source(session: Session, annotation: Annotation, version: VersionInfo) -> Source:
    from git_registry.annotations import is_url
    from git_registry.gitvalues import short
    from git_registry.sources import Kind, Source, url_kind

    path = annotation.path
    assert path is not None
    if is_url(path):
        return Source(url_kind(path), path, version.commit)
    target = annotation.repo_path()
    assert target is not None
    repo = session.repo()
    try:
        entry = repo.entry_at(version.commit, target)
    except RegistryError as exc:  # a shallow clone without the commit
        raise RegistryError(
            f"commit {short(version.commit)} of {annotation.artifact} {version.version} is not "
            "in this repository",
            hint=f"fetch it first: git fetch --unshallow (or git fetch origin {version.commit})",
        ) from exc
    if entry is not None:
        return Source(Kind.GIT, target, version.commit)
    if repo.blob_id_at(version.commit, f"{target}.dvc") is not None:
        return Source(Kind.DVC, target, version.commit)
    raise NotFoundError(
        f"'{target}' is not in commit {short(version.commit)} ({annotation.artifact} "
        f"{version.version}), nor is '{target}.dvc'",
        hint=f"its annotation in {annotation.file} at that commit names a path the commit "
        "does not hold; 'git registry check' finds such paths when they are 'virtual: false'",
    )


def _destination(
    session: Session, args: argparse.Namespace, source: Source
) -> tuple[str | None, str | None]:
    """The path to print (as the user wrote it) and the absolute path to write; None
    for both when no name can be made from the source and -o gives none."""
    from git_registry.sources import default_name, unsafe_name

    name = default_name(source.location, source.kind)
    output: str | None = args.output
    if output is not None and not output.endswith(("/", os.sep)):
        shown = output
    elif name is None:
        return None, None
    else:
        shown = os.path.join(output, name) if output else name
    # The folder's links and '..' resolved (as the kernel resolves them), the last part
    # kept (a link there is replaced, never followed): '-o ../here' from inside 'here'
    # must not name the temporary and set-aside paths through the folder being moved.
    folder, last = os.path.split(os.path.join(session.cwd, shown))
    why = unsafe_name(last.replace("\\", "_").encode("utf-8", "surrogateescape"))  # '\\': POSIX
    if why is not None:
        raise UsageError(
            f"-o '{output}' names no file get may write: '{last}' {why}",
            hint="give the path of a file or folder to create (or replace, with --force)",
        )
    return shown, os.path.join(os.path.realpath(folder), last)


def _fetch(session: Session, source: Source, tmp: str, dest: str, *, quiet: bool) -> str | None:
    """Fetch ``source`` to ``tmp`` (``dest``: the path to name in messages); the SHA-256
    if it was computed on the way."""
    from git_registry import download
    from git_registry.sources import Kind, command_text, tool_commands

    if source.kind is Kind.GIT:
        from git_registry.export import export_path
        from git_registry.gitvalues import ObjectId

        exported = export_path(
            session.repo(), ObjectId(source.commit), source.location, tmp, warn=session.warn
        )
        assert exported is not None  # looked up already
        return None
    if source.kind is Kind.HTTP:
        return download.http_get(
            source.location, tmp, stderr=session.stderr, label=dest, quiet=quiet
        )[1]
    repo = session.repo().cwd  # the work tree (a bare repository: its Git directory)
    tool = download.find_tool(source.kind, session.env)
    commands = tool_commands(source.kind, source.location, tmp, repo=repo, rev=source.commit)
    if dest.startswith("-"):  # a command to copy and paste: never an option
        dest = f".{os.sep}{dest}"
    wanted = tool_commands(source.kind, source.location, dest, repo=repo, rev=source.commit)
    if tool is None:
        names = " or ".join(argv[0] for argv in wanted)
        raise RegistryError(
            f"cannot get {source.shown()}: {names} is not installed (not found on PATH)",
            hint=f"install it, or run: {command_text(wanted[0])}",
        )
    index = next(i for i, c in enumerate(commands) if c[0] == tool)
    argv, shown = commands[index], wanted[index]
    if source.kind is Kind.AZURE and source.location.endswith("/"):
        _azure_prefix(session, argv, shown, source.location, tmp)
    else:
        download.run_tool(argv, session.env, session.cwd, shown=shown)
    if not os.path.lexists(tmp):
        raise RegistryError(f"{tool} exited successfully but wrote nothing: {command_text(shown)}")
    return None


def _azure_prefix(session: Session, argv: list[str], shown: list[str], url: str, tmp: str) -> None:
    """``az storage blob download-batch`` writes the blobs under their whole names:
    the prefix's own folder is lifted to ``tmp``."""
    from git_registry import download, outputs
    from git_registry.sources import azure_parts

    blob = azure_parts(url)[1]
    parts = [p for p in blob.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise RegistryError(f"refusing the URL '{url}': its path holds '.' or '..'")
    os.mkdir(tmp)
    download.run_tool(argv, session.env, session.cwd, shown=shown)
    if not parts:
        return
    inner = os.path.join(tmp, *parts)
    if not os.path.isdir(inner) or os.path.islink(inner):
        raise RegistryError(f"az wrote nothing under '{blob}' for {url}")
    lifted = outputs.temporary_beside(tmp)
    os.rename(inner, lifted)
    outputs.remove(tmp)
    os.rename(lifted, tmp)


def _verify(
    session: Session, annotation: Annotation, source: Source, digest: str | None, folder: bool
) -> None:
    """Check the file against the annotation's ``sha256`` (a folder cannot be: warns)."""
    expected = annotation.sha256
    if expected is None:
        return
    if folder:
        session.warn(f"{annotation.artifact}'s sha256 is not checked: {source.shown()} is a folder")
        return
    if digest != expected:
        raise RegistryError(
            f"{source.shown()} does not match the sha256 in {annotation.file}: expected "
            f"{expected}, got {digest}",
            hint="nothing was written; the file changed since it was annotated, or the "
            "download was tampered with",
        )
