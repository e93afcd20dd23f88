"""The lifecycle timeline of the site's artifact pages, as inline SVG (issue 18).

One lane per stage (:class:`~git_registry.lifecycle.Lifecycle`), the events left to
right one column each (an event per column keeps a burst of promotions readable where
a time scale would draw them on top of each other; the axis says the dates). A bar per
version holding the stage, marks where the holder changed, the deprecated stretches
shaded, and a top row with a mark per event. Colours are CSS classes (light and dark
themes in :mod:`git_registry.sitepages`); every text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from git_registry.lifecycle import Lifecycle, Mark, Step
from git_registry.render import when
from git_registry.sitegen import h

MAX_STEPS = 150
"""Events drawn at most: a longer history shows its newest ones (the tables have all)."""
LABEL_W = 104
"""The lane names' column, which stays in place while a long timeline scrolls."""
LEFT = 8
LANE_H = 34
TOP = 8
PALETTE = 8

_MARK_CLASS = {
    Mark.REGISTRATION: "m-reg",
    Mark.PROMOTION: "m-promo",
    Mark.ROLLBACK: "m-roll",
    Mark.UNASSIGNMENT: "m-unassign",
    Mark.DEREGISTRATION: "m-dereg",
    Mark.DEPRECATION: "m-deprecate",
}


def version_colours(model: Lifecycle) -> dict[str, int]:
    """Each version's colour (0..PALETTE-1): in order of registration, so neighbours differ."""
    colours: dict[str, int] = {}
    for step in model.steps:
        version = step.event.version
        if version is not None and version not in colours:
            colours[version] = len(colours) % PALETTE
    return colours


def describe(step: Step) -> str:
    from git_registry.timeline import describe_step

    event = step.event
    who = event.tagger.name or event.tagger.email
    return f"{describe_step(step)}\n{when(event.tagger)} by {who}\n{event.tag}"


def timeline_svg(model: Lifecycle, anchors: Mapping[str, str] | None = None) -> str:
    """The timeline of ``model`` (its newest :data:`MAX_STEPS` events); ``anchors``:
    version -> the URL fragment of its row, linked from its bars."""
    steps = model.steps
    first = max(0, len(steps) - MAX_STEPS)
    shown = steps[first:]
    count = max(1, len(shown))
    step_w = max(26.0, min(96.0, 720.0 / count))
    lanes = len(model.stages)
    width = LEFT + step_w * (count + 0.8) + 16  # and room for 'now'
    axis_y = TOP + LANE_H * (lanes + 1) + 6
    height = axis_y + 30
    colours = version_colours(model)

    def x(index: int) -> float:  # the middle of an event's column
        return LEFT + (index - first) * step_w + step_w / 2

    out = [
        '<div class="tl">',
        _labels(model.stages, height),
        '<div class="scroll lifecycle">',
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'aria-label="lifecycle of {h(model.artifact)}: one lane per stage">',
        '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect class="hatch" width="3" height="8"/></pattern></defs>',
    ]
    # The deprecated stretches, behind everything.
    for start, end in model.deprecated_ranges():
        if end is not None and end <= first:
            continue
        x0 = x(max(start, first)) - step_w / 2
        x1 = x(end) - step_w / 2 if end is not None else width - 8
        out.append(
            f'<g class="deprecated"><title>deprecated</title><rect x="{x0:.1f}" y="{TOP}" '
            f'width="{x1 - x0:.1f}" height="{LANE_H * (lanes + 1)}" fill="url(#hatch)"/>'
            f'<text class="dep-label" x="{x0 + 4:.1f}" y="{TOP + 12}">deprecated</text></g>'
        )
    # The events row.
    out.append('<g class="events">')
    for offset, step in enumerate(shown):
        cx, cy = x(first + offset), TOP + LANE_H / 2
        out.append(
            f'<circle class="ev {_MARK_CLASS[step.mark]}" cx="{cx:.1f}" cy="{cy}" r="5">'
            f"<title>{h(describe(step))}</title></circle>"
        )
    out.append("</g>")
    for lane, stage in enumerate(model.stages):
        out.append(_lane(model, lane, stage, first, x, step_w, width, colours, anchors or {}))
    out.append(_axis(shown, first, x, axis_y, step_w, width - 8))
    now = width - 12
    out.append(f'<text class="date now" x="{now:.1f}" y="{axis_y + 16}">now</text>')
    out.append("</svg></div></div>")
    if first:
        out.append(
            f'<p class="legend">The newest {len(shown)} of {len(steps)} events '
            "(the history below has them all).</p>"
        )
    return "".join(out)


def _labels(stages: tuple[str, ...], height: float) -> str:
    """The column of lane names beside the timeline."""
    out = [
        f'<svg class="tl-labels" xmlns="http://www.w3.org/2000/svg" width="{LABEL_W}" '
        f'height="{height:.0f}" aria-hidden="true">',
        f'<text class="lane-name" x="4" y="{TOP + LANE_H / 2 + 4}">events</text>',
    ]
    for lane, stage in enumerate(stages):
        mid = TOP + LANE_H * (lane + 1) + LANE_H / 2
        shown = stage if len(stage) <= 13 else stage[:12] + "…"
        out.append(
            f'<text class="lane-name" x="4" y="{mid + 4}"><title>{h(stage)}</title>'
            f"{h(shown)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _lane(
    model: Lifecycle,
    lane: int,
    stage: str,
    first: int,
    x: Callable[[int], float],
    step_w: float,
    width: float,
    colours: Mapping[str, int],
    anchors: Mapping[str, str],
) -> str:
    top = TOP + LANE_H * (lane + 1)
    mid = top + LANE_H / 2
    out = [
        f'<g class="lane" data-stage="{h(stage)}"><title>{h(stage)}</title>',
        f'<line class="lane-rule" x1="{LEFT}" x2="{width - 8:.0f}" y1="{mid}" y2="{mid}"/>',
    ]
    for span in model.spans(lane):
        if span.end is not None and span.end <= first:
            continue
        start = max(span.start, first)
        x0 = x(start)
        x1 = x(span.end) if span.end is not None else width - 8
        colour = colours.get(span.version, 0)
        bar = (
            f'<rect class="span c{colour}" data-version="{h(span.version)}" x="{x0:.1f}" '
            f'y="{mid - 10}" width="{max(x1 - x0, 4):.1f}" height="20" rx="4">'
            f"<title>{h(span.version)} in {h(stage)}</title></rect>"
        )
        anchor = anchors.get(span.version)
        if anchor is not None:
            bar = f'<a href="#{h(anchor)}">{bar}</a>'
        out.append(bar)
        if (x1 - x0) >= 7.5 * len(span.version) + 14:
            out.append(
                f'<text class="span-label" x="{x0 + 10:.1f}" y="{mid + 4}">{h(span.version)}</text>'
            )
    for index in range(first, len(model.steps)):
        step = model.steps[index]
        if lane not in step.changed:
            continue
        cx = x(index)
        cls = _MARK_CLASS[step.mark]
        title = f"<title>{h(describe(step))}</title>"
        if step.holders[lane] is None:  # emptied
            out.append(f'<circle class="mk hollow {cls}" cx="{cx:.1f}" cy="{mid}" r="6">{title}')
            out.append("</circle>")
        elif step.mark in (Mark.ROLLBACK, Mark.DEREGISTRATION):
            out.append(
                f'<path class="mk {cls}" d="M{cx - 6:.1f} {mid}l6 -7l6 7l-6 7z">{title}</path>'
            )
        else:
            out.append(f'<circle class="mk {cls}" cx="{cx:.1f}" cy="{mid}" r="6">{title}</circle>')
    out.append("</g>")
    return "".join(out)


def _axis(
    shown: tuple[Step, ...],
    first: int,
    x: Callable[[int], float],
    y: float,
    step_w: float,
    end: float,
) -> str:
    every = max(1, int(-(-84 // step_w)))
    out = [
        f'<g class="axis"><line class="lane-rule" x1="{LEFT}" x2="{end:.1f}" y1="{y}" y2="{y}"/>'
    ]
    last_date = ""
    for offset in range(0, len(shown), every):
        date = when(shown[offset].event.tagger)[:10]
        if date == last_date:
            continue
        last_date = date
        cx = x(first + offset)
        out.append(f'<line class="tick" x1="{cx:.1f}" x2="{cx:.1f}" y1="{y}" y2="{y + 4}"/>')
        out.append(f'<text class="date" x="{cx:.1f}" y="{y + 16}">{h(date)}</text>')
    out.append("</g>")
    return "".join(out)
