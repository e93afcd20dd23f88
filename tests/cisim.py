"""What the CI hosts do with our files, as their documentation says, for the tests:

- :func:`github_filter`: GitHub's filter patterns (``on.push.tags``), from the "Filter
  pattern cheat sheet" of GitHub's workflow syntax reference: ``*`` any characters but
  ``/``; ``**`` any characters; ``?`` zero or one of the preceding character; ``+`` one
  or more of the preceding character; ``[]`` one character listed or in a range
  (``a-z``, ``A-Z``, ``0-9``); ``\\`` makes the next character literal; a pattern
  starting with ``!`` excludes what the patterns before it included; the last pattern
  that matches decides.
- :func:`gitlab_dotenv`: GitLab's reading of an ``artifacts:reports:dotenv`` file, from
  its documented rules (see the function).
- :func:`run_action`: a composite action's ``bash`` steps, run as the runner runs them
  (``bash --noprofile --norc -eo pipefail FILE``), with ``GITHUB_OUTPUT``,
  ``GITHUB_PATH`` and ``GITHUB_ENV`` files, the expressions the action uses resolved,
  and its outputs read back from the files.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# -- GitHub filter patterns ------------------------------------------------------------------


def _pattern_regex(pattern: str) -> str:
    atoms: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            atoms.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if pattern.startswith("**", i):
                atoms.append(".*")
                i += 2
            else:
                atoms.append("[^/]*")
                i += 1
            continue
        if c in "?+":
            assert atoms, f"{c} needs a preceding character: {pattern!r}"
            atoms[-1] = f"(?:{atoms[-1]}){c}"
            i += 1
            continue
        if c == "[":
            end = pattern.index("]", i)
            inside = pattern[i + 1 : end]
            for low, high in re.findall(r"(.)-(.)", inside):
                ok = any(low.isascii() and a <= low <= high <= b for a, b in _RANGES)
                assert ok, f"ranges are a-z, A-Z or 0-9 only: {pattern!r}"
            atoms.append(f"[{inside}]")
            i = end + 1
            continue
        atoms.append(re.escape(c))
        i += 1
    return "".join(atoms)


_RANGES = (("a", "z"), ("A", "Z"), ("0", "9"))


def github_match(pattern: str, name: str) -> bool:
    """Whether one pattern (without a leading ``!``) matches ``name``."""
    return re.fullmatch(_pattern_regex(pattern), name, re.DOTALL) is not None


def github_filter(patterns: Sequence[str], name: str) -> bool:
    """Whether ``patterns`` (an ``on.push.tags`` list) let ``name`` through."""
    included = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if github_match(pattern[1:], name):
                included = False
        elif github_match(pattern, name):
            included = True
    return included


# -- GitLab dotenv reports -------------------------------------------------------------------

GITLAB_DOTENV_MAX_BYTES = 5 * 1024
GITLAB_DOTENV_MAX_VARIABLES = 20  # GitLab Self-Managed's default, the lowest limit
_KEY_RE = re.compile(r"[A-Za-z0-9_]+", re.ASCII)


class DotenvRefused(ValueError):
    """GitLab would refuse the report."""


def gitlab_dotenv(data: bytes) -> dict[str, str]:
    """The variables GitLab reads from a dotenv report, by its documented rules
    (``artifacts:reports:dotenv``): at most 5 KB; UTF-8 only; one ``KEY=VALUE`` per
    line, no empty lines and no comments; keys of letters, digits and ``_``; the value
    is what follows the first ``=``, blanks around it stripped; quotes are kept as
    they are (no quote escaping), no variable substitution, no multi-line values, and
    no spaces or line breaks in a value, quoted or not. The last of two equal keys
    wins. Raises :class:`DotenvRefused` where GitLab refuses the report."""
    if len(data) > GITLAB_DOTENV_MAX_BYTES:
        raise DotenvRefused(f"{len(data)} bytes: over 5 KB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DotenvRefused(f"not UTF-8: {exc}") from exc
    variables: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's last line break
    for line in lines:
        if not line.strip():
            raise DotenvRefused("an empty line")
        if line.lstrip().startswith("#"):
            raise DotenvRefused(f"a comment: {line!r}")
        key, sep, value = line.partition("=")
        if not sep:
            raise DotenvRefused(f"not KEY=VALUE: {line!r}")
        key, value = key.strip(), value.strip()
        if not _KEY_RE.fullmatch(key):
            raise DotenvRefused(f"a key of letters, digits and _ only: {key!r}")
        if any(c.isspace() for c in value):
            raise DotenvRefused(f"a space or line break in the value of {key}")
        variables[key] = value
    if len(variables) > GITLAB_DOTENV_MAX_VARIABLES:
        raise DotenvRefused(f"{len(variables)} variables: over {GITLAB_DOTENV_MAX_VARIABLES}")
    return variables


# -- composite actions -------------------------------------------------------------------------

_WHOLE_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_CONTEXT = re.compile(r"(?:inputs|github|steps)(?:\.[A-Za-z_][A-Za-z0-9_-]*)+")
_TOKENS = re.compile(
    r"\s*(?:(?P<name>(?:inputs|github|steps)(?:\.[A-Za-z_][A-Za-z0-9_-]*)+)"
    r"|(?P<string>'[^']*')|(?P<op>==|!=|&&|\|\||\(|\)))"
)


@dataclass
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    ran: list[str] = field(default_factory=list)
    """The names of the steps that ran, in order."""


def load_action(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    return doc


def parse_output_file(text: str) -> dict[str, str]:
    """A ``GITHUB_OUTPUT`` file: ``key=value`` lines and ``key<<DELIMITER`` blocks."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i)
            outputs[key] = "\n".join(lines[i:end])
            i = end + 1
        else:
            key, _, value = line.partition("=")
            outputs[key] = value
    return outputs


class _Context:
    def __init__(self, inputs: Mapping[str, str], github: Mapping[str, str]) -> None:
        self.inputs = dict(inputs)
        self.github = dict(github)
        self.steps: dict[str, dict[str, str]] = {}

    def value(self, name: str) -> str:
        parts = name.split(".")
        if parts[0] == "inputs":
            return self.inputs[parts[1]]
        if parts[0] == "github":
            return self.github[parts[1]]
        assert parts[0] == "steps" and parts[2] == "outputs", name
        return self.steps.get(parts[1], {}).get(parts[3], "")

    def expand(self, text: str) -> str:
        """A value that is a literal, or exactly one ``${{ CONTEXT.NAME }}``."""
        match = _WHOLE_EXPR.fullmatch(text.strip())
        if match is None:
            assert "${{" not in text, f"only whole-value expressions here: {text!r}"
            return text
        assert _CONTEXT.fullmatch(match.group(1)), f"not a plain context value: {text!r}"
        return self.value(match.group(1))

    def condition(self, text: str) -> bool:
        """An ``if:`` of context values, 'strings', ==, !=, &&, || and parentheses."""
        python = []
        pos = 0
        source = text.strip()
        while pos < len(source):
            match = _TOKENS.match(source, pos)
            assert match is not None, f"unsupported expression: {source[pos:]!r}"
            pos = match.end()
            if match.group("name"):
                python.append(repr(self.value(match.group("name"))))
            elif match.group("string"):
                python.append(repr(match.group("string")[1:-1]))
            else:
                python.append({"&&": "and", "||": "or"}.get(match.group("op"), match.group("op")))
        result = eval(" ".join(python), {"__builtins__": {}}, {})
        assert isinstance(result, bool)
        return result


def run_action(
    action_dir: Path,
    workdir: Path,
    inputs: Mapping[str, str],
    github: Mapping[str, str],
    tmp: Path,
    env: Mapping[str, str] | None = None,
) -> ActionRun:
    """Run the composite action in ``action_dir`` in ``workdir``, as a runner would."""
    action = load_action(action_dir / "action.yml")
    assert action["runs"]["using"] == "composite"
    given = dict(inputs)
    for name, spec in action.get("inputs", {}).items():
        if name not in given:
            given[name] = str(spec.get("default", ""))
    context = _Context({}, github)
    context.inputs = {k: context.expand(v) for k, v in given.items()}
    tmp.mkdir(parents=True, exist_ok=True)
    runner_temp = tmp / "runner_temp"
    runner_temp.mkdir(exist_ok=True)
    path_file, env_file = tmp / "github_path", tmp / "github_env"
    path_file.touch()
    env_file.touch()
    base = {**os.environ, **(env or {})}
    out_parts, err_parts, ran = [], [], []
    code = 0
    for n, step in enumerate(action["runs"]["steps"]):
        if "if" in step and not context.condition(str(step["if"])):
            continue
        assert step.get("shell") == "bash", "every step runs in bash (every runner OS has it)"
        output_file = tmp / f"output_{n}"
        output_file.touch()
        extra_path = [p for p in path_file.read_text().splitlines() if p]
        step_env = {
            **base,
            "PATH": os.pathsep.join([*reversed(extra_path), base["PATH"]]),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_PATH": str(path_file),
            "GITHUB_ENV": str(env_file),
            "GITHUB_ACTION_PATH": str(action_dir),
            "RUNNER_TEMP": str(runner_temp),
            **{k: context.expand(str(v)) for k, v in step.get("env", {}).items()},
        }
        proc = _run_step(step["run"], workdir, step_env, tmp / f"step_{n}.sh")
        ran.append(step["name"])
        out_parts.append(proc.stdout)
        err_parts.append(proc.stderr)
        if "id" in step:
            context.steps[step["id"]] = parse_output_file(output_file.read_text())
        if proc.returncode != 0:
            code = proc.returncode
            break
    outputs = {name: context.expand(str(spec["value"])) for name, spec in action["outputs"].items()}
    return ActionRun(code, "".join(out_parts), "".join(err_parts), outputs, ran)


def run_workflow_steps(
    steps: Sequence[Mapping[str, Any]],
    after: str,
    outputs: Mapping[str, str],
    workdir: Path,
    tmp: Path,
    env: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """Run a workflow job's ``run`` steps that come after the step with id ``after`` (whose
    ``outputs`` are given), each if its ``if:`` holds, with its ``env:`` expanded; return
    (step name, stdout) for each step that ran. A failing step fails the assertion."""
    context = _Context({}, {})
    context.steps[after] = dict(outputs)
    ids = [step.get("id") for step in steps]
    ran = []
    for n, step in enumerate(steps[ids.index(after) + 1 :]):
        if "if" in step and not context.condition(str(step["if"])):
            continue
        step_env = {
            **os.environ,
            **(env or {}),
            **{k: context.expand(str(v)) for k, v in step.get("env", {}).items()},
        }
        proc = _run_step(step["run"], workdir, step_env, tmp / f"workflow_step_{n}.sh")
        assert proc.returncode == 0, f"{step.get('name')}: {proc.stderr}"
        ran.append((str(step.get("name")), proc.stdout))
    return ran


def _run_step(
    run: str, workdir: Path, env: Mapping[str, str], script: Path
) -> subprocess.CompletedProcess[str]:
    """One ``run:`` step as a runner runs ``shell: bash``: the script in a file, run by
    ``bash --noprofile --norc -eo pipefail``."""
    script.write_text(run)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workdir,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
