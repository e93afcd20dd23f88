"""``history NAME --graph``: an artifact's lifecycle (:mod:`git_registry.lifecycle`) as
text, one line per event and one column (a lane) per stage, as ``git log --graph``
draws branches: a lane's line runs while a version holds the stage, a mark shows where
the holder changed. Unicode box characters, or ASCII (``--ascii``, a non-UTF-8 locale).

Pure: returns the lines as parts for :meth:`Session.out` (which escapes each line and
colours the styled parts as Git's colour settings say).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from git_registry.gitvalues import short
from git_registry.lifecycle import Lifecycle, Mark, Step
from git_registry.render import _width, escape, whens

Part = str | tuple[str, str]


@dataclass(frozen=True, slots=True)
class Glyphs:
    """The characters a graph is drawn with."""

    line: str
    """A lane while a version holds the stage."""
    dotted: str
    """A lane while a version holds the stage of a deprecated artifact."""
    marks: Mapping[Mark, str]
    empty: str
    """A mark where the stage was left empty."""


UNICODE = Glyphs(
    "│",
    "┊",
    {
        Mark.PROMOTION: "●",
        Mark.ROLLBACK: "↶",
        Mark.DEREGISTRATION: "✕",
        Mark.UNASSIGNMENT: "○",
        Mark.REGISTRATION: "+",
        Mark.DEPRECATION: "⊘",
    },
    "○",
)
ASCII = Glyphs(
    "|",
    ":",
    {
        Mark.PROMOTION: "*",
        Mark.ROLLBACK: "<",
        Mark.DEREGISTRATION: "x",
        Mark.UNASSIGNMENT: "o",
        Mark.REGISTRATION: "+",
        Mark.DEPRECATION: "!",
    },
    "o",
)

MARK_STYLES = {
    Mark.PROMOTION: "version",
    Mark.ROLLBACK: "warning",
    Mark.DEREGISTRATION: "error",
    Mark.UNASSIGNMENT: "warning",
    Mark.REGISTRATION: "version",
    Mark.DEPRECATION: "warning",
}


def unicode_ok(env: Mapping[str, str], encoding: str | None) -> bool:
    """Whether to draw with Unicode: the locale Git's own output follows (``LC_ALL``,
    ``LC_CTYPE``, ``LANG``, the first set) names UTF-8; with none set, the output
    stream's encoding decides."""
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(var)
        if value:
            norm = value.lower().replace("-", "")
            return "utf8" in norm
    if encoding:
        import codecs

        try:
            return codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            return False
    return False


def describe_step(step: Step) -> str:
    """What an event did, in words: ``promoted v1.2.0 to prod``."""
    event = step.event
    version, stage = event.version or "", event.stage or ""
    return {
        Mark.REGISTRATION: f"registered {version}",
        Mark.PROMOTION: f"promoted {version} to {stage}",
        Mark.ROLLBACK: f"rolled back {stage}: {version} unassigned",
        Mark.UNASSIGNMENT: f"unassigned {stage} from {version}",
        Mark.DEREGISTRATION: f"deregistered {version}",
        Mark.DEPRECATION: f"deprecated {event.artifact}",
    }[step.mark]


def graph_lines(
    model: Lifecycle, glyphs: Glyphs, *, ascending: bool = False
) -> Iterator[list[Part]]:
    """The graph's lines (header first), newest event first unless ``ascending``."""
    steps = model.steps
    cells = [[_cell(step, lane, glyphs) for lane in range(len(model.stages))] for step in steps]
    widths = [
        max([_width(escape(stage)), *(_width(escape(row[lane][0])) for row in cells)])
        for lane, stage in enumerate(model.stages)
    ]
    times = whens([s.event.tagger for s in steps])
    time_width = max([4, *map(len, times)])
    header: list[Part] = [("time", "header"), " " * (time_width - 2)]
    for stage, width in zip(model.stages, widths, strict=True):
        header += [(stage, "header"), _fill(stage, width)]
    header.append(("event", "header"))
    yield header
    order = range(len(steps)) if ascending else range(len(steps) - 1, -1, -1)
    for i in order:
        step = steps[i]
        parts: list[Part] = [times[i].ljust(time_width + 2)]
        for (text, style), width in zip(cells[i], widths, strict=True):
            parts += [(text, style) if style else text, _fill(text, width)]
        mark = glyphs.marks[step.mark]
        parts += [(mark, MARK_STYLES[step.mark]), " ", describe_step(step)]
        parts += ["  ", (short(step.event.commit), "commit"), "  ", (step.event.tag, "dim")]
        yield parts


def _cell(step: Step, lane: int, glyphs: Glyphs) -> tuple[str, str]:
    """One lane's cell on one event's line: a mark and the new holder where the holder
    changed, the lane's line while one holds it, blank otherwise."""
    holder = step.holders[lane]
    if lane in step.changed:
        if holder is None:
            return glyphs.empty, MARK_STYLES[step.mark]
        mark = glyphs.marks[step.mark]
        return f"{mark} {holder}", MARK_STYLES[step.mark]
    if holder is None:
        return "", ""
    return (glyphs.dotted if step.deprecated else glyphs.line), "dim"


def _fill(text: str, width: int) -> str:
    """The spaces that fill ``text``'s column (two more between columns); the width is
    that of the text as it is shown, escaped."""
    return " " * (width - _width(escape(text)) + 2)
