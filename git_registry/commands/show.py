"""``git registry show``: the registry, one artifact's versions, or one version."""

from __future__ import annotations

import argparse
import dataclasses

from git_registry import options
from git_registry.commands import Command
from git_registry.errors import NotFoundError, RegistryError, UsageError
from git_registry.session import Session

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from git_registry.annotations import Annotation
    from git_registry.filters import ArtifactFilter
    from git_registry.policy import Policy
    from git_registry.selectors import Selector
    from git_registry.state import ArtifactInfo, ArtifactSummary, Registry, StageHold, VersionInfo


COMMAND = Command(
    name="show",
    summary="show the registry, an artifact, or one version",
    description=(
        "Without arguments, the registry: one row per active artifact with its latest\n"
        "version and the version in each stage. With NAME, its versions. With NAME@latest,\n"
        "NAME@vX.Y.Z or NAME#STAGE, that one version; --ref, --version or --commit print\n"
        "just that value. --all: deprecated artifacts (marked) and deregistered versions\n"
        "too; a deprecated artifact's NAME#STAGE and NAME@latest are served only with --all.\n"
        "For GTO's scripts: --plain prints GTO's grep-able table, --json=gto GTO's JSON\n"
        "(the registry), --name and --stage one value per line as GTO does, -d is --all,\n"
        "--sort semver shows the highest version in a stage (in those two shapes), --ro\n"
        "is accepted (every version here is registered), -r PATH|URL as GTO's -r.\n"
        "A version's metrics and metadata (register --metric / --meta) are columns of\n"
        "show NAME, objects in --json; --metric KEY sorts NAME's versions by one, highest\n"
        "first (versions without it last). --type T, --label L and --stage S (repeatable)\n"
        "keep the registry's artifacts of type T, labelled L, with a version in stage S;\n"
        "all given must hold (AND). --stage without a value is GTO's (print the stages)."
    ),
    usage=(
        "git registry show [NAME | NAME@vX.Y.Z | NAME@latest | NAME#STAGE] "
        "[--json[=gto] | --plain] [--ref | --version | --commit | --name | --stage] "
        "[--type T] [--label L]... [--stage S]... "
        "[--all | -d] [--all-versions] [--metric KEY] [--sort timestamp|semver] [--ro] "
        "[--remote NAME|URL]... [-r PATH|URL]"
    ),
)


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "selector",
        metavar="SELECTOR",
        nargs="?",
        help="NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE",
    )
    shape = p.add_mutually_exclusive_group()
    options.json(shape, gto=True)
    shape.add_argument("--plain", action="store_true", help="GTO's grep-able table (GTO's --plain)")
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
    value.add_argument(
        "--name",
        dest="value",
        action="store_const",
        const="name",
        help="list only the artifacts' names (of the registry, not of NAME), as GTO does",
    )
    value.add_argument(
        "--stage",
        dest="value",
        metavar="S",
        nargs="?",
        action=_StageOption,
        help="without a value: print only each version's stages (one line per version), as "
        "GTO does; --stage S (repeatable): only the artifacts with a version in stage S",
    )
    p.add_argument(
        "--all",
        "-d",
        "--deprecated",
        action="store_true",
        help="include deprecated artifacts and deregistered versions (marked); -d and "
        "--deprecated are GTO's spellings",
    )
    p.add_argument(
        "--sort",
        choices=["timestamp", "semver"],
        default="timestamp",
        help="GTO's: the version shown in a stage is the newest assignment's (timestamp, "
        "default) or the highest holding it (semver; with --plain, --json=gto)",
    )
    p.add_argument(
        "--ro",
        "--registered-only",
        dest="registered_only",
        action="store_true",
        help="GTO's; changes nothing: every version here is registered",
    )
    p.add_argument(
        "--all-versions",
        action="store_true",
        help="list every version holding a stage, not only the newest",
    )
    p.add_argument(
        "--type",
        metavar="T",
        action="append",
        default=[],
        help="only the artifacts of type T (artifacts.yaml at HEAD)",
    )
    p.add_argument(
        "--label",
        metavar="L",
        action="append",
        default=[],
        help="only the artifacts labelled L (repeatable: every label given)",
    )
    p.add_argument(
        "--metric",
        metavar="KEY",
        help="with NAME: sort its versions by this metric, highest first (without it: last)",
    )
    options.remote(p)
    options.gto_repo(p, url=True)


class _StageOption(argparse.Action):
    """``--stage`` alone is GTO's (print each version's stages); ``--stage S`` filters
    the registry table (repeatable: ``args.stage_filter``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if values is None:
            namespace.value = "stage"
        else:
            namespace.stage_filter = [*(getattr(namespace, "stage_filter", None) or []), values]


def run(args: argparse.Namespace, session: Session) -> int:
    from git_registry.reading import head_annotations, load, warn_problems
    from git_registry.serving import deprecated_note

    args.stage_filter = getattr(args, "stage_filter", None) or []
    _gto_stage_flag(args, session)

    if args.sort == "semver" and not (args.plain or args.json == "gto"):
        raise UsageError("--sort semver is for GTO's shapes: add --plain or --json=gto")
    if args.metric is not None:
        _check_metric_option(args)
    if (args.type or args.label or args.stage_filter) and args.selector is not None:
        raise UsageError(
            "--type, --label and --stage S filter the registry table: "
            "show --type T --label L --stage S, without NAME"
        )
    if (args.type or args.label) and session.remotes:
        raise UsageError(
            "--type and --label read artifacts.yaml, which is not read from remotes: "
            "with --remote, filter by --stage"
        )
    if args.selector is None:
        if args.value == "name" or args.plain or args.json == "gto":
            return _show_registry_gto(args, session)
        if args.value:
            raise UsageError(
                f"--{args.value} needs an artifact, e.g. show NAME@latest --{args.value}"
            )
        return _show_registry(args, session)
    if args.value == "name":
        raise UsageError(
            "--name lists the registry's artifacts: show --name (as GTO, which refuses "
            "show NAME --name)"
        )
    if args.json == "gto":
        raise UsageError(
            "--json=gto prints the registry only (show --json=gto): GTO's document of "
            "versions is not produced",
            hint=f"use --json (our shape), or --plain: git registry show {args.selector} --json",
        )
    selector = _selector(session, args.selector)
    registry = load(session, [selector.artifact]).registry
    warn_problems(session, registry, selector.artifact)
    info = registry.artifacts.get(selector.artifact)
    if info is None:
        notes, _problems = head_annotations(session, [selector.artifact])
        if selector.artifact in notes:
            raise NotFoundError(
                f"{selector.artifact} is annotated in artifacts.yaml but has no versions yet",
                hint=f"register one: git registry register {selector.artifact}",
            )
        from git_registry.lookups import unknown_artifact  # only for this message

        raise unknown_artifact(registry, selector.artifact)
    if selector.stage is None and not selector.latest:
        note = deprecated_note(info)
        if note is not None:
            session.warn(f"{note}: its stages and latest version are not served")
        if selector.version is None:
            return _show_artifact(args, session, info)
    if args.metric is not None:
        raise UsageError(f"--metric sorts an artifact's versions: show {info.name} --metric KEY")
    return _show_one(args, session, info, selector)


def _gto_stage_flag(args: argparse.Namespace, session: Session) -> None:
    """``show --stage churn`` (GTO's flag, then the selector) reads as ``--stage S``:
    without a selector, a lone ``--stage`` value that names a selector (``@``, ``#``)
    or an artifact, and no stage, is GTO's."""
    if args.selector is not None or len(args.stage_filter) != 1 or args.value is not None:
        return
    word = args.stage_filter[0]
    if "@" not in word and "#" not in word:
        from git_registry.reading import load

        registry = load(session, keep_rows=False).registry
        try:
            name = _selector(session, word).artifact
        except RegistryError:  # not a name: a stage (or a typo of one)
            return
        if word in registry.stages or name not in registry.artifacts:
            return
    args.selector, args.value, args.stage_filter = word, "stage", []


def _check_metric_option(args: argparse.Namespace) -> None:
    from git_registry.trailers import key_problem

    why = key_problem(args.metric)
    if why is not None:
        raise UsageError(f"--metric '{args.metric}': {why}")
    if args.selector is None:
        raise UsageError("--metric sorts an artifact's versions: show NAME --metric KEY")
    if args.plain:
        raise UsageError("--metric sorts our table and --json, not GTO's --plain")


def _warn_trailers(session: Session, versions: Sequence[VersionInfo]) -> None:
    """A warning per malformed Registry-* trailer of the versions shown (ignored)."""
    from git_registry.trailers import of_version

    for v in versions:
        for problem in of_version(v).problems:
            session.warn(f"{v.registration.tag}: {problem}")


def _by_metric(info: ArtifactInfo, versions: list[VersionInfo], metric: str) -> list[VersionInfo]:
    """``versions`` sorted by ``metric``, highest first (``show NAME --metric KEY``).

    Raises:
        NotFoundError: no version has it (a typo must not pass as "unsorted").
    """
    from git_registry.trailers import of_version, sort_key

    known = sorted({key for v in versions for key in of_version(v).metrics})
    if metric not in known:
        from git_registry.suggest import did_you_mean

        raise NotFoundError(
            f"no version of {info.name} has the metric '{metric}'",
            hint=did_you_mean(metric, known)
            or (f"its metrics: {', '.join(known)}" if known else "none has metrics"),
        )
    return sorted(versions, key=sort_key(metric))


def _selector(session: Session, text: str) -> Selector:
    """A selector, its artifact ``LABEL:NAME`` with several ``--remote``, as the table
    names it (``ra:models:seg#prod``)."""
    from git_registry.selectors import parse_selector, split_label

    label, rest = split_label(session.remotes, text)
    selector = parse_selector(rest)
    if not label:
        return selector
    return dataclasses.replace(selector, artifact=f"{label}:{selector.artifact}")


def _show_registry_gto(args: argparse.Namespace, session: Session) -> int:
    """The registry as GTO shows it: ``--json=gto``, ``--plain`` or ``--name``; the
    stages of the allow-list, or every stage used (sorted), as GTO's columns."""
    from git_registry import gtoshape
    from git_registry.reading import declared_annotations, load, warn_problems
    from git_registry.render import dump_json

    registry = load(session, keep_rows=False).registry
    warn_problems(session, registry)
    notes, file_warnings = declared_annotations(session)
    for warning in file_warnings:
        session.warn(warning)
    infos = [registry.artifacts[name] for name in gtoshape.artifact_order(registry)]
    rows: list[tuple[str, ArtifactInfo | None]] = [
        (info.name, info) for info in infos if args.all or not info.deprecated
    ]
    rows += [(name, None) for name in notes if name not in registry.artifacts]
    wanted = _artifact_filter(args)
    if wanted:
        rows = [(name, info) for name, info in rows if wanted.keeps(info, notes.get(name))]
        if not rows:
            session.message("hint", _no_match(wanted, registry, notes))
    allowed = _policy(session).stages
    stages = list(allowed) if allowed is not None else gtoshape.used_stages(registry)
    doc = gtoshape.registry_doc(rows, stages, args.sort)
    if args.json:
        session.stdout.write(dump_json(doc, indent=4))
    elif args.value == "name":
        for name, d in sorted(doc.items()):
            session.out(name if d["registered"] else f"*{name}")
    else:
        session.stdout.write(gtoshape.registry_plain(doc, stages))
    return 0


def _show_registry(args: argparse.Namespace, session: Session) -> int:
    from git_registry.policy import ordered_stages
    from git_registry.reading import declared_annotations, load, warn_problems
    from git_registry.render import artifact_json, dump_json, registry_table

    registry = load(session, keep_rows=False).registry
    warn_problems(session, registry)
    catalog = session.catalog()
    for problem in catalog.policy_problems():
        session.warn(str(problem))
    notes, file_warnings = declared_annotations(session)
    for warning in file_warnings:
        session.warn(warning)
    # Summaries, not whole artifacts: a cached registry gives them without decoding
    # events (statecache); --json decodes the artifacts it shows.
    summaries = [registry.summary(name) for name in registry.artifacts]
    rows: list[tuple[str, ArtifactSummary | None, Annotation | None]] = [
        (summary.name, summary, notes.get(summary.name))
        for summary in summaries
        if args.all or not summary.deprecated
    ]
    rows += [(name, None, note) for name, note in notes.items() if name not in registry.artifacts]
    rows.sort(key=lambda row: row[0])
    wanted = _artifact_filter(args)
    if wanted:
        rows = [row for row in rows if wanted.keeps(row[1], row[2])]
    held = [s for s in registry.stages if any(info and s in info.stages for _, info, _ in rows)]
    stages = ordered_stages(_policy(session), held)
    if not rows and wanted:
        session.message("hint", _no_match(wanted, registry, notes))
    if args.json:
        warnings = [
            *(str(p) for p in (*registry.problems, *catalog.policy_problems())),
            *file_warnings,
        ]
        session.stdout.write(
            dump_json(
                {
                    "artifacts": [
                        artifact_json(
                            name,
                            registry.artifacts[name] if info else None,
                            note,
                            all_versions=args.all_versions,
                        )
                        for name, info, note in rows
                    ],
                    "stages": stages,
                    "warnings": warnings,
                }
            )
        )
        return 0
    if not rows and wanted:
        return 0
    if not rows:
        hidden = len(registry.artifacts)
        session.message(
            "hint",
            f"no active artifacts ({hidden} deprecated: see them with --all)"
            if hidden
            else "the registry is empty: register a version with 'git registry register NAME'",
        )
        return 0
    session.stdout.write(
        registry_table(
            rows, stages, session.paint(), all_versions=args.all_versions, with_status=args.all
        )
    )
    return 0


def _artifact_filter(args: argparse.Namespace) -> ArtifactFilter | None:
    """The filter of ``--type``, ``--label`` and ``--stage S``; None if none is given
    (the filters' module is not imported then: start-up)."""
    if not args.type and not args.label and not args.stage_filter:
        return None
    from git_registry.filters import artifact_filter

    return artifact_filter(args.type, args.label, args.stage_filter)


def _no_match(wanted: ArtifactFilter, registry: Registry, notes: dict[str, Annotation]) -> str:
    """The hint for a filter no artifact passes: the filter, and the closest known value
    of each part that no artifact has at all (a typo)."""
    from git_registry.suggest import did_you_mean

    given = [f"--type {wanted.type}"] if wanted.type is not None else []
    given += [f"--label {label}" for label in wanted.labels]
    given += [f"--stage {stage}" for stage in wanted.stages]
    known = {
        "type": {n.type for n in notes.values() if n.type},
        "label": {label for n in notes.values() for label in n.labels},
        "stage": set(registry.stages),
    }
    asked = [("type", wanted.type)] if wanted.type is not None else []
    asked += [("label", label) for label in wanted.labels]
    asked += [("stage", stage) for stage in wanted.stages]
    typos = [
        f"{what} '{value}': {hint}"
        for what, value in asked
        if value not in known[what] and (hint := did_you_mean(value, sorted(known[what])))
    ]
    return f"no artifact matches {' '.join(given)}" + (f" ({'; '.join(typos)})" if typos else "")


def _policy(session: Session) -> Policy:
    """The policy whose stages order the columns: the one at HEAD of the repository
    the command runs in, with --remote too (the remote's own is not read: that would
    fetch its files), so a remote's table has the columns of the local one; outside
    any repository, none (first use)."""
    if not session.remotes:
        return session.catalog().policy()
    from git_registry.policy import Policy

    local = session.child()
    try:
        return local.catalog().policy()
    except RegistryError:  # not in a repository, or it has no commit yet
        return Policy()
    finally:
        local.close()


def _show_artifact(args: argparse.Namespace, session: Session, info: ArtifactInfo) -> int:
    from git_registry.reading import head_annotations
    from git_registry.render import artifact_json, dump_json, version_json, versions_table

    versions = [v for v in info.versions if v.active or args.all]
    if not versions:  # not found, with --json too: exit 1, nothing on stdout
        raise NotFoundError(
            f"{info.name} has no active versions",
            hint="deregistered versions are shown with --all" if info.versions else None,
        )
    _warn_trailers(session, versions)
    if args.metric is not None:
        versions = _by_metric(info, versions, args.metric)
    if args.json:
        notes, problems = head_annotations(session, [info.name])
        for problem in problems:
            if problem.artifact in (None, info.name):
                session.warn(str(problem))
        doc = artifact_json(info.name, info, notes.get(info.name), all_versions=args.all_versions)
        doc["versions"] = [version_json(v) for v in versions]
        session.stdout.write(dump_json(doc))
        return 0
    if args.plain:
        from git_registry.gtoshape import versions_plain

        session.stdout.write(versions_plain(info, versions, args.sort))
        return 0
    if args.value:
        for v in versions:
            session.out(_value(info, v, args, None))
        return 0
    session.stdout.write(versions_table(versions, session.paint(), with_status=args.all))
    return 0


def _show_one(
    args: argparse.Namespace, session: Session, info: ArtifactInfo, selector: Selector
) -> int:
    import shlex

    from git_registry.render import dump_json, versions_table
    from git_registry.serving import Served, check_served

    holds: tuple[StageHold, ...] = ()
    if selector.stage is not None or selector.latest:
        # A deprecated artifact's stages and latest version are not served (serving.py).
        held = info.stages.get(selector.stage) if selector.stage else info.latest
        check_served(
            session,
            info,
            Served.STAGE if selector.stage else Served.LATEST,
            stage=selector.stage,
            show_all=args.all,
            retry=f"git registry show {shlex.quote(args.selector)} --all" if held else None,
            json_doc=(
                {"artifact": info.name, **({"stage": selector.stage} if selector.stage else {})}
                if args.json
                else None
            ),
        )
    if selector.latest:
        found = [info.latest] if info.latest else []
        missing = f"{info.name} has no active versions"
    elif selector.version is not None:
        version = info.version(selector.version)
        found = [version] if version is not None and (version.active or args.all) else []
        missing = f"{info.name} has no {'' if args.all else 'active '}version {selector.version}"
    else:
        assert selector.stage is not None
        holds = info.stages.get(selector.stage, ())
        if not args.all_versions:
            holds = holds[:1]
        found = [v for h in holds if (v := info.version(h.version)) is not None]
        missing = f"no version of {info.name} is in stage '{selector.stage}'"
    if not found and selector.stage is not None:
        from git_registry.lookups import empty_stage  # only for this message
        from git_registry.reading import stage_names

        raise empty_stage(info.name, selector.stage, stage_names(session, info.used_stages))
    if not found:
        raise NotFoundError(missing)
    _warn_trailers(session, found)
    if args.json:
        docs = [
            _one_json(info, v, h) for v, h in zip(found, holds or [None] * len(found), strict=True)
        ]
        session.stdout.write(dump_json(docs if args.all_versions and holds else docs[0]))
        return 0
    if args.plain:
        from git_registry.gtoshape import versions_plain

        session.stdout.write(versions_plain(info, found, args.sort))
        return 0
    if args.value:
        for v, h in zip(found, holds or [None] * len(found), strict=True):
            session.out(_value(info, v, args, h))
        return 0
    session.stdout.write(versions_table(found, session.paint(), with_status=args.all))
    return 0


def _one_json(info: ArtifactInfo, version: VersionInfo, hold: StageHold | None) -> dict[str, Any]:
    from git_registry.render import hold_json, version_json
    from git_registry.serving import deprecation_json

    doc = version_json(version)
    if hold is not None:
        doc["assignment"] = hold_json(hold)
    doc.update(deprecation_json(info))
    return doc


def _value(
    info: ArtifactInfo, version: VersionInfo, args: argparse.Namespace, hold: StageHold | None
) -> str:
    what = args.value
    if what == "name":
        return info.name
    if what == "stage":  # as GTO: the stages the version is shown in
        from git_registry.gtoshape import shown_stages

        return ", ".join(shown_stages(info, args.sort).get(version.version, []))
    if what == "version":
        return version.version
    if what == "commit":
        return version.commit
    # --ref: the tag that made the selection true (the assignment for a stage).
    return hold.assignment.tag if hold is not None else version.registration.tag
