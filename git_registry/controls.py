"""Characters that are not plain text on one line, and text that CI runners read as
commands: the one definition shared by output escaping (:func:`render.escape`,
``--json``, ``describe``'s YAML) and the ``artifacts.yaml`` rule that refuses them.

Pure; imports only :mod:`re` (it is on the path of every message).
"""

from __future__ import annotations

import re

# C0 controls (line feed, tab and ESC included), DEL and the C1 controls (U+0085 NEL,
# U+009B CSI); the Unicode line and paragraph separators; the bidirectional marks,
# embeddings, overrides and isolates that reorder what a reader sees ("Trojan Source",
# CVE-2021-42574); and lone surrogates (undecodable bytes read with surrogateescape,
# which a UTF-8 stream cannot even write).
_RANGES = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0x2028, 0x2029),
    (0x061C, 0x061C),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2066, 0x2069),
    (0xD800, 0xDFFF),
)


def control_class(*, allowed: str = "", surrogates: bool = True) -> str:
    """The characters of :data:`CONTROL_RE` but ``allowed``, as the inside of a regular
    expression's ``[...]``, in ``\\uXXXX`` escapes that Python and ECMAScript (JSON
    Schema) read alike; ``surrogates=False`` leaves lone surrogates out (an ECMAScript
    pattern without the ``u`` flag would match halves of every emoji)."""
    codes = sorted(ord(c) for c in allowed)
    parts = []
    for low, high in _RANGES if surrogates else _RANGES[:-1]:
        for start, end in _without(low, high, codes):
            parts.append(f"\\u{start:04x}" + (f"-\\u{end:04x}" if end > start else ""))
    return "".join(parts)


def _without(low: int, high: int, codes: list[int]) -> list[tuple[int, int]]:
    spans = [(low, high)]
    for code in codes:
        spans = [
            piece
            for start, end in spans
            for piece in ((start, min(end, code - 1)), (max(start, code + 1), end))
            if piece[0] <= piece[1]
        ]
    return spans


CONTROL_RE = re.compile(f"[{control_class()}]")
"""One character that must never be written raw."""

# GitHub Actions' first command syntax (``##[error]``), Azure Pipelines' ``##vso[`` and
# TeamCity's ``##teamcity[`` are read anywhere in a line: the second '#' of such a
# sequence is the one to escape.
CI_COMMAND_RE = re.compile(r"(?<=#)#(?=[A-Za-z]*\[)")
"""The character that makes ``##[``, ``##vso[`` ... a CI command."""


def control_codes(text: str, *, allowed: str = "") -> list[str]:
    """The code points (``U+001B``) of the characters of ``text`` that match
    :data:`CONTROL_RE`, except those in ``allowed``; each once, in order of first use."""
    found = dict.fromkeys(c for c in CONTROL_RE.findall(text) if c not in allowed)
    return [f"U+{ord(c):04X}" for c in found]


def starts_ci_command(line: str) -> bool:
    """Whether a CI runner reads ``line`` as a workflow command: GitHub Actions trims
    leading white space, then looks for ``::`` (runner ``ActionCommand.TryParseV2``)."""
    return line.lstrip().startswith("::")
