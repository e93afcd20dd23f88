#!/usr/bin/env python3
"""Benchmark git-registry against ``git for-each-ref`` on generated repositories.

    python bench/run.py                       # 1k, 10k, 50k, 100k tags (about 30 minutes)
    python bench/run.py --quick               # 1k and 10k, fewer runs (about 2 minutes)
    python bench/run.py --sizes 50000 --reps 21 --markdown results.md
    python bench/run.py --startup             # start-up: 1k tags, reads and the hook
    python bench/run.py --scale               # one artifact: 100k tags against 1k
    python bench/run.py --site                # the static site at 10,000 tags

For every size, with loose and with packed refs, with and without a committed
``artifacts.yaml`` (one entry per artifact), it builds a repository with
``bench/make_repo.py`` (200 artifacts, one stage assignment per version) and times
each command against ``git for-each-ref --format='%(refname) %(objectname)
%(*objectname) %(taggerdate:unix)' refs/tags`` (which reads every tag object)
on the same repository, alternating the two: one warm-up run each, then
``--reps`` pairs. It prints the median of the per-pair ratios, the median times
and the peak memory (maximum resident set size of the command and its children).

Rows:
  warm    commands run with the tag cache in place (the usual case);
  first   the very first run in a fresh clone: the clone has no tag cache, so the
          cache is deleted before each of our runs;
  -h      ``git registry -h`` against ``python -c pass`` (the interpreter that
          runs git-registry).
  scale   ``--scale`` only: each command about one artifact (which, latest, show
          NAME, history NAME, check-ref, describe, register, promote, the pre-push
          hook for one tag) on a 100,000-tag repository (1,000 artifacts of 100 tags)
          against the same command on a 1,000-tag one (10 such artifacts), warm and
          first runs (both caches deleted), loose and packed refs. Target (issue 20):
          within 2x.
  start   ``--startup`` only: at 1,000 tags (``--sizes``), where start-up is the
          whole cost, the reads (show, show NAME, which, latest, history NAME,
          check-ref) and the pre-push hook for one tag, warm, against the floor
          ``sh -c 'PYTHON -c pass; git for-each-ref refs/tags >/dev/null'`` (the
          interpreter that runs git-registry, then Git listing the tags), with
          ``max(--reps, 21)`` pairs. Target (issue 13): within 2x of that floor.

  site    ``--site`` only: ``git registry site OUT`` at 10,000 tags (``--sizes``), on
          the usual shape (200 artifacts) and on long histories (10 artifacts of
          1,000 tags each: promotions, rollbacks, deregistrations), against
          for-each-ref; the note gives the pages written, their total size and
          the largest page. Target (issue 18): written in seconds, every page
          small enough to stay usable (long tables go over pages).

The targets (SPEC section 8): every command within 2x of for-each-ref warm at
50,000 and 100,000 tags, within 4x on a first run, ``-h`` within 2x of
``python -c pass``, and peak memory under 250 MB at 100,000 tags.

``git registry`` is run through Git, as users run it, so the ``git-registry`` on
PATH is measured (``--bin DIR`` puts DIR first on PATH). Repositories are kept in
``--workdir`` and reused by later runs. ``--gto PATH`` also times GTO's ``gto
show`` (only at 10,000 tags or fewer: it takes minutes above). Standard library
only; not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKE_REPO = HERE / "make_repo.py"
FOR_EACH_REF = [
    "git",
    "for-each-ref",
    "--format=%(refname) %(objectname) %(*objectname) %(taggerdate:unix)",
    "refs/tags",
]
ZERO = "0" * 40


@dataclass
class Row:
    """One measured command: times in seconds, memory in MB."""

    config: str
    mode: str
    command: str
    ratio: float
    ours: float
    baseline: float
    peak_mb: float
    note: str = ""


@dataclass
class Command:
    """A command to time; ``undo`` runs (untimed) after each of our runs."""

    label: str
    argv: list[str]
    stdin: str | None = None
    undo: Callable[[], None] | None = None
    note: str = ""
    startup: bool = False
    """Timed by ``--startup`` too (a read or the hook: start-up is most of its cost)."""


@dataclass
class Bench:
    reps: int
    env: dict[str, str]
    rows: list[Row] = field(default_factory=list)

    def run(self, args: list[str], cwd: Path, stdin: str | None = None) -> tuple[float, float, int]:
        """Run once: (seconds, peak MB of it and its children, exit code)."""
        start = time.perf_counter()
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=self.env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        # ru_maxrss (KiB on Linux) covers the child and the children it waited for:
        # git, then git-registry, then the git processes it runs.
        return elapsed, usage.ru_maxrss / 1024, proc.returncode

    def pair(
        self,
        config: str,
        mode: str,
        command: Command,
        cwd: Path,
        *,
        baseline: list[str] = FOR_EACH_REF,
        reset: Path | None = None,
    ) -> Row:
        """Alternate ``command`` and ``baseline``: a warm-up each, then ``reps`` timed
        pairs; ``reset`` is a folder deleted before each of our runs (the tag cache)."""
        ratios, mine, theirs, peaks = [], [], [], []
        codes = set()
        for i in range(self.reps + 1):
            if reset is not None:
                shutil.rmtree(reset, ignore_errors=True)
            t_ours, peak, code = self.run(command.argv, cwd, command.stdin)
            codes.add(code)
            if command.undo is not None:
                command.undo()
            t_base, _peak, _code = self.run(baseline, cwd)
            if i == 0:
                continue  # warm-up
            ratios.append(t_ours / t_base)
            mine.append(t_ours)
            theirs.append(t_base)
            peaks.append(peak)
        note = command.note
        if codes - {0}:
            note = (note + "; " if note else "") + f"exit {','.join(map(str, sorted(codes)))}"
        row = Row(
            config,
            mode,
            command.label,
            statistics.median(ratios),
            statistics.median(mine),
            statistics.median(theirs),
            max(peaks),
            note,
        )
        self.rows.append(row)
        print(
            f"  {mode:5} {command.label:34} {row.ratio:6.2f}x  {row.ours:7.3f}s vs "
            f"{row.baseline:7.3f}s  {row.peak_mb:6.1f} MB  {row.note}",
            flush=True,
        )
        return row

    def pair_repos(
        self, config: str, mode: str, big: tuple[Command, Path], small: tuple[Command, Path]
    ) -> Row:
        """Alternate a command on the big repository and the same command on the small
        one (``--scale``): a warm-up each, then ``reps`` timed pairs; in mode
        ``first`` both repositories' caches are deleted before each run."""
        ratios, mine, theirs, peaks = [], [], [], []
        codes = set()
        for i in range(self.reps + 1):
            times = []
            for command, cwd in (big, small):
                if mode == "first":
                    shutil.rmtree(cwd / ".git" / "registry", ignore_errors=True)
                elapsed, peak, code = self.run(command.argv, cwd, command.stdin)
                codes.add(code)
                if command.undo is not None:
                    command.undo()
                times.append((elapsed, peak))
            if i == 0:
                continue  # warm-up
            ratios.append(times[0][0] / times[1][0])
            mine.append(times[0][0])
            theirs.append(times[1][0])
            peaks.append(times[0][1])
        note = big[0].note
        if codes - {0}:
            note = (note + "; " if note else "") + f"exit {','.join(map(str, sorted(codes)))}"
        row = Row(
            config,
            mode,
            big[0].label,
            statistics.median(ratios),
            statistics.median(mine),
            statistics.median(theirs),
            max(peaks),
            note,
        )
        self.rows.append(row)
        print(
            f"  {mode:5} {row.command:34} {row.ratio:6.2f}x  {row.ours:7.3f}s vs "
            f"{row.baseline:7.3f}s  {row.peak_mb:6.1f} MB  {row.note}",
            flush=True,
        )
        return row


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def shape(tags: int) -> list[str]:
    """make_repo options giving ``tags`` tags: 200 artifacts (100 below 2,000 tags),
    each version with one stage assignment."""
    artifacts = 200 if tags >= 2000 else 100
    versions = max(1, tags // (2 * artifacts))
    commits = max(1000, versions + 1)
    return ["-a", str(artifacts), "-v", str(versions), "-c", str(commits), "-p", "1"]


def build(workdir: Path, tags: int, refs: str, yaml: bool, rebuild: bool) -> Path:
    name = f"repo-{tags}-{refs}-{'yaml' if yaml else 'noyaml'}"
    path = workdir / name
    stamp = path / ".git" / "bench-complete"
    if stamp.exists() and not rebuild:
        return path
    args = [sys.executable, str(MAKE_REPO), str(path), *shape(tags), "--refs", refs]
    if not yaml:
        args.append("--no-yaml")
    print(f"building {name} ...", flush=True)
    subprocess.run(args, check=True, capture_output=True)
    stamp.write_text("done\n")
    return path


def artifact_of(repo: Path) -> str:
    """The 8th artifact of a generated repository (model-007, or model-07 with 100)."""
    names = git(repo, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags").split()
    return sorted({n.partition("@")[0].partition("#")[0] for n in names})[7]


def commands(repo: Path, env: dict[str, str]) -> list[Command]:
    """The commands we time, on ``repo``."""
    artifact = artifact_of(repo)
    tag = f"{artifact}@v1.0.0"
    pattern = f"refs/tags/{artifact}@*"
    before = set(git(repo, "for-each-ref", "--format=%(refname)", pattern).split())

    def undo_register() -> None:
        # Delete the version tag `register` created (its tag object stays, unreferenced).
        for ref in set(git(repo, "for-each-ref", "--format=%(refname)", pattern).split()):
            if ref not in before:
                git(repo, "update-ref", "-d", ref)

    oid = git(repo, "rev-parse", f"refs/tags/{tag}")
    hook = subprocess.run(
        ["git", "registry", "hook", "pre-push", "-h"], cwd=repo, env=env, capture_output=True
    )
    reg = ["git", "registry"]
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").split()[0]
    return [
        Command("show", [*reg, "show"], startup=True),
        Command(f"show {artifact}", [*reg, "show", artifact], startup=True),
        Command(f"history {artifact}", [*reg, "history", artifact], startup=True),
        Command("history (every event)", [*reg, "history"]),
        Command(f"check-ref {tag}", [*reg, "check-ref", tag], startup=True),
        Command(f"which {artifact} prod", [*reg, "which", artifact, "prod"], startup=True),
        Command(f"latest {artifact}", [*reg, "latest", artifact], startup=True),
        Command(f"at {tag}", [*reg, "at", tag]),
        # Every version's commit contains the root: one 'git rev-list --ancestry-path' walk.
        Command("at ROOT --contains", [*reg, "at", root, "--contains"]),
        Command(f"register {artifact}", [*reg, "register", artifact], undo=undo_register),
        Command(
            "hook pre-push (one tag)",
            [*reg, "hook", "pre-push", "origin", "/nonexistent"] if hook.returncode == 0 else [],
            stdin=f"refs/tags/{tag} {oid} refs/tags/{tag} {ZERO}\n",
            note="" if hook.returncode == 0 else "skipped: no 'git registry hook' here",
            startup=True,
        ),
    ]


def scale_build(workdir: Path, artifacts: int, refs: str, rebuild: bool) -> Path:
    """``--scale``: 50 versions per artifact, each assigned to one stage (100 tags an
    artifact), with ``artifacts.yaml``: 10 artifacts make 1,000 tags, 1,000 make
    100,000, so one artifact is the same in both."""
    tags = artifacts * 100
    path = workdir / f"scale-{tags}-{refs}"
    stamp = path / ".git" / "bench-complete"
    if stamp.exists() and not rebuild:
        return path
    args = [sys.executable, str(MAKE_REPO), str(path), "-a", str(artifacts), "-v", "50"]
    args += ["-c", "1000", "-p", "1", "--refs", refs]
    print(f"building {path.name} ...", flush=True)
    subprocess.run(args, check=True, capture_output=True)
    stamp.write_text("done\n")
    return path


def one_artifact_commands(repo: Path, env: dict[str, str]) -> list[Command]:
    """The commands about one artifact (issue 20, target 1), on ``repo``."""
    artifact = artifact_of(repo)
    tag = f"{artifact}@v1.0.0"
    patterns = [f"refs/tags/{artifact}@*", f"refs/tags/{artifact}#*"]

    def listed() -> set[str]:
        return set(git(repo, "for-each-ref", "--format=%(refname)", *patterns).split())

    before = listed()

    def undo() -> None:
        # Delete the tags the command created (their tag objects stay, unreferenced).
        for ref in listed() - before:
            git(repo, "update-ref", "-d", ref)

    oid = git(repo, "rev-parse", f"refs/tags/{tag}")
    reg = ["git", "registry"]
    return [
        Command(f"which {artifact} prod", [*reg, "which", artifact, "prod"]),
        Command(f"latest {artifact}", [*reg, "latest", artifact]),
        Command(f"show {artifact}", [*reg, "show", artifact]),
        Command(f"history {artifact}", [*reg, "history", artifact]),
        Command(f"check-ref {tag}", [*reg, "check-ref", tag]),
        Command(f"describe {artifact}", [*reg, "describe", artifact]),
        Command(f"register {artifact}", [*reg, "register", artifact], undo=undo),
        Command(f"promote {tag} staging", [*reg, "promote", tag, "staging"], undo=undo),
        Command(
            "hook pre-push (one tag)",
            [*reg, "hook", "pre-push", "origin", "/nonexistent"],
            stdin=f"refs/tags/{tag} {oid} refs/tags/{tag} {ZERO}\n",
        ),
    ]


def bench_scale(
    bench: Bench, workdir: Path, refs: list[str], modes: list[str], rebuild: bool
) -> None:
    """``--scale``: each one-artifact command at 100,000 tags against the same command
    at 1,000 tags (the same artifact: 100 tags), paired in the same run."""
    for kind in refs:
        big = scale_build(workdir, 1000, kind, rebuild)
        small = scale_build(workdir, 10, kind, rebuild)
        for repo in (big, small):
            subprocess.run(
                ["git", "registry", "show"], cwd=repo, env=bench.env, capture_output=True
            )
        pairs = zip(
            one_artifact_commands(big, bench.env),
            one_artifact_commands(small, bench.env),
            strict=True,
        )
        print(f"100,000 vs 1,000 {kind}:", flush=True)
        for ours, theirs in list(pairs):
            for mode in modes:
                bench.pair_repos(f"100,000 vs 1,000 {kind}", mode, (ours, big), (theirs, small))


def site_build(workdir: Path, tags: int, long: bool, rebuild: bool) -> Path:
    """``--site``: ``tags`` tags, the usual shape or long histories (10 artifacts, each
    version promoted twice, every 4th assignment undone, every 10th version deregistered)."""
    if not long:
        return build(workdir, tags, "packed", True, rebuild)
    path = workdir / f"site-long-{tags}"
    stamp = path / ".git" / "bench-complete"
    if stamp.exists() and not rebuild:
        return path
    versions = max(1, tags // (10 * 3))
    args = [sys.executable, str(MAKE_REPO), str(path), "-a", "10", "-v", str(versions)]
    args += ["-p", "2", "--unassign-every", "4", "--deregister-every", "10", "--refs", "packed"]
    print(f"building {path.name} ...", flush=True)
    subprocess.run(args, check=True, capture_output=True)
    stamp.write_text("done\n")
    return path


def bench_site(bench: Bench, workdir: Path, sizes: list[int], rebuild: bool) -> None:
    """``--site``: ``git registry site OUT`` (replacing the previous run's site, as a
    CI job publishing on every event does), warm, against for-each-ref."""
    for tags in sizes:
        for long in (False, True):
            repo = site_build(workdir, tags, long, rebuild)
            out = workdir / f"site-out-{repo.name}"
            argv = ["git", "registry", "site", str(out)]
            subprocess.run(argv, cwd=repo, env=bench.env, capture_output=True, check=True)
            pages = [p for p in out.rglob("*.html")]
            total = sum(p.stat().st_size for p in pages)
            largest = max(pages, key=lambda p: p.stat().st_size)
            tag_count = len(git(repo, "for-each-ref", "--format=x", "refs/tags").split())
            note = (
                f"{len(pages)} pages, {total / 1e6:.1f} MB, largest "
                f"{largest.relative_to(out)} {largest.stat().st_size / 1e3:.0f} kB"
            )
            config = f"{tag_count:,} {'long histories' if long else 'packed'}"
            print(f"{config}:", flush=True)
            bench.pair(config, "warm", Command("site OUT", argv, note=note), repo)


def startup_floor(python: str) -> list[str]:
    """The start-up floor: start the interpreter that runs git-registry, then list the
    tags (no tag object read), in one shell, as ``git registry`` runs one process."""
    return ["sh", "-c", f"{shlex.quote(python)} -c pass; git for-each-ref refs/tags >/dev/null"]


def bench_repo(
    bench: Bench, config: str, repo: Path, mode: str, floor: list[str] | None = None
) -> None:
    """Time every command on ``repo``: warm (cache in place) or first runs (none);
    with ``floor`` (mode ``start``), only the start-up commands, against ``floor``."""
    cache = repo / ".git" / "registry"
    subprocess.run(["git", "registry", "show"], cwd=repo, env=bench.env, capture_output=True)
    for command in commands(repo, bench.env):
        if floor is not None and not command.startup:
            continue
        if not command.argv:
            print(f"  {mode:5} {command.label:34} {command.note}")
            continue
        reset = cache if mode == "first" else None
        if floor is None:
            bench.pair(config, mode, command, repo, reset=reset)
        else:
            bench.pair(config, mode, command, repo, baseline=floor)


def machine(env: dict[str, str]) -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    registry = shutil.which("git-registry", path=env["PATH"]) or "?"
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "git": git(Path.cwd(), "--version"),
        "git-registry": registry,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def markdown(rows: list[Row], info: dict[str, str]) -> str:
    out = ["| config | run | command | ratio | ours (s) | baseline (s) | peak MB | note |"]
    out.append("|---|---|---|---:|---:|---:|---:|---|")
    for r in rows:
        out.append(
            f"| {r.config} | {r.mode} | `{r.command}` | {r.ratio:.2f} | {r.ours:.3f} | "
            f"{r.baseline:.3f} | {r.peak_mb:.0f} | {r.note} |"
        )
    head = "\n".join(f"- {k}: {v}" for k, v in info.items())
    head += (
        "\n- baseline: `git for-each-ref` reading every tag object (warm, first), "
        "`python -c pass` (-h), `sh -c 'python -c pass; git for-each-ref refs/tags "
        ">/dev/null'` (start)"
    )
    return f"{head}\n\n" + "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000", help="tag counts")
    parser.add_argument("--refs", default="loose,packed", help="loose, packed or both")
    parser.add_argument("--yaml", default="with,without", help="with, without or both")
    parser.add_argument("--reps", type=int, default=15, help="timed pairs per command")
    parser.add_argument("--quick", action="store_true", help="1k and 10k tags, 5 pairs")
    parser.add_argument(
        "--startup",
        action="store_true",
        help="start-up rows only: 1,000 tags, reads and the hook against the start-up floor",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="one-artifact commands at 100,000 tags against 1,000 tags (issue 20)",
    )
    parser.add_argument(
        "--site",
        action="store_true",
        help="the static site (git registry site) at 10,000 tags (issue 18)",
    )
    parser.add_argument("--no-first", action="store_true", help="skip first-run rows")
    parser.add_argument("--no-warm", action="store_true", help="only first-run rows")
    parser.add_argument(
        "--workdir",
        default=os.path.join(tempfile.gettempdir(), "git-registry-bench"),
        help="where the repositories are built and kept",
    )
    parser.add_argument("--rebuild", action="store_true", help="build repositories again")
    parser.add_argument("--bin", help="put this folder first on PATH (git-registry, python)")
    parser.add_argument("--gto", help="a gto executable to time too (10,000 tags or fewer)")
    parser.add_argument("--markdown", help="also write the results table to this file")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args()
    if args.quick:
        args.sizes = "1000,10000" if args.sizes == parser.get_default("sizes") else args.sizes
        args.reps = 5 if args.reps == parser.get_default("reps") else args.reps
    if args.startup:
        args.sizes = "1000" if args.sizes == parser.get_default("sizes") else args.sizes
        args.reps = max(args.reps, 21)
        args.no_first = True
    env = dict(os.environ)
    if args.bin:
        env["PATH"] = os.path.abspath(args.bin) + os.pathsep + env["PATH"]
    env.pop("GIT_DIR", None)
    # Measure what users run: an installed package with its bytecode cached (pip
    # compiles it at install time; this lets an editable install cache it too).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # The tags' committer dates are fixed; `register` needs an identity.
    env.setdefault("GIT_COMMITTER_NAME", "Bench")
    env.setdefault("GIT_COMMITTER_EMAIL", "bench@example.com")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args.reps, env)
    info = machine(env)
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)

    registry = shutil.which("git-registry", path=env["PATH"])
    if registry is None:
        sys.exit("git-registry is not on PATH (use --bin)")
    with open(registry) as f:
        shebang = f.readline()
    python = shebang[2:].strip() if shebang.startswith("#!") else sys.executable
    print("start-up:")
    # Start-up times are short and noisy: more pairs, at little cost.
    Bench(max(args.reps, 41), env, bench.rows).pair(
        "start-up",
        "warm",
        Command("-h", ["git", "registry", "-h"], note=f"baseline: {python} -c pass"),
        workdir,
        baseline=[python, "-c", "pass"],
    )

    if args.site:
        sizes = "10000" if args.sizes == parser.get_default("sizes") else args.sizes
        bench_site(bench, workdir, [int(n) for n in sizes.split(",")], args.rebuild)
        args.sizes = ""
    if args.scale:
        modes = [m for m, skip in (("warm", args.no_warm), ("first", args.no_first)) if not skip]
        bench_scale(bench, workdir, args.refs.split(","), modes, args.rebuild)
        args.sizes = ""
    for tags in [int(s) for s in args.sizes.split(",") if s]:
        for refs in [] if args.no_warm else args.refs.split(","):
            for yaml in [y == "with" for y in args.yaml.split(",")]:
                repo = build(workdir, tags, refs, yaml, args.rebuild)
                config = f"{tags:,} {refs}{'' if yaml else ', no yaml'}"
                print(f"{config}:", flush=True)
                if args.startup:
                    bench_repo(bench, config, repo, "start", startup_floor(python))
                else:
                    bench_repo(bench, config, repo, "warm")
        if not args.no_first:
            # A fresh clone: packed refs, one pack, no tag cache. The cache is deleted
            # before each of our runs, so every one of them is a first run.
            source = build(workdir, tags, "loose", True, False)
            clone = workdir / f"clone-{tags}"
            if args.rebuild or not (clone / ".git" / "bench-complete").exists():
                shutil.rmtree(clone, ignore_errors=True)
                subprocess.run(["git", "clone", "-q", str(source), str(clone)], check=True)
                (clone / ".git" / "bench-complete").write_text("done\n")
            config = f"{tags:,} fresh clone"
            print(f"{config}:", flush=True)
            bench_repo(bench, config, clone, "first")
        if args.gto and tags <= 10_000 and not args.startup:
            repo = build(workdir, tags, "loose", True, False)
            gto = Bench(max(1, min(3, args.reps)), env)
            bench.rows.append(
                gto.pair(f"{tags:,} loose", "warm", Command("gto show", [args.gto, "show"]), repo)
            )

    info["load after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = markdown(bench.rows, info)
    print()
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in bench.rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
