"""Every exception type of the package, and the exit codes the CLI maps them to (SPEC 6).

Git's conventions: 0 success, 1 a lookup that found nothing or a failed check,
128 a fatal error, 129 a usage error.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_registry.remote import FetchResult
    from git_registry.yamlsafe import YamlProblem

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_FATAL = 128
EXIT_USAGE = 129


class RegistryError(Exception):
    """A failure to report as ``fatal: MESSAGE`` (plus ``hint: HINT``).

    Args:
        message: what went wrong, in one line.
        hint: what to do about it, or None.
        exit_code: the process exit code (128 unless a subclass says otherwise).
    """

    exit_code = EXIT_FATAL
    prefix = "fatal"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotFoundError(RegistryError):
    """A lookup found nothing (an unknown artifact, no holder of a stage): exit 1."""

    exit_code = EXIT_NOT_FOUND
    prefix = "error"


class UsageError(RegistryError):
    """The command line is wrong: exit 129 with the usage."""

    exit_code = EXIT_USAGE
    prefix = "error"


class PushError(RegistryError):
    """A push was rejected; local tags were kept: exit 1."""

    exit_code = EXIT_NOT_FOUND
    prefix = "error"


class GitError(RegistryError):
    """``git`` failed; the message carries what Git printed."""


class TagExistsError(RegistryError):
    """The tag to create exists already; nothing was written."""


class FetchError(GitError):
    """Some tags could not be fetched; ``result`` says what was (and what was not)."""

    def __init__(self, message: str, result: FetchResult, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.result = result


class ObjectTooLarge(Exception):
    """An object larger than the caller's limit: its bytes were skipped, never kept."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


class GrammarError(RegistryError, ValueError):
    """A name, stage, version or tag name that the grammar does not allow (fatal, exit 128)."""


class AnnotationError(RegistryError):
    """An ``artifacts.yaml`` that cannot be used; the message lists its problems."""


class YamlError(Exception):
    """The file cannot be read as YAML at all (syntax, size, encoding, limits)."""

    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class UsageText(Exception):
    """Carries the usage text of the parser that failed (the cause of a UsageError the
    command line raises), so the usage printed is that command's."""
