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
from collections.abc import Callable, Mapping, Sequence
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
# bash-completion takes '@' out of COMP_WORDBREAKS; bash alone has it: the words
# __complete is given are split the same way (bash_words).
if [ -n "$AT_BREAKS" ]; then
	case "$COMP_WORDBREAKS" in *@*) ;; *) COMP_WORDBREAKS="$COMP_WORDBREAKS@" ;; esac
else
	COMP_WORDBREAKS="${COMP_WORDBREAKS//@/}"
fi
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


def bash_words(line: str, *, at_breaks: bool = False) -> list[str]:
    """The words bash makes of ``line``: it also splits at ``=`` and ``:`` and, unless
    bash-completion is loaded (which takes it out of COMP_WORDBREAKS), at ``@``."""
    breaks = "=:@" if at_breaks else "=:"  # the COMP_WORDBREAKS characters our lines use
    words = re.findall(rf"[^\s{breaks}]+|[{breaks}]+", line)
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
    at_breaks: bool = False,
) -> list[list[str]]:
    """COMPREPLY for each line, as Git's completion (and ours) fill it; with
    ``at_breaks``, ``@`` is in COMP_WORDBREAKS (bash without bash-completion).

    With ``ours`` None, our script must be found by bash-completion's loader.
    """
    script = [_BASH_PRELUDE]
    for line in lines:
        words = " ".join(_bash_quote(w) for w in bash_words(line, at_breaks=at_breaks))
        script.append(f"__complete {_bash_quote(line)} {words}")
    full_env = {
        **os.environ,
        "BASH_COMPLETION": str(BASH_COMPLETION),
        "GIT_COMPLETION": str(GIT_BASH_COMPLETION),
        "LOAD_GIT": "1" if load_git else "",
        "OURS": str(ours) if ours else "",
        "AT_BREAKS": "1" if at_breaks else "",
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


# -- bash on a terminal -------------------------------------------------------------------


class TmuxBash:
    """An interactive ``bash --norc --noprofile`` in a tmux pane, TAB pressed for real:
    readline splits the line with bash's own COMP_WORDBREAKS (which has ``@`` unless
    bash-completion is loaded) and falls back to bash's completions (host names
    after ``@``) when ours offers nothing. Only Git's completion script and ours are
    sourced, and bash-completion's with ``bash_completion``.
    """

    def __init__(
        self, cwd: Path, scratch: Path, *, bash_completion: bool, env: Mapping[str, str]
    ) -> None:
        self.socket = scratch / "tmux.sock"
        rc = scratch / "completion.rc"
        lines = [f". {_bash_quote(str(BASH_COMPLETION))}"] if bash_completion else []
        lines += [
            f". {_bash_quote(str(GIT_BASH_COMPLETION))}",
            f". {_bash_quote(str(COMPLETION / 'git-registry.bash'))}",
            f"cd {_bash_quote(str(cwd))}",
            "PS1='$ '",
        ]
        rc.write_text("\n".join(lines) + "\n")
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "50",
            "bash --norc --noprofile",
            env={**env, "TERM": "xterm"},
        )
        self._keys("-l", f". {rc}; echo RE''ADY")
        self._keys("Enter")
        self.wait_for(lambda screen: "READY" in screen)

    def _tmux(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=False,
            env=dict(env) if env is not None else None,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr}")
        return proc.stdout

    def _keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "0", *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "0")

    def wait_for(self, done: Callable[[str], bool], tries: int = 200) -> str:
        """The screen once ``done`` holds for it, polled ``tries`` times at most."""
        for _ in range(tries):
            screen = self.screen()
            if done(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"the screen never got there:\n{screen}")

    def tab(self, line: str, done: Callable[[str], bool]) -> str:
        """Type ``line`` on a clear screen and press TAB three times (the first
        inserts what all candidates share, the next lists them): the screen once
        ``done`` holds for it."""
        self._keys("C-u", "C-l")
        self.wait_for(lambda screen: screen.strip() == "$")
        self._keys("-l", line)
        self._keys("Tab", "Tab", "Tab")
        return self.wait_for(done)

    def close(self) -> None:
        self._tmux("kill-server")
