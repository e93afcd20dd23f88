"""Fetching what is not in the repository (``git registry get``): ``http(s)://`` with the
standard library, streamed to a file with a progress bar on a terminal, and the
storage providers' own tools (``aws``, ``gcloud``/``gsutil``, ``az``) and ``dvc``,
run without a shell. Writes only to the temporary path it is given
(:mod:`git_registry.outputs` puts it in place).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time

from git_registry import sources
from git_registry.errors import RegistryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import urllib.request
    from collections.abc import Mapping
    from http.client import HTTPMessage
    from typing import IO, TextIO

CHUNK = 1 << 16
TIMEOUT = 60.0
"""Seconds a connection may stay silent before the download fails."""
LONG = 1 << 20
"""A download of more bytes than this (or of an unknown size) shows a progress bar."""


class Progress:
    """A one-line progress bar on ``stream`` (stderr), drawn only on a terminal and for
    a long download (more than :data:`LONG` bytes, or of unknown size), at most ten
    times a second and once at the end."""

    def __init__(self, stream: TextIO, label: str, total: int | None, *, quiet: bool) -> None:
        from git_registry.render import escape

        self.stream = stream
        self.label = escape(label)
        self.total = total
        isatty = getattr(stream, "isatty", None)
        self.on = not quiet and isatty is not None and isatty() and (total is None or total > LONG)
        self.done = 0
        self._drawn = 0.0

    def update(self, count: int) -> None:
        self.done += count
        if self.on and time.monotonic() - self._drawn >= 0.1:
            self._draw()

    def finish(self) -> None:
        if self.on:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        if self.total:
            share = min(self.done * 100 // self.total, 100)
            bar = "#" * (share // 5)
            text = f"{share:3d}% [{bar:<20}] {_size(self.done)} / {_size(self.total)}"
        else:
            text = _size(self.done)
        self.stream.write(f"\r{self.label} {text}\x1b[K")
        self.stream.flush()


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    raise AssertionError  # not reached


def http_get(url: str, out: str, *, stderr: TextIO, label: str, quiet: bool) -> tuple[int, str]:
    """Download ``url`` to the new file ``out``; return its size and SHA-256.

    Redirects are followed as urllib follows them, but only to http and https (urllib
    alone would follow one to ``ftp://``, to any host); proxies come from the
    environment (``https_proxy``…). A body shorter than its ``Content-Length`` is a
    failure, never a file.

    Raises:
        RegistryError: the server refused (HTTP status), could not be reached, or the
            download stopped midway (``out`` may hold part of it: the caller removes it).
    """
    import http.client
    import urllib.error
    import urllib.request

    from git_registry import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"git-registry/{__version__}"})
    opener = urllib.request.build_opener(_http_redirects())
    try:
        response = opener.open(request, timeout=TIMEOUT)  # the scheme was checked
    except urllib.error.HTTPError as exc:
        raise RegistryError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise RegistryError(f"cannot download {url}: {reason}") from exc
    digest = hashlib.sha256()
    length = response.headers.get("Content-Length")
    total = int(length) if length is not None and length.isdigit() else None
    progress = Progress(stderr, label, total, quiet=quiet)
    got = 0
    with response, open(out, "xb") as f:
        try:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                digest.update(chunk)
                got += len(chunk)
                progress.update(len(chunk))
        except (OSError, http.client.HTTPException) as exc:
            progress.finish()
            raise _stopped(url, got, total, exc) from exc
        progress.finish()
    if total is not None and got != total:
        raise _stopped(url, got, total, None)
    return got, digest.hexdigest()


def _http_redirects() -> urllib.request.HTTPRedirectHandler:
    """urllib's redirect handler, refusing a redirect to anything but http(s)."""
    import urllib.parse
    import urllib.request

    class Redirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self,
            req: urllib.request.Request,
            fp: IO[bytes],
            code: int,
            msg: str,
            headers: HTTPMessage,
            newurl: str,
        ) -> urllib.request.Request | None:
            scheme = urllib.parse.urlsplit(newurl).scheme.lower()
            if scheme not in ("http", "https"):
                fp.close()
                raise RegistryError(
                    f"cannot download {req.full_url}: it redirects to '{newurl}', "
                    "which is not an http:// or https:// URL"
                )
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return Redirects()


def _stopped(url: str, got: int, total: int | None, exc: BaseException | None) -> RegistryError:
    of = f" of {total}" if total is not None else ""
    why = f": {exc}" if exc is not None and str(exc) else ""
    return RegistryError(
        f"the download of {url} stopped after {got}{of} bytes{why}",
        hint="nothing was written; run the command again",
    )


def find_tool(kind: sources.Kind, env: Mapping[str, str]) -> str | None:
    """The first of the programs fetching ``kind`` found on the ``PATH`` of ``env``."""
    for name in sources.TOOLS[kind]:
        if shutil.which(name, path=env.get("PATH", os.defpath)):
            return name
    return None


def run_tool(argv: list[str], env: Mapping[str, str], cwd: str, *, shown: list[str]) -> None:
    """Run a fetching tool: its output goes to our stderr (file descriptor 2), where its
    own progress and errors belong, never to stdout (ours is data); stdin is closed: it
    must not wait for a question. ``shown`` is the command line messages print (the
    destination, not the temporary path).

    Raises:
        RegistryError: it cannot be started, or exits non-zero.
    """
    program = shutil.which(argv[0], path=env.get("PATH", os.defpath)) or argv[0]
    try:
        proc = subprocess.run(
            [program, *argv[1:]],
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=2,
            check=False,
        )
    except OSError as exc:
        raise RegistryError(f"cannot run {argv[0]}: {exc}") from exc
    if proc.returncode != 0:
        raise RegistryError(
            f"{argv[0]} failed (exit {proc.returncode}): {sources.command_text(shown)}",
            hint="its own message is above; nothing was written",
        )
