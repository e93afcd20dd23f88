"""Where an artifact's files come from (``git registry get``), and the command lines of
the tools that fetch what is not in the repository. Pure: nothing here runs.

An annotation's ``path`` is a path in the repository (read from the version's commit;
DVC-tracked if the commit holds ``PATH.dvc`` instead), or a URL: ``http(s)://`` is
downloaded by us, ``s3://``, ``gs://`` and ``azure://`` by the provider's own tool,
which holds the user's credentials. A URL comes from a committed file: it is refused
if it could be read as an option or holds control characters or spaces, and every
value goes to a tool as its own argument (never through a shell), after the options.
"""

from __future__ import annotations

import enum
import posixpath
import shlex
from dataclasses import dataclass

from git_registry.controls import control_codes
from git_registry.errors import RegistryError


class Kind(enum.Enum):
    """How the files of a source are fetched."""

    GIT = "git"
    DVC = "dvc"
    HTTP = "http"
    S3 = "s3"
    GS = "gs"
    AZURE = "azure"


_SCHEMES = {
    "http": Kind.HTTP,
    "https": Kind.HTTP,
    "s3": Kind.S3,
    "gs": Kind.GS,
    "azure": Kind.AZURE,
}
TOOLS = {Kind.DVC: ("dvc",), Kind.S3: ("aws",), Kind.GS: ("gcloud", "gsutil"), Kind.AZURE: ("az",)}
"""The programs that fetch each kind, in the order tried."""


_GIT_NAMES = (b".git", b"git~1")


def unsafe_name(name: bytes) -> str | None:
    """Why a tree entry's ``name`` cannot be written, or None if it can (Git's
    ``verify_path``: no empty name, ``.``, ``..``, ``/``, NUL, nor ``.git`` in any case
    or with the trailing dots and spaces Windows drops, nor its 8.3 name)."""
    if name in (b"", b".", b".."):
        return "is not a name"
    if b"/" in name or b"\0" in name or b"\\" in name:
        return "holds a '/', '\\' or NUL"
    if name.lower().rstrip(b". ") in _GIT_NAMES:
        return "would write a .git folder"
    return None


def url_kind(url: str) -> Kind:
    """The kind of source ``url`` is.

    Raises:
        RegistryError: a scheme get cannot fetch, or a URL it refuses to pass on.
    """
    scheme = url.partition("://")[0].lower()
    kind = _SCHEMES.get(scheme)
    if kind is None:
        raise RegistryError(
            f"cannot get '{url}': get fetches http://, https://, s3://, gs:// and azure:// "
            "URLs and paths in the repository",
            hint="fetch it with the tool of that storage (print the URL with --print-url)",
        )
    codes = control_codes(url)
    if codes or " " in url:
        raise RegistryError(
            f"refusing the URL '{url}': it holds "
            + (f"control characters ({', '.join(codes)})" if codes else "spaces")
        )
    rest = url.partition("://")[2]
    if not rest.partition("/")[0] or rest.startswith("-"):
        raise RegistryError(f"refusing the URL '{url}': it names no host or bucket")
    return kind


def default_name(location: str, kind: Kind) -> str | None:
    """The name ``get`` writes in the current folder without ``-o``: the last part of
    the path or URL (a query and fragment left out); None if there is none."""
    if kind in (Kind.GIT, Kind.DVC):
        name = posixpath.basename(posixpath.normpath(location))
    else:
        path = location.partition("://")[2].partition("?")[0].partition("#")[0]
        path = path.partition("/")[2]
        name = posixpath.basename(path.rstrip("/"))
    if unsafe_name(name.encode("utf-8", "surrogateescape")) or control_codes(name):
        return None
    return None if name.startswith("-") else name


def is_prefix(url: str) -> bool:
    """Whether a storage URL names a folder (a prefix ending in '/')."""
    return url.endswith("/")


def tool_commands(
    kind: Kind, location: str, out: str, *, repo: str = ".", rev: str = ""
) -> list[list[str]]:
    """The command lines that fetch ``location`` to ``out``, one per tool of
    :data:`TOOLS` (in that order). DVC reads ``location`` (a path) from the repository
    ``repo`` at commit ``rev``.

    ``aws s3 cp`` and ``gcloud storage cp`` / ``gsutil cp`` copy a prefix with
    ``--recursive`` / ``-r``; ``az storage blob download-batch`` writes a prefix's
    blobs under ``out`` with their whole names (see :func:`azure_parts`).
    """
    prefix = is_prefix(location)
    if kind is Kind.DVC:
        return [["dvc", "get", "--rev", rev, "-o", out, "--", repo, location]]
    if kind is Kind.S3:
        return [["aws", "s3", "cp", *(["--recursive"] if prefix else []), location, out]]
    if kind is Kind.GS:
        return [
            ["gcloud", "storage", "cp", *(["--recursive"] if prefix else []), location, out],
            ["gsutil", "cp", *(["-r"] if prefix else []), location, out],
        ]
    if kind is Kind.AZURE:
        container, blob = azure_parts(location)
        if prefix:
            return [
                [
                    "az",
                    "storage",
                    "blob",
                    "download-batch",
                    f"--source={container}",
                    f"--destination={out}",
                    f"--pattern={blob}*",
                ]
            ]
        return [
            [
                "az",
                "storage",
                "blob",
                "download",
                f"--container-name={container}",
                f"--name={blob}",
                f"--file={out}",
            ]
        ]
    raise AssertionError(f"no tool fetches {kind}")


def azure_parts(url: str) -> tuple[str, str]:
    """``azure://CONTAINER/BLOB`` (DVC's form) -> ``(CONTAINER, BLOB)``; the storage
    account comes from the ``az`` configuration (``AZURE_STORAGE_ACCOUNT``…)."""
    rest = url.partition("://")[2]
    container, _, blob = rest.partition("/")
    return container, blob


def command_text(argv: list[str]) -> str:
    """A command line as a user would type it (each value quoted for a POSIX shell)."""
    return shlex.join(argv)


@dataclass(frozen=True, slots=True)
class Source:
    """What ``get`` fetches: a path of the repository at a commit (``GIT``, ``DVC``),
    or a URL."""

    kind: Kind
    location: str
    commit: str

    def shown(self) -> str:
        """What ``--print-url`` prints: the URL, or ``COMMIT:PATH`` (Git's name of the
        file in that commit, as ``git show COMMIT:PATH`` takes it)."""
        if self.kind in (Kind.GIT, Kind.DVC):
            return f"{self.commit}:{self.location}"
        return self.location
