"""The man page and the README stay in step with the command line."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from git_registry.cli import command_parsers, option_table

pytestmark = pytest.mark.core

ROOT = Path(__file__).resolve().parent.parent


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    return command_parsers()


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        opt
        for opt in option_table(parser)
        if opt.startswith("--") and opt not in ("--help", "--color", "--no-color")
    }


def _man_text() -> str:
    # roff escapes '-' as '\-'; undo that and the font changes to compare plain words.
    raw = (ROOT / "man" / "git-registry.1").read_text()
    return re.sub(r"\\f[BIRP]", "", raw).replace("\\-", "-")


def test_every_command_and_option_is_in_the_man_page() -> None:
    man = _man_text()
    for name, parser in _subcommands().items():
        assert re.search(rf"git registry {name}\b|\b{name}\b", man), name
        for option in _options(parser):
            assert option in man, f"{name} {option} is missing from man/git-registry.1"


def test_every_command_and_option_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, parser in _subcommands().items():
        assert f"git registry {name}" in readme or f"`{name}" in readme, name
        for option in _options(parser):
            assert option in readme, f"{name} {option} is missing from README.md"


def test_readme_quick_start_matches_ci() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in ci
    assert "pip install '.[test]' && python -m pytest" in readme
    # Outside this checkout: demo refuses to build inside a Git work tree unasked.
    assert 'pip install . && git registry demo "$(mktemp -d)"' in readme


def _man_section(title: str) -> str:
    man = _man_text()
    start = man.index(f'.SH "{title}"\n')
    end = man.find(".SH ", start + 1)
    return man[start:end]


def test_every_json_output_is_in_the_man_page() -> None:
    """JSON OUTPUT has an entry `COMMAND --json` for each command with --json, and
    each --json help points there (the README is not installed)."""
    section = _man_section("JSON OUTPUT")
    documented = set(re.findall(r"^\.TP\n([a-z-]+) --json$", section, re.M))
    parsers = _subcommands()
    with_json = {name for name, parser in parsers.items() if "--json" in option_table(parser)}
    assert {"show", "check-ref", "stages"} <= with_json
    assert documented == with_json
    for name in with_json:
        json_help = next(a.help for a in parsers[name]._actions if "--json" in a.option_strings)
        assert json_help == "print JSON (see JSON OUTPUT in git-registry(1))", name
