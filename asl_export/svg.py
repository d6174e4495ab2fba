"""The state machine drawn as SVG, without Graphviz: a layered layout from the model.

:func:`render_svg` is a pure function of the machine and, optionally, one execution's history:
with a history, each state is coloured by its outcome (succeeded, retried with the count,
caught, failed, compensation, failure handling, running, not reached) and the transitions
taken are drawn strong, a caught error's edge in red. Catch edges are dashed, edges into the
unwind chain orange. Every state is a ``<g class="state" data-state="NAME">`` so a page can
make it clickable; the styles are embedded, so the file stands alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Final
from xml.sax.saxutils import escape

from asl_export.execution_path import (
    ExecutionPath,
    Outcome,
    Role,
    execution_path,
    infer_roles,
)
from asl_export.graph import machine_graph
from asl_export.layout import Box, Layout, Route, layout_machine, text_width
from engine.history import HistoryEvent
from engine.model import StateMachine

__all__ = ["OUTCOME_LABELS", "SVG_STYLE", "render_svg", "svg_drawing"]

OUTCOME_LABELS: Final[Mapping[Outcome, str]] = {
    "succeeded": "succeeded",
    "retried": "retried",
    "caught": "caught",
    "failed": "failed",
    "compensation": "compensation",
    "failure-handling": "failure handling",
    "running": "running",
    "not-reached": "not reached",
}

SVG_STYLE: Final = """
.sm text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:13px}
.sm .state rect.box{fill:#fff;stroke:#546e7a;stroke-width:1.5}
.sm .state text.name{fill:#263238;text-anchor:middle;dominant-baseline:central}
.sm .state.role-compensation rect.box{stroke:#e67e22}
.sm .state.role-failure-handler rect.box{stroke:#8e24aa}
.sm .container rect.box{fill:#f7f9fa}
.sm .container rect.branch{fill:none;stroke:#b0bec5;stroke-dasharray:4 3}
.sm .container text.name{text-anchor:start}
.sm .container text.kind{fill:#78909c;font-size:11px;text-anchor:end}
.sm .o-succeeded rect.box{fill:#e8f5e9;stroke:#2e7d32;stroke-width:2}
.sm .o-retried rect.box{fill:#e3f2fd;stroke:#1565c0;stroke-width:2}
.sm .o-caught rect.box{fill:#ffebee;stroke:#c62828;stroke-width:2.5}
.sm .o-failed rect.box{fill:#c62828;stroke:#8e0000;stroke-width:2.5}
.sm .o-failed text.name{fill:#fff;font-weight:600}
.sm .o-compensation rect.box{fill:#fff3e0;stroke:#e67e22;stroke-width:2}
.sm .o-failure-handling rect.box{fill:#f3e5f5;stroke:#8e24aa;stroke-width:2}
.sm .o-running rect.box{fill:#e3f2fd;stroke:#1976d2;stroke-width:2.5;stroke-dasharray:6 3}
.sm .o-not-reached rect.box{fill:#fafafa;stroke:#cfd8dc}
.sm .o-not-reached text.name{fill:#90a4ae}
.sm .container.o-succeeded rect.box,.sm .container.o-retried rect.box{fill:#f4fbf4}
.sm .badge rect{fill:#1565c0;stroke:#fff}
.sm .badge text{fill:#fff;font-size:11px;font-weight:600;text-anchor:middle;
  dominant-baseline:central}
.sm .edge{fill:none;stroke:#78909c;stroke-width:1.5}
.sm .edge.k-catch{stroke:#d62728;stroke-dasharray:5 4}
.sm .edge.compensation{stroke:#e67e22;stroke-width:2.5}
.sm .edge.idle{opacity:.3}
.sm .edge.taken{stroke:#2e7d32;stroke-width:3;opacity:1}
.sm .edge.taken.compensation{stroke:#e67e22}
.sm .edge.taken.handling{stroke:#8e24aa}
.sm .edge.taken.caught{stroke:#c62828;stroke-dasharray:7 4}
.sm text.label{font-size:11px;fill:#607d8b}
.sm text.label.k-catch{fill:#d62728}
.sm text.count{font-size:11px;font-weight:600;fill:#2e7d32}
.sm .legend text{font-size:11px;fill:#455a64;dominant-baseline:central}
.sm .start{fill:#37474f}
"""

_ARROWS: Final = {
    "plain": "#78909c",
    "catch": "#d62728",
    "compensation": "#e67e22",
    "taken": "#2e7d32",
    "handling": "#8e24aa",
    "caught": "#c62828",
}
_LEGEND: Final[tuple[Outcome, ...]] = (
    "succeeded",
    "retried",
    "caught",
    "failed",
    "compensation",
    "failure-handling",
    "running",
    "not-reached",
)
_LEGEND_HEIGHT: Final = 34.0
_LEGEND_MIN_WIDTH: Final = 420.0


def _attr(value: str) -> str:
    """An XML attribute value, always in double quotes."""
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _fit(name: str, width: float) -> str:
    room = int((width - 16) / text_width("m"))
    return name if len(name) <= room else name[: max(1, room - 1)] + "…"


def _curve(points: list[tuple[float, float]]) -> str:
    """A path through ``points``: vertical runs joined by smooth S-bends."""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{_fmt(x0)},{_fmt(y0)}"]
    px, py = x0, y0
    for x, y in rest:
        if abs(x - px) < 0.5 or abs(y - py) < 0.5:
            parts.append(f"L{_fmt(x)},{_fmt(y)}")
        else:
            middle = (py + y) / 2
            parts.append(f"C{_fmt(px)},{_fmt(middle)} {_fmt(x)},{_fmt(middle)} {_fmt(x)},{_fmt(y)}")
        px, py = x, y
    return " ".join(parts)


def _defs() -> list[str]:
    out = ["<defs>"]
    for name, colour in _ARROWS.items():
        out.append(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
            f'orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    return out


def _state_group(
    box: Box, roles: Mapping[str, Role], path: ExecutionPath | None, index: int
) -> list[str]:
    classes = ["state"]
    if box.container:
        classes.append("container")
    role = roles.get(box.name)
    if role is not None:
        classes.append(f"role-{role}")
    record = path.states.get(box.name) if path is not None else None
    title = f"{box.name} ({box.state_type})"
    if record is not None:
        classes.append(f"o-{record.outcome}")
        title += f": {OUTCOME_LABELS[record.outcome]}"
        if record.retries:
            title += f", {record.retries} {'retry' if record.retries == 1 else 'retries'}"
    rx = 4 if box.state_type in ("Task", "Parallel", "Map") else 18
    if box.state_type in ("Succeed", "Fail"):
        rx = 19
    out = [
        f'<g class="{" ".join(classes)}" data-state={_attr(box.name)} '
        f'data-type="{box.state_type}" id="state-{index}" tabindex="0">',
        f"<title>{escape(title)}</title>",
        f'<rect class="box" x="{_fmt(box.x)}" y="{_fmt(box.y)}" width="{_fmt(box.width)}" '
        f'height="{_fmt(box.height)}" rx="{rx}"/>',
    ]
    if box.container:
        out.append(
            f'<text class="name" x="{_fmt(box.x + 10)}" y="{_fmt(box.y + 17)}">'
            f"{escape(_fit(box.name, box.width - 60))}</text>"
        )
        out.append(
            f'<text class="kind" x="{_fmt(box.x + box.width - 10)}" y="{_fmt(box.y + 17)}">'
            f"{box.state_type}</text>"
        )
        for x, y, width, height in box.branches:
            out.append(
                f'<rect class="branch" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(width)}" '
                f'height="{_fmt(height)}" rx="6"/>'
            )
    else:
        out.append(
            f'<text class="name" x="{_fmt(box.x + box.width / 2)}" '
            f'y="{_fmt(box.y + box.height / 2)}">{escape(_fit(box.name, box.width))}</text>'
        )
    if record is not None and record.retries:
        cx, cy = box.x + box.width - 4, box.y + 2
        out.append(
            f'<g class="badge"><rect x="{_fmt(cx - 18)}" y="{_fmt(cy - 9)}" width="36" '
            f'height="18" rx="9"/><text x="{_fmt(cx)}" y="{_fmt(cy)}">↻{record.retries}</text></g>'
        )
    out.append("</g>")
    return out


def _edge(
    route: Route,
    roles: Mapping[str, Role],
    path: ExecutionPath | None,
    taken: Mapping[tuple[str, str, bool], int],
) -> list[str]:
    classes = ["edge", f"k-{route.kind}"]
    arrow = "catch" if route.kind == "catch" else "plain"
    if route.compensation:
        classes.append("compensation")
        arrow = "compensation" if route.kind != "catch" else arrow
    count = 0
    if path is not None:
        count = taken.get((route.source, route.target, route.kind == "catch"), 0)
        if count:
            classes.append("taken")
            arrow = "taken"
            role = roles.get(route.target)
            if route.kind == "catch":
                classes.append("caught")
                arrow = "caught"
            elif role == "compensation" or (role is None and route.compensation):
                arrow = "compensation"
            elif role == "failure-handler":
                classes.append("handling")
                arrow = "handling"
        else:
            classes.append("idle")
    data = f"data-source={_attr(route.source)} data-target={_attr(route.target)}"
    out = [
        f'<path class="{" ".join(classes)}" {data} d="{_curve(route.points)}" '
        f'marker-end="url(#arrow-{arrow})"/>'
    ]
    if route.label:
        x0, y0 = route.points[0]
        # a catch-all is the common case: "catch" alone, the full text on hover
        shown = "catch" if route.label == "catch States.ALL" else route.label
        out.append(
            f'<text class="label k-{route.kind}" x="{_fmt(x0 + 6)}" y="{_fmt(y0 + 14)}">'
            f"<title>{escape(route.label)}</title>{escape(shown)}</text>"
        )
    if count > 1:
        tx, ty = route.points[-1]
        out.append(
            f'<text class="count" x="{_fmt(tx + 6)}" y="{_fmt(ty - 6)}">\u00d7{count}</text>'
        )
    return out


def _legend(y: float, width: float) -> tuple[list[str], float]:
    """The outcome key, wrapped to ``width``; returns its elements and its height."""
    out = [f'<g class="legend" transform="translate(24,{_fmt(y)})">']
    x = row = 0.0
    for outcome in _LEGEND:
        label = OUTCOME_LABELS[outcome]
        item = 24 + text_width(label) + 16
        if x and x + item > width - 48:
            x, row = 0.0, row + 22
        out.append(
            f'<g class="state o-{outcome}"><rect class="box" x="{_fmt(x)}" y="{_fmt(row)}" '
            f'width="18" height="14" rx="3"/></g>'
            f'<text x="{_fmt(x + 24)}" y="{_fmt(row + 7)}">{label}</text>'
        )
        x += item
    out.append("</g>")
    return out, row + _LEGEND_HEIGHT


def svg_drawing(
    machine: StateMachine,
    *,
    path: ExecutionPath | None = None,
    roles: Mapping[str, Role] | None = None,
    layout: Layout | None = None,
) -> str:
    """The ``<svg>`` element for ``machine`` (coloured by ``path`` when given)."""
    roles = infer_roles(machine) if roles is None else roles
    compensations = {name for name, role in roles.items()}
    layout = layout or layout_machine(machine, machine_graph(machine, compensations))
    taken = {(e.source, e.target, e.caught): e.count for e in (path.edges if path else [])}
    width = max(layout.width, _LEGEND_MIN_WIDTH) if path is not None else layout.width
    legend, legend_height = _legend(layout.height + 4, width) if path is not None else ([], 0.0)
    height = layout.height + legend_height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sm" width="{_fmt(width)}" '
        f'height="{_fmt(height)}" viewBox="0 0 {_fmt(width)} {_fmt(height)}" '
        f'role="img" aria-label="state machine">',
        f"<style>{SVG_STYLE}</style>",
        *_defs(),
    ]
    start = layout.boxes.get(layout.start)
    if start is not None:
        cx = start.x + start.width / 2
        out.append(f'<circle class="start" cx="{_fmt(cx)}" cy="{_fmt(start.y - 30)}" r="7"/>')
        out.append(
            f'<path class="edge{" taken" if path and path.visits else ""}" '
            f'd="M{_fmt(cx)},{_fmt(start.y - 23)} L{_fmt(cx)},{_fmt(start.y)}" '
            f'marker-end="url(#arrow-{"taken" if path and path.visits else "plain"})"/>'
        )
    boxes = list(layout.boxes.values())
    numbers = {box.name: index for index, box in enumerate(boxes)}
    for box in boxes:  # containers under the edges, the edges under the states
        if box.container:
            out += _state_group(box, roles, path, numbers[box.name])
    for route in layout.routes:
        out += _edge(route, roles, path, taken)
    for box in boxes:
        if not box.container:
            out += _state_group(box, roles, path, numbers[box.name])
    out += legend
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_svg(
    machine: StateMachine,
    history: Iterable[HistoryEvent] | None = None,
    *,
    roles: Mapping[str, Role] | None = None,
    compensations: Collection[str] | None = None,
) -> str:
    """The machine as a standalone SVG document; coloured by ``history`` when given.

    ``roles`` names compensations and failure handlers (``compensations`` is the shorthand of
    a role map holding only compensations); without either they are inferred from the shape.
    """
    if roles is None and compensations:
        inferred = infer_roles(machine)
        roles = {**inferred, **dict.fromkeys(compensations, "compensation")}
    path = execution_path(machine, history, roles=roles) if history is not None else None
    drawing = svg_drawing(machine, path=path, roles=roles)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + drawing
