"""Suggestions for a mistyped word: the closest known words (``prd``: did you mean
'prod'?), and whether a new name is one edit away from a known one (``chrun`` next
to ``churn``). Pure functions, no Git."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one character inserted, deleted or replaced, or two
    neighbouring characters swapped (``chrun``/``churn``); a word is not one edit from
    itself."""
    return _edited(a, b) is not None


def likely_typo(a: str, b: str) -> bool:
    """Whether a new name ``a`` looks like a slip for the existing ``b``: one edit apart,
    the edit not touching a digit (``model-01`` next to ``model-00`` is a series, not a
    typo), and both at least four characters long (``cv`` and ``nv`` are words)."""
    edited = _edited(a, b)
    return edited is not None and min(len(a), len(b)) >= 4 and not any(c.isdigit() for c in edited)


def _edited(a: str, b: str) -> str | None:
    """The characters one edit changes between ``a`` and ``b``, or None if they are
    equal or more than one edit apart."""
    if a == b or abs(len(a) - len(b)) > 1:
        return None
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        i = diff[0]
        if len(diff) == 1:
            return a[i] + b[i]
        swapped = len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
        return a[i : i + 2] if swapped else None
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return long[i] if short[i:] == long[i + 1 :] else None


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` candidates close to ``word``: those one edit away first (in the
    given order), then difflib's close matches."""
    names = list(dict.fromkeys(c for c in candidates if c != word))
    near = [c for c in names if one_edit_apart(word, c)]
    rest = [c for c in difflib.get_close_matches(word, names, n=n, cutoff=0.6) if c not in near]
    return (near + rest)[:n]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """``did you mean 'a'?`` (or ``'a' or 'b'``) for the closest candidates, or None."""
    close = closest(word, candidates)
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
