"""The shape of the package, checked from its source (no git): commands that declare
themselves, no import cycle, one owner for Git, one module of exception types, short
functions. Each rule here is one the issue that set it names "done when"."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import git_registry
from git_registry import commands
from git_registry.commands import ORDER, WORDS, Command

pytestmark = pytest.mark.core

PACKAGE = Path(git_registry.__file__).resolve().parent


def _modules() -> dict[str, ast.Module]:
    """Every module of the package by dotted name, parsed."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


MODULES = _modules()


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under ``if TYPE_CHECKING:``: imports for mypy, never run."""
    return {
        inner
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }


def _imports(tree: ast.Module) -> set[str]:
    """Every git_registry module a module imports when it runs, anywhere in it
    (function-level imports included; imports for mypy alone are not)."""
    found: set[str] = set()
    skip = _type_only(tree)
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle() -> None:
    graph = {
        name: {dep for dep in _imports(tree) if dep != name and not name.startswith(dep + ".")}
        for name, tree in MODULES.items()
    }
    # A package's __init__ is imported by its modules' imports: it is not an edge back.
    assert _cycle(graph) is None


def test_the_session_imports_neither_argparse_nor_commands() -> None:
    tree = MODULES["git_registry.session"]
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "argparse" not in names
    assert not any(
        m and m.startswith(("git_registry.commands", "git_registry.cli")) for m in modules
    )


def test_no_function_is_longer_than_100_lines() -> None:
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in MODULES.items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 100
    ]
    assert long == []


def test_every_command_module_declares_itself_and_is_dispatched() -> None:
    """Adding a command is one module (plus its docs): ORDER and WORDS name it, and
    they name nothing else."""
    found = sorted(
        info.name
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    )
    assert sorted(ORDER) == found
    expected: dict[str, str] = {}
    for name in ORDER:
        module = importlib.import_module(f"git_registry.commands.{name}")
        command = module.COMMAND
        assert isinstance(command, Command)
        assert callable(module.arguments) and callable(module.run)
        assert command.name.replace("-", "_") == name
        assert command.usage.startswith(f"git registry {command.name}")
        for word in (command.name, *command.aliases):
            expected[word] = name
    assert expected == WORDS


def test_argparse_internals_are_read_in_cli_only() -> None:
    readers = sorted(
        name
        for name, tree in MODULES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("_actions", "_SubParsersAction")
    )
    assert set(readers) <= {"git_registry.cli"}


GIT_LAYER = {
    "git_registry.gitbin",  # runs the git binary
    "git_registry.gitobjects",  # reads objects through git cat-file
    "git_registry.repo",  # reads refs and objects, writes tags, owns files in .git
    "git_registry.transport",  # runs ls-remote, fetch and push safely
    "git_registry.remote",  # the registry's fetch and push of tags
    "git_registry.tagcache",  # the tag cache in .git/registry
    "git_registry.parsecache",  # the parse cache in .git/registry
    "git_registry.writelock",  # .git/registry/write.lock
    "git_registry.pushlock",  # the server's push lock in the Git directory
    "git_registry.lockfile",  # what both locks share
    "git_registry.fsio",  # the atomic file writer
    "git_registry.signing",  # git verify-tag, and git tag -s in a throwaway repository
    "git_registry.manual",  # runs man on the packaged manual page (help --man)
    "git_registry.download",  # runs dvc and the storage providers' tools (get)
}
"""The only modules that start processes or reach into a Git directory."""


def _speaks_git(tree: ast.Module) -> list[str]:
    """What in a module starts a process or reaches into a Git directory."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            )
            found += [f"imports {n}" for n in names if n in ("subprocess", "os.system")]
        elif isinstance(node, ast.Attribute) and node.attr in (
            "run_git",
            "run_transport",
            "Popen",
            "system",
            "common_dir",
            "git_dir",
        ):
            found.append(f"uses .{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Name) and node.id in ("run_git", "run_transport", "Popen"):
            found.append(f"uses {node.id} (line {node.lineno})")
    return found


def test_the_speaks_git_finder_finds_git() -> None:
    tree = ast.parse("import subprocess\ngitbin.run_git(['x'])\np.common_dir\n")
    assert sorted(_speaks_git(tree)) == [
        "imports subprocess",
        "uses .common_dir (line 3)",
        "uses .run_git (line 2)",
    ]


def test_only_the_git_layer_starts_processes_or_reads_the_git_directory() -> None:
    outside = {
        name: found
        for name, tree in MODULES.items()
        if name not in GIT_LAYER and (found := _speaks_git(tree))
    }
    assert outside == {}


def test_every_exception_type_is_in_errors() -> None:
    """One module holds every exception type (others may re-export them)."""
    defined = sorted(
        f"{name}.{node.name}"
        for name, tree in MODULES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            ast.unparse(base).endswith(("Error", "Exception", "Marker"))
            or ast.unparse(base) in errors_classes()
            for base in node.bases
        )
        and name != "git_registry.errors"
    )
    assert defined == []


def errors_classes() -> set[str]:
    tree = MODULES["git_registry.errors"]
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
