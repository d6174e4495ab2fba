"""An execution's history as a readable table: id, elapsed virtual time, event, state, detail.

Used in assertion messages so a failing test shows what the execution did, not a dict dump.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from engine.execution import Execution
from engine.history import HistoryEvent
from saga.outcome import SagaExecution, UnwindStep, decode_failure
from saga.visits import event_states, event_visits

__all__ = [
    "event_states",
    "event_visits",
    "format_elapsed",
    "history_table",
    "summarize_details",
    "unwind_marker",
]

_DETAIL_WIDTH: Final = 64
_HEADERS: Final = ("id", "elapsed", "event", "state", "detail")


def format_elapsed(seconds: float) -> str:
    """``+H:MM:SS.mmm`` (milliseconds, as Step Functions' timestamps)."""
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"+{hours}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _short_json(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        return repr(value)


def _cause_summary(cause: Any) -> str:
    """A Lambda-style JSON cause shortened to its ``errorMessage``; other causes as they are."""
    if not isinstance(cause, str):
        return ""
    if cause.startswith("{"):
        try:
            parsed = json.loads(cause)
        except ValueError:
            return cause
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return str(parsed["errorMessage"])
    return cause


def _clip(text: str, width: int = _DETAIL_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def summarize_details(event: HistoryEvent) -> str:
    """One line about an event's details: error and cause, resource, input or output."""
    details = event.details or {}
    if "error" in details or "cause" in details:
        error = details.get("error") or ""
        cause = _cause_summary(details.get("cause"))
        return _clip(f"{error}: {cause}" if cause else str(error))
    parts: list[str] = []
    if "resource" in details and event.type.endswith("Scheduled"):
        parts.append(str(details["resource"]))
        if "timeoutInSeconds" in details:
            parts.append(f"timeout {details['timeoutInSeconds']}s")
        if "heartbeatInSeconds" in details:
            parts.append(f"heartbeat {details['heartbeatInSeconds']}s")
    for key in ("input", "parameters", "output"):
        if key in details and not parts:
            parts.append(f"{key} {_short_json(details[key])}")
    return _clip(", ".join(parts))


def unwind_marker(step: UnwindStep) -> str:
    """``✗`` for an undo or handler that failed, ``↺`` a compensation, ``•`` a handler."""
    if step.failed:
        return "✗"
    return "•" if step.role == "failure handler" else "↺"


def _unwind_lines(unwind: Sequence[UnwindStep], indent: str) -> list[str]:
    width = max(len(step.state) for step in unwind)
    lines = [f"{indent}unwind (✗ failed, ↺ compensation, • failure handler):"]
    for step in unwind:
        role: str = step.role or "recovery"
        if step.compensates is not None:
            role = f"compensation of {step.compensates!r}"
        line = (
            f"{indent}  {unwind_marker(step)} {step.state.ljust(width)}  {step.status:<9}  {role}"
        )
        if step.failed:
            error = f"{step.error}: {step.message}" if step.message else str(step.error)
            line += f" — {_clip(error, 100)}"
        lines.append(line)
    return lines


def _title(execution: Execution, indent: str) -> str:
    title = f"{indent}execution {execution.name!r}: {execution.status}"
    if execution.error is None:
        return title
    failure = (
        execution.failure if isinstance(execution, SagaExecution) else decode_failure(execution)
    )
    if failure is not None:
        return f"{title} ({execution.error} ← {_clip(str(failure), 100)})"
    return f"{title} ({execution.error}: {_clip(_cause_summary(execution.cause), 100)})"


def history_table(execution: Execution, *, indent: str = "  ") -> str:
    """The execution's history as aligned text columns, between its status line and, for a
    saga, its unwind (each compensation and failure handler marked in the state column)."""
    events = execution.history
    owners = event_states(events)
    unwind = execution.unwind if isinstance(execution, SagaExecution) else []
    markers = {step.state: unwind_marker(step) for step in unwind}
    start = events[0].posix if events else execution.start_posix
    rows = [
        (
            str(event.id),
            format_elapsed(event.posix - start),
            event.type,
            _state_cell(owners.get(event.id, ""), markers),
            summarize_details(event),
        )
        for event in events
    ]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(_HEADERS)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].rjust(widths[0])
        rest = [cell.ljust(widths[i + 1]) for i, cell in enumerate(cells[1:])]
        return (indent + "  ".join([first, *rest])).rstrip()

    out = [_title(execution, indent), line(_HEADERS), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    if unwind:
        out += _unwind_lines(unwind, indent)
    return "\n".join(out)


def _state_cell(state: str, markers: dict[str, str]) -> str:
    marker = markers.get(state)
    return f"{marker} {state}" if marker else state
