"""What a user names, found in the registry, or the error that says what exists instead:
an artifact, a version, a stage, and a new name that looks like a typo of a known one
(``chrun`` beside ``churn``). Pure functions of the registry; the planners in
:mod:`git_registry.plan` and the reading commands use them."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from git_registry.errors import NotFoundError, RegistryError
from git_registry.gitvalues import short
from git_registry.grammar import check_artifact_name, check_version
from git_registry.state import ArtifactInfo, Registry, VersionInfo


def find_artifact(registry: Registry, name: str) -> ArtifactInfo:
    """The artifact ``name``; raises with the known names as a hint if there is none."""
    check_artifact_name(name)
    info = registry.artifacts.get(name)
    if info is None:
        raise unknown_artifact(registry, name)
    return info


def unknown_artifact(registry: Registry, name: str) -> NotFoundError:
    """The error for an artifact no registry tag names: the closest known names if
    some are close (``chrun``: did you mean 'churn'?), else the known names."""
    return NotFoundError(f"unknown artifact '{name}'", hint=known_hint(registry, name))


def known_hint(registry: Registry, name: str | None = None) -> str:
    from git_registry.suggest import did_you_mean  # only for this message

    names = list(registry.known or registry.artifacts)
    if not names:
        return (
            "this repository has no registry tags yet; create one with: git registry register NAME"
        )
    close = did_you_mean(name, names) if name is not None else None
    if close is not None:
        return close
    shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
    return f"known artifacts: {shown}"


def empty_stage(name: str, stage: str, known_stages: Iterable[str]) -> NotFoundError:
    """The error for a stage no version of ``name`` holds; if no policy declares the
    stage and no tag ever used it, the closest stages that exist (``prd``: did you
    mean 'prod'?)."""
    from git_registry.suggest import did_you_mean  # only for this message

    known = list(dict.fromkeys(known_stages))
    hint = None
    if stage not in known and known:
        hint = did_you_mean(stage, known) or "stages: " + ", ".join(known)
    return NotFoundError(f"no version of {name} is in stage '{stage}'", hint=hint)


def _versions_hint(info: ArtifactInfo) -> str:
    active = [v.version for v in info.versions if v.active]
    if not active:
        return f"{info.name} has no active versions"
    shown = ", ".join(active[:10]) + (", …" if len(active) > 10 else "")
    return f"active versions of {info.name}: {shown}"


def find_version(info: ArtifactInfo, version: str, *, active: bool = True) -> VersionInfo:
    """A version of an artifact; raises if it does not exist (or, with ``active``, is
    deregistered)."""
    check_version(version)
    found = info.version(version)
    if found is None:
        raise NotFoundError(f"{info.name} has no version {version}", hint=_versions_hint(info))
    if active and not found.active:
        raise RegistryError(
            f"{info.name} {version} is deregistered",
            hint=f"register it again with: git registry register {info.name} "
            f"{short(found.commit)} --version {version}",
        )
    return found


def active_version_at(info: ArtifactInfo | None, commit: str) -> VersionInfo | None:
    """The active version registered at ``commit`` (the newest registration if several)."""
    if info is None:
        return None
    live = [v for v in info.versions_at(commit) if v.active]
    return live[-1] if live else None


def check_new_stage(stage: str, known: Collection[str]) -> None:
    """Refuse a stage nobody has used or declared whose name is one edit away from one
    that exists (``prdo`` next to ``prod``), as :func:`check_new_name` does for names.

    Raises:
        RegistryError: the stage is new and close to a known one (``--new`` allows it).
    """
    from git_registry.suggest import likely_typo

    if stage in known:
        return
    near = [k for k in known if likely_typo(stage, k)]
    if near:
        shown = " or ".join(f"'{k}'" for k in near[:3])
        raise RegistryError(
            f"'{stage}' would be a new stage, one edit away from {shown}",
            hint=f"did you mean {shown}? To start a new stage named '{stage}', pass --new",
        )


def check_new_name(registry: Registry, name: str, annotated: Collection[str]) -> None:
    """Refuse to start a new artifact whose name is one edit away from one that exists
    (``chrun`` next to ``churn``): a typo would otherwise start a second artifact
    silently. A name with tags, or annotated in ``artifacts.yaml``, is not new.

    Raises:
        RegistryError: the name is new and close to an existing one (``--new`` allows it).
    """
    from git_registry.suggest import likely_typo

    if name in registry.artifacts or name in registry.known or name in annotated:
        return
    near = [k for k in dict.fromkeys([*registry.known, *annotated]) if likely_typo(name, k)]
    if near:
        shown = " or ".join(f"'{k}'" for k in near[:3])
        raise RegistryError(
            f"'{name}' would be a new artifact, one edit away from {shown}",
            hint=f"did you mean {shown}? To start a new artifact named '{name}', pass --new",
        )
