"""The ``git-registry`` script and ``python -m git_registry``.

``git registry -h`` runs often and must start about as fast as Python itself
(SPEC 8: within 2x of ``python3 -c pass``). Importing argparse alone costs
more than that, so the top-level help is printed from :data:`OVERVIEW`, the
parser's own help text rendered at 80 columns and kept in step with the parser
by a test (``tests/test_help.py``; regenerate with ``python -m git_registry.entry
--write-overview``). The server's ``reference-transaction`` hook runs for every
ref update: one that touches no tag is answered here too. Everything else goes to
:func:`git_registry.cli.main`.
"""

from __future__ import annotations

import sys

from git_registry.overview import OVERVIEW

_HELP = (["-h"], ["--help"])
_TRANSACTION = [
    ["hook", "reference-transaction", state] for state in ("prepared", "committed", "aborted")
]


def main() -> int:
    """Run ``git registry`` with ``sys.argv``; return the exit code."""
    if sys.argv[1:] in _HELP:
        sys.stdout.write(OVERVIEW)
        return 0
    if sys.argv[1:] in _TRANSACTION:
        # A server runs this hook for every ref update, twice: a transaction that
        # touches no tag is none of ours, answered without the command line's imports.
        lines = sys.stdin.read()
        if "refs/tags/" not in lines:
            return 0
        import io

        sys.stdin = io.StringIO(lines)
    from git_registry.cli import main as run

    return run()


def render_overview() -> str:
    """What ``git registry -h`` prints: the parser's help at 80 columns."""
    import os

    from git_registry.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        return build_parser().format_help()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _write_overview() -> None:
    path = __file__.replace("entry.py", "overview.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            '"""The top-level help, generated from the parser by '
            '\'python -m git_registry.entry --write-overview\'."""\n\n'
            f"OVERVIEW = {render_overview()!r}\n"
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-overview"]:
        _write_overview()
    else:
        sys.exit(main())
