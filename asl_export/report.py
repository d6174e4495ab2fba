"""One execution as an HTML page: the coloured graph, each state's data, retries, unwind, events.

:func:`render_report` gives a self-contained file (styles, script and drawing inline, nothing
fetched) to attach to a bug report or keep as a CI artefact; :func:`execution_section` is the
page's body, which the console serves and refreshes while an execution runs. Everything shown
is read from the history events, so any execution of any definition can be shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any, Final

from asl_export.execution_path import ExecutionPath, Role, Visit, execution_path, infer_roles
from asl_export.svg import OUTCOME_LABELS, svg_drawing
from engine.history import HistoryEvent
from engine.limits import to_json_text
from engine.model import StateMachine
from engine.store.base import StoredExecution

__all__ = [
    "execution_section",
    "machine_name_of",
    "page_asset",
    "render_report",
]

_DETAIL_LIMIT: Final = 240
"""Characters of an event's details shown in the events table (the state panel has all)."""
_PAYLOAD_LIMIT: Final = 64 * 1024
"""Characters of one input or output kept for the state panel."""
_ROLE_LABELS: Final[Mapping[Role, str]] = {
    "compensation": "compensation",
    "failure-handler": "failure handling",
}


@cache
def page_asset(name: str) -> str:
    """The text of one of the page's bundled assets (``page.css``, ``page.js``), read once."""
    return files("asl_export").joinpath("page_assets", name).read_text(encoding="utf-8")


def _when(posix: float | None) -> str:
    if posix is None:
        return "—"
    moment = datetime.fromtimestamp(posix, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 120:
        return f"{int(minutes)} min {rest:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)} h {int(minutes)} min"


def _payload(value: Any) -> Any:
    """A payload for the page: kept as it is, or cut to text when very large."""
    text = to_json_text(value)
    if len(text) <= _PAYLOAD_LIMIT:
        return value
    return text[:_PAYLOAD_LIMIT] + f"… ({len(text)} characters, cut)"


def _visit_data(visit: Visit) -> dict[str, Any]:
    return {
        "entered": visit.entered,
        "exited": visit.exited,
        "input": _payload(visit.input),
        "output": _payload(visit.output),
        "error": visit.error,
        "cause": visit.cause,
        "attempts": [
            {"error": a.error, "backoff": a.backoff, "scheduled": a.scheduled, "ended": a.ended}
            for a in visit.attempts
        ],
    }


def _page_data(machine: StateMachine, path: ExecutionPath) -> dict[str, Any]:
    states: dict[str, Any] = {}
    types = _state_types(machine)
    for name, record in path.states.items():
        states[name] = {
            "type": types.get(name, ""),
            "role": _ROLE_LABELS[record.role] if record.role else None,
            "outcome": record.outcome,
            "outcomeLabel": OUTCOME_LABELS[record.outcome],
            "visits": [_visit_data(v) for v in record.visits],
        }
    failed = [v.state for v in path.visits if v.failed]
    focus = failed[0] if failed else (path.visits[-1].state if path.visits else None)
    return {"status": path.status, "focus": focus, "states": states}


def _state_types(machine: StateMachine) -> dict[str, str]:
    from asl_export.execution_path import scopes_of

    return {
        name: state.type
        for _, states in scopes_of(machine.start_at, machine.states)
        for name, state in states.items()
    }


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</`` can close it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _header(record: StoredExecution, machine_name: str, path: ExecutionPath) -> list[str]:
    stop = record.stop_posix if record.stop_posix is not None else path.stop
    elapsed = (stop - record.start_posix) if stop is not None else None
    out = [
        f'<h1>{escape(record.name)} <span class="status {escape(record.status)}">'
        f"{escape(record.status)}</span></h1>",
        '<div class="meta">',
        f"<span>state machine <b>{escape(machine_name)}</b></span>",
        f"<span>started {_when(record.start_posix)}</span>",
        f"<span>stopped {_when(stop)}</span>",
        f"<span>duration {_duration(elapsed)}</span>",
        f"<span>{len(path.visits)} states entered</span>",
        "</div>",
    ]
    if record.error is not None or record.cause is not None:
        out.append(
            f'<div class="problem"><b>{escape(record.error or "")}</b>'
            f"{': ' + escape(record.cause) if record.cause else ''}</div>"
        )
    return out


def _unwind_lane(path: ExecutionPath) -> list[str]:
    visits = path.unwind
    if not visits:
        return []
    out = ["<h2>Unwind</h2>", '<div class="lane unwind">']
    for index, visit in enumerate(visits):
        role = path.role_of(visit.state)
        classes = ["step", "handler" if role == "failure-handler" else "compensation"]
        mark = "✓"
        detail = ""
        if visit.failed:
            classes.append("failed")
            mark = "✗"
            detail = f" — {escape(visit.error or '')}"
        elif visit.exited is None:
            mark = "…"
        if index:
            out.append('<span class="arrow">→</span>')
        label = _ROLE_LABELS[role] if role else ""
        out.append(
            f'<span class="{" ".join(classes)}" data-state="{escape(visit.state)}">'
            f"{mark} {escape(visit.state)} <small class=muted>{label}</small>{detail}</span>"
        )
    out.append("</div>")
    return out


def _timeline(path: ExecutionPath) -> list[str]:
    """Each retried visit on its own track: attempts as bars, the backoffs between them."""
    retried = [v for v in path.visits if len(v.attempts) > 1]
    if not retried:
        return []
    out = ["<h2>Retries</h2>", '<div class="timeline">']
    for visit in retried:
        begin = visit.entered
        end = max([visit.exited or 0.0, *(a.ended or a.scheduled for a in visit.attempts), begin])
        span = max(end - begin, 1e-6)

        def left(at: float, begin: float = begin, span: float = span) -> float:
            return 100 * (at - begin) / span

        track: list[str] = []
        previous_end: float | None = None
        for number, attempt in enumerate(visit.attempts, start=1):
            if previous_end is not None and attempt.backoff is not None:
                track.append(
                    f'<div class="wait" style="left:{left(previous_end):.2f}%;'
                    f'width:{left(attempt.scheduled) - left(previous_end):.2f}%">'
                    f"<span>{_duration(attempt.backoff)}</span></div>"
                )
            finish = attempt.ended or attempt.scheduled
            state = "failed" if attempt.error else "ok"
            title = f"attempt {number}: {attempt.error or 'succeeded'}"
            track.append(
                f'<div class="bar {state}" title="{escape(title)}" '
                f'style="left:{left(attempt.scheduled):.2f}%;'
                f'width:{left(finish) - left(attempt.scheduled):.2f}%"></div>'
            )
            previous_end = finish
        waits = ", ".join(_duration(a.backoff) for a in visit.attempts if a.backoff is not None)
        count = f"{visit.retries} {'retry' if visit.retries == 1 else 'retries'}"
        out.append(
            f'<div class="name" title="{escape(visit.state)}">{escape(visit.state)} '
            f"<small class=muted>{count} ({waits})</small></div>"
            f'<div class="track">{"".join(track)}</div>'
        )
    out.append("</div>")
    return out


def _details_text(event: HistoryEvent) -> str:
    """The event's details on one line (payloads as their JSON text), cut to a readable size."""
    details = event.rendered_details()
    parts: list[str] = []
    for key, value in details.items():
        if key in ("name", "inputDetails", "outputDetails"):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}: {text}")
    line = " · ".join(parts)
    return line if len(line) <= _DETAIL_LIMIT else line[: _DETAIL_LIMIT - 1] + "…"


def _events_table(events: Sequence[HistoryEvent], start: float | None) -> list[str]:
    out = [
        f"<h2>Events ({len(events)})</h2>",
        '<table class="events"><thead><tr><th>ID</th><th>Type</th><th>Step</th>'
        "<th>Elapsed</th><th>Timestamp</th><th>Details</th></tr></thead><tbody>",
    ]
    rows: list[str] = []
    names: dict[int, str] = {}
    for event in events:
        name = event.state_name
        if name is None:
            name = names.get(event.previous_event_id)
        if name is not None and event.type != "ExecutionStarted":
            names[event.id] = name
        elapsed = "" if start is None else f"{(event.posix - start) * 1000:.0f} ms"
        failed = event.type.endswith(("Failed", "TimedOut", "Aborted"))
        rows.append(
            f"<tr{' class=failed' if failed else ''}><td class=num>{event.id}</td>"
            f"<td>{escape(event.type)}</td><td>{escape(name or '')}</td>"
            f"<td class=num>{elapsed}</td><td class=num>{_when(event.posix)[11:23]}</td>"
            f"<td><code>{escape(_details_text(event))}</code></td></tr>"
        )
    out.append("".join(rows))
    out.append("</tbody></table>")
    return out


def machine_name_of(record: StoredExecution) -> str:
    """The state machine's name, from its ARN."""
    return record.state_machine_arn.rsplit(":", 1)[-1]


def execution_section(
    machine: StateMachine,
    record: StoredExecution,
    events: Sequence[HistoryEvent],
    *,
    roles: Mapping[str, Role] | None = None,
) -> str:
    """The execution page's body: ``<section id="execution">`` with its data embedded."""
    roles = infer_roles(machine) if roles is None else roles
    path = execution_path(machine, events, roles=roles)
    drawing = svg_drawing(machine, path=path, roles=roles)
    parts = [
        f'<section id="execution" data-name="{escape(record.name)}" '
        f'data-status="{escape(path.status)}" data-events="{len(events)}">',
        *_header(record, machine_name_of(record), path),
        '<div class="layout">',
        f'<div class="graph">{drawing}</div>',
        '<aside class="panel"><p class="hint">Click a state to see its input, output, '
        "error and cause.</p></aside>",
        "</div>",
        *_unwind_lane(path),
        *_timeline(path),
        *_events_table(events, path.start),
        f'<script type="application/json" id="execution-data">'
        f"{_script_json(_page_data(machine, path))}</script>",
        "</section>",
    ]
    return "\n".join(parts)


def render_report(
    machine: StateMachine,
    record: StoredExecution,
    events: Sequence[HistoryEvent],
    *,
    roles: Mapping[str, Role] | None = None,
) -> str:
    """A self-contained HTML page of one execution: nothing in it is fetched from anywhere."""
    title = f"{record.name} · {machine_name_of(record)} · {record.status}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
            f"<title>{escape(title)}</title>",
            f"<style>{page_asset('page.css')}</style>",
            "</head><body><main>",
            execution_section(machine, record, events, roles=roles),
            "</main>",
            f"<script>{page_asset('page.js')}</script>",
            "</body></html>",
            "",
        ]
    )
