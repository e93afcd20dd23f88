"""The command line: ``main(argv)``, the parser of the one command that runs, and
the one place that maps errors to exit codes and messages (SPEC 6; gitcli(7)).

Each command declares itself in its module under :mod:`git_registry.commands`
(``COMMAND``, ``arguments(parser)``, ``run(args, session)``); :func:`main` finds the
command word, imports only that module and builds only its parser. The parser of
every command (for ``help``, the docs and the completion checks) is built only when
asked for.

Start-up matters (``-h``, completion helpers and hooks run often): this module
imports only the standard library; command modules, PyYAML and semver are imported
when a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys

from git_registry import __version__
from git_registry.commands import ORDER, WORDS
from git_registry.errors import EXIT_FATAL, EXIT_USAGE, RegistryError, UsageError, UsageText
from git_registry.session import Session

# Importing typing costs 2 ms of a 45 ms `git registry -h`; mypy reads this name as
# typing.TYPE_CHECKING.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import ModuleType
    from typing import Any, NoReturn, TextIO

    from git_registry.commands import Command

PROG = "git registry"


class _Parser(argparse.ArgumentParser):
    """argparse with Git's usage-error convention: usage on stderr, exit 129."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=None) from UsageText(self.format_usage())


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, told the width as :func:`shutil.get_terminal_size` would
    say it: argparse builds one for every option it declares, and importing shutil to
    ask costs 2 ms of every run."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """``COLUMNS``, else the terminal's width, else 80 (as shutil decides it)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def _add_color(parser: argparse.ArgumentParser) -> None:
    # --color=WHEN or --color WHEN; a bare --color means always (main() rewrites
    # both to --color=WHEN before parsing).
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        metavar="WHEN",
        default=argparse.SUPPRESS,
        help="colour human output: --color[=always], --color=auto (default) or --color=never "
        "(also --color WHEN)",
    )
    parser.add_argument(
        "--no-color",
        dest="color",
        action="store_const",
        const="never",
        default=argparse.SUPPRESS,
        help="same as --color=never",
    )


def command_module(word: str) -> ModuleType:
    """The module of a command word or alias (KeyError if there is none)."""
    return importlib.import_module(f"git_registry.commands.{WORDS[word]}")


def _declare(parser: argparse.ArgumentParser, module: ModuleType) -> argparse.ArgumentParser:
    """A command's own arguments, then the colour options (accepted after the command
    too: ``git registry show --color``)."""
    module.arguments(parser)
    _add_color(parser)
    return parser


def _parser_options(command: Command) -> dict[str, Any]:
    return {
        "description": command.description,
        "usage": command.usage,
        "epilog": command.epilog,
        "formatter_class": _Formatter,
    }


def command_parser(word: str) -> argparse.ArgumentParser:
    """The parser of one command (a word or an alias)."""
    module = command_module(word)
    command: Command = module.COMMAND
    parser = _Parser(prog=f"{PROG} {command.name}", **_parser_options(command))
    return _declare(parser, module)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``git registry`` parser: every command with its options and help.

    Only ``help``, a usage error before a command word, and the docs and completion
    checks need it; a run builds :func:`command_parser` of its command alone.
    """
    parser = _Parser(
        prog=PROG,
        description="A model and artifact registry kept in Git: versions and stages are "
        "annotated tags (GTO-compatible), metadata is a committed artifacts.yaml.",
        epilog="Run 'git registry COMMAND -h' for a command's options, or "
        "'git registry demo' to see an example registry.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"git-registry {__version__}")
    _add_color(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in ORDER:
        module = importlib.import_module(f"git_registry.commands.{name}")
        command: Command = module.COMMAND
        child = sub.add_parser(
            command.name,
            help=command.summary,
            aliases=list(command.aliases),
            **_parser_options(command),
        )
        _declare(child, module)
    return parser


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command word and alias with its parser, in the order of ``-h`` (for
    ``help``, and the tests that keep the docs and completions in step)."""
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name in ORDER:
        command: Command = importlib.import_module(f"git_registry.commands.{name}").COMMAND
        parser = command_parser(command.name)
        for word in (command.name, *command.aliases):
            parsers[word] = parser
    return parsers


def option_table(parser: argparse.ArgumentParser) -> dict[str, bool]:
    """Every option a parser takes (``--json``, ``-m``, ...) -> whether it takes the
    next word as its value. The one reader of argparse's internals."""
    table: dict[str, bool] = {}
    for action in parser._actions:
        takes_value = (
            action.nargs is None
            and action.const is None
            and not isinstance(
                action,
                (
                    argparse._StoreTrueAction,
                    argparse._StoreFalseAction,
                    argparse._HelpAction,
                    argparse._VersionAction,
                ),
            )
        )
        for option in action.option_strings:
            table[option] = takes_value
    return table


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> int:
    """Run ``git registry`` with ``argv``; return the exit code.

    Streams, environment and working directory are parameters so tests can run
    commands in-process; the command gets them in its :class:`Session`.
    """
    if stdout is None and stderr is None:
        _tolerant_streams()
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    words = _bare_color(list(sys.argv[1:] if argv is None else argv))
    if words in (["-h"], ["--help"]):
        from git_registry.overview import OVERVIEW

        out.write(OVERVIEW)
        return 0
    try:
        with contextlib.redirect_stdout(out):
            parsed = _parse(words)
    except UsageError as exc:
        err.write(exc.__cause__.args[0] if exc.__cause__ else "")
        err.write(f"error: {_escape(exc.message)}\n")
        if exc.hint:
            err.write(f"hint: {_escape(exc.hint)}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # -h / --version
        return int(exc.code or 0)
    if parsed is None:  # no command word
        err.write(build_parser().format_help())
        return EXIT_USAGE
    module, args = parsed
    session = Session(
        stdin or sys.stdin,
        out,
        err,
        os.environ if env is None else env,
        cwd or os.getcwd(),
        getattr(args, "color", None),
    )
    return _run(module.run, args, session)


def _parse(words: list[str]) -> tuple[ModuleType, argparse.Namespace] | None:
    """The command's module and its parsed arguments (None without a command word).

    Options before the command word are the top-level ones (``--color``,
    ``--version``, ``-h``); anything unusual there is left to the whole parser.
    """
    start = next((i for i, w in enumerate(words) if not w.startswith("-")), None)
    known = start is not None and words[start] in WORDS and "--" not in words[:start]
    plain = all(_is_color(w) for w in words[:start])
    if start is not None and not known and plain and "--" not in words[:start]:
        raise _unknown_command(words[start])
    if not known or not plain:
        args = build_parser().parse_args(words)
        if args.command is None:
            return None
        start = words.index(args.command)
    assert start is not None
    word = words[start]
    parser = command_parser(word)
    args = parser.parse_args(_glue_values(parser, word, words[start + 1 :]))
    if not hasattr(args, "color") and words[:start]:  # one after the command word wins
        args.color = _color_value(words[start - 1])
    return command_module(word), args


def _unknown_command(word: str) -> UsageError:
    """A command word we do not have, with the words it is closest to (``promte``:
    did you mean 'promote'?)."""
    from git_registry.suggest import did_you_mean

    hint = did_you_mean(word, WORDS) or "'git registry -h' lists the commands"
    exc = UsageError(f"'{word}' is not a git registry command", hint=hint)
    exc.__cause__ = UsageText(build_parser().format_usage())
    return exc


def _is_color(word: str) -> bool:
    return word == "--no-color" or word.startswith("--color=")


def _color_value(option: str) -> str:
    return "never" if option == "--no-color" else option.split("=", 1)[1]


def _run(
    run: Callable[[argparse.Namespace, Session], int],
    args: argparse.Namespace,
    session: Session,
) -> int:
    """Run a command; map what it raises to a message and an exit code (the one
    place that does)."""
    out, err = session.stdout, session.stderr
    # One short run allocates up to a million objects (100,000 tags) and makes no
    # cycles worth collecting: the cyclic collector would walk them all, again and
    # again (a third of the run time). Reference counting still frees everything.
    collect = gc.isenabled()
    gc.disable()
    try:
        if getattr(args, "repo", None) is not None:
            _gto_repo(args, session)
        session.remotes = _checked_remotes(getattr(args, "remote", None) or [])
        code = run(args, session)
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
        session.close()
        if collect:
            gc.enable()


def _escape(text: str) -> str:
    """:func:`render.escape`, imported when a message is written (not for ``-h``)."""
    from git_registry.render import escape

    return escape(text)


def _gto_repo(args: argparse.Namespace, session: Session) -> None:
    """GTO's ``-r/--repo PATH|URL``: a folder runs the command there (as ``git -C``); a
    URL is read as ``--remote URL`` by the commands that read remotes; anything else
    is an error (writes run in a local clone)."""
    import re

    value: str = args.repo
    path = os.path.join(session.cwd, value)
    if os.path.isdir(path):
        session.cwd = path
        return
    if "://" in value or re.match(r"[\w.-]+@[\w.-]+:", value):
        if not hasattr(args, "remote"):
            raise UsageError(
                f"-r {value}: this command runs in a local repository, so -r takes a PATH",
                hint="clone it (git clone URL) and run the command in the clone; "
                "reads take -r URL (show, history)",
            )
        args.remote = [*(args.remote or []), value]
        return
    raise RegistryError(f"cannot change to '{value}': No such file or directory")


def _checked_remotes(remotes: Sequence[str]) -> list[str]:
    """``--remote`` values, each refused before anything runs if Git would read it as
    an option."""
    if not remotes:
        return []
    from git_registry.transport import check_remote

    return [check_remote(remote, source="--remote") for remote in remotes]


def _glue_values(parser: argparse.ArgumentParser, word: str, args: list[str]) -> list[str]:
    """A command's words (after the command word) as Git reads them, made plain for
    argparse.

    - An option that takes a value takes the next word, even one that starts with
      '-' (``-m "-hotfix"``): written ``--message=-hotfix`` / ``-m-hotfix``, which
      argparse would otherwise read as an unknown option.
    - ``--simple`` takes ``true``, ``false`` or ``auto`` after it as its value (GTO's
      form), and no other word.
    - Operands may follow options (``register m --version v1.0.0 HEAD~2``): argparse
      stops filling optional operands at the first option, so the operands are moved
      before the options (their order kept; after ``--`` when there is one).
    """
    if word == "hook":
        # Git's own arguments: pre-push's REMOTE and URL are informational (the refs
        # come on stdin), and a remote named like an option ('-x') must not stop a push.
        if args[:1] == ["pre-push"]:
            return [args[0], *[a for a in args[1:] if not a.startswith("-")]]
        return args
    command = word
    table = option_table(parser)
    takes_value = {option for option, value in table.items() if value}
    options: list[str] = []
    operands: list[str] = []
    dashdash = False
    words = iter(enumerate(args))
    for i, word in words:
        if word == "--":
            dashdash = True
            operands.extend(args[i + 1 :])
            break
        if (command, word) in _OPTIONAL_OPERAND and args[i + 1 : i + 2]:
            # show --stage S: the next word is its value unless it is an option
            following = args[i + 1]
            if following.startswith("-"):
                options.append(word)
            else:
                options.append(f"{word}={next(words)[1]}")
        elif word in _OPTIONAL_VALUES and word in table:
            # GTO's --simple true: the next word is the value when it is one of them
            if args[i + 1 : i + 2] and args[i + 1] in _OPTIONAL_VALUES[word]:
                options.append(f"{word}={next(words)[1]}")
            else:
                options.append(word)
        elif word in takes_value:
            value = next(words, (0, None))[1]
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
    if dashdash:
        return [*options, "--", *operands]
    return [*operands, *options]


_WHEN = ("always", "never", "auto")

_OPTIONAL_VALUES = {"--simple": ("auto", "true", "false")}
"""Options whose value is optional, and the words read as their value when they follow
(GTO writes ``--simple true``); any other word after them is not theirs."""


_OPTIONAL_OPERAND = {("show", "--stage")}
"""(command, option): an option whose value is optional and is the next word, if that is
not an option (``show --stage prod`` filters; ``show churn --stage`` is GTO's flag, and
``show --stage churn`` too: see ``show``)."""


def _bare_color(args: list[str]) -> list[str]:
    """``--color WHEN`` (as ``-h`` shows it) is ``--color=WHEN``; ``--color`` followed by
    any other word means always (that word is left alone)."""
    if "--" in args:
        cut = args.index("--")
        return _bare_color(args[:cut]) + args[cut:]
    out: list[str] = []
    words = iter(enumerate(args))
    for i, word in words:
        if word != "--color":
            out.append(word)
        elif i + 1 < len(args) and args[i + 1] in _WHEN:
            out.append(f"--color={args[i + 1]}")
            next(words)
        else:
            out.append("--color=always")
    return out


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
