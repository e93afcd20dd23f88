"""Command line: ``build_parser()``, ``main(argv)``, and the one place that maps
errors to exit codes (SPEC 6; gitcli(7) conventions).

Start-up matters (``-h``, completion helpers and hooks run often): this module
imports only the standard library; command modules, dulwich, PyYAML and semver
are imported when a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib
import os
import sys

from git_registry import __version__
from git_registry.errors import EXIT_FATAL, EXIT_USAGE, RegistryError, UsageError

# Importing typing costs 2 ms of a 45 ms `git registry -h`; mypy reads this name as
# typing.TYPE_CHECKING.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import NoReturn, TextIO

    from git_registry.catalog import Catalog
    from git_registry.render import Painter
    from git_registry.repo import Repository

PROG = "git registry"


class Context:
    """What a command runs with: streams, environment, and the repository, opened lazily."""

    def __init__(
        self,
        stdout: TextIO,
        stderr: TextIO,
        env: Mapping[str, str],
        cwd: str,
        color: str | None,
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.env = env
        self.cwd = cwd
        self.color_option = color
        self._repo: Repository | None = None
        self._config: dict[str, str] | None = None
        self._painter: Painter | None = None
        self._catalog: Catalog | None = None
        self.remotes: list[str] = []
        """``--remote``: read these remotes' registries instead of the local one."""
        self._mirrors: list[tuple[str, str]] | None = None
        self.cache: str | None = None
        """A ``--remote`` cache to read instead of the repository (one remote's part)."""
        self.shallow_warned = False
        """The shallow-clone warning was given (it is given once per command)."""

    def repo(self) -> Repository:
        """The repository Git finds from the current directory (fatal if none); with
        ``--remote``, the local cache of the (first) remote's registry tags."""
        if self._repo is None:
            from git_registry.repo import Repository

            cache = self.cache or (self.mirrors()[0][1] if self.remotes else None)
            if cache is not None:  # not found by Git: GIT_DIR may name another repository
                from git_registry.mirror import cache_paths

                self._repo = Repository(cache_paths(cache), use_cache=self._use_tag_cache)
            else:
                self._repo = Repository.discover(self.cwd, use_cache=self._use_tag_cache)
        return self._repo

    def mirrors(self) -> list[tuple[str, str]]:
        """``(label, cache path)`` of each ``--remote``, brought up to date once."""
        if self._mirrors is None:
            from git_registry import mirror

            self._mirrors = mirror.sync_all(self.remotes, self.cwd, self.env, self.config())
        return self._mirrors

    def _use_tag_cache(self) -> bool:
        """``registry.cache`` (default true): keep parsed tag objects in the Git directory."""
        value = self.config().get("registry.cache", "true").lower()
        return value not in ("false", "no", "off", "0", "")

    def catalog(self) -> Catalog:
        """Committed annotations and policy of the repository, read lazily and cached."""
        if self._catalog is None:
            from git_registry.catalog import Catalog

            self._catalog = Catalog(self.repo())
        return self._catalog

    def config(self) -> dict[str, str]:
        """Git config under ``registry.``, ``color.`` and ``tag.``, read once."""
        if self._config is None:
            from git_registry import gitbin

            self._config = gitbin.config_values(r"^(registry|color|tag)\.", cwd=self.cwd)
        return self._config

    def paint(self) -> Painter:
        """Colour for stdout, decided as Git decides."""
        if self._painter is None:
            from git_registry.render import Painter, want_color

            config: Mapping[str, str] = {}
            if self.color_option is None and not self.env.get("NO_COLOR"):
                config = self.config()
            self._painter = Painter(want_color(self.color_option, self.env, config, self.stdout))
        return self._painter

    def out(self, *parts: str | tuple[str, str]) -> None:
        """One line on stdout, from texts and ``(text, style)`` parts (coloured when
        colour is on). It is escaped as one line (:func:`render.escape`): it may hold
        data from tags and files, whose line breaks and control characters must not
        reach a terminal or CI log raw. Print several lines with several calls."""
        from git_registry.render import safe_line

        styled = any(not isinstance(part, str) for part in parts)
        self.stdout.write(safe_line(parts, self.paint() if styled else None) + "\n")

    def message(self, prefix: str, text: str) -> None:
        """``prefix: text`` on stderr (``warning``, ``hint``, ``error``, ``fatal``), as
        one escaped line (see :meth:`out`)."""
        self.stderr.write(f"{prefix}: {_escape(text)}\n")

    def warn(self, text: str) -> None:
        self.message("warning", text)

    def close(self) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None


class _Parser(argparse.ArgumentParser):
    """argparse with Git's usage-error convention: usage on stderr, exit 129."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=None) from _UsageMarker(self.format_usage())


class _UsageMarker(Exception):
    """Carries the usage text of the parser that failed."""


_COMMANDS: dict[str, str] = {}
"""Subcommand (and alias) -> module under git_registry.commands."""


def _command(
    sub: argparse._SubParsersAction[_Parser],
    name: str,
    module: str,
    summary: str,
    description: str,
    *,
    aliases: Sequence[str] = (),
    usage: str | None = None,
    epilog: str | None = None,
) -> _Parser:
    parser = sub.add_parser(
        name,
        parents=[_color_parent()],
        help=summary,
        description=description,
        aliases=list(aliases),
        usage=usage,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for alias in (name, *aliases):
        _COMMANDS[alias] = module
    return parser


def _add_message_push(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-m", "--message", metavar="MSG", help="tag message (default: GTO's message)"
    )
    parser.add_argument(
        "--push", action="store_true", help="push the new tag(s) to the remote with 'git push'"
    )


def _add_commit_push(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commit", action="store_true", help="commit the file (only that file)")
    parser.add_argument("-m", "--message", metavar="MSG", help="the commit message")
    parser.add_argument(
        "--push", action="store_true", help="push the commit (needs --commit) with 'git push'"
    )


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print JSON (see the README for its schema)"
    )


def _add_remote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--remote",
        metavar="NAME|URL",
        action="append",
        help="read this remote's registry without cloning it (repeatable: one table, "
        "artifacts named REMOTE:NAME)",
    )


def _add_color(parser: argparse.ArgumentParser, default: object) -> None:
    # As in Git, a value needs '=' (--color=never); a bare --color means always
    # (main() rewrites it to --color=always before parsing).
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        metavar="WHEN",
        default=default,
        help="colour human output: --color[=always], --color=auto (default) or --color=never",
    )
    parser.add_argument(
        "--no-color",
        dest="color",
        action="store_const",
        const="never",
        default=default,
        help="same as --color=never",
    )


@functools.cache  # one for every command: 23 fewer parsers to build at start-up
def _color_parent() -> _Parser:
    """The colour options, accepted after the command too (``git registry show --color``)."""
    parent = _Parser(add_help=False)
    _add_color(parent, argparse.SUPPRESS)
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The ``git registry`` argument parser (all commands, options and help texts)."""
    parser = _Parser(
        prog=PROG,
        description="A model and artifact registry kept in Git: versions and stages are "
        "annotated tags (GTO-compatible), metadata is a committed artifacts.yaml.",
        epilog="Run 'git registry COMMAND -h' for a command's options, or "
        "'git registry demo' to see an example registry.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"git-registry {__version__}")
    _add_color(parser, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = _command(
        sub,
        "register",
        "register",
        "register a version (create NAME@vX.Y.Z)",
        "Create an annotated tag NAME@vX.Y.Z on REF (default HEAD). Without --version, the\n"
        "highest version ever registered (deregistered ones included) is bumped: patch by\n"
        "default. The first version is v0.0.1 (v0.1.0 / v1.0.0 with --bump-minor / --bump-major).",
        usage="git registry register NAME [REF] [--version V | --bump-major | --bump-minor | "
        "--bump-patch] [-m MSG] [--force] [--push]",
    )
    p.add_argument("name", metavar="NAME", help="artifact name, e.g. churn or path/to:model")
    p.add_argument(
        "ref", metavar="REF", nargs="?", default="HEAD", help="commit to register (default HEAD)"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--version", metavar="V", help="the version, e.g. v1.2.0")
    group.add_argument(
        "--bump-major",
        dest="bump",
        action="store_const",
        const="major",
        help="bump the major version",
    )
    group.add_argument(
        "--bump-minor",
        dest="bump",
        action="store_const",
        const="minor",
        help="bump the minor version",
    )
    group.add_argument(
        "--bump-patch",
        dest="bump",
        action="store_const",
        const="patch",
        help="bump the patch version (default)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="accepted for GTO's scripts: a commit still holds one active version",
    )
    _add_message_push(p)

    p = _command(
        sub,
        "promote",
        "promote",
        "assign a stage to a version (create NAME#STAGE#N)",
        "Assign STAGE to a version: NAME@vX.Y.Z, --version V, the version at --ref REF\n"
        "(registering that commit first if it has no version), or else the latest version.\n"
        "Creates NAME#STAGE#N, N being one more than the largest counter of the artifact.",
        aliases=["assign"],
        usage="git registry promote NAME[@vX.Y.Z] STAGE [--version V | --ref REF] [--simple] "
        "[--force] [-m MSG] [--push]",
    )
    p.add_argument("name", metavar="NAME[@vX.Y.Z]", help="artifact, optionally with the version")
    p.add_argument("stage", metavar="STAGE", help="stage to assign, e.g. prod")
    p.add_argument(
        "--version", metavar="V", help="version to promote (with --ref: the version to register)"
    )
    p.add_argument(
        "--ref",
        metavar="REF",
        help="promote the version at this commit, registering it first if needed",
    )
    p.add_argument("--simple", action="store_true", help="create NAME#STAGE without a counter")
    p.add_argument(
        "--force", action="store_true", help="assign even if the version already holds the stage"
    )
    _add_message_push(p)

    p = _command(
        sub,
        "unassign",
        "unassign",
        "take a stage away from a version (NAME#STAGE!#N)",
        "Create the unassignment tag NAME#STAGE!#N for the version holding STAGE (or\n"
        "NAME@vX.Y.Z); the stage falls back to the version that held it before.\n"
        "--delete deletes that version's tags for the stage instead.",
        usage="git registry unassign NAME[@vX.Y.Z] STAGE [--delete] [--simple] [--force] "
        "[-m MSG] [--push]",
    )
    p.add_argument("name", metavar="NAME[@vX.Y.Z]", help="artifact, optionally with the version")
    p.add_argument("stage", metavar="STAGE", help="the stage")
    p.add_argument(
        "--delete", action="store_true", help="delete the stage's tags of that version instead"
    )
    p.add_argument("--simple", action="store_true", help="create NAME#STAGE! without a counter")
    p.add_argument(
        "--force", action="store_true", help="unassign even if the version is not in the stage"
    )
    _add_message_push(p)

    p = _command(
        sub,
        "deregister",
        "deregister",
        "deregister a version (NAME@vX.Y.Z!)",
        "Create NAME@vX.Y.Z! so the version is no longer active (it keeps its number:\n"
        "new versions bump past it). --delete deletes every tag of the version instead.",
        usage="git registry deregister NAME@vX.Y.Z [--delete] [--force] [-m MSG] [--push]",
    )
    p.add_argument("name", metavar="NAME@vX.Y.Z", help="the version to deregister")
    p.add_argument("--version", metavar="V", help="the version, if NAME has no @vX.Y.Z")
    p.add_argument("--delete", action="store_true", help="delete all tags of the version instead")
    p.add_argument("--force", action="store_true", help="deregister even if already deregistered")
    _add_message_push(p)

    p = _command(
        sub,
        "deprecate",
        "deprecate",
        "deprecate an artifact (NAME@deprecated)",
        "Create NAME@deprecated on the artifact's newest event's commit: the artifact is\n"
        "hidden from 'show' until a later event re-activates it. --delete deletes every\n"
        "tag of the artifact instead.",
        usage="git registry deprecate NAME [--delete] [--force] [-m MSG] [--push]",
    )
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument("--delete", action="store_true", help="delete all tags of the artifact instead")
    p.add_argument(
        "--force",
        action="store_true",
        help="deprecate even if already deprecated, or unknown (at HEAD)",
    )
    _add_message_push(p)

    p = _command(
        sub,
        "show",
        "show",
        "show the registry, an artifact, or one version",
        "Without arguments, the registry: one row per active artifact with its latest\n"
        "version and the version in each stage. With NAME, its versions. With NAME@latest,\n"
        "NAME@vX.Y.Z or NAME#STAGE, that one version; --ref, --version or --commit print\n"
        "just that value.",
        usage="git registry show [NAME | NAME@vX.Y.Z | NAME@latest | NAME#STAGE] [--json] "
        "[--ref | --version | --commit] [--all] [--all-versions] "
        "[--remote NAME|URL]...",
    )
    p.add_argument(
        "selector",
        metavar="SELECTOR",
        nargs="?",
        help="NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE",
    )
    _add_json(p)
    value = p.add_mutually_exclusive_group()
    value.add_argument(
        "--ref", dest="value", action="store_const", const="ref", help="print only the tag"
    )
    value.add_argument(
        "--version",
        dest="value",
        action="store_const",
        const="version",
        help="print only the version",
    )
    value.add_argument(
        "--commit", dest="value", action="store_const", const="commit", help="print only the commit"
    )
    p.add_argument(
        "--all", action="store_true", help="include deprecated artifacts and deregistered versions"
    )
    p.add_argument(
        "--all-versions",
        action="store_true",
        help="list every version holding a stage, not only the newest",
    )
    _add_remote(p)

    p = _command(
        sub,
        "history",
        "history",
        "every registry event, newest first",
        "Every event (registration, deregistration, assignment, unassignment, deprecation)\n"
        "of the registry or of one artifact, newest first: when, who, what, which commit.",
        usage="git registry history [NAME] [--json] [--ascending] [--remote NAME|URL]...",
    )
    p.add_argument("name", metavar="NAME", nargs="?", help="only this artifact")
    _add_json(p)
    p.add_argument("--ascending", action="store_true", help="oldest first")
    _add_remote(p)

    p = _command(
        sub,
        "which",
        "which",
        "the version in a stage",
        "Print the version of NAME holding STAGE (exit 1 if none does).",
        usage="git registry which NAME STAGE [--ref] [--all-versions] [--json] "
        "[--remote NAME|URL]...",
    )
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument("stage", metavar="STAGE", help="the stage")
    p.add_argument("--ref", action="store_true", help="print the tag that assigned the stage")
    p.add_argument(
        "--all-versions", action="store_true", help="every version holding the stage, newest first"
    )
    _add_json(p)
    _add_remote(p)

    p = _command(
        sub,
        "latest",
        "latest",
        "the latest version",
        "Print the highest active version of NAME, by SemVer (exit 1 if there is none).",
        usage="git registry latest NAME [--ref] [--json] [--remote NAME|URL]...",
    )
    p.add_argument("name", metavar="NAME", help="the artifact")
    p.add_argument("--ref", action="store_true", help="print the version's tag")
    _add_json(p)
    _add_remote(p)

    p = _command(
        sub,
        "check-ref",
        "check_ref",
        "what a registry tag means (for CI)",
        "Say what event the tag REF (NAME or refs/tags/NAME) created: as text, --json,\n"
        "--format github (appends name, version, stage, event, tag, commit, path, type and\n"
        "description to $GITHUB_OUTPUT) or --format env (a dotenv file of REGISTRY_* keys).\n"
        "Exit 1 if it is not a registry event, unless --allow-other. --fetch first fetches\n"
        "the artifact's registry tags (in a CI checkout that has only a lightweight copy).",
        usage="git registry check-ref REF [--json | --format FORMAT] [--allow-other] [--fetch]",
    )
    p.add_argument("ref", metavar="REF", help="a tag name, e.g. refs/tags/churn#prod#3")
    _add_json(p)
    p.add_argument(
        "--format",
        choices=["text", "json", "github", "env"],
        default="text",
        help="text (default), json, github ($GITHUB_OUTPUT) or env (dotenv)",
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

    p = _command(
        sub,
        "fetch",
        "fetch",
        "fetch registry tags from a remote",
        "Fetch the registry tags (all, or those of the NAMEs) that the remote has and this\n"
        "repository lacks. Local tags that differ are kept and reported, except lightweight\n"
        "copies of annotated tags (as CI checkouts make), which are replaced. In a shallow\n"
        "clone only the tagged commits are fetched, not their history. REMOTE defaults to\n"
        "registry.remote, then origin.",
        usage="git registry fetch [REMOTE] [NAME...]",
    )
    p.add_argument(
        "words", metavar="[REMOTE] [NAME]", nargs="*", help="a remote or URL, then artifacts"
    )

    p = _command(
        sub,
        "push",
        "push",
        "push the registry tags a remote lacks, one per push",
        "Push the registry tags (all, or those of the NAMEs) that the remote lacks, oldest\n"
        "event first, one tag per 'git push' so that each fires its own CI event. Tags the\n"
        "remote has with other contents are reported, never forced. REMOTE defaults to\n"
        "registry.remote, then origin.",
        usage="git registry push [REMOTE] [NAME...] [--dry-run]",
    )
    p.add_argument(
        "words", metavar="[REMOTE] [NAME]", nargs="*", help="a remote or URL, then artifacts"
    )
    p.add_argument("-n", "--dry-run", action="store_true", help="list what would be pushed")

    p = _command(
        sub,
        "stages",
        "stages",
        "list the stages",
        "List the stages: the allow-list of .registry.yaml (or GTO's .gto) in its order, or\n"
        "without one (or with --used), every stage ever used, in order of first use.",
        usage="git registry stages [--used] [--json]",
    )
    p.add_argument(
        "--used", action="store_true", help="every stage ever used, even with an allow-list"
    )
    _add_json(p)

    p = _command(
        sub,
        "describe",
        "describe",
        "an artifact's annotation from artifacts.yaml",
        "Print the annotation (path, type, description, labels, custom, virtual) of an\n"
        "artifact as committed: at HEAD for NAME, at the version's commit for NAME@vX.Y.Z,\n"
        "NAME@latest or NAME#STAGE.",
        usage="git registry describe NAME[@vX.Y.Z | @latest | #STAGE] [--rev REF] [--json] "
        "[--path | --type | --description]",
    )
    p.add_argument(
        "selector", metavar="SELECTOR", help="NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE"
    )
    p.add_argument("--rev", metavar="REF", help="read it at this commit instead (NAME only)")
    _add_json(p)
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

    p = _command(
        sub,
        "annotate",
        "annotate",
        "add or change an artifact's entry in artifacts.yaml",
        "Edit the work tree's artifacts.yaml (a/b/artifacts.yaml for a/b:NAME): set the given\n"
        "fields of NAME's entry, creating it if needed. Labels are added to the existing ones.\n"
        "Other entries are kept exactly as they are. --commit commits only that file.",
        usage="git registry annotate NAME [--path P] [--type T] [--label L]... [--description D] "
        "[--custom KEY=VALUE]... [--virtual | --no-virtual] [--commit [-m MSG]] [--push]",
    )
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
    _add_commit_push(p)

    p = _command(
        sub,
        "remove",
        "remove",
        "remove an artifact's entry from artifacts.yaml",
        "Remove NAME's entry from the work tree's artifacts.yaml; other entries are kept\n"
        "exactly as they are. Its tags are not touched. --commit commits only that file.",
        usage="git registry remove NAME [--commit [-m MSG]] [--push]",
    )
    p.add_argument("name", metavar="NAME", help="the artifact")
    _add_commit_push(p)

    p = _command(
        sub,
        "check",
        "check",
        "validate tags, artifacts.yaml files and the policy",
        "Validate every registry tag, every artifacts.yaml at HEAD and .registry.yaml (or\n"
        ".gto): one line per problem (path:line:column: message, or TAG: message). Exit 1 if\n"
        "there is any.",
        usage="git registry check [--json]",
    )
    _add_json(p)

    p = _command(
        sub,
        "schema",
        "schema",
        "print the JSON Schema of artifacts.yaml",
        "Print the JSON Schema (draft 2020-12) of artifacts.yaml, for editors and CI.",
        usage="git registry schema",
    )

    p = _command(
        sub,
        "hook",
        "hook",
        "run a hook's checks (called by the installed hooks)",
        "The checks the installed hooks run. Git calls them through the wrappers that\n"
        "'git registry hooks install' writes; you can also call them from your own hooks.\n"
        "  pre-push REMOTE URL   pushed registry tags and branches (reads Git's pre-push input)\n"
        "  commit-msg [FILE]     the staged artifacts.yaml files and .registry.yaml\n"
        "  pre-receive           on a server: the same checks as pre-push, on incoming refs\n"
        "  update REF OLD NEW    on a server: the same checks for one ref\n"
        "  reference-transaction STATE\n"
        "                        on a server: registry tags are written one push at a\n"
        "                        time (pre-receive takes a lock, this releases it)\n"
        "Exit 1 with one line per problem if something is refused.",
        usage="git registry hook (pre-push REMOTE URL | commit-msg [FILE] | pre-receive | "
        "update REF OLD NEW | reference-transaction STATE)",
    )
    hook_sub = p.add_subparsers(dest="hook", metavar="HOOK", parser_class=_Parser, required=True)
    h = hook_sub.add_parser("pre-push", help="check pushed registry tags and branches")
    h.add_argument("remote_name", metavar="REMOTE", nargs="?", help="the remote's name (from Git)")
    h.add_argument("url", metavar="URL", nargs="?", help="the remote's URL (from Git)")
    h = hook_sub.add_parser("commit-msg", help="check the staged artifacts.yaml and policy")
    h.add_argument("file", metavar="FILE", nargs="?", help="the commit message file (unused)")
    hook_sub.add_parser("pre-receive", help="check incoming refs on a server")
    h = hook_sub.add_parser("update", help="check one incoming ref on a server")
    h.add_argument("refname", metavar="REF", help="the ref being updated")
    h.add_argument("old", metavar="OLD", help="its old object id")
    h.add_argument("new", metavar="NEW", help="its new object id")
    h = hook_sub.add_parser(
        "reference-transaction", help="write registry tags one push at a time (server)"
    )
    h.add_argument(
        "state",
        metavar="STATE",
        choices=["prepared", "committed", "aborted"],
        help="the transaction's state (from Git): prepared, committed or aborted",
    )

    p = _command(
        sub,
        "hooks",
        "hooks",
        "install, remove or list the Git hooks",
        "install: write pre-push and commit-msg hooks (--server: pre-receive and\n"
        "reference-transaction, for a bare repository on a server) into the hooks folder\n"
        "Git uses (core.hooksPath honoured). A hook already there is kept as\n"
        "HOOK.registry-orig and run first; --force sets it aside as HOOK.registry-replaced\n"
        "instead. uninstall removes only our hooks and puts back what was there. status\n"
        "says what is installed where.",
        usage="git registry hooks (install [--server] [--force] | uninstall | status)",
    )
    p.add_argument(
        "action", metavar="ACTION", choices=["install", "uninstall", "status"], help="what to do"
    )
    p.add_argument(
        "--server",
        action="store_true",
        help="install the server hooks (pre-receive, reference-transaction)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="set a foreign hook aside instead of chaining it",
    )

    p = _command(
        sub,
        "demo",
        "demo",
        "build an example registry and show it",
        "Create a new Git repository in DIR (default ./registry-demo) holding the talk's\n"
        "example registry (churn, segment, cv-class), then show it.",
        usage="git registry demo [DIR]",
    )
    p.add_argument(
        "dir", metavar="DIR", nargs="?", default="registry-demo", help="where to create it"
    )

    p = _command(
        sub,
        "completion",
        "completion",
        "print the shell completion script",
        "Print the completion script for SHELL. Installed with pip, the scripts are also in\n"
        "share/bash-completion/completions, share/zsh/site-functions and\n"
        "share/fish/vendor_completions.d. One step per shell (see the README):\n"
        "  bash: source <(git registry completion bash)               in ~/.bashrc\n"
        "  zsh:  git registry completion zsh > ~/.zfunc/_git-registry  (~/.zfunc in $fpath)\n"
        "  fish: git registry completion fish > ~/.config/fish/completions/git-registry.fish",
        usage="git registry completion (bash | zsh | fish)",
    )
    p.add_argument(
        "shell", metavar="SHELL", choices=["bash", "zsh", "fish"], help="bash, zsh or fish"
    )

    p = _command(
        sub,
        "help",
        "help",
        "print a command's help (the manual: git help registry)",
        "Print the help of COMMAND, or the list of commands, without 'man'. The manual\n"
        "page is 'git help registry' (or 'man git-registry').",
        usage="git registry help [COMMAND]",
    )
    p.add_argument("topic", metavar="COMMAND", nargs="?", help="the command")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> int:
    """Run ``git registry`` with ``argv``; return the exit code.

    Streams, environment and working directory are parameters so tests can run
    commands in-process.
    """
    if stdout is None and stderr is None:
        _tolerant_streams()
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    args_list = _glue_values(parser, _bare_color(list(sys.argv[1:] if argv is None else argv)))
    try:
        with contextlib.redirect_stdout(out):
            args = parser.parse_args(args_list)
    except UsageError as exc:
        usage = exc.__cause__.args[0] if exc.__cause__ else parser.format_usage()
        err.write(usage)
        err.write(f"error: {_escape(exc.message)}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # -h / --version
        return int(exc.code or 0)
    if not args.command:
        err.write(parser.format_help())
        return EXIT_USAGE
    color = getattr(args, "color", None)
    ctx = Context(out, err, os.environ if env is None else env, cwd or os.getcwd(), color)
    module = importlib.import_module(f"git_registry.commands.{_COMMANDS[args.command]}")
    run: Callable[[argparse.Namespace, Context], int] = module.run
    # One short run allocates up to a million objects (100,000 tags) and makes no
    # cycles worth collecting: the cyclic collector would walk them all, again and
    # again (a third of the run time). Reference counting still frees everything.
    collect = gc.isenabled()
    gc.disable()
    try:
        ctx.remotes = _checked_remotes(getattr(args, "remote", None) or [])
        code = run(args, ctx)
        out.flush()  # a full disk or a closed pipe is an error of this command
        return code
    except RegistryError as exc:
        err.write(f"{exc.prefix}: {_escape(exc.message)}\n")
        if exc.hint:
            err.write(f"hint: {_escape(exc.hint)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("fatal: interrupted\n")
        return 130
    except BrokenPipeError:
        # `git registry show | head`: stop quietly, as Git does.
        _silence_stdout()
        return EXIT_FATAL
    except OSError as exc:
        # The operating system said no (a read-only .git, a full disk, a missing
        # folder): one line, as Git says it, and no traceback.
        if out is sys.stdout:
            try:
                out.flush()
            except OSError:
                _silence_stdout()  # what could not be written is lost, not retried at exit
        err.write(f"fatal: {_os_reason(exc)}\n")
        return EXIT_FATAL
    finally:
        ctx.close()
        if collect:
            gc.enable()


def _escape(text: str) -> str:
    """:func:`render.escape`, imported when a message is written (not for ``-h``)."""
    from git_registry.render import escape

    return escape(text)


def _checked_remotes(remotes: Sequence[str]) -> list[str]:
    """``--remote`` values, each refused before anything runs if Git would read it as
    an option."""
    if not remotes:
        return []
    from git_registry.gitbin import check_remote

    return [check_remote(remote, source="--remote") for remote in remotes]


def _glue_values(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """A command's words as Git reads them, made plain for argparse.

    - An option that takes a value takes the next word, even one that starts with
      '-' (``-m "-hotfix"``): written ``--message=-hotfix`` / ``-m-hotfix``, which
      argparse would otherwise read as an unknown option.
    - Operands may follow options (``register m --version v1.0.0 HEAD~2``): argparse
      stops filling optional operands at the first option, so the operands are moved
      before the options (their order kept; after ``--`` when there is one).
    """
    start = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if start is None:
        return args
    sub = next(
        (
            action.choices.get(args[start])
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        ),
        None,
    )
    if not isinstance(sub, argparse.ArgumentParser):
        return args
    if args[start] == "hook":
        # Git's own arguments: pre-push's REMOTE and URL are informational (the refs
        # come on stdin), and a remote named like an option ('-x') must not stop a push.
        rest = args[start + 1 :]
        if rest[:1] == ["pre-push"]:
            return [*args[: start + 2], *[a for a in rest[1:] if not a.startswith("-")]]
        return args
    takes_value = {
        option
        for action in sub._actions
        if action.option_strings and action.nargs is None and action.const is None
        for option in action.option_strings
        if not isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))
        and not isinstance(action, (argparse._HelpAction, argparse._VersionAction))
    }
    options: list[str] = []
    operands: list[str] = []
    dashdash = False
    words = iter(args[start + 1 :])
    for word in words:
        if word == "--":
            dashdash = True
            operands.extend(words)
            break
        if word in takes_value:
            value = next(words, None)
            if value is None:
                options.append(word)
            elif value.startswith("-"):
                options.append(f"{word}={value}" if word.startswith("--") else f"{word}{value}")
            else:
                options.extend((word, value))
        elif word.startswith("-") and word != "-":
            options.append(word)
        else:
            operands.append(word)
    head = args[: start + 1]
    if dashdash:
        return [*head, *options, "--", *operands]
    return [*head, *operands, *options]


def _bare_color(args: list[str]) -> list[str]:
    """``--color`` without ``=WHEN`` means always (never consumes the next word)."""
    if "--" in args:
        cut = args.index("--")
        return _bare_color(args[:cut]) + args[cut:]
    return ["--color=always" if a == "--color" else a for a in args]


def _os_reason(exc: OSError) -> str:
    """``path: reason`` for an operating-system error, like Git's messages."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return f"cannot write the output: {reason}" if exc.errno is not None else reason


def _tolerant_streams() -> None:
    """Text that the output encoding cannot show (a tagger's name under
    ``PYTHONIOENCODING=ascii`` or a C locale) is written escaped, never an error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
