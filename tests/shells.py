"""Helpers for the shell and install tests: a real (non-editable) install of the
project, and drivers that complete a command line in real bash, zsh and fish.

Nothing is mocked: bash runs Git's own completion script, zsh runs in a
pseudo-terminal and completes on a real TAB, fish runs ``complete -C``.
"""

from __future__ import annotations

import atexit
import functools
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPLETION = ROOT / "completion"
GIT_BASH_COMPLETION = Path("/usr/share/bash-completion/completions/git")
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")

# What a source tree copy leaves out (a CI venv lives in .ci/venv).
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".ci",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "repos",
)


@functools.cache
def installed_prefix() -> Path:
    """A throwaway venv with the project installed from a wheel (not editable), once
    per session: ``bin/git-registry``, ``lib/…/site-packages``, ``share/…``.

    The wheel is built here (setuptools and wheel from the test extra, no network)
    from a copy of the source, so a stale ``build/`` of the work tree never ends
    up in it. It is installed by pip running in the venv, which never touches the
    environment running the tests (``pip install --prefix`` would uninstall the
    editable install there). The venv has no dependencies: what the tests run
    (``completion``, ``help``, ``-h``) needs only the standard library.
    """
    scratch = Path(tempfile.mkdtemp(prefix="git-registry-install-"))
    atexit.register(shutil.rmtree, scratch, True)
    source = scratch / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    venv = scratch / "venv"
    _pip_run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    wheels = scratch / "wheels"
    pip = [sys.executable, "-m", "pip", "--quiet"]
    build = ["--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(wheels)]
    _pip_run([*pip, "wheel", *build, str(source)])
    python = str(venv / "bin" / "python")
    wheel = [str(w) for w in wheels.glob("*.whl")]
    _pip_run([*pip, "--python", python, "install", "--no-deps", "--no-index", *wheel])
    return venv


def _pip_run(args: list[str]) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def site_packages(prefix: Path) -> Path:
    """The installed package's ``site-packages`` folder under ``prefix``."""
    return next(prefix.glob("lib/python*/site-packages"))


# -- bash ---------------------------------------------------------------------------------

_BASH_PRELUDE = r"""
[ -f "$BASH_COMPLETION" ] && . "$BASH_COMPLETION"
[ -n "$LOAD_GIT" ] && . "$GIT_COMPLETION"
[ -n "$OURS" ] && . "$OURS"
# Complete one line as bash does on TAB: $1 is the line, the rest its words.
__complete () {
	COMP_LINE="$1"
	COMP_POINT=${#COMP_LINE}
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	local spec fn
	if ! spec=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null); then
		_completion_loader "${COMP_WORDS[0]}"
		spec=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null)
	fi
	fn=${spec##*-F }
	fn=${fn%% *}
	"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" '@@END@@'
}
"""

_WORDBREAKS = "=:"  # the COMP_WORDBREAKS characters our lines use


def bash_words(line: str) -> list[str]:
    """The words bash makes of ``line`` (it also splits at ``=`` and ``:``)."""
    words = re.findall(rf"[^\s{_WORDBREAKS}]+|[{_WORDBREAKS}]+", line)
    if not line or line[-1].isspace():
        words.append("")
    return words


def bash_complete(
    cwd: Path | str,
    lines: Sequence[str],
    *,
    ours: Path | None = COMPLETION / "git-registry.bash",
    load_git: bool = True,
    env: Mapping[str, str] | None = None,
) -> list[list[str]]:
    """COMPREPLY for each line, as Git's completion (and ours) fill it.

    With ``ours`` None, our script must be found by bash-completion's loader.
    """
    script = [_BASH_PRELUDE]
    for line in lines:
        words = " ".join(_bash_quote(w) for w in bash_words(line))
        script.append(f"__complete {_bash_quote(line)} {words}")
    full_env = {
        **os.environ,
        "BASH_COMPLETION": str(BASH_COMPLETION),
        "GIT_COMPLETION": str(GIT_BASH_COMPLETION),
        "LOAD_GIT": "1" if load_git else "",
        "OURS": str(ours) if ours else "",
        **(env or {}),
    }
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", "\n".join(script)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    chunks = proc.stdout.split("@@END@@\n")[: len(lines)]
    return [[item for item in chunk.split("\n") if item] for chunk in chunks]


def _bash_quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


# -- zsh -------------------------------------------------------------------------------

# compadd is wrapped to print what it adds (matched against the word on the line),
# and a completion widget bound to TAB turns listing and inserting off and marks
# its end, so each TAB prints exactly its candidates.
_ZSH_SETUP = r"""PS1='> '; PS2=''; RPS1=''
fpath=(%s $fpath); autoload -Uz compinit; compinit -u -D
compadd () {
  if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi
  local -a __hits; builtin compadd -O __hits "$@"
  (( $#__hits )) && print -rn -- "${(j::)${(@)__hits/(#b)(*)/<C>${IPREFIX}${match[1]}</C>}}"
  builtin compadd "$@"
}
__quiet () { compstate[list]=''; compstate[insert]=''; print -rn -- '<E''ND>' }
__capture () { comppostfuncs=(__quiet); _main_complete }
zle -C capture-complete complete-word __capture
bindkey '^I' capture-complete
echo READY""OK
"""


def zsh_complete(
    cwd: Path | str, fpath: Path | str, lines: Sequence[str], env: Mapping[str, str]
) -> list[list[str]]:
    """The candidates zsh offers on TAB after each line, with ``fpath`` first in $fpath."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        ["zsh", "-f", "-i"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env={**env, "TERM": "xterm"},
        start_new_session=True,
    )
    os.close(slave)
    pending = b""

    def read_until(marker: bytes, timeout: float = 20) -> str:
        nonlocal pending
        deadline = time.monotonic() + timeout
        while marker not in pending:
            ready, _, _ = select.select([master], [], [], max(0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError(f"zsh did not print {marker!r}:\n{pending.decode()[-2000:]}")
            try:
                pending += os.read(master, 65536)
            except OSError:
                break
        cut = pending.index(marker) + len(marker)
        out, pending = pending[:cut], pending[cut:]
        return out.decode(errors="replace")

    try:
        os.write(master, (_ZSH_SETUP % _zsh_quote(str(fpath))).encode())
        read_until(b"READYOK")
        results = []
        for line in lines:
            os.write(master, (line + "\t").encode())
            out = read_until(b"<END>")
            # Clear the line and wait for the prompt, so the next TAB starts afresh.
            os.write(master, b'\x15echo DO""NE\n')
            read_until(b"DONE")
            results.append(sorted(set(re.findall(r"<C>(.*?)</C>", out))))
        return results
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# -- fish ------------------------------------------------------------------------------


def fish_complete(
    cwd: Path | str,
    lines: Sequence[str],
    env: Mapping[str, str],
    *,
    source: Path | None = None,
) -> list[list[str]]:
    """``complete -C LINE`` in fish for each line (candidates without descriptions);
    ``source`` is sourced first (as from conf.d)."""
    script = []
    if source is not None:
        script.append(f"source {_fish_quote(str(source))}")
    for line in lines:
        script.append(f"complete -C {_fish_quote(line)}; echo @@END@@")
    proc = subprocess.run(
        ["fish", "-c", "\n".join(script)],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Unknown command" not in proc.stderr, proc.stderr
    chunks = proc.stdout.split("@@END@@\n")[: len(lines)]
    return [sorted({item.split("\t")[0] for item in chunk.split("\n") if item}) for chunk in chunks]


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
