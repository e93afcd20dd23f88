"""The commands: one module per command word, each declaring itself.

A command module holds ``COMMAND`` (its word, summary, help texts and aliases),
``arguments(parser)`` (its options and operands) and ``run(args, session)``.
:data:`WORDS` maps every command word and alias to its module, so that the
command line imports and builds only the command it runs; a test keeps it in
step with the modules' declarations (``tests/test_commands.py``).
"""

from __future__ import annotations


class Command:
    """What a command module declares about itself (a plain class: importing
    dataclasses costs 12 ms, and every run reads one of these).

    Args:
        name: the command word, e.g. ``check-ref``.
        summary: one line for the list of commands.
        description: the paragraph ``COMMAND -h`` prints under the usage.
        usage: the usage line, as Git writes them.
        aliases: other words for the same command (``assign`` for ``promote``).
        epilog: text after the options, or None.
    """

    __slots__ = ("aliases", "description", "epilog", "name", "summary", "usage")

    def __init__(
        self,
        *,
        name: str,
        summary: str,
        description: str,
        usage: str,
        aliases: tuple[str, ...] = (),
        epilog: str | None = None,
    ) -> None:
        self.name = name
        self.summary = summary
        self.description = description
        self.usage = usage
        self.aliases = aliases
        self.epilog = epilog


ORDER = (
    "register",
    "promote",
    "unassign",
    "deregister",
    "deprecate",
    "show",
    "history",
    "diff",
    "which",
    "latest",
    "get",
    "check_ref",
    "at",
    "fetch",
    "push",
    "stages",
    "policy",
    "describe",
    "annotate",
    "remove",
    "check",
    "schema",
    "hook",
    "hooks",
    "demo",
    "site",
    "completion",
    "help",
)
"""The command modules, in the order ``git registry -h`` lists them."""

WORDS = {
    "register": "register",
    "promote": "promote",
    "assign": "promote",
    "unassign": "unassign",
    "rollback": "unassign",
    "deregister": "deregister",
    "deprecate": "deprecate",
    "show": "show",
    "history": "history",
    "diff": "diff",
    "which": "which",
    "latest": "latest",
    "get": "get",
    "check-ref": "check_ref",
    "at": "at",
    "fetch": "fetch",
    "push": "push",
    "stages": "stages",
    "policy": "policy",
    "describe": "describe",
    "annotate": "annotate",
    "remove": "remove",
    "check": "check",
    "schema": "schema",
    "hook": "hook",
    "hooks": "hooks",
    "demo": "demo",
    "site": "site",
    "completion": "completion",
    "help": "help",
}
"""Command word or alias -> its module under ``git_registry.commands``."""
