"""The session: what one run of a command works with.

Streams (stdin included), environment, working directory and colour come from
the caller (:func:`git_registry.cli.main`, or a test in-process); the repository,
its config, the committed catalog and the ``--remote`` caches are opened on first
use and closed at the end. This module imports neither argparse nor the commands.
"""

from __future__ import annotations

# Importing typing costs 2 ms of a start-up; mypy reads this name as typing.TYPE_CHECKING.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager
    from typing import TextIO

    from git_registry.catalog import Catalog
    from git_registry.render import Painter
    from git_registry.repo import Repository


class Session:
    """What a command runs with: streams, environment, working directory, colour, and
    the repository and its config, opened lazily (one per run)."""

    def __init__(
        self,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        env: Mapping[str, str],
        cwd: str,
        color: str | None,
    ) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.env = env
        self.cwd = cwd
        self.color_option = color
        self._repo: Repository | None = None
        self._config: dict[str, str] | None = None
        self._painter: Painter | None = None
        self._catalog: Catalog | None = None
        self.remotes: list[str] = []
        """``--remote``: read these remotes' registries instead of the local one."""
        self._mirrors: list[tuple[str, str]] | None = None
        self.cache: str | None = None
        """A ``--remote`` cache to read instead of the repository (one remote's part)."""
        self.shallow_warned = False
        """The shallow-clone warning was given (it is given once per command)."""

    def child(self, cwd: str | None = None) -> Session:
        """A new session with these streams, environment and colour (in ``cwd``)."""
        return Session(
            self.stdin, self.stdout, self.stderr, self.env, cwd or self.cwd, self.color_option
        )

    def repo(self) -> Repository:
        """The repository Git finds from the current directory (fatal if none); with
        ``--remote``, the local cache of the (first) remote's registry tags."""
        if self._repo is None:
            from git_registry.repo import Repository

            cache = self.cache or (self.mirrors()[0][1] if self.remotes else None)
            if cache is not None:  # not found by Git: GIT_DIR may name another repository
                from git_registry.remotecache import cache_paths

                self._repo = Repository(
                    cache_paths(cache), use_cache=self._use_tag_cache, env=self.env
                )
            else:
                self._repo = Repository.discover(
                    self.cwd, use_cache=self._use_tag_cache, env=self.env
                )
        return self._repo

    def mirrors(self) -> list[tuple[str, str]]:
        """``(label, cache path)`` of each ``--remote``, brought up to date once."""
        if self._mirrors is None:
            from git_registry import remotecache

            self._mirrors = remotecache.sync_all(self.remotes, self.cwd, self.env, self.config())
        return self._mirrors

    def _use_tag_cache(self) -> bool:
        """``registry.cache`` (default true): keep parsed tag objects in the Git directory."""
        from git_registry.gitbin import config_bool

        return config_bool(self.config(), "registry.cache", True)

    def write_lock(self, command: str) -> AbstractContextManager[str]:
        """The repository's write lock, waited for up to ``registry.lockTimeout``; a
        stale lock taken over is reported as a warning. ``command`` (e.g. ``promote
        churn``) is written into the lock so a waiter can say who holds it."""
        from git_registry.writelock import lock_timeout

        timeout = lock_timeout(self.config())
        return self.repo().write_lock(command, timeout=timeout, notice=self.warn)

    def catalog(self) -> Catalog:
        """Committed annotations and policy of the repository, read lazily and cached."""
        if self._catalog is None:
            from git_registry.catalog import Catalog

            self._catalog = Catalog(self.repo())
        return self._catalog

    def config(self) -> dict[str, str]:
        """Git config under ``registry.``, ``color.`` and ``tag.``, read once."""
        if self._config is None:
            from git_registry import gitbin

            self._config = gitbin.config_values(
                r"^(registry|color|tag)\.", cwd=self.cwd, env=self.env
            )
        return self._config

    def paint(self) -> Painter:
        """Colour for stdout, decided as Git decides."""
        if self._painter is None:
            from git_registry.render import Painter, want_color

            config: Mapping[str, str] = {}
            if self.color_option is None and not self.env.get("NO_COLOR"):
                config = self.config()
            self._painter = Painter(want_color(self.color_option, self.env, config, self.stdout))
        return self._painter

    def out(self, *parts: str | tuple[str, str]) -> None:
        """One line on stdout, from texts and ``(text, style)`` parts (coloured when
        colour is on). It is escaped as one line (:func:`render.escape`): it may hold
        data from tags and files, whose line breaks and control characters must not
        reach a terminal or CI log raw. Print several lines with several calls."""
        from git_registry.render import safe_line

        styled = any(not isinstance(part, str) for part in parts)
        self.stdout.write(safe_line(parts, self.paint() if styled else None) + "\n")

    def message(self, prefix: str, text: str) -> None:
        """``prefix: text`` on stderr (``warning``, ``hint``, ``error``, ``fatal``), as
        one escaped line (see :meth:`out`)."""
        from git_registry.render import escape

        self.stderr.write(f"{prefix}: {escape(text)}\n")

    def warn(self, text: str) -> None:
        self.message("warning", text)

    def close(self) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None
