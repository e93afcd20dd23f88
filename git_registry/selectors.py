"""What a user names on the command line: ``NAME``, ``NAME@vX.Y.Z``, ``NAME@latest``,
``NAME#STAGE`` selectors, and revisions resolved to commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from git_registry.errors import RegistryError
from git_registry.gitvalues import ObjectId
from git_registry.grammar import (
    check_artifact_name,
    check_stage,
    check_version,
    lazy_compile,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.session import Session


@dataclass(frozen=True, slots=True)
class Selector:
    """``NAME``, ``NAME@vX.Y.Z``, ``NAME@latest`` or ``NAME#STAGE``."""

    artifact: str
    version: str | None = None
    stage: str | None = None
    latest: bool = False


_SELECTOR_RE = lazy_compile(r"^(?P<artifact>[^@#]+)(?:@(?P<version>[^@#]+)|#(?P<stage>[^@#]+))?$")


def parse_selector(text: str, *, allow_stage: bool = True, allow_latest: bool = True) -> Selector:
    """Parse a selector typed by a user; invalid parts get the grammar's message."""
    match = _SELECTOR_RE.match(text)
    if match is None:
        raise RegistryError(
            f"cannot understand '{text}'",
            hint="write NAME, NAME@vX.Y.Z"
            + (", NAME@latest" if allow_latest else "")
            + (" or NAME#STAGE" if allow_stage else ""),
        )
    artifact = check_artifact_name(match["artifact"])
    version, stage = match["version"], match["stage"]
    if version in ("latest", "greatest"):
        if not allow_latest:
            raise RegistryError(f"'{text}': @latest is not allowed here")
        return Selector(artifact, latest=True)
    if version is not None:
        return Selector(artifact, version=check_version(version))
    if stage is not None:
        if not allow_stage:
            raise RegistryError(f"'{text}': a stage is not allowed here")
        return Selector(artifact, stage=check_stage(stage))
    return Selector(artifact)


def resolve_ref(session: Session, ref: str) -> ObjectId:
    """The commit ``ref`` names, or a fatal error saying it does not resolve."""
    commit = session.repo().resolve_commit(ref)
    if commit is None:
        head = session.repo().head()
        hint = None if head else "this repository has no commits yet; commit something first"
        raise RegistryError(f"'{ref}' does not name a commit", hint=hint)
    return commit


# -- artifacts of several --remote registries: LABEL:NAME ---------------------------

_LABEL_RE = lazy_compile(r"[^A-Za-z0-9._-]+")


def label_for(remote: str) -> str:
    """A short name for a remote in output: its name, or the URL's last part (never
    from its credentials: ``https://user:token@host`` is ``host``)."""
    scheme, sep, rest = remote.partition("://")
    if sep and scheme.isalnum():  # a URL: its path's last part, else its host
        authority, _, path = rest.partition("/")
        host = authority.rpartition("@")[2]  # never "user:password@"
        base = path.rstrip("/").rsplit("/", 1)[-1] or host.rsplit(":", 1)[0]
    else:  # a remote's name, a path, or Git's scp-like "host:path"
        base = remote.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    base = base.removesuffix(".git") or remote
    return _LABEL_RE.sub("-", base).strip("-") or "remote"


def labels(remotes: Sequence[str]) -> list[str]:
    """The label of each of ``remotes``, in order; a repeated one gets ``-2``, ``-3``…"""
    out: list[str] = []
    for remote in remotes:
        base = label = label_for(remote)
        n = 2
        while label in out:
            label = f"{base}-{n}"
            n += 1
        out.append(label)
    return out


def split_label(remotes: Sequence[str], text: str) -> tuple[str, str]:
    """``(LABEL, REST)`` for ``LABEL:REST`` when reading several ``remotes`` and LABEL
    is one of theirs; else ``("", text)``. REST may be a folder artifact
    (``ra:models:seg``) or a selector (``ra:churn#prod``)."""
    if len(remotes) > 1:
        head, sep, rest = text.partition(":")
        if sep and head in labels(remotes):
            return head, rest
    return "", text


def check_name(remotes: Sequence[str], text: str) -> str:
    """An artifact name from the command line: ``NAME``, or ``LABEL:NAME`` when reading
    several remotes (as ``show`` prints it).

    Raises:
        GrammarError: NAME is not a valid artifact name.
    """
    label, rest = split_label(remotes, text)
    name = check_artifact_name(rest)
    return f"{label}:{name}" if label else name
